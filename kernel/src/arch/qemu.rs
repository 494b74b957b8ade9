//! Leaving QEMU with a status, through the `isa-debug-exit` device at port 0xf4.
//!
//! Writing `v` makes QEMU exit with status `(v << 1) | 1`; the xtask maps it back
//! (docs/console-protocol.md).
use super::cpu;

/// `poweroff`, or an in-kernel test that passed.
pub const EXIT_SUCCESS: u8 = 0;
/// An in-kernel test that failed.
pub const EXIT_TEST_FAILED: u8 = 1;
/// A panic or fatal exception with `panic=exit`.
pub const EXIT_PANIC: u8 = 3;

/// Ends the virtual machine with `status`. Halts if the device is absent.
pub fn exit(status: u8) -> ! {
    // SAFETY: port 0xf4 is QEMU's isa-debug-exit device (the xtask always adds it); on a
    // machine without it the write is ignored and we halt below.
    unsafe { cpu::outl(0xf4, u32::from(status)) };
    cpu::halt_forever()
}
