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

/// Programs COM1 for 115200 baud, 8N1, FIFOs on, interrupts off.
pub fn init() {
    // SAFETY: COM1 is the kernel's console; nothing else drives these ports.
    unsafe {
        outb(IER, 0x00);
        outb(LCR, 0x80); // divisor latch access
        outb(DATA, 0x01); // divisor 1 = 115200 baud
        outb(IER, 0x00);
        outb(LCR, 0x03); // 8 bits, no parity, one stop bit
        outb(FCR, 0xc7); // FIFOs on, cleared, 14-byte threshold
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
