//! `/sbin/init` of Halyard's initramfs: the first user process, PID 1.
//!
//! What it does, in order (each step logs a line starting with `init:` on the console):
//! 1. mounts `proc` on `/proc`, `devtmpfs` on `/dev` and `devpts` on `/dev/pts`
//!    ([`mounts`]); "already mounted" (`EBUSY`) and "no such file system" (`ENODEV`) are
//!    logged and ignored, so the same program runs where they exist (the host test mounts
//!    `/dev` itself);
//! 2. sets the host name from `/etc/hostname` ([`hostname`]);
//! 3. runs `/etc/rc` with `/bin/sh` if the file exists, and waits for it;
//! 4. starts the SSH server `/sbin/hsshd` on port 22 if the initramfs has one ([`sshd`]);
//! 5. keeps a login shell (`/bin/sh -l`) on `/dev/console` in a session of its own
//!    ([`shell`]), starting a new one whenever it exits;
//! 6. reaps every child, the shell's orphans included (`wait4(-1)`), and on busybox's
//!    `halt` (SIGUSR1), `poweroff` (SIGUSR2) or `reboot` (SIGTERM) stops every process and
//!    calls `reboot(2)` ([`shutdown`]).
//!
//! Linux counterparts: busybox `init` and sysvinit do the same with `inittab`; this one has
//! no configuration, which is all an initramfs with one console needs.
//!
//! The signals are blocked and taken with `sigtimedwait` ([`signals`]) rather than caught
//! by handlers: no race between checking a flag and sleeping, and blocked signals reach
//! PID 1 even though it has no handler (Linux discards a signal sent to init only when its
//! disposition is the default one *and* it is not blocked).
//!
//! PID 1 must never exit (the kernel panics when it does), so no error ends the program:
//! each one is logged, and the loop goes on.

mod hostname;
mod mounts;
mod shell;
mod shutdown;
mod signals;
mod sshd;

use shell::Respawn;
use signals::Event;
use std::path::Path;
use std::time::Instant;

/// Logs one line on init's standard error (the console), prefixed `init:`.
macro_rules! log {
    ($($arg:tt)*) => { eprintln!("init: {}", format_args!($($arg)*)) };
}
pub(crate) use log;

/// The boot script run once before the first shell, if present.
const RC: &str = "/etc/rc";

fn main() {
    log!("starting (pid {})", std::process::id());
    if let Err(e) = signals::block() {
        log!("cannot block signals ({e}); halt, poweroff and reboot will not work");
    }
    mounts::mount_all();
    hostname::set_from_file(Path::new(hostname::HOSTNAME_FILE));
    if Path::new(RC).exists() {
        shell::run_script(RC);
    }
    let hsshd = sshd::start();
    let mut respawn = Respawn::default();
    loop {
        let now = Instant::now();
        respawn.spawn_if_due(now, shell::spawn_login_shell);
        match signals::wait(respawn.wait_limit(now)) {
            Event::Child => reap(&mut respawn, hsshd),
            Event::Shutdown(action) => {
                shutdown::shutdown(action);
                // Only reached when reboot(2) failed: the shell was stopped too, so the
                // loop starts a new one and the system stays usable.
                respawn.forget_shell();
            }
            Event::Timeout => {}
        }
    }
}

/// Reaps every child that has exited; the shell's end schedules a new one, the SSH
/// server's is logged.
fn reap(respawn: &mut Respawn, hsshd: Option<u32>) {
    while let Some((pid, status)) = shutdown::reap_one() {
        if hsshd.is_some_and(|h| i64::from(h) == i64::from(pid)) {
            log!("{} (pid {pid}) ended ({})", sshd::HSSHD, describe(status));
        } else if respawn.is_shell(pid) {
            log!(
                "shell (pid {pid}) ended ({}), starting a new one",
                describe(status)
            );
            respawn.shell_ended(Instant::now());
        }
    }
}

/// `exit status N` or `killed by signal N`, from a `wait4` status.
fn describe(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit status {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("wait status {status:#x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_statuses_are_described() {
        assert_eq!(describe(3 << 8), "exit status 3");
        assert_eq!(describe(libc::SIGKILL), "killed by signal 9");
    }
}
