//! Softirqs: deferred interrupt work (NET_RX, NET_TX, TIMER, ...) run with interrupts on.
//!
//! A hardirq handler only [`raise`]s a softirq. Pending softirqs run on interrupt exit
//! when the CPU was not already in an interrupt or softirq and bottom halves are enabled,
//! or when a thread re-enables bottom halves. One run takes everything pending and
//! restarts while more is raised, within the host-tested `preempt::RestartBudget`
//! (10 restarts or 2 ms); what is left then goes to the CPU's `ksoftirqd` thread, which
//! the scheduler runs like any other thread, so a flood of interrupts cannot starve
//! threads. The run loop, pending word and counters are the `preempt` crate.
use alloc::sync::Arc;

use preempt::{
    run_softirqs, PreemptCount, RestartBudget, RunOutcome, Softirq, SoftirqCpu, SoftirqPlatform,
};
use spin::Once;

use super::count;
use crate::arch::{cpu, percpu};
use crate::sched::{self, Thread};
use crate::sync::FnSlot;

static CPUS: [SoftirqCpu; percpu::MAX_CPUS] = [const { SoftirqCpu::new() }; percpu::MAX_CPUS];
static HANDLERS: [FnSlot; Softirq::ALL.len()] = [const { FnSlot::empty() }; Softirq::ALL.len()];
static KSOFTIRQD: [Once<Arc<Thread>>; percpu::MAX_CPUS] = [const { Once::new() }; percpu::MAX_CPUS];

/// The budget of one run outside `ksoftirqd`.
const BUDGET: RestartBudget = RestartBudget {
    max_restarts: RestartBudget::DEFAULT_MAX_RESTARTS,
    max_time_ns: RestartBudget::DEFAULT_MAX_TIME_NS,
};

fn this_cpu() -> &'static SoftirqCpu {
    &CPUS[percpu::cpu_index() as usize]
}

/// The softirq state of CPU `index` (for the `softirqs` monitor command).
pub fn cpu_state(index: usize) -> &'static SoftirqCpu {
    &CPUS[index]
}

/// Installs the handler of `softirq`. It runs in softirq context: interrupts on,
/// bottom halves off, must not sleep.
pub fn register(softirq: Softirq, handler: fn()) {
    HANDLERS[softirq.index()].set(Some(handler));
}

/// Marks `softirq` pending on this CPU. Any context; lock-free. From process context
/// with bottom halves enabled nothing else would run it soon, so `ksoftirqd` is woken.
pub fn raise(softirq: Softirq) {
    this_cpu().raise(softirq);
    if !count::current().in_interrupt() {
        wake_ksoftirqd();
    }
}

/// True when this CPU has softirqs pending.
pub fn pending() -> bool {
    this_cpu().pending().any()
}

struct Kernel;

impl SoftirqPlatform for Kernel {
    fn now_ns(&mut self) -> u64 {
        crate::time::now_ns()
    }

    fn need_resched(&mut self) -> bool {
        sched::need_resched()
    }

    fn handle(&mut self, softirq: Softirq) {
        if let Some(handler) = HANDLERS[softirq.index()].get() {
            handler();
        }
    }
}

/// One budgeted run with the softirq-serving mark set and interrupts on; returns with
/// interrupts off.
fn run_once(budget: RestartBudget) -> RunOutcome {
    cpu::disable_interrupts();
    count::update(PreemptCount::enter_softirq);
    // SAFETY: softirqs run with interrupts enabled; the serving mark keeps nested
    // interrupts from running softirqs again on this CPU.
    unsafe { cpu::enable_interrupts() };
    let outcome = run_softirqs(this_cpu(), budget, &mut Kernel);
    cpu::disable_interrupts();
    count::update(PreemptCount::exit_softirq);
    outcome
}

/// Runs softirqs on interrupt exit (interrupts off on entry and on return).
pub fn run_on_interrupt_exit() {
    if let RunOutcome::Deferred { .. } = run_once(BUDGET) {
        wake_ksoftirqd();
    }
}

/// Runs softirqs when a thread re-enables bottom halves (interrupts on on entry and return).
pub fn run_from_bh_enable() {
    if let RunOutcome::Deferred { .. } = run_once(BUDGET) {
        wake_ksoftirqd();
    }
    // SAFETY: interrupts were on when this was called.
    unsafe { cpu::enable_interrupts() };
}

fn wake_ksoftirqd() {
    if let Some(t) = KSOFTIRQD[percpu::cpu_index() as usize].get() {
        sched::wake(t);
    }
}

/// Starts `ksoftirqd/N` pinned to CPU `cpu`. Boot, once per CPU.
pub fn start_ksoftirqd(cpu_index: u32) {
    let name = alloc::format!("ksoftirqd/{cpu_index}");
    let t = sched::spawn_pinned(name, cpu_index, ksoftirqd_main);
    KSOFTIRQD[cpu_index as usize].call_once(|| t);
}

/// `ksoftirqd`: serves softirqs a run could not finish, one budget at a time, yielding
/// to other threads in between.
fn ksoftirqd_main() {
    loop {
        sched::block_until(pending);
        run_once(BUDGET);
        // SAFETY: thread context, no locks held.
        unsafe { cpu::enable_interrupts() };
        sched::yield_now();
    }
}
