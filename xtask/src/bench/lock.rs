//! One bench at a time on this machine.
//!
//! Two benches at once collide: both own the namespace [`guest::BENCH_NETNS`] with its tap
//! `tap0` and the guest address, the second one's start removes the first one's namespace
//! as "stale" (docs/bench.md, "Cleanup"), and on a shared host their numbers would be each
//! other's noise anyway. So a bench takes an exclusive `flock` on [`LOCK_FILE`] and holds it
//! for its lifetime (the kernel drops it when the process ends, however it ends, so a killed
//! bench leaves no stale lock); a second bench waits for it, saying so on stderr.
//!
//! A bench built from a tree without this lock does not take it, so after the lock the
//! bench also waits while the namespace exists *with processes in it* (`ip netns pids`: a
//! live QEMU or client of such a bench). A namespace without processes is a killed run's
//! leftover, which [`crate::netns::Netns::create`] removes as before.

use super::guest;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

/// The lock file (`/run` is a tmpfs: nothing survives a reboot).
pub const LOCK_FILE: &str = "/run/halyard-bench.lock";
/// How long a bench waits for another one before giving up.
const MAX_WAIT: Duration = Duration::from_secs(60 * 60);
/// How often the wait for a lock-less bench's namespace looks again.
const POLL: Duration = Duration::from_secs(5);

/// The held lock; released when dropped (or when the process ends).
pub struct BenchLock {
    _file: File,
}

/// Takes the lock, waiting (with a message) while another bench holds it or runs in the
/// bench's namespace; an error after [`MAX_WAIT`].
pub fn acquire() -> Result<BenchLock, String> {
    let file = File::create(LOCK_FILE).map_err(|e| format!("cannot open {LOCK_FILE}: {e}"))?;
    if !flock(&file, libc::LOCK_EX | libc::LOCK_NB)? {
        eprintln!("xtask: bench: another bench holds {LOCK_FILE}; waiting for it to finish");
        flock(&file, libc::LOCK_EX)?;
    }
    let started = Instant::now();
    let mut told = false;
    while let Some(pids) = live_pids(guest::BENCH_NETNS) {
        if !told {
            eprintln!(
                "xtask: bench: namespace `{}` is in use (pids {pids}) by a bench without the \
                 lock; waiting for it to end",
                guest::BENCH_NETNS
            );
            told = true;
        }
        if started.elapsed() > MAX_WAIT {
            return Err(format!(
                "namespace `{}` still in use after {} minutes (pids {pids})",
                guest::BENCH_NETNS,
                MAX_WAIT.as_secs() / 60
            ));
        }
        std::thread::sleep(POLL);
    }
    Ok(BenchLock { _file: file })
}

/// `flock(2)`: `Ok(false)` when a non-blocking request found the lock taken.
fn flock(file: &File, op: libc::c_int) -> Result<bool, String> {
    loop {
        // SAFETY: the descriptor belongs to `file`, which outlives the call.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(format!("flock {LOCK_FILE}: {err}")),
        }
    }
}

/// The processes in namespace `name` (space-separated), if it exists and has any.
fn live_pids(name: &str) -> Option<String> {
    if !crate::netns::exists(name) {
        return None;
    }
    let out = Command::new("ip")
        .args(["netns", "pids", name])
        .output()
        .ok()?;
    let pids = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!pids.is_empty()).then_some(pids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let path = std::env::temp_dir().join(format!("xtask-bench-lock-{}", std::process::id()));
        let first = File::create(&path).unwrap();
        let second = File::create(&path).unwrap();
        assert_eq!(flock(&first, libc::LOCK_EX | libc::LOCK_NB), Ok(true));
        // Another open file description: flock locks conflict between them.
        assert_eq!(flock(&second, libc::LOCK_EX | libc::LOCK_NB), Ok(false));
        drop(first);
        assert_eq!(flock(&second, libc::LOCK_EX | libc::LOCK_NB), Ok(true));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_missing_namespace_has_no_pids() {
        assert_eq!(live_pids("halyard-bench-no-such-ns"), None);
    }
}
