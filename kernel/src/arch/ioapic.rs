//! The I/O APIC: routes legacy ISA interrupts (the serial port) to LAPIC vectors.
//!
//! PCI devices use MSI/MSI-X instead ([`super::msi`]), so only a handful of ISA lines are
//! ever routed here. ACPI's interrupt source overrides map ISA IRQs to global system
//! interrupts (GSIs) with their polarity and trigger mode.
use core::sync::atomic::{AtomicU32, Ordering};

use spin::Once;

use crate::mm::mmio::IoMem;

/// The register window, once [`init`] recorded it.
static REGS: Once<IoMem> = Once::new();
static GSI_BASE: AtomicU32 = AtomicU32::new(0);

const IOREGSEL: u64 = 0x00;
const IOWIN: u64 = 0x10;
const REG_VERSION: u32 = 0x01;

// The select/window pair is used by the boot CPU only, with interrupts off (routing is
// set up once at boot), so a selection cannot be changed between the two accesses.
fn write(reg: u32, v: u32) {
    let regs = REGS.get().expect("IOAPIC used before init");
    regs.write(IOREGSEL, reg);
    regs.write(IOWIN, v);
}

fn read(reg: u32) -> u32 {
    let regs = REGS.get().expect("IOAPIC used before init");
    regs.write(IOREGSEL, reg);
    regs.read(IOWIN)
}

/// Records the IOAPIC mapping and masks every input. Boot CPU, once.
pub fn init(regs: IoMem, gsi_base: u32) -> u32 {
    REGS.call_once(|| regs);
    GSI_BASE.store(gsi_base, Ordering::Relaxed);
    let inputs = ((read(REG_VERSION) >> 16) & 0xff) + 1;
    for i in 0..inputs {
        write(0x10 + 2 * i, 1 << 16); // masked
        write(0x11 + 2 * i, 0);
    }
    inputs
}

/// Trigger mode and polarity of an input.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    pub level_triggered: bool,
    pub active_low: bool,
}

/// Routes global system interrupt `gsi` to `vector` on the CPU with APIC id `dest`.
pub fn route(gsi: u32, vector: u8, dest: u32, mode: Mode) {
    let pin = gsi - GSI_BASE.load(Ordering::Relaxed);
    let low = u32::from(vector)
        | (u32::from(mode.active_low) << 13)
        | (u32::from(mode.level_triggered) << 15);
    write(0x11 + 2 * pin, dest << 24);
    write(0x10 + 2 * pin, low);
}
