//! Running the bench's socket clients inside its network namespace.
//!
//! The guest's address exists only inside the namespace the bench creates. Rather than
//! re-executing the xtask under `ip netns exec` for every measurement, a fresh thread joins
//! the namespace with `setns(CLONE_NEWNET)` (which changes only the calling thread's
//! network namespace) and runs the client there; sockets it creates live in the namespace.
//! The thread ends with the measurement, so no other thread of the xtask is affected.

use std::fs::File;
use std::os::fd::AsRawFd;

/// Runs `f` on a new thread inside the named namespace (`/run/netns/NAME`) and returns its
/// result.
pub fn run_in<T: Send + 'static>(
    netns: &str,
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let path = format!("/run/netns/{netns}");
    let ns = File::open(&path).map_err(|e| format!("cannot open {path}: {e}"))?;
    std::thread::spawn(move || {
        // SAFETY: `ns` is an open namespace file descriptor, and setns only changes the
        // namespace of this new thread, which owns nothing yet.
        let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        if rc != 0 {
            return Err(format!(
                "setns into {path}: {}",
                std::io::Error::last_os_error()
            ));
        }
        drop(ns);
        f()
    })
    .join()
    .map_err(|_| "measurement thread panicked".to_string())?
}
