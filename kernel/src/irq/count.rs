//! The per-CPU `preempt_count`: which execution context the CPU is in.
//!
//! The layout (preempt, softirq, hardirq, NMI fields) and all arithmetic are the
//! host-tested `preempt` crate; this file only keeps one count per CPU. Only the owning
//! CPU changes its count, with interrupts either off or restored to the same value before
//! they can observe it (an interrupt handler always leaves the count as it found it), so
//! relaxed atomics suffice.
use core::sync::atomic::{AtomicU32, Ordering};

use preempt::PreemptCount;

use crate::arch::{cpu, percpu};

static COUNTS: [AtomicU32; percpu::MAX_CPUS] = [const { AtomicU32::new(0) }; percpu::MAX_CPUS];

fn slot() -> &'static AtomicU32 {
    &COUNTS[percpu::cpu_index() as usize]
}

/// The calling CPU's count.
#[inline]
pub fn current() -> PreemptCount {
    PreemptCount::from_raw(slot().load(Ordering::Relaxed))
}

/// Applies `f` to the calling CPU's count; an over/underflow is a kernel bug.
#[inline]
pub fn update(f: impl FnOnce(PreemptCount) -> Result<PreemptCount, preempt::CountError>) {
    let s = slot();
    let old = PreemptCount::from_raw(s.load(Ordering::Relaxed));
    match f(old) {
        Ok(new) => s.store(new.raw(), Ordering::Relaxed),
        Err(e) => panic!("preempt_count {:#x}: {e:?}", old.raw()),
    }
}

/// Disables preemption on this CPU (nestable).
pub fn preempt_disable() {
    update(PreemptCount::preempt_disable);
}

/// Re-enables preemption. A reschedule requested meanwhile happens at the next
/// interrupt exit or voluntary switch.
pub fn preempt_enable() {
    update(PreemptCount::preempt_enable);
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
