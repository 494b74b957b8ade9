//! Debian packages fetched with `apt-get download` and unpacked with `dpkg-deb -x` under
//! `target/debian/PACKAGE/`, never installed on the host.
//!
//! Why: the initramfs's busybox and the bench's Linux peer (its kernel, its busybox) are
//! other systems' files, not host tools; installing them would change the host and tie
//! them to what the host happens to have. A package is downloaded once: later calls reuse
//! the unpacked tree (delete `target/debian/PACKAGE` to fetch it again). The tree is
//! unpacked into a temporary directory and renamed into place, so an interrupted unpack is
//! never taken for a finished one.

use crate::paths::Paths;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's statically linked busybox: the initramfs's shell and tools, and the peer's.
pub const BUSYBOX_PACKAGE: &str = "busybox-static";

/// A downloaded and unpacked package.
#[derive(Debug, Clone)]
pub struct Unpacked {
    /// The `.deb` file (for [`field`]).
    pub deb: PathBuf,
    /// The tree `dpkg-deb -x` unpacked it into.
    pub root: PathBuf,
}

/// Downloads and unpacks `package` (the candidate version of the host's package lists),
/// or reuses an earlier download.
pub fn fetch(paths: &Paths, package: &str) -> Result<Unpacked, String> {
    let dir = paths.root.join("target/debian").join(package);
    let root = dir.join("root");
    if let (Ok(deb), true) = (find_deb(&dir, package), root.is_dir()) {
        return Ok(Unpacked { deb, root });
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    eprintln!(
        "xtask: apt-get download {package} (once, into {})",
        paths.show(&dir)
    );
    download(&dir, package)?;
    let deb = find_deb(&dir, package)?;
    let partial = dir.join("root.partial");
    let _ = std::fs::remove_dir_all(&partial);
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&partial))?;
    std::fs::rename(&partial, &root)
        .map_err(|e| format!("cannot rename {} to root: {e}", partial.display()))?;
    Ok(Unpacked { deb, root })
}

/// The static busybox binary, fetched with [`fetch`].
pub fn busybox(paths: &Paths) -> Result<PathBuf, String> {
    let path = fetch(paths, BUSYBOX_PACKAGE)?.root.join("bin/busybox");
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{BUSYBOX_PACKAGE} has no {}", path.display()))
    }
}

/// A control field (`Version`, `Depends`) of a `.deb` file.
pub fn field(deb: &Path, name: &str) -> Result<String, String> {
    let out = run(Command::new("dpkg-deb").arg("-f").arg(deb).arg(name))?;
    Ok(out.trim().to_string())
}

/// `apt-get download PACKAGE` into `dir`; on failure refreshes the package lists once (a
/// fresh machine may have none) and tries again.
fn download(dir: &Path, package: &str) -> Result<(), String> {
    let attempt = || {
        let mut cmd = Command::new("apt-get");
        cmd.args(["download", package]).current_dir(dir);
        run(&mut cmd)
    };
    attempt()
        .or_else(|first| {
            eprintln!("xtask: apt-get download failed ({first}); apt-get update and retry");
            run(Command::new("apt-get").arg("update"))?;
            attempt()
        })
        .map(drop)
}

/// The `PACKAGE_*.deb` in `dir`.
fn find_deb(dir: &Path, package: &str) -> Result<PathBuf, String> {
    let prefix = format!("{package}_");
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    entries
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
        .ok_or_else(|| format!("no {prefix}*.deb in {}", dir.display()))
}

/// Runs `cmd`; its stdout, or an error naming it with its stderr.
fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{:?} failed ({}): {}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deb_of_a_package_is_found_by_its_name_and_underscore() {
        let dir = std::env::temp_dir().join(format!("xtask-debian-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "busybox_1.deb",
            "busybox-static_1%3a1.35_amd64.deb",
            "x.txt",
        ] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        let found = find_deb(&dir, "busybox-static").unwrap();
        assert!(found.ends_with("busybox-static_1%3a1.35_amd64.deb"));
        assert!(find_deb(&dir, "busybox")
            .unwrap()
            .ends_with("busybox_1.deb"));
        assert!(find_deb(&dir, "linux-image").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
