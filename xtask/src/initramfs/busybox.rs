//! busybox's applets, and where their links go.
//!
//! The list comes from the busybox that goes into the initramfs, run on the host with
//! `--list-full`: one path per applet, relative to `/` (`bin/ls`, `sbin/ifconfig`,
//! `usr/bin/awk`), the places busybox's own `--install` would link them. Every link points
//! at `/bin/busybox` (absolute, so it works from any directory), which looks at the name it
//! was called by.

use std::path::Path;
use std::process::Command;

/// Applets that get no link: busybox itself, and its `init` under both of its names
/// (`/sbin/init` is Halyard's own, `user/init`; `linuxrc` is the same applet for
/// initrd systems).
const NO_LINK: [&str; 3] = ["bin/busybox", "sbin/init", "linuxrc"];

/// The link paths in `--list-full` output: one per line, relative, clean (no `..`, no
/// empty component); anything else is refused as a sign of an unexpected busybox.
pub fn parse_list(text: &str) -> Result<Vec<String>, String> {
    let mut links = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let clean = line
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..");
        if !clean {
            return Err(format!("busybox --list-full printed an odd path: `{line}`"));
        }
        if !NO_LINK.contains(&line) {
            links.push(line.to_string());
        }
    }
    if links.is_empty() {
        return Err("busybox --list-full printed no applet".to_string());
    }
    Ok(links)
}

/// The link paths of `busybox` (a static binary, run on the host).
pub fn applet_links(busybox: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(busybox)
        .arg("--list-full")
        .output()
        .map_err(|e| format!("cannot run {} --list-full: {e}", busybox.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} --list-full failed ({})",
            busybox.display(),
            out.status
        ));
    }
    parse_list(&String::from_utf8_lossy(&out.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_their_directories_and_skip_busybox_and_its_init() {
        let text = "usr/bin/[\nbin/ash\nbin/busybox\nsbin/init\nlinuxrc\nusr/sbin/arping\n\n";
        assert_eq!(
            parse_list(text).unwrap(),
            ["usr/bin/[", "bin/ash", "usr/sbin/arping"]
        );
    }

    #[test]
    fn odd_output_is_refused() {
        for bad in ["/bin/ls", "bin/../etc/x", "bin//ls", "", "bin/busybox\n"] {
            assert!(parse_list(bad).is_err(), "{bad:?}");
        }
    }
}
