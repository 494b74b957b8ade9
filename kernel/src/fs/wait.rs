//! Waiting inside file operations: interruptible by signals.
//!
//! A blocking read or write sleeps on the object's wait queue until its condition holds
//! or a signal is pending for the thread ([`crate::process::signal_pending`]); the
//! signal's sender wakes the thread directly. `poll`, `select` and epoll wait on the
//! files' readiness queues instead ([`super::poll`]).
use crate::sched::WaitQueue;
use crate::syscall::Errno;

/// Sleeps on `queue` until `cond()` holds; `Err(EINTR)` if a signal comes first.
pub fn interruptible(queue: &WaitQueue, mut cond: impl FnMut() -> bool) -> Result<(), Errno> {
    let mut ok = false;
    queue.wait_until(|| {
        ok = cond();
        ok || crate::process::signal_pending()
    });
    if ok {
        Ok(())
    } else {
        Err(Errno::EINTR)
    }
}
