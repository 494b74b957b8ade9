//! Reference counts of user pages: how many page-table entries map each frame.
//!
//! A user page starts with one reference when a fault maps it. `fork` shares private
//! pages copy-on-write (each shared page gains a reference), shared mappings map the
//! object's pages once more; unmapping drops a reference and the frame returns to the
//! allocator at zero. A write fault on a copy-on-write page with one reference left
//! just makes it writable again, as Linux's `wp_page_reuse`. The page cache
//! ([`super::page_cache`]) holds one reference to each frame it keeps, so a cached page
//! mapped privately is copied on its first write.
//!
//! The counts are one atomic per frame of RAM (4 bytes per 4 KiB page), allocated at
//! boot, so taking and dropping a reference is lock-free from any context.
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use super::{frames, PAGE_SIZE};

static REFS: spin::Once<Vec<AtomicU32>> = spin::Once::new();

/// Allocates the table for frames below `ram_end`. Boot CPU, once, after the heap.
pub fn init(ram_end: u64) {
    REFS.call_once(|| {
        (0..ram_end / PAGE_SIZE)
            .map(|_| AtomicU32::new(0))
            .collect()
    });
}

fn slot(frame: u64) -> &'static AtomicU32 {
    let refs = REFS.get().expect("page_refs used before mm::init");
    refs.get((frame / PAGE_SIZE) as usize)
        .unwrap_or_else(|| panic!("frame {frame:#x} is beyond RAM"))
}

/// Is free memory below the kernel's reserve ([`super::heap::low_memory`]) even after
/// dropping the cached file pages that nothing maps ([`super::page_cache::reclaim`])? User
/// pages and user page tables stop there.
pub fn short_of_memory() -> bool {
    while super::heap::low_memory() {
        if super::page_cache::reclaim() == 0 {
            return true;
        }
    }
    false
}

/// A zeroed frame for user memory, with one reference. `None` when free memory is below
/// the kernel's reserve ([`short_of_memory`]): a process can exhaust memory only
/// down to that level, where the kernel still has what it needs (the process is then
/// killed, `process::user_exception`).
pub fn alloc_zeroed() -> Option<u64> {
    if short_of_memory() {
        return None;
    }
    let frame = frames::alloc_zeroed()?;
    slot(frame).store(1, Ordering::Relaxed);
    Some(frame)
}

/// A frame for user memory whose contents the caller fills at once, with one reference
/// (`None` below the kernel's reserve, as [`alloc_zeroed`]).
pub fn alloc() -> Option<u64> {
    if short_of_memory() {
        return None;
    }
    let frame = frames::alloc()?;
    slot(frame).store(1, Ordering::Relaxed);
    Some(frame)
}

/// A frame for user memory holding what `fill` writes into it (through the direct map)
/// over zeros, with one reference: file contents, an ELF segment's at `execve` or a file
/// mapping's at a fault. `None` below the kernel's reserve, as [`alloc_zeroed`].
pub fn alloc_filled(fill: impl FnOnce(&mut [u8])) -> Option<u64> {
    let frame = alloc_zeroed()?;
    // SAFETY: the frame is RAM in the direct map, new and ours alone: nothing else reads
    // or writes it until it is mapped.
    let page = unsafe {
        core::slice::from_raw_parts_mut(super::phys_to_virt(frame) as *mut u8, PAGE_SIZE as usize)
    };
    fill(page);
    Some(frame)
}

/// One more mapping of `frame`.
pub fn share(frame: u64) {
    let before = slot(frame).fetch_add(1, Ordering::Relaxed);
    assert!(before > 0, "sharing free user frame {frame:#x}");
}

/// One mapping fewer; frees the frame when it was the last.
pub fn release(frame: u64) {
    let before = slot(frame).fetch_sub(1, Ordering::AcqRel);
    assert!(before > 0, "releasing free user frame {frame:#x}");
    if before == 1 {
        frames::free(frame);
    }
}

/// How many mappings `frame` has.
pub fn count(frame: u64) -> u32 {
    slot(frame).load(Ordering::Acquire)
}
