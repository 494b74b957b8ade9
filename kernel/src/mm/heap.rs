//! The kernel heap: `talc` over one physically contiguous region reached through the
//! direct map, behind an interrupt-masking lock ([`crate::sync::RawIrqMutex`]).
//!
//! Allocation failure reaches the panic handler ("memory allocation of N bytes failed"),
//! so OOM is a clear report, not a hang.
use talc::source::Manual;
use talc::TalcLock;

use crate::sync::RawIrqMutex;

#[global_allocator]
static HEAP: TalcLock<RawIrqMutex, Manual> = TalcLock::new(Manual);

/// Hands `[base, base + size)` (direct-map addresses of free RAM) to the allocator.
///
/// # Safety
/// The region must be mapped, writable, unused by anything else, and stay so forever.
pub unsafe fn init(base: u64, size: usize) {
    // SAFETY: forwarded to the caller.
    let claimed = unsafe { HEAP.lock().claim(base as *mut u8, size) };
    assert!(claimed.is_some(), "heap region of {size} bytes at {base:#x} is too small");
}

/// (bytes in use, bytes available in total) for the `mem` command.
pub fn usage() -> (usize, usize) {
    let heap = HEAP.lock();
    let c = heap.counters();
    (c.allocated_bytes, c.claimed_bytes)
}
