//! A `fn()` that one context installs and another calls, without a lock.
//!
//! Hooks called from interrupt or softirq context (the tick hook of in-kernel tests,
//! softirq handlers, the NIC's RX notifier) are set rarely and read on every call; an
//! atomic word holding the function's address is the cheapest safe way to share one.
use core::sync::atomic::{AtomicUsize, Ordering};

/// Holds an optional `fn()`. Readable from any context.
pub struct FnSlot(AtomicUsize);

impl FnSlot {
    pub const fn empty() -> Self {
        FnSlot(AtomicUsize::new(0))
    }

    /// Installs `f` (or clears the slot with `None`).
    pub fn set(&self, f: Option<fn()>) {
        self.0.store(f.map_or(0, |f| f as usize), Ordering::Release);
    }

    /// The installed function, if any.
    pub fn get(&self) -> Option<fn()> {
        match self.0.load(Ordering::Acquire) {
            0 => None,
            // SAFETY: only `set` stores into the slot, and it stores the address of a
            // `fn()`; function pointers and `usize` have the same size on x86_64.
            f => Some(unsafe { core::mem::transmute::<usize, fn()>(f) }),
        }
    }
}
