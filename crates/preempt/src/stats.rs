//! Softirq counters, per CPU and per softirq.
//!
//! The seed kernel's hang was diagnosed from counters (softirq entries one ahead of exits,
//! "processing held" stuck at 1); Halyard keeps the same kind of evidence for every softirq.
//! The counters are written only by the owning CPU but read by any CPU (the serial console,
//! a test harness), so they are relaxed atomics: each value is exact, a snapshot of several
//! values is not a single instant.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::softirq::Softirq;

/// The live counters of one softirq on one CPU.
#[derive(Debug, Default)]
pub struct SoftirqCounters {
    raised: AtomicU64,
    entries: AtomicU64,
    exits: AtomicU64,
    deferred: AtomicU64,
    max_run_ns: AtomicU64,
}

/// A copy of [`SoftirqCounters`] for printing and comparing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SoftirqSnapshot {
    /// `raise` calls, including ones that found it already pending.
    pub raised: u64,
    /// Handler invocations started.
    pub entries: u64,
    /// Handler invocations finished. `entries - exits` is 1 while the handler runs and must
    /// be 0 otherwise: a stuck difference is a hung handler.
    pub exits: u64,
    /// Runs that ended with this softirq still pending and handed it to `ksoftirqd`.
    pub deferred_to_ksoftirqd: u64,
    /// Longest single handler invocation, in nanoseconds.
    pub max_run_ns: u64,
}

impl SoftirqCounters {
    const fn new() -> Self {
        SoftirqCounters {
            raised: AtomicU64::new(0),
            entries: AtomicU64::new(0),
            exits: AtomicU64::new(0),
            deferred: AtomicU64::new(0),
            max_run_ns: AtomicU64::new(0),
        }
    }

    /// A copy of the counters; any context.
    pub fn snapshot(&self) -> SoftirqSnapshot {
        SoftirqSnapshot {
            raised: self.raised.load(Ordering::Relaxed),
            entries: self.entries.load(Ordering::Relaxed),
            exits: self.exits.load(Ordering::Relaxed),
            deferred_to_ksoftirqd: self.deferred.load(Ordering::Relaxed),
            max_run_ns: self.max_run_ns.load(Ordering::Relaxed),
        }
    }
}

/// All softirq counters of one CPU, plus run-level totals.
#[derive(Debug, Default)]
pub struct SoftirqStats {
    per_softirq: [SoftirqCounters; Softirq::COUNT],
    runs: AtomicU64,
    restarts: AtomicU64,
}

impl SoftirqStats {
    pub const fn new() -> Self {
        SoftirqStats {
            per_softirq: [const { SoftirqCounters::new() }; Softirq::COUNT],
            runs: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
        }
    }

    /// The counters of one softirq; any context.
    pub fn of(&self, softirq: Softirq) -> &SoftirqCounters {
        &self.per_softirq[softirq.index()]
    }

    /// Runs of the softirq loop (each ends done or deferred).
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Restarts granted across all runs.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    pub(crate) fn count_raise(&self, softirq: Softirq) {
        self.of(softirq).raised.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_entry(&self, softirq: Softirq) {
        self.of(softirq).entries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_exit(&self, softirq: Softirq, ran_ns: u64) {
        let c = self.of(softirq);
        c.exits.fetch_add(1, Ordering::Relaxed);
        c.max_run_ns.fetch_max(ran_ns, Ordering::Relaxed);
    }

    pub(crate) fn count_deferred(&self, softirq: Softirq) {
        self.of(softirq).deferred.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_run(&self, restarts: u32) {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.restarts
            .fetch_add(u64::from(restarts), Ordering::Relaxed);
    }
}
