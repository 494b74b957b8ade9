//! Interrupt context bookkeeping: hardirq entry/exit, bottom halves and softirqs.
//!
//! Every device or IPI interrupt runs as: [`hardirq_enter`], the handler, EOI, then
//! [`hardirq_exit`], which runs pending softirqs when the CPU is not already inside an
//! interrupt or softirq and bottom halves are enabled, and finally preempts the
//! interrupted thread if the scheduler asked for it.
pub mod count;
pub mod softirq;

use preempt::PreemptCount;

pub use count::{might_sleep, preempt_disable, preempt_enable};

/// Marks entry into a hardware interrupt handler. Interrupts off.
pub fn hardirq_enter() {
    count::update(PreemptCount::enter_hardirq);
}

/// Leaves hardirq context: softirqs, then a possible preemption. Interrupts off; the
/// caller is the interrupt entry path, on the interrupted thread's stack.
pub fn hardirq_exit() {
    count::update(PreemptCount::exit_hardirq);
    if count::current().may_run_softirqs() && softirq::pending() {
        softirq::run_on_interrupt_exit();
    }
    if count::current().raw() == 0 {
        crate::sched::preempt_if_needed();
    }
}

/// Disables bottom halves on this CPU: softirqs cannot run here until
/// [`local_bh_enable`]. Nestable. Used by `BhLock` guards.
pub fn local_bh_disable() {
    count::update(PreemptCount::bh_disable);
}

/// Re-enables bottom halves and runs softirqs raised meanwhile (process context).
pub fn local_bh_enable() {
    count::update(PreemptCount::bh_enable);
    let c = count::current();
    if c.may_run_softirqs()
        && !c.in_interrupt()
        && softirq::pending()
        && crate::arch::cpu::interrupts_enabled()
    {
        softirq::run_from_bh_enable();
    }
    count::preemption_point();
}
