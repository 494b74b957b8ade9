//! The legacy 8259 PICs: remapped out of the exception range and masked for good.
//!
//! Halyard uses the IOAPIC. The 8259s are remapped first anyway, to vectors 0xe0-0xef,
//! so that a spurious IRQ 7/15 they may still raise cannot be mistaken for a CPU
//! exception or for an IOAPIC vector.
use super::cpu::outb;

/// First vector of the (masked) legacy PICs.
pub const REMAP_BASE: u8 = 0xe0;

/// Remaps and masks both PICs. Boot CPU, interrupts off.
pub fn disable() {
    // SAFETY: ports 0x20/0x21/0xa0/0xa1 are the 8259s; this is the standard ICW1-4
    // initialisation followed by masking every line.
    unsafe {
        outb(0x20, 0x11);
        outb(0xa0, 0x11);
        outb(0x21, REMAP_BASE);
        outb(0xa1, REMAP_BASE + 8);
        outb(0x21, 4);
        outb(0xa1, 2);
        outb(0x21, 0x01);
        outb(0xa1, 0x01);
        outb(0x21, 0xff);
        outb(0xa1, 0xff);
    }
}
