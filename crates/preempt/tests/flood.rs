//! A simulated CPU: interrupts raise softirqs, the run loop serves them, and a flood is handed
//! to `ksoftirqd` after the restart budget so the interrupted thread gets the CPU back.

use preempt::run::SoftirqCpu;
use preempt::{run_softirqs, PreemptCount, RestartBudget, RunOutcome, Softirq, SoftirqPlatform};

/// A fake CPU: a clock advanced by handlers, and a NIC that raises NET_RX again during the
/// poll while `flood_packets_left` is non-zero.
struct SimCpu<'a> {
    cpu: &'a SoftirqCpu,
    now: u64,
    handler_ns: u64,
    flood_polls_left: u32,
    need_resched: bool,
    served: Vec<Softirq>,
}

impl SoftirqPlatform for SimCpu<'_> {
    fn now_ns(&mut self) -> u64 {
        self.now
    }
    fn need_resched(&mut self) -> bool {
        self.need_resched
    }
    fn handle(&mut self, softirq: Softirq) {
        self.served.push(softirq);
        self.now += self.handler_ns;
        if softirq == Softirq::NetRx && self.flood_polls_left > 0 {
            self.flood_polls_left -= 1;
            // The NIC interrupt fires during the poll and raises NET_RX again.
            self.cpu.raise(Softirq::NetRx);
        }
    }
}

fn sim(cpu: &SoftirqCpu, handler_ns: u64, flood_polls: u32) -> SimCpu<'_> {
    SimCpu {
        cpu,
        now: 1_000_000,
        handler_ns,
        flood_polls_left: flood_polls,
        need_resched: false,
        served: Vec::new(),
    }
}

/// The interrupt exit path: leave hardirq, and run softirqs only if not nested.
fn irq_exit(
    count: PreemptCount,
    cpu: &SoftirqCpu,
    platform: &mut SimCpu<'_>,
) -> Option<RunOutcome> {
    let count = count.exit_hardirq().unwrap();
    if !count.may_run_softirqs() || !cpu.pending().any() {
        return None;
    }
    let serving = count.enter_softirq().unwrap();
    assert!(serving.in_serving_softirq() && !serving.can_sleep(true));
    let outcome = run_softirqs(cpu, RestartBudget::default(), platform);
    assert_eq!(serving.exit_softirq().unwrap(), count);
    Some(outcome)
}

#[test]
fn short_burst_is_served_on_irq_exit() {
    let cpu = SoftirqCpu::new();
    let mut p = sim(&cpu, 10_000, 3);
    let irq = PreemptCount::ZERO.enter_hardirq().unwrap();
    cpu.raise(Softirq::NetRx);
    cpu.raise(Softirq::Timer);
    assert_eq!(
        irq_exit(irq, &cpu, &mut p),
        Some(RunOutcome::Done { passes: 4 })
    );
    assert_eq!(
        p.served[..2],
        [Softirq::Timer, Softirq::NetRx],
        "service order is priority order"
    );
    let rx = cpu.stats().of(Softirq::NetRx).snapshot();
    assert_eq!(
        (rx.raised, rx.entries, rx.exits, rx.deferred_to_ksoftirqd),
        (4, 4, 4, 0)
    );
    assert_eq!(rx.max_run_ns, 10_000);
    assert_eq!((cpu.stats().runs(), cpu.stats().restarts()), (1, 3));
}

#[test]
fn flood_defers_to_ksoftirqd_after_restart_limit() {
    let cpu = SoftirqCpu::new();
    let mut p = sim(&cpu, 1_000, 1_000);
    cpu.raise(Softirq::NetRx);
    let irq = PreemptCount::ZERO.enter_hardirq().unwrap();
    // 1 pass + 10 restarts, each 1 us: the count limit hits long before the 2 ms limit.
    assert_eq!(
        irq_exit(irq, &cpu, &mut p),
        Some(RunOutcome::Deferred { passes: 11 })
    );
    let rx = cpu.stats().of(Softirq::NetRx).snapshot();
    assert_eq!(
        (rx.entries, rx.exits, rx.deferred_to_ksoftirqd),
        (11, 11, 1)
    );
    assert!(
        cpu.pending().peek().contains(Softirq::NetRx),
        "the rest waits for ksoftirqd"
    );
}

