//! What the xtask does when it is told to stop: SIGINT (Ctrl-C), SIGTERM or SIGHUP.
//!
//! Why: the xtask starts things that outlive it. A stray QEMU keeps a CPU busy at 100% on a
//! two-core machine shared by many builds, and a network namespace stays mounted under
//! `/run/netns` after its creator is gone. Drop handlers clean up on normal exits, errors
//! and panics; a fatal signal skips them. So one handler, installed with `signal-hook`
//! (which keeps any handler installed before it and restores `errno`), kills the live QEMU
//! ([`crate::qemu::process::kill_live_qemu`]), removes the live namespaces
//! ([`crate::netns::unmount_live`]) and then dies the way the signal asked (its default
//! action, re-raised), so a parent still sees "killed by SIGTERM".
//!
//! The cleanups run inside the signal handler, not on a thread that a signal wakes: the
//! process must not go on (and, say, start the next test's QEMU) while they run. Hence
//! they use only async-signal-safe calls (`kill`, `umount2`, `unlink`) on state that sits
//! in atomics, never a lock or the heap.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::sync::Once;

/// Signals after which the xtask cleans up and dies.
const FATAL_SIGNALS: [libc::c_int; 3] = [SIGINT, SIGTERM, SIGHUP];

/// Installs the handler (once; later calls do nothing). Called by whatever creates
/// something the handler cleans up, before creating it.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for signal in FATAL_SIGNALS {
            // SAFETY: the action is async-signal-safe: the two cleanups use only atomics,
            // stack buffers, kill, umount2 and unlink, and emulate_default_handler only
            // sigaction, sigprocmask and raise (signal-hook documents it for handlers).
            let hooked = unsafe { signal_hook::low_level::register(signal, move || die(signal)) };
            if let Err(e) = hooked {
                eprintln!("xtask: warning: cannot handle signal {signal}: {e}");
            }
        }
    });
}

/// The handler: clean up, then end the process with the signal's default action.
fn die(signal: libc::c_int) {
    crate::qemu::process::kill_live_qemu();
    crate::netns::unmount_live();
    // Only returns if the default action could not be restored, then aborts; either way the
    // process ends here.
    let _ = signal_hook::low_level::emulate_default_handler(signal);
}

#[cfg(test)]
mod tests {
    use crate::qemu::process::Qemu;
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// Environment variable that turns the test into its child process.
    const CHILD: &str = "XTASK_FATAL_SIGNAL_CHILD";

    fn alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.contains(") Z "))
    }

    #[test]
    fn sigterm_kills_the_live_qemu_and_ends_the_process_by_the_signal() {
        if std::env::var_os(CHILD).is_some() {
            // Child: a stand-in QEMU, its PID for the parent, then SIGTERM while it runs.
            let mut cmd = Command::new("sleep");
            cmd.arg("30");
            let mut qemu = Qemu::spawn(cmd).unwrap();
            println!("pid {}", qemu.child().id());
            // SAFETY: raise has no preconditions; the handler kills `sleep` and ends this
            // process with SIGTERM's default action.
            unsafe { libc::raise(libc::SIGTERM) };
            unreachable!("survived SIGTERM");
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "fatal_signal::tests::sigterm_kills_the_live_qemu_and_ends_the_process_by_the_signal",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let pid: u32 = stdout
            .lines()
            .map_while(Result::ok)
            // The harness prints `test NAME ... ` first, on the same line.
            .find_map(|line| line.rsplit_once("pid ").and_then(|(_, p)| p.parse().ok()))
            .expect("the child printed no PID");
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGTERM), "{status}");
        // `sleep` was sent SIGKILL; give the kernel a moment to end it (a zombie until init
        // reaps it, which `alive` does not count).
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!alive(pid), "the stand-in QEMU {pid} survived");
    }
}
