//! Reaping children, and stopping the system: busybox's `halt`, `poweroff` and `reboot`.
//!
//! The sequence is busybox init's (`init/init.c`, `run_shutdown_and_kill_processes`):
//! SIGTERM to every process, a short grace period, SIGKILL to what is left, `sync`, then
//! `reboot(2)` with the command the signal asked for. `kill(-1, sig)` from PID 1 reaches
//! every process but init itself. In a PID namespace other than the first (the host test),
//! Linux turns `reboot` into the end of the namespace's init: killed by SIGINT for power
//! off and halt, SIGHUP for restart (`reboot(2)`, "Behavior inside PID namespaces").

use crate::log;
use std::time::{Duration, Instant};

/// How long processes get to exit after SIGTERM, then after SIGKILL.
const GRACE: Duration = Duration::from_secs(2);
/// How often the grace period checks whether everyone has gone.
const POLL: Duration = Duration::from_millis(20);

/// What the system does once every process has stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `poweroff`: SIGUSR2, `RB_POWER_OFF`.
    PowerOff,
    /// `halt`: SIGUSR1, `RB_HALT_SYSTEM`.
    Halt,
    /// `reboot`: SIGTERM, `RB_AUTOBOOT`.
    Reboot,
}

impl Action {
    /// The action busybox's `halt`/`poweroff`/`reboot` ask for with `signo`.
    pub fn from_signal(signo: i32) -> Option<Action> {
        match signo {
            libc::SIGUSR2 => Some(Action::PowerOff),
            libc::SIGUSR1 => Some(Action::Halt),
            libc::SIGTERM => Some(Action::Reboot),
            _ => None,
        }
    }

    /// The `reboot(2)` command.
    fn command(self) -> libc::c_int {
        match self {
            Action::PowerOff => libc::RB_POWER_OFF,
            Action::Halt => libc::RB_HALT_SYSTEM,
            Action::Reboot => libc::RB_AUTOBOOT,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Action::PowerOff => "poweroff",
            Action::Halt => "halt",
            Action::Reboot => "reboot",
        }
    }
}

/// What a non-blocking `wait4(-1)` found.
enum Waited {
    /// This child (PID, wait status) has ended and is reaped.
    Ended(i32, i32),
    /// Children remain, none has ended.
    Running,
    /// No child at all (`ECHILD`).
    NoChildren,
}

fn wait_any() -> Waited {
    let mut status = 0;
    // SAFETY: `status` is a valid place for the wait status; a null rusage is allowed.
    let pid = unsafe { libc::wait4(-1, &mut status, libc::WNOHANG, std::ptr::null_mut()) };
    if pid > 0 {
        Waited::Ended(pid, status)
    } else if pid < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) {
        Waited::NoChildren
    } else {
        Waited::Running
    }
}

/// Reaps one ended child without waiting: its PID and wait status, or `None` when no child
/// has ended (or there are no children).
pub fn reap_one() -> Option<(i32, i32)> {
    match wait_any() {
        Waited::Ended(pid, status) => Some((pid, status)),
        Waited::Running | Waited::NoChildren => None,
    }
}

/// Whether init has any child left, reaping those that have ended.
fn children_left() -> bool {
    loop {
        match wait_any() {
            Waited::Ended(..) => continue,
            Waited::Running => return true,
            Waited::NoChildren => return false,
        }
    }
}

/// Sends `signo` to every process but init, then reaps until none is left or `GRACE` has
/// passed; whether all have gone.
fn kill_all_and_wait(signo: i32) -> bool {
    // SAFETY: kill(-1) only sends a signal; PID 1 is never among its receivers.
    unsafe { libc::kill(-1, signo) };
    let deadline = Instant::now() + GRACE;
    while children_left() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
    true
}

/// Stops every process and performs `action`. Returns only if `reboot(2)` failed.
pub fn shutdown(action: Action) {
    let name = action.name();
    log!("{name}: sending SIGTERM to all processes");
    if !kill_all_and_wait(libc::SIGTERM) {
        log!("{name}: sending SIGKILL to all processes");
        if !kill_all_and_wait(libc::SIGKILL) {
            log!("{name}: some processes are still there after SIGKILL");
        }
    }
    log!("{name}: sync");
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
    log!("{name}: reboot(2)");
    // SAFETY: reboot with a valid command either does not return or fails with an errno.
    if unsafe { libc::reboot(action.command()) } != 0 {
        log!(
            "{name}: reboot(2) failed: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busybox_signals_choose_the_reboot_command() {
        let cases = [
            (libc::SIGUSR2, libc::RB_POWER_OFF, "poweroff"),
            (libc::SIGUSR1, libc::RB_HALT_SYSTEM, "halt"),
            (libc::SIGTERM, libc::RB_AUTOBOOT, "reboot"),
        ];
        for (signo, command, name) in cases {
            let action = Action::from_signal(signo).unwrap();
            assert_eq!((action.command(), action.name()), (command, name));
        }
        assert_eq!(Action::from_signal(libc::SIGINT), None);
        assert_eq!(Action::from_signal(libc::SIGCHLD), None);
    }
}
