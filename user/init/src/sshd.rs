//! The SSH server, started once at boot when the initramfs has one (`cargo xtask run` puts
//! `/sbin/hsshd`, its host key and root's `authorized_keys` there; the test initramfs has
//! none, so the tests' consoles see no server).
//!
//! It listens on port 22 of every address, with the host key from `/etc/hsshd` and root's
//! `/root/.ssh/authorized_keys`, and writes its log (one line per session) to
//! [`LOG`] rather than the console, where it would land in the middle of the console
//! shell's lines. It is not restarted: `hsshd` exits only when it cannot start (a port in
//! use, an unreadable key), which a restart would not mend; init logs the exit.

use crate::log;
use std::fs::OpenOptions;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// The server.
pub const HSSHD: &str = "/sbin/hsshd";
/// Its log.
pub const LOG: &str = "/var/log/hsshd.log";
/// Its arguments.
const ARGS: [&str; 6] = [
    "--listen",
    "0.0.0.0:22",
    "--host-key",
    "/etc/hsshd/ssh_host_ed25519_key",
    "--authorized-keys",
    "/root/.ssh/authorized_keys",
];

/// Starts `hsshd` if the initramfs has it; its PID.
pub fn start() -> Option<u32> {
    if !Path::new(HSSHD).exists() {
        return None;
    }
    match spawn() {
        Ok(pid) => {
            log!("started {HSSHD} on port 22 (pid {pid}), log in {LOG}");
            Some(pid)
        }
        Err(e) => {
            log!("cannot start {HSSHD}: {e}");
            None
        }
    }
}

fn spawn() -> io::Result<u32> {
    let log = OpenOptions::new().create(true).append(true).open(LOG)?;
    let mut cmd = Command::new(HSSHD);
    cmd.args(ARGS)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: the closure runs in the child between fork and exec and only calls
    // sigprocmask, which is async-signal-safe.
    unsafe { cmd.pre_exec(crate::signals::clear_mask) };
    Ok(cmd.spawn()?.id())
}
