//! Waiting inside file operations: interruptible by signals, and one wake-up source for
//! `poll`.
//!
//! A blocking read or write sleeps on the object's wait queue until its condition holds
//! or a signal is pending for the thread ([`crate::process::signal_pending`]); the
//! signal's sender wakes the thread directly. `poll` and `select` wait on many objects at
//! once: every object that changes state calls [`notify`], which bumps a generation
//! counter and wakes the pollers, who re-check their descriptors. One queue for all
//! pollers is simple and lossless (a change between a poller's check and its sleep moves
//! the generation, so it does not sleep); its cost is waking pollers for changes that are
//! not theirs, which is fine for a console system and is what `epoll` (issue 14) replaces.
use core::sync::atomic::{AtomicU64, Ordering};

use crate::sched::WaitQueue;
use crate::syscall::Errno;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static POLLERS: WaitQueue = WaitQueue::new();

/// Some file's `poll` events may have changed. Any context.
pub fn notify() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
    POLLERS.wake_all();
}

/// The current generation (read before checking descriptors).
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// Sleeps until the generation moves past `seen`, a signal is pending, or `deadline_ns`.
/// `Err(EINTR)` for a signal.
pub fn wait_for_change(seen: u64, deadline_ns: Option<u64>) -> Result<(), Errno> {
    POLLERS.wait_until_deadline(deadline_ns, || {
        generation() != seen || crate::process::signal_pending()
    });
    if crate::process::signal_pending() {
        return Err(Errno::EINTR);
    }
    Ok(())
}

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
