//! The kernel heap: `talc` over one physically contiguous region reached through the
//! direct map, behind an interrupt-masking lock ([`crate::sync::RawIrqMutex`]).
//!
//! Allocation failure reaches the panic handler ("memory allocation of N bytes failed"),
//! so OOM is a clear report, not a hang.
use talc::source::Manual;
use talc::TalcLock;

use super::{phys_to_virt, PAGE_SIZE};
use crate::sync::RawIrqMutex;

#[global_allocator]
static HEAP: TalcLock<RawIrqMutex, Manual> = TalcLock::new(Manual);

/// Smallest and largest heap, in bytes. Between them the heap takes half the free RAM,
/// leaving the rest for page tables, stacks and device buffers.
const MIN_HEAP: u64 = 4 << 20;
const MAX_HEAP: u64 = 256 << 20;

/// Takes one contiguous run of frames and hands it to the allocator. Boot CPU, once,
/// after the direct map covers all RAM.
pub fn init_from_frames() {
    let free = super::frames::stats().free * PAGE_SIZE;
    let size = (free / 2).clamp(MIN_HEAP, MAX_HEAP);
    let base = super::frames::alloc_contiguous(size / PAGE_SIZE, 1)
        .unwrap_or_else(|| panic!("no {} MiB of contiguous RAM for the heap", size >> 20));
    // SAFETY: the frames were just allocated for the heap alone, forever, and the direct
    // map covers them read-write.
    let claimed = unsafe {
        HEAP.lock()
            .claim(phys_to_virt(base) as *mut u8, size as usize)
    };
    assert!(
        claimed.is_some(),
        "heap region of {size} bytes at {base:#x} is too small"
    );
}

/// (bytes in use, bytes available in total) for the `mem` command.
pub fn usage() -> (usize, usize) {
    let heap = HEAP.lock();
    let c = heap.counters();
    (c.allocated_bytes, c.claimed_bytes)
}
