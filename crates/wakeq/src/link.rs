//! The per-item part of the queue: a link embedded in every wakeable object.
//!
//! Because the link lives *in* the object (a thread), waking never allocates and the queue
//! needs no capacity: an object is either queued (its one link is in use) or not. A wake of
//! an object that is already queued has nothing to add — the pending delivery will make the
//! thread runnable, and the thread re-checks its wait condition when it runs — so it is
//! counted as coalesced, and no wake is ever dropped for lack of space.

use core::marker::PhantomPinned;
use core::ptr;

use crate::sync::{const_fn_unless_loom, AtomicBool, UnsafeCell};

/// The intrusive link of one [`Wakeable`] object: an atomic "queued" flag and the pointer to
/// the next queued object.
///
/// Ownership of `next` follows the flag: the waker whose swap turned `queued` from false to
/// true owns `next` until its push is published; after that the draining consumer owns it
/// until it clears the flag. Nobody else ever touches it, so it needs no atomic.
#[derive(Debug)]
pub struct WakeLink<T> {
    pub(crate) queued: AtomicBool,
    pub(crate) next: UnsafeCell<*const T>,
    /// A queued object is referred to by address: embedding a link makes the object `!Unpin`
    /// so `Pin` means what the queue needs.
    _pinned: PhantomPinned,
}

// SAFETY: the raw `next` pointer is only accessed by the single owner defined by the
// `queued` flag protocol (see the type docs and `queue.rs`), with the happens-before edges
// provided by the flag and the queue head; `T` itself is shared across CPUs through the
// queue, hence the `T: Sync` bound.
unsafe impl<T: Sync> Send for WakeLink<T> {}
// SAFETY: as above; `&WakeLink` only allows the flag protocol's operations.
unsafe impl<T: Sync> Sync for WakeLink<T> {}

impl<T> WakeLink<T> {
    const_fn_unless_loom! {
        /// An unqueued link.
        pub fn new() -> Self {
            WakeLink { queued: AtomicBool::new(false), next: UnsafeCell::new(ptr::null()), _pinned: PhantomPinned }
        }
    }

    /// Is the object queued (woken but not yet delivered)? Any context. The answer may be
    /// stale by the time it is used, except where the caller knows no wake can race (for
    /// example when freeing an exited thread that no wake source can reach any more).
    pub fn is_queued(&self) -> bool {
        self.queued.load(core::sync::atomic::Ordering::Acquire)
    }
}

impl<T> Default for WakeLink<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// An object that can be put on a [`WakeQueue`](crate::WakeQueue) (a thread).
///
/// # Safety
///
/// `wake_link` must return a reference to a [`WakeLink`] embedded in `self` — the same link
/// on every call for the whole life of the object, and a link that belongs to no other
/// object. The queue finds an object's link only through this method, so a link that moved
/// or was shared would let two queue entries share one `next` pointer.
pub unsafe trait Wakeable: Sized {
    fn wake_link(&self) -> &WakeLink<Self>;
}
