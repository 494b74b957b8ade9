//! The busybox smoke script (`busybox-smoke.sh` next to this file): 50-odd applets in pipelines,
//! archives, mounts. It runs on Halyard from the test archive (`/opt/smoke.sh`) and, as
//! the oracle, on the host Linux chrooted into the same archive (so the same busybox and
//! files), in new pid and mount namespaces with its own `/dev`, `/proc` and `/tmp`.

use crate::initramfs::host_check::{unpack, Scratch};
use crate::paths::Paths;
use crate::tools;
use std::process::Command;

/// Where the test archive puts the script.
pub const GUEST_PATH: &str = "/opt/smoke.sh";
/// The script.
pub const SCRIPT: &str = include_str!("busybox-smoke.sh");

/// Writes the script where the test archive's build picks it up; returns that path.
pub fn script_file(paths: &Paths) -> Result<std::path::PathBuf, String> {
    let path = paths.root.join("target/initramfs/busybox-smoke.sh");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&path, SCRIPT).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// What PID 1 of the namespaces runs (`$1` the tree).
const SETUP: &str = r#"set -e
mount -t devtmpfs devtmpfs "$1/dev"
mount -t proc proc "$1/proc"
mount -t tmpfs tmpfs "$1/tmp"
exec chroot "$1" /bin/sh /opt/smoke.sh"#;

/// The script's output on the host Linux.
pub fn host_output(paths: &Paths) -> Result<String, String> {
    tools::ensure(&["cpio", "unshare", "chroot"])?;
    let tree = Scratch::new(paths.root.join("target/initramfs/smoke-root"))?;
    unpack(&paths.initramfs(), &tree.0)?;
    let out = Command::new("unshare")
        .args(["--pid", "--mount", "--fork", "--kill-child", "--"])
        .args(["/bin/sh", "-c", SETUP, "sh"])
        .arg(&tree.0)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .map_err(|e| format!("cannot run unshare: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "the smoke script failed on the host ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
