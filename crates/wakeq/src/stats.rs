//! Counters of a wake queue, for the serial console and the tests.
//!
//! They are statistics only and take no part in the synchronisation, so they are plain
//! `core` relaxed atomics even under loom (keeping them out of the model keeps its state
//! space small). Invariants once the queue is quiescent (no wake or drain in progress):
//! `enqueued + coalesced == requested`, and `drained == enqueued` after a final drain.

use core::sync::atomic::{AtomicU64, Ordering};

/// Live counters, updated by every wake and drain.
#[derive(Debug, Default)]
pub struct WakeCounters {
    requested: AtomicU64,
    enqueued: AtomicU64,
    coalesced: AtomicU64,
    drained: AtomicU64,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WakeStats {
    /// Calls to `wake`.
    pub requested: u64,
    /// Wakes that put the object on the queue.
    pub enqueued: u64,
    /// Wakes that found the object already queued: merged into the pending delivery, not lost.
    pub coalesced: u64,
    /// Objects delivered by `drain`.
    pub drained: u64,
}

impl WakeCounters {
    pub(crate) const fn new() -> Self {
        WakeCounters {
            requested: AtomicU64::new(0),
            enqueued: AtomicU64::new(0),
            coalesced: AtomicU64::new(0),
            drained: AtomicU64::new(0),
        }
    }

    pub(crate) fn count_wake(&self, enqueued: bool) {
        self.requested.fetch_add(1, Ordering::Relaxed);
        let counter = if enqueued {
            &self.enqueued
        } else {
            &self.coalesced
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_drained(&self, n: u64) {
        self.drained.fetch_add(n, Ordering::Relaxed);
    }

    /// A copy of the counters; any context. Each value is exact, but the copy is not taken
    /// at a single instant while wakes are in flight.
    pub fn snapshot(&self) -> WakeStats {
        WakeStats {
            requested: self.requested.load(Ordering::Relaxed),
            enqueued: self.enqueued.load(Ordering::Relaxed),
            coalesced: self.coalesced.load(Ordering::Relaxed),
            drained: self.drained.load(Ordering::Relaxed),
        }
    }
}
