//! The per-CPU `preempt_count`: which execution context the CPU is in.
//!
//! The layout (preempt, softirq, hardirq, NMI fields) and all arithmetic are the
//! host-tested `preempt` crate; this file only keeps one count per CPU. Only the owning
//! CPU changes its count. Every read-modify-write runs with interrupts off: otherwise a
//! thread could pick its CPU's slot, be preempted on an interrupt's way out (its count
//! still 0), resume on another CPU and write the old CPU's slot — corrupting both.
use core::sync::atomic::{AtomicU32, Ordering};

use preempt::PreemptCount;

use crate::arch::{cpu, percpu};

static COUNTS: [AtomicU32; percpu::MAX_CPUS] = [const { AtomicU32::new(0) }; percpu::MAX_CPUS];

fn slot() -> &'static AtomicU32 {
    &COUNTS[percpu::cpu_index() as usize]
}

/// The calling CPU's count (read with interrupts off, so it is this CPU's).
#[inline]
pub fn current() -> PreemptCount {
    cpu::without_interrupts(|| PreemptCount::from_raw(slot().load(Ordering::Relaxed)))
}

/// Applies `f` to the calling CPU's count; an over/underflow is a kernel bug.
#[inline]
pub fn update(f: impl FnOnce(PreemptCount) -> Result<PreemptCount, preempt::CountError>) {
    let result = cpu::without_interrupts(|| {
        let s = slot();
        let old = PreemptCount::from_raw(s.load(Ordering::Relaxed));
        f(old)
            .map(|new| s.store(new.raw(), Ordering::Relaxed))
            .map_err(|e| (old, e))
    });
    if let Err((old, e)) = result {
        panic!("preempt_count {:#x}: {e:?}", old.raw());
    }
}

/// Disables preemption on this CPU (nestable).
pub fn preempt_disable() {
    update(PreemptCount::preempt_disable);
}

/// Re-enables preemption; an overdue reschedule happens now (see [`preemption_point`]).
pub fn preempt_enable() {
    update(PreemptCount::preempt_enable);
    preemption_point();
}

/// Where preemption (or bottom halves) just came back on: if the count is now zero,
/// interrupts are on and a switch the tick requested has been pending for ten ticks,
/// switch now, as an interrupt exit would. Without this a thread that takes a lock in a
/// loop is only preempted by a tick that happens to land in the few instructions
/// between an unlock and the next lock, and can starve the threads waiting on its CPU.
/// Only overdue switches: taking every pending one here (as Linux's `preempt_enable`
/// does) halved HTTP throughput with 16 connection threads on 2 CPUs under emulation,
/// where each extra switch is expensive.
pub fn preemption_point() {
    if current().raw() == 0
        && crate::arch::cpu::interrupts_enabled()
        && crate::sched::resched_overdue()
    {
        crate::arch::cpu::disable_interrupts();
        crate::sched::preempt_if_needed();
        // SAFETY: interrupts were on when this function disabled them; this restores
        // the caller's state.
        unsafe { crate::arch::cpu::enable_interrupts() };
    }
}

/// Panics when the caller may not sleep: preemption or bottom halves disabled, in an
/// interrupt, or with interrupts off. Call at the top of anything that can block.
#[track_caller]
pub fn might_sleep() {
    let count = current();
    let irqs = cpu::interrupts_enabled();
    if !count.can_sleep(irqs) {
        panic!(
            "might_sleep: blocking call in atomic context (preempt_count={:#x}, interrupts {}) at {}",
            count.raw(),
            if irqs { "on" } else { "off" },
            core::panic::Location::caller()
        );
    }
}
