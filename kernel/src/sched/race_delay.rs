//! Delay injection at the scheduler's race windows, switched on by the `sched-storm` test.
//!
//! The scheduler's cross-CPU hand-offs (a wake against a switch-out, a steal against a
//! drain of the wake queue) are correct only if every interleaving is; on real hardware,
//! and under QEMU's multi-threaded emulation, the bad ones are a few instructions wide and
//! show up once in thousands of runs. Spinning for a short pseudo-random time at the
//! points between those steps makes every interleaving likely within a second, so a
//! regression fails the test at once instead of turning CI red one run in a hundred. Off,
//! a window costs one relaxed load.
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::cpu;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Switches delay injection on or off (in-kernel tests only).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// A race window: spins for up to ~16 µs when injection is on. Any context.
#[inline]
pub(super) fn window() {
    if ENABLED.load(Ordering::Relaxed) {
        let tsc = cpu::rdtsc();
        // The TSC's low bits stand in for a random number; every CPU's differ.
        crate::time::busy_wait_us((tsc >> 3) % 17);
    }
}
