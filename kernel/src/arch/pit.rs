//! The 8254 PIT, used once at boot as the reference clock for calibrating the TSC and
//! the LAPIC timer (its input clock is a known 1.193182 MHz).
use super::cpu::{inb, outb};

/// The PIT's input frequency in Hz.
pub const FREQUENCY_HZ: u64 = 1_193_182;

/// Busy-waits `ticks` PIT ticks (at most 65535) using channel 2 in one-shot mode, calling
/// `start` just before the countdown begins and returning right after it ended.
pub fn wait_ticks(ticks: u16, start: impl FnOnce()) {
    // SAFETY: channel 2 and port 0x61 (its gate and output) are used by nothing else;
    // the speaker output bit stays off.
    unsafe {
        let gate = inb(0x61);
        outb(0x61, (gate & !0x02) & !0x01); // gate low, speaker off
        outb(0x43, 0b1011_0000); // channel 2, lobyte/hibyte, mode 0, binary
        outb(0x42, ticks as u8);
        outb(0x42, (ticks >> 8) as u8);
        start();
        outb(0x61, (inb(0x61) & !0x02) | 0x01); // gate high: count starts
        while inb(0x61) & 0x20 == 0 {
            core::hint::spin_loop();
        }
        outb(0x61, gate);
    }
}
