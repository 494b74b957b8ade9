//! The physical frame allocator of the whole machine: the `frames` crate's bitmap
//! allocator behind an interrupt-safe lock, with its bitmap carved out of RAM at boot.
//!
//! The lock is a plain spin lock taken with interrupts off, not a validated `IrqLock`:
//! the heap takes it while it grows or shrinks, under the heap's own lock, and the lock
//! validator allocates from the heap when it records a new acquisition order, which
//! would then spin on the heap lock its own CPU holds. It is a leaf (nothing is taken
//! under it, nothing under it allocates), so there is no order for the validator to check.
use core::ops::Range;

use frames::FrameAllocator;
pub use frames::FrameStats;

use super::{phys_to_virt, PAGE_SIZE};
use crate::arch::cpu;

static FRAMES: spin::Mutex<Option<FrameAllocator<'static>>> = spin::Mutex::new(None);

/// Sets up the allocator over `usable` (sorted, page-aligned RAM ranges), placing its
/// bitmap in the first range large enough, which must lie in the boot direct map
/// (`boot_mapped_end`). Boot CPU, once.
pub fn init(usable: &[Range<u64>], boot_mapped_end: u64) {
    let span = usable.iter().map(|r| r.end).max().expect("no usable RAM");
    let words = frames::bitmap_words_needed(span);
    let bytes = (words as u64 * 8).next_multiple_of(PAGE_SIZE);
    let home = usable
        .iter()
        .find(|r| r.end - r.start >= bytes && r.start + bytes <= boot_mapped_end)
        .expect("no RAM range can hold the frame bitmap");
    let bitmap = home.start..home.start + bytes;
    // SAFETY: `bitmap` is usable RAM, mapped by the boot direct map, and is reserved in
    // the allocator below before any frame is handed out, so nothing else ever uses it.
    let storage =
        unsafe { core::slice::from_raw_parts_mut(phys_to_virt(bitmap.start) as *mut u64, words) };
    let mut allocator =
        FrameAllocator::new(storage, 0, span, usable).expect("frame allocator setup");
    allocator.reserve(bitmap);
    *FRAMES.lock() = Some(allocator);
}

fn with<R>(f: impl FnOnce(&mut FrameAllocator<'static>) -> R) -> R {
    cpu::without_interrupts(|| {
        f(FRAMES
            .lock()
            .as_mut()
            .expect("frame allocator used before mm::init"))
    })
}

/// One free 4 KiB frame. Any context.
pub fn alloc() -> Option<u64> {
    with(|a| a.alloc())
}

/// One free frame filled with zeros. Any context (after the direct map is up).
pub fn alloc_zeroed() -> Option<u64> {
    let frame = alloc()?;
    // SAFETY: the frame was just allocated, so nothing else references it, and every
    // RAM frame is mapped in the direct map.
    unsafe { core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, PAGE_SIZE as usize) };
    Some(frame)
}

/// `count` physically contiguous frames aligned to `align_frames` frames.
pub fn alloc_contiguous(count: u64, align_frames: u64) -> Option<u64> {
    with(|a| a.alloc_contiguous(count, align_frames))
}

/// Returns a frame to the allocator; freeing a frame twice is a kernel bug.
pub fn free(frame: u64) {
    with(|a| a.free(frame)).unwrap_or_else(|e| panic!("freeing frame {frame:#x}: {e:?}"));
}

/// Current counts.
pub fn stats() -> FrameStats {
    with(|a| a.stats())
}
