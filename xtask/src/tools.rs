//! Host tools the xtask runs, and the Debian packages that provide them.
//!
//! Tests grow new needs (QEMU now; ssh, iproute2, nftables later), so the knowledge is one
//! table: add a row and call [`ensure`] with the binary name. A missing tool is installed with
//! `apt-get` when we are root (CI and these machines are), otherwise the run stops with the
//! exact command a person should type, rather than failing later with a cryptic spawn error.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;

/// A binary the xtask runs and the Debian package that ships it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    pub binary: &'static str,
    pub package: &'static str,
}

/// Every tool the xtask may need.
pub const TOOLS: &[Tool] = &[
    Tool {
        binary: "qemu-system-x86_64",
        package: "qemu-system-x86",
    },
    Tool {
        binary: "ssh",
        package: "openssh-client",
    },
    Tool {
        binary: "ssh-keygen",
        package: "openssh-client",
    },
    Tool {
        binary: "sshd",
        package: "openssh-server",
    },
    Tool {
        binary: "ip",
        package: "iproute2",
    },
    Tool {
        binary: "ping",
        package: "iputils-ping",
    },
    Tool {
        binary: "wrk",
        package: "wrk",
    },
    Tool {
        binary: "curl",
        package: "curl",
    },
    Tool {
        binary: "socat",
        package: "socat",
    },
    Tool {
        binary: "nft",
        package: "nftables",
    },
    Tool {
        binary: "python3",
        package: "python3",
    },
    Tool {
        binary: "cpio",
        package: "cpio",
    },
    Tool {
        binary: "unshare",
        package: "util-linux",
    },
    Tool {
        binary: "chroot",
        package: "coreutils",
    },
];

/// What the host tests need besides Rust (the SSH interop tests run OpenSSH; the
/// initramfs tests of halyard-vfs pack their archives with GNU cpio).
pub const HOST_TEST_TOOLS: &[&str] = &["ssh", "ssh-keygen", "sshd", "cpio"];

/// The QEMU binary that boots the kernel.
pub const QEMU: &str = "qemu-system-x86_64";

/// What to do about missing tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Nothing,
    /// Install these packages (we are root).
    Install(Vec<&'static str>),
    /// Stop and tell the person this.
    Stop(String),
}

/// The Debian package that provides `binary`, from [`TOOLS`].
pub fn package_for(binary: &str) -> Option<&'static str> {
    TOOLS.iter().find(|t| t.binary == binary).map(|t| t.package)
}

/// The first executable named `binary` in the `PATH`-style list `path`.
pub fn find_in(binary: &str, path: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|dir| dir.join(binary))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Decides what to do about the `missing` binaries (pure, for tests).
pub fn plan(missing: &[&str], is_root: bool) -> Action {
    if missing.is_empty() {
        return Action::Nothing;
    }
    let unknown: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|b| package_for(b).is_none())
        .collect();
    if !unknown.is_empty() {
        return Action::Stop(format!(
            "missing tools with no known package: {}",
            unknown.join(", ")
        ));
    }
    let mut packages: Vec<&'static str> = missing.iter().filter_map(|b| package_for(b)).collect();
    packages.sort_unstable();
    packages.dedup();
    if is_root {
        Action::Install(packages)
    } else {
        Action::Stop(format!(
            "missing {}; install with:\n    sudo apt-get install -y {}",
            missing.join(", "),
            packages.join(" ")
        ))
    }
}

/// Makes sure every binary in `binaries` is on `PATH`, installing packages as root.
pub fn ensure(binaries: &[&str]) -> Result<(), String> {
    // Daemons such as sshd live in the sbin directories, which a non-login PATH may lack.
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    path.push(":/usr/sbin:/sbin");
    let missing: Vec<&str> = binaries
        .iter()
        .copied()
        .filter(|b| find_in(b, &path).is_none())
        .collect();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let is_root = unsafe { libc::geteuid() } == 0;
    match plan(&missing, is_root) {
        Action::Nothing => Ok(()),
        Action::Stop(message) => Err(message),
        Action::Install(packages) => {
            apt_update_once()?;
            eprintln!("xtask: installing {}", packages.join(" "));
            apt_get(&[&["install", "-y"][..], &packages].concat())?;
            match binaries.iter().find(|b| find_in(b, &path).is_none()) {
                Some(b) => Err(format!("`{b}` still missing after installing its package")),
                None => Ok(()),
            }
        }
    }
}

/// `apt-get update`, at most once per xtask run.
fn apt_update_once() -> Result<(), String> {
    static UPDATE: Once = Once::new();
    let mut result = Ok(());
    UPDATE.call_once(|| {
        eprintln!("xtask: apt-get update");
        result = apt_get(&["update"]);
    });
    result
}

fn apt_get(args: &[&str]) -> Result<(), String> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`apt-get {}` failed ({status})", args.join(" ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_one_package_row() {
        for (i, t) in TOOLS.iter().enumerate() {
            assert!(
                TOOLS[..i].iter().all(|o| o.binary != t.binary),
                "duplicate {}",
                t.binary
            );
        }
        assert_eq!(package_for(QEMU), Some("qemu-system-x86"));
        assert_eq!(package_for("no-such-tool"), None);
    }

    #[test]
    fn root_installs_and_others_are_told_the_command() {
        assert_eq!(plan(&[], false), Action::Nothing);
        assert_eq!(
            plan(&[QEMU], true),
            Action::Install(vec!["qemu-system-x86"])
        );
        assert_eq!(
            plan(&[QEMU, QEMU], true),
            Action::Install(vec!["qemu-system-x86"])
        );
        let Action::Stop(msg) = plan(&[QEMU], false) else {
            panic!("no stop")
        };
        assert!(
            msg.ends_with("sudo apt-get install -y qemu-system-x86"),
            "{msg}"
        );
        let Action::Stop(msg) = plan(&["frob"], true) else {
            panic!("no stop")
        };
        assert!(msg.contains("frob"));
    }

    #[test]
    fn path_search_finds_only_executables() {
        let dir = std::env::temp_dir().join(format!("xtask-tools-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("tool-x");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o644)).unwrap();
        let path = std::env::join_paths(["/nonexistent", dir.to_str().unwrap()]).unwrap();
        assert_eq!(find_in("tool-x", &path), None, "non-executable file found");
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find_in("tool-x", &path), Some(exe.clone()));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(find_in("tool-x", &path), None);
    }
}