#[test]
fn slow_flood_defers_after_time_limit() {
    let cpu = SoftirqCpu::new();
    let mut p = sim(&cpu, 300_000, 1_000);
    cpu.raise(Softirq::NetRx);
    // 300 us per poll: after 7 polls (2.1 ms) the time budget is spent.
    assert_eq!(
        run_softirqs(&cpu, RestartBudget::default(), &mut p),
        RunOutcome::Deferred { passes: 7 }
    );
    assert_eq!(
        cpu.stats().of(Softirq::NetRx).snapshot().max_run_ns,
        300_000
    );
}

#[test]
fn need_resched_hands_over_at_once() {
    let cpu = SoftirqCpu::new();
    let mut p = sim(&cpu, 1_000, 1_000);
    p.need_resched = true;
    cpu.raise(Softirq::NetRx);
    assert_eq!(
        run_softirqs(&cpu, RestartBudget::default(), &mut p),
        RunOutcome::Deferred { passes: 1 }
    );
}

#[test]
fn no_softirqs_on_nested_irq_exit_or_with_bh_disabled() {
    let cpu = SoftirqCpu::new();
    let mut p = sim(&cpu, 1_000, 0);
    cpu.raise(Softirq::NetRx);
    let nested = PreemptCount::ZERO
        .enter_hardirq()
        .unwrap()
        .enter_hardirq()
        .unwrap();
    assert_eq!(irq_exit(nested, &cpu, &mut p), None);
    let bh_off = PreemptCount::ZERO
        .bh_disable()
        .unwrap()
        .enter_hardirq()
        .unwrap();
    assert_eq!(irq_exit(bh_off, &cpu, &mut p), None);
    assert!(p.served.is_empty() && cpu.pending().any());
}

/// The whole picture: a flood of 1000 polls arrives while a thread runs. Softirqs on irq exit
/// take at most 11 passes, then ksoftirqd alternates with the thread until the flood is over.
/// Every raise is served and the thread runs between ksoftirqd runs.
#[test]
fn ksoftirqd_drains_flood_while_thread_keeps_running() {
    let cpu = SoftirqCpu::new();
    let mut p = sim(&cpu, 1_000, 1_000);
    cpu.raise(Softirq::NetRx);
    let irq = PreemptCount::ZERO.enter_hardirq().unwrap();
    let mut ksoftirqd_woken = matches!(
        irq_exit(irq, &cpu, &mut p),
        Some(RunOutcome::Deferred { .. })
    );
    let mut thread_slices = 0;
    let mut ksoftirqd_runs = 0;
    while ksoftirqd_woken {
        // The scheduler alternates: the interrupted thread gets a slice, then ksoftirqd.
        thread_slices += 1;
        p.now += 100_000;
        ksoftirqd_runs += 1;
        assert!(ksoftirqd_runs < 1_000, "bounded");
        let serving = PreemptCount::ZERO.enter_softirq().unwrap();
        ksoftirqd_woken = matches!(
            run_softirqs(&cpu, RestartBudget::default(), &mut p),
            RunOutcome::Deferred { .. }
        );
        serving.exit_softirq().unwrap();
    }
    let rx = cpu.stats().of(Softirq::NetRx).snapshot();
    assert_eq!(rx.raised, 1_001);
    assert_eq!(
        (rx.entries, rx.exits),
        (1_001, 1_001),
        "every raise served, entries == exits"
    );
    // 1001 polls at 11 per run: 1 run on irq exit, then 90 in ksoftirqd (the last one ends
    // Done because the 1001st poll raises nothing); every run but the last deferred.
    assert_eq!(ksoftirqd_runs, 90);
    assert_eq!(
        thread_slices, ksoftirqd_runs,
        "the thread ran between every ksoftirqd run"
    );
    assert_eq!(rx.deferred_to_ksoftirqd, 90);
    assert!(!cpu.pending().any());
}
