//! How long one softirq run may go on before the rest is handed to `ksoftirqd`.
//!
//! Softirqs raised while softirqs are being served (a NIC interrupt during the NET_RX poll)
//! are picked up by restarting the run loop; that keeps latency low, but under a flood the
//! loop would never end and the interrupted thread (or every thread, on this CPU) would
//! starve. Linux bounds each run in `__do_softirq` by `MAX_SOFTIRQ_RESTART` (10) and
//! `MAX_SOFTIRQ_TIME` (2 ms) and by `need_resched()`, then wakes the per-CPU `ksoftirqd`
//! thread, which serves the rest at normal thread priority so the scheduler can interleave
//! it with user work.
//!
//! Halyard uses the same numbers, with one documented difference in counting: here
//! `max_restarts` counts *restarts* (passes after the first), so the default allows at most
//! 11 passes; Linux's counter is decremented before the restart test and allows 10.

/// The restart policy of one softirq run. Pure data: any context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartBudget {
    /// Restarts (passes after the first) allowed per run.
    pub max_restarts: u32,
    /// Time allowed per run, in nanoseconds, measured from the start of the first pass.
    pub max_time_ns: u64,
}

impl RestartBudget {
    /// Linux's `MAX_SOFTIRQ_RESTART`.
    pub const DEFAULT_MAX_RESTARTS: u32 = 10;
    /// Linux's `MAX_SOFTIRQ_TIME` (2 ms).
    pub const DEFAULT_MAX_TIME_NS: u64 = 2_000_000;

    /// Starts the budget of one run at time `now_ns`.
    pub const fn start(self, now_ns: u64) -> RunBudget {
        RunBudget {
            budget: self,
            started_ns: now_ns,
            restarts: 0,
        }
    }
}

impl Default for RestartBudget {
    fn default() -> Self {
        RestartBudget {
            max_restarts: Self::DEFAULT_MAX_RESTARTS,
            max_time_ns: Self::DEFAULT_MAX_TIME_NS,
        }
    }
}

/// What to do after a pass of the run loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassDecision {
    /// Nothing is pending any more: the run is over.
    Done,
    /// Softirqs were raised meanwhile and the budget allows another pass.
    Restart,
    /// Softirqs are still pending but the budget is spent (or a thread needs the CPU): wake
    /// `ksoftirqd` and return.
    DeferToKsoftirqd,
}

/// The budget of one run in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunBudget {
    budget: RestartBudget,
    started_ns: u64,
    restarts: u32,
}

impl RunBudget {
    /// Decides after a pass. `still_pending`: softirqs were raised during the pass;
    /// `need_resched`: the scheduler wants this CPU for a thread. A clock that goes backwards
    /// counts as no time elapsed.
    pub fn after_pass(
        &mut self,
        now_ns: u64,
        still_pending: bool,
        need_resched: bool,
    ) -> PassDecision {
        if !still_pending {
            return PassDecision::Done;
        }
        let elapsed = now_ns.saturating_sub(self.started_ns);
        if need_resched
            || elapsed >= self.budget.max_time_ns
            || self.restarts >= self.budget.max_restarts
        {
            return PassDecision::DeferToKsoftirqd;
        }
        self.restarts += 1;
        PassDecision::Restart
    }

    /// Restarts granted so far in this run.
    pub const fn restarts(&self) -> u32 {
        self.restarts
    }

    /// When this run started.
    pub const fn started_ns(&self) -> u64 {
        self.started_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_linux_values() {
        let b = RestartBudget::default();
        assert_eq!((b.max_restarts, b.max_time_ns), (10, 2_000_000));
    }

    #[test]
    fn nothing_pending_is_done_even_when_over_budget() {
        let mut run = RestartBudget::default().start(0);
        assert_eq!(run.after_pass(u64::MAX, false, true), PassDecision::Done);
    }

    #[test]
    fn restart_count_is_bounded() {
        let mut run = RestartBudget::default().start(0);
        for i in 0..10 {
            assert_eq!(run.after_pass(i, true, false), PassDecision::Restart);
        }
        assert_eq!(run.restarts(), 10);
        assert_eq!(
            run.after_pass(11, true, false),
            PassDecision::DeferToKsoftirqd
        );
    }

    #[test]
    fn time_is_bounded() {
        let mut run = RestartBudget::default().start(1_000);
        assert_eq!(
            run.after_pass(1_000 + 1_999_999, true, false),
            PassDecision::Restart
        );
        assert_eq!(
            run.after_pass(1_000 + 2_000_000, true, false),
            PassDecision::DeferToKsoftirqd
        );
    }

    #[test]
    fn need_resched_defers_at_once() {
        let mut run = RestartBudget::default().start(0);
        assert_eq!(
            run.after_pass(1, true, true),
            PassDecision::DeferToKsoftirqd
        );
    }

    #[test]
    fn clock_going_backwards_is_no_elapsed_time() {
        let mut run = RestartBudget::default().start(5_000);
        assert_eq!(run.after_pass(10, true, false), PassDecision::Restart);
        assert_eq!(run.started_ns(), 5_000);
    }
}
