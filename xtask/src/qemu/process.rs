//! A QEMU process that is never left behind.
//!
//! A stray QEMU keeps a CPU busy at 100% on a two-core machine shared by many builds, so the
//! xtask kills it by PID on every way out: when the [`Qemu`] handle is dropped (test failure,
//! timeout, early return, panic unwinding) and when the xtask itself gets SIGINT, SIGTERM or
//! SIGHUP (Ctrl-C during `cargo xtask test`; [`crate::fatal_signal`]). The signal path can
//! only use async-signal-safe calls, so the live PID sits in an atomic the handler reads.

use crate::exit_status::QemuEnd;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// PID of the QEMU currently running (0: none). The xtask runs one QEMU at a time.
static LIVE_PID: AtomicI32 = AtomicI32::new(0);

/// Kills the live QEMU, if there is one. Runs in the fatal-signal handler
/// ([`crate::fatal_signal`]): an atomic and `kill` only.
pub fn kill_live_qemu() {
    let pid = LIVE_PID.swap(0, Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe and touches no memory of ours; `pid` is a child we
        // spawned and have not reaped yet (it is cleared before reaping), so it cannot name
        // another process.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// A running QEMU, killed by PID when dropped.
pub struct Qemu {
    child: Child,
    end: Option<QemuEnd>,
}

impl Qemu {
    /// Spawns `cmd` (stdio already configured by the caller).
    pub fn spawn(mut cmd: Command) -> Result<Qemu, String> {
        crate::fatal_signal::install();
        let child = cmd.spawn().map_err(|e| format!("cannot start QEMU: {e}"))?;
        LIVE_PID.store(child.id() as i32, Ordering::SeqCst);
        Ok(Qemu { child, end: None })
    }

    /// The child handle, e.g. to take its pipes.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Waits until QEMU exits.
    pub fn wait(&mut self) -> Result<QemuEnd, String> {
        let status = self
            .child
            .wait()
            .map_err(|e| format!("waiting for QEMU: {e}"))?;
        Ok(self.reaped(status))
    }

    /// Waits until QEMU exits or `deadline` passes (then `None`; QEMU still runs).
    pub fn wait_until(&mut self, deadline: Instant) -> Result<Option<QemuEnd>, String> {
        loop {
            if let Some(end) = self.end {
                return Ok(Some(end));
            }
            match self
                .child
                .try_wait()
                .map_err(|e| format!("waiting for QEMU: {e}"))?
            {
                Some(status) => return Ok(Some(self.reaped(status))),
                None if Instant::now() >= deadline => return Ok(None),
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    fn reaped(&mut self, status: ExitStatus) -> QemuEnd {
        // `try_wait`/`wait` reaped it: the PID may be reused from now on.
        let _ = LIVE_PID.compare_exchange(
            self.child.id() as i32,
            0,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        let end = QemuEnd::from_status(status);
        self.end = Some(end);
        end
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        if self.end.is_none() {
            // Kill by PID (Child::kill sends SIGKILL to exactly this child), then reap it.
            let _ = self.child.kill();
            if let Ok(status) = self.child.wait() {
                self.reaped(status);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: u32) -> bool {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ")
    }

    #[test]
    fn dropping_kills_the_process() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let mut q = Qemu::spawn(cmd).unwrap();
        let pid = q.child().id();
        assert!(alive(pid));
        let deadline = Instant::now() + Duration::from_millis(100);
        assert_eq!(q.wait_until(deadline).unwrap(), None, "sleep ended early");
        drop(q);
        assert!(!alive(pid), "process {pid} survived the drop");
    }

    #[test]
    fn exit_statuses_are_classified_on_wait() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 7"]);
        let mut q = Qemu::spawn(cmd).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        assert_eq!(q.wait_until(deadline).unwrap(), Some(QemuEnd::Kernel(3)));
        // Asking again returns the recorded end instead of waiting on a reaped PID.
        assert_eq!(q.wait_until(deadline).unwrap(), Some(QemuEnd::Kernel(3)));
    }
}
