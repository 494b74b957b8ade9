//! The 16550 UART on COM1 (I/O port 0x3f8): the kernel's console.
//!
//! Output is polled (wait for the transmit holding register, then write). Input arrives
//! through the UART's receive interrupt (IRQ 4, routed by the IOAPIC), whose handler
//! moves bytes into [`crate::console::input`] for the monitor.
use crate::arch::cpu::{inb, outb};

const COM1: u16 = 0x3f8;
const DATA: u16 = COM1;
const IER: u16 = COM1 + 1;
const FCR: u16 = COM1 + 2;
const LCR: u16 = COM1 + 3;
const MCR: u16 = COM1 + 4;
const LSR: u16 = COM1 + 5;

const LSR_DATA_READY: u8 = 1 << 0;
const LSR_THR_EMPTY: u8 = 1 << 5;

/// The ISA IRQ line of COM1.
pub const IRQ: u8 = 4;

/// Programs COM1 for 115200 baud, 8N1, interrupts off, and the FIFOs left off.
///
/// Why no FIFOs: switching them on clears them, and a byte typed while QEMU starts is
/// already waiting in the receive register by then (QEMU hands the UART the next byte as
/// soon as it has room). Reading it first does not help: the next byte can land between
/// that read and the switch, and is lost (measured: `help` typed at start-up arrived as
/// `elp`, then as `hlp`). With the FIFOs off QEMU keeps every further byte until the
/// receive register is read, so input is lossless at the cost of one interrupt per byte.
/// Bytes that arrived before this call are handed to `keep` first, in case something
/// before the kernel switched the FIFOs on (then turning them off clears them).
pub fn init(mut keep: impl FnMut(u8)) {
    for _ in 0..16 {
        match read_byte() {
            Some(b) => keep(b),
            None => break,
        }
    }
    // SAFETY: COM1 is the kernel's console; nothing else drives these ports.
    unsafe {
        outb(IER, 0x00);
        outb(LCR, 0x80); // divisor latch access
        outb(DATA, 0x01); // divisor 1 = 115200 baud
        outb(IER, 0x00);
        outb(LCR, 0x03); // 8 bits, no parity, one stop bit
        outb(FCR, 0x00); // FIFOs off (see above)
        outb(MCR, 0x0b); // DTR, RTS, OUT2 (gates the IRQ line)
    }
}

/// Enables the receive-data interrupt (once the IOAPIC routes IRQ 4).
pub fn enable_rx_interrupt() {
    // SAFETY: as in `init`.
    unsafe { outb(IER, 0x01) };
}

/// Writes one byte, waiting for the transmitter.
pub fn write_byte(b: u8) {
    // SAFETY: as in `init`.
    unsafe {
        while inb(LSR) & LSR_THR_EMPTY == 0 {
            core::hint::spin_loop();
        }
        outb(DATA, b);
    }
}

/// Writes bytes, turning `\n` into `\r\n` for terminals.
pub fn write_bytes(bytes: &[u8]) {
    for &b in bytes {
        if b == b'\n' {
            write_byte(b'\r');
        }
        write_byte(b);
    }
}

/// Reads one received byte, if any.
pub fn read_byte() -> Option<u8> {
    // SAFETY: as in `init`.
    unsafe { (inb(LSR) & LSR_DATA_READY != 0).then(|| inb(DATA)) }
}
