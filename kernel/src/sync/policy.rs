//! What a spin lock does to the local CPU's context while it is held.
use crate::arch::cpu;
use crate::irq;

/// How a lock protects itself against code that can run on its own CPU while it is held.
pub trait GuardPolicy {
    /// What [`GuardPolicy::exit`] needs to restore the previous state.
    type Saved: Copy;
    /// Called before the lock is taken.
    fn enter() -> Self::Saved;
    /// Called after the lock is released.
    fn exit(saved: Self::Saved);
}

/// Preemption off: for data only threads touch.
pub struct PreemptOff;

impl GuardPolicy for PreemptOff {
    type Saved = ();
    fn enter() {
        irq::preempt_disable();
    }
    fn exit(_: ()) {
        irq::preempt_enable();
    }
}

/// Bottom halves off: for data shared with softirqs. Taken inside a softirq it changes
/// nothing that matters (bottom halves are already off there).
pub struct BhOff;

impl GuardPolicy for BhOff {
    type Saved = ();
    fn enter() {
        irq::local_bh_disable();
    }
    fn exit(_: ()) {
        irq::local_bh_enable();
    }
}

/// Interrupts off (saved and restored, so nesting works): for data shared with
/// hardirq handlers.
pub struct IrqOff;

impl GuardPolicy for IrqOff {
    type Saved = bool;
    fn enter() -> bool {
        let were_enabled = cpu::interrupts_enabled();
        cpu::disable_interrupts();
        irq::preempt_disable();
        were_enabled
    }
    fn exit(were_enabled: bool) {
        irq::preempt_enable();
        if were_enabled {
            // SAFETY: interrupts were enabled when the lock was taken and it is released.
            unsafe { cpu::enable_interrupts() };
        }
    }
}
