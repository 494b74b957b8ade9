//! The per-CPU word of raised-but-not-yet-served softirqs.
//!
//! Raising and taking go through [`SoftirqCpu`](crate::SoftirqCpu) and the run loop, which
//! count them; other code may only look.
//!
//! Linux keeps this word non-atomic and touches it only with interrupts disabled. Halyard
//! uses an atomic word instead: raising is a single `fetch_or` and taking is a single `swap`,
//! so both are safe from any context (NMI included) without masking interrupts, and the run
//! loop can take the pending set with interrupts enabled. A raise is never lost: it either
//! lands before a `take_all` (and is served by that pass) or after it (and is seen by the
//! next check of the run loop or the next interrupt exit).
//!
//! Relaxed ordering is enough for the word itself: the data a softirq handler consumes (a
//! device ring, a timer wheel) has its own synchronisation, and raise/serve happen on the
//! same CPU.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::softirq::{Softirq, SoftirqSet};

/// One CPU's pending softirqs.
#[derive(Debug, Default)]
pub struct PendingSoftirqs(AtomicU32);

impl PendingSoftirqs {
    pub const fn new() -> Self {
        PendingSoftirqs(AtomicU32::new(0))
    }

    /// Marks `softirq` pending. May be called from any context (hardirq, softirq, NMI,
    /// process); lock-free and wait-free. Returns `true` if it was not already pending.
    pub(crate) fn raise(&self, softirq: Softirq) -> bool {
        self.0.fetch_or(softirq.bit(), Ordering::Relaxed) & softirq.bit() == 0
    }

    /// Is anything pending? Any context.
    pub fn any(&self) -> bool {
        self.0.load(Ordering::Relaxed) != 0
    }

    /// The pending set, without clearing it. Any context.
    pub fn peek(&self) -> SoftirqSet {
        SoftirqSet::from_bits_truncate(self.0.load(Ordering::Relaxed))
    }

    /// Takes and clears everything pending. Called by the softirq run loop (softirq context
    /// or `ksoftirqd`) on the owning CPU; lock-free and wait-free.
    pub(crate) fn take_all(&self) -> SoftirqSet {
        SoftirqSet::from_bits_truncate(self.0.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raise_take_clears_and_reports_first_raise() {
        let p = PendingSoftirqs::new();
        assert!(!p.any());
        assert!(p.raise(Softirq::NetRx));
        assert!(!p.raise(Softirq::NetRx), "second raise coalesces");
        assert!(p.raise(Softirq::Timer));
        assert_eq!(
            p.peek(),
            SoftirqSet::EMPTY.with(Softirq::NetRx).with(Softirq::Timer)
        );
        let taken = p.take_all();
        assert!(taken.contains(Softirq::NetRx) && taken.contains(Softirq::Timer));
        assert!(!p.any() && p.take_all().is_empty());
    }
}
