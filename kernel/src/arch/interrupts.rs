//! The vector map and the glue between interrupt controllers and handlers.
//!
//! | vectors | use |
//! | --- | --- |
//! | 0x00-0x1f | CPU exceptions |
//! | 0x20-0x2f | ISA IRQs through the IOAPIC (`0x20 + irq`) |
//! | 0x30-0xdf | MSI/MSI-X vectors handed out by [`super::msi`] |
//! | 0xe0-0xef | the masked legacy PICs (spurious only) |
//! | 0xf0 | reschedule IPI |
//! | 0xf1 | TLB shootdown IPI ([`super::tlb`]) |
//! | 0xfd | LAPIC error, 0xfe LAPIC timer, 0xff LAPIC spurious |
use core::sync::atomic::{AtomicU64, Ordering};

use super::entry::{self, InterruptFrame};
use super::{lapic, percpu};

pub const ISA_BASE: u8 = 0x20;
/// IPI asking a CPU to reschedule (a thread was queued for it while it idled).
pub const RESCHED_VECTOR: u8 = 0xf0;
pub const LAPIC_ERROR_VECTOR: u8 = 0xfd;
pub const TIMER_VECTOR: u8 = 0xfe;
pub const SPURIOUS_VECTOR: u8 = 0xff;

static UNEXPECTED: AtomicU64 = AtomicU64::new(0);

/// Signals end-of-interrupt for `vector` (not for spurious interrupts, which have none).
pub fn end_of_interrupt(vector: u8) {
    if vector != SPURIOUS_VECTOR
        && !(super::pic::REMAP_BASE..super::pic::REMAP_BASE + 16).contains(&vector)
    {
        lapic::eoi();
    }
    percpu::current().interrupts.fetch_add(1, Ordering::Relaxed);
}

/// A vector without a handler fired: counted and logged once; never fatal.
pub fn unexpected(vector: u8) {
    if UNEXPECTED.fetch_add(1, Ordering::Relaxed) == 0 {
        crate::warn!("unexpected interrupt vector {vector:#x} (further ones only counted)");
    }
}

/// Interrupts that arrived on vectors without a handler.
pub fn unexpected_count() -> u64 {
    UNEXPECTED.load(Ordering::Relaxed)
}

/// Sends the stop NMI to every other CPU (for a fatal report). No-op before the LAPIC
/// is up, when only the boot CPU runs.
pub fn stop_other_cpus() {
    if lapic::is_ready() && percpu::count() > 1 {
        lapic::send_ipi(lapic::Destination::AllButSelf, lapic::Delivery::Nmi);
    }
}

fn spurious(_: &mut InterruptFrame) {}

fn lapic_error(_: &mut InterruptFrame) {
    crate::warn!("LAPIC error interrupt");
}

/// Installs the handlers every CPU needs. Boot CPU, once, before interrupts are enabled.
pub fn init() {
    entry::register(SPURIOUS_VECTOR, spurious);
    entry::register(LAPIC_ERROR_VECTOR, lapic_error);
    entry::register(TIMER_VECTOR, crate::time::on_timer_interrupt);
}
