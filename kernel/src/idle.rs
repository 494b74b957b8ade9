//! What a CPU does when it has nothing to do: wait for the next interrupt.
//!
//! `sti; hlt` is one atomic step (the `sti` shadow covers the `hlt`), so an interrupt
//! that arrives after the caller decided to idle still wakes the CPU instead of being
//! taken just before the `hlt` and leaving it asleep.
use crate::arch::cpu;

/// The idle loop of a CPU with no other work.
pub fn run() -> ! {
    loop {
        // SAFETY: this CPU is fully initialised (IDT, LAPIC) before it idles and holds
        // no locks here.
        unsafe { cpu::enable_interrupts_and_halt() };
    }
}
