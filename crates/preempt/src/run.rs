//! The softirq run loop, generic over the platform.
//!
//! The loop is the same whether it runs on interrupt exit, from `local_bh_enable`, or in the
//! per-CPU `ksoftirqd` thread: take everything pending, serve it in priority order, and if
//! more was raised meanwhile either restart or, when the [`RestartBudget`] is spent, hand the
//! rest to `ksoftirqd`. Only the clock, the scheduler's "need resched" flag and the handlers
//! differ between the kernel and the host tests, so they come from a [`SoftirqPlatform`].

use crate::budget::{PassDecision, RestartBudget};
use crate::pending::PendingSoftirqs;
use crate::softirq::Softirq;
use crate::stats::SoftirqStats;

/// What [`run_softirqs`] needs from its environment.
pub trait SoftirqPlatform {
    /// A monotonic clock in nanoseconds.
    fn now_ns(&mut self) -> u64;
    /// Does the scheduler want this CPU back for a thread?
    fn need_resched(&mut self) -> bool;
    /// Serves one softirq (runs its handler) to completion.
    fn handle(&mut self, softirq: Softirq);
}

/// One CPU's softirq state: what is pending and what has happened.
#[derive(Debug, Default)]
pub struct SoftirqCpu {
    pending: PendingSoftirqs,
    stats: SoftirqStats,
}

impl SoftirqCpu {
    pub const fn new() -> Self {
        SoftirqCpu {
            pending: PendingSoftirqs::new(),
            stats: SoftirqStats::new(),
        }
    }

    /// Raises `softirq` on this CPU and counts it. May be called from any context (hardirq,
    /// softirq, process, NMI); lock-free. Returns `true` if it was not already pending. The
    /// caller runs softirqs later: on interrupt exit when
    /// [`PreemptCount::may_run_softirqs`](crate::PreemptCount::may_run_softirqs), or from
    /// process context it wakes `ksoftirqd`.
    pub fn raise(&self, softirq: Softirq) -> bool {
        self.stats.count_raise(softirq);
        self.pending.raise(softirq)
    }

    /// The pending word (for the "should we run?" check on interrupt exit).
    pub fn pending(&self) -> &PendingSoftirqs {
        &self.pending
    }

    /// The counters.
    pub fn stats(&self) -> &SoftirqStats {
        &self.stats
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Nothing was left pending after `passes` passes.
    Done { passes: u32 },
    /// The budget ran out after `passes` passes with softirqs still pending: the caller must
    /// wake this CPU's `ksoftirqd` (or, inside `ksoftirqd`, yield and loop).
    Deferred { passes: u32 },
}

/// Runs the pending softirqs of `cpu` under `budget`.
///
/// Context: the owning CPU only, with the softirq-serving mark already in its
/// `preempt_count` ([`PreemptCount::enter_softirq`](crate::PreemptCount::enter_softirq)) and
/// hardirqs enabled, so interrupts keep raising softirqs while it runs. Callers: the interrupt
/// exit path, `local_bh_enable`, and `ksoftirqd`. The pending word is atomic, so the set is
/// taken without masking interrupts.
pub fn run_softirqs<P: SoftirqPlatform>(
    cpu: &SoftirqCpu,
    budget: RestartBudget,
    platform: &mut P,
) -> RunOutcome {
    let mut run = budget.start(platform.now_ns());
    let mut passes = 0;
    loop {
        passes += 1;
        for softirq in cpu.pending.take_all().iter() {
            cpu.stats.count_entry(softirq);
            let start = platform.now_ns();
            platform.handle(softirq);
            let ran = platform.now_ns().saturating_sub(start);
            cpu.stats.count_exit(softirq, ran);
        }
        let now = platform.now_ns();
        let need_resched = platform.need_resched();
        match run.after_pass(now, cpu.pending.any(), need_resched) {
            PassDecision::Restart => continue,
            PassDecision::Done => {
                cpu.stats.count_run(run.restarts());
                return RunOutcome::Done { passes };
            }
            PassDecision::DeferToKsoftirqd => {
                cpu.pending
                    .peek()
                    .iter()
                    .for_each(|s| cpu.stats.count_deferred(s));
                cpu.stats.count_run(run.restarts());
                return RunOutcome::Deferred { passes };
            }
        }
    }
}
