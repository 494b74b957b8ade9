//! The console's login shell, started again whenever it exits, and the boot script.
//!
//! The shell gets what a getty and `login` would give it on Linux: a session of its own
//! (`setsid`) whose controlling terminal is the console (`ioctl(0, TIOCSCTTY, 0)`), so job
//! control and Ctrl-C work; fds 0, 1 and 2 on `/dev/console`; root's home as working
//! directory; and a small fixed environment (`HOME`, `PATH`, `SHELL`, `TERM`). `TERM` is
//! `vt100`: the console is a serial line shown by whatever terminal the person runs QEMU
//! in, and busybox's line editing needs only VT100's cursor keys and erase sequences.
//! `-l` makes it a login shell, which reads `/etc/profile` (the prompt, `PATH`).
//!
//! A shell that dies at once (a missing `/bin/sh`, an unopenable console) is restarted
//! after [`RETRY_DELAY`] rather than in a tight loop.

use crate::log;
use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

/// The console device (devtmpfs's, or the one the kernel provides).
const CONSOLE: &str = "/dev/console";
/// The shell.
const SHELL: &str = "/bin/sh";
/// Root's home: the shell's working directory.
const HOME: &str = "/root";
/// The shell's whole environment.
const ENV: [(&str, &str); 4] = [
    ("HOME", HOME),
    ("PATH", "/sbin:/usr/sbin:/bin:/usr/bin"),
    ("SHELL", SHELL),
    ("TERM", "vt100"),
];
/// A shell that lived less than this is restarted only after [`RETRY_DELAY`].
const MIN_LIFE: Duration = Duration::from_secs(1);
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// When the next shell starts: the respawn policy, apart from the process calls.
#[derive(Debug, Default)]
pub struct Respawn {
    /// The running shell's PID and start time.
    shell: Option<(u32, Instant)>,
    /// No shell before this time (`None`: at once).
    not_before: Option<Instant>,
}

impl Respawn {
    /// Starts a shell with `spawn` if none runs and its time has come.
    pub fn spawn_if_due(&mut self, now: Instant, spawn: impl FnOnce() -> io::Result<u32>) {
        if self.shell.is_some() || self.not_before.is_some_and(|t| now < t) {
            return;
        }
        match spawn() {
            Ok(pid) => {
                log!("started {SHELL} -l on {CONSOLE} (pid {pid})");
                self.shell = Some((pid, now));
                self.not_before = None;
            }
            Err(e) => {
                log!(
                    "cannot start {SHELL} on {CONSOLE}: {e}; trying again in {} s",
                    RETRY_DELAY.as_secs()
                );
                self.not_before = Some(now + RETRY_DELAY);
            }
        }
    }

    /// How long init may wait for a signal before a shell is due (`None`: no limit).
    pub fn wait_limit(&self, now: Instant) -> Option<Duration> {
        if self.shell.is_some() {
            return None;
        }
        Some(
            self.not_before
                .map_or(Duration::ZERO, |t| t.saturating_duration_since(now)),
        )
    }

    pub fn is_shell(&self, pid: i32) -> bool {
        self.shell
            .is_some_and(|(shell, _)| i64::from(shell) == i64::from(pid))
    }

    /// The shell has been reaped at `now`: the next one starts at once, or after
    /// [`RETRY_DELAY`] if this one lived less than [`MIN_LIFE`].
    pub fn shell_ended(&mut self, now: Instant) {
        if let Some((_, started)) = self.shell.take() {
            if now.saturating_duration_since(started) < MIN_LIFE {
                self.not_before = Some(now + RETRY_DELAY);
            }
        }
    }

    /// The shell is gone without having been reaped here (a failed shutdown killed it).
    pub fn forget_shell(&mut self) {
        self.shell = None;
        self.not_before = None;
    }
}

/// Starts `/bin/sh -l` on the console in a new session; its PID.
pub fn spawn_login_shell() -> io::Result<u32> {
    // O_NOCTTY: init itself must not take the console as its controlling terminal.
    let console = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(CONSOLE)?;
    let mut cmd = Command::new(SHELL);
    cmd.arg("-l")
        .env_clear()
        .envs(ENV)
        .current_dir(HOME)
        .stdin(console.try_clone()?)
        .stdout(console.try_clone()?)
        .stderr(console);
    // SAFETY: the closure runs in the child between fork and exec, after fds 0-2 are the
    // console; it calls only setsid and ioctl, which are async-signal-safe, and touches no
    // memory shared with the parent.
    unsafe { cmd.pre_exec(take_console) };
    Ok(cmd.spawn()?.id())
}

/// In the child: a new session whose controlling terminal is fd 0 (the console).
///
/// A failed `TIOCSCTTY` is ignored, as busybox init does: when the console is already
/// another session's terminal (a test harness's pty), the shell still starts, without job
/// control, and ash says so ("can't access tty; job control turned off").
fn take_console() -> io::Result<()> {
    crate::signals::clear_mask()?;
    // SAFETY: setsid takes no arguments; it fails only if the caller leads a process group,
    // which a freshly forked child does not.
    if unsafe { libc::setsid() } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal from another session).
    unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) };
    Ok(())
}

/// Runs `script` with `/bin/sh` on init's own console fds and waits for it.
pub fn run_script(script: &str) {
    log!("running {script}");
    let mut cmd = Command::new(SHELL);
    cmd.arg(script);
    // SAFETY: the closure runs in the child between fork and exec and only calls
    // sigprocmask, which is async-signal-safe.
    unsafe { cmd.pre_exec(crate::signals::clear_mask) };
    match cmd.status() {
        Ok(status) if status.success() => log!("{script} done"),
        Ok(status) => log!("{script} ended with {status}"),
        Err(e) => log!("cannot run {SHELL} {script}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shell_starts_at_once_and_again_after_it_ends() {
        let t0 = Instant::now();
        let mut r = Respawn::default();
        assert_eq!(r.wait_limit(t0), Some(Duration::ZERO));
        r.spawn_if_due(t0, || Ok(42));
        assert!(r.is_shell(42) && !r.is_shell(43));
        assert_eq!(r.wait_limit(t0), None);
        // A running shell is never doubled.
        r.spawn_if_due(t0, || panic!("second shell"));
        let later = t0 + Duration::from_secs(60);
        r.shell_ended(later);
        assert!(!r.is_shell(42));
        assert_eq!(r.wait_limit(later), Some(Duration::ZERO));
        r.spawn_if_due(later, || Ok(50));
        assert!(r.is_shell(50));
    }

    #[test]
    fn a_shell_that_dies_at_once_or_cannot_start_waits_a_second() {
        let t0 = Instant::now();
        let mut r = Respawn::default();
        r.spawn_if_due(t0, || Ok(7));
        let soon = t0 + Duration::from_millis(100);
        r.shell_ended(soon);
        assert_eq!(r.wait_limit(soon), Some(RETRY_DELAY));
        r.spawn_if_due(soon, || panic!("too early"));
        let due = soon + RETRY_DELAY;
        r.spawn_if_due(due, || Err(io::Error::from_raw_os_error(libc::ENOENT)));
        assert_eq!(r.wait_limit(due), Some(RETRY_DELAY));
        r.forget_shell();
        assert_eq!(r.wait_limit(due), Some(Duration::ZERO));
    }
}
