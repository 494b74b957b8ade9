//! The kernel heap: `talc` over physically contiguous runs of frames reached through the
//! direct map, behind an interrupt-masking lock ([`crate::sync::RawIrqMutex`]).
//!
//! # Growth, shrinking and the reserve
//! The heap starts with an eighth of the free RAM (4..64 MiB) and grows on demand: when an
//! allocation does not fit, [`Grow::acquire`] takes another run of frames (2 MiB, or the
//! request rounded up; a smaller run when fragmentation leaves no run that large) and
//! claims it as one more heap. Heap and stacks thus share one pool instead of a fixed
//! split, which matters when tens of thousands of connections hold heap memory and few
//! threads exist. Growth stops [`FRAME_RESERVE`] short of the end of free RAM: those
//! frames stay for page tables, stacks and device buffers, and an allocation that would
//! need them fails. Large allocations (socket and service buffers, which peers can
//! multiply) stop growing the heap [`LOW_WATER`] earlier, so that stretch stays for the
//! small, mostly infallible allocations that keep the kernel running (packets, sockets,
//! threads). A grown run that becomes entirely free again goes back to the frame
//! allocator (talc reports the free end of each heap; see [`Grow::resize`]).
//!
//! # Failure
//! A failed allocation through the global allocator still ends in the panic handler
//! ("memory allocation of N bytes failed"): Rust's `alloc` has no fallible `Box`/`Arc`
//! on stable. So the kernel keeps away from that edge instead: [`low_memory`] says when
//! free memory (heap plus frames above the reserve) is low, and work that
//! a peer can cause in quantity is refused there: the network services reset new
//! connections, `sched::try_spawn` refuses new threads, and buffers that grow with input
//! use `try_reserve`.
use core::alloc::Layout;

use talc::base::binning::Binning;
use talc::base::Talc;
use talc::source::Source;
use talc::TalcLock;

use super::{frames, phys_to_virt, virt_to_phys, PAGE_SIZE};
use crate::sync::RawIrqMutex;

#[global_allocator]
static HEAP: TalcLock<RawIrqMutex, Grow> = TalcLock::new(Grow::new());

/// Smallest and largest initial heap, in bytes.
const MIN_HEAP: u64 = 4 << 20;
const MAX_INITIAL_HEAP: u64 = 64 << 20;
/// Preferred size of a run the heap grows by.
const GROW_CHUNK: u64 = 2 << 20;
/// Free frames the heap never grows into (page tables, stacks, DMA buffers).
pub const FRAME_RESERVE: u64 = (4 << 20) / PAGE_SIZE;
/// Below this much free memory (heap and frames above the reserve) new work is refused.
pub const LOW_WATER: u64 = 8 << 20;
/// Allocations this large or larger (socket buffers, service buffers: what a peer can
/// make the kernel hold in quantity) may grow the heap only while [`LOW_WATER`] more
/// frames than the reserve stay free; smaller ones (packets, socket and thread objects:
/// what keeps the kernel running, most of them infallible) may use that last stretch.
const LARGE: usize = 4096;
/// Grown runs tracked at once (128 x 2 MiB covers every machine the tests boot).
const MAX_GROWN: usize = 128;

/// Where the heap's memory comes from: the boot run, plus runs of frames taken on demand
/// (tracked here, without allocating, so they can be given back).
#[derive(Debug)]
pub struct Grow {
    /// (start, end) virtual addresses of each grown run; `end` is the heap end talc
    /// reported when claiming it.
    grown: [Option<(usize, usize)>; MAX_GROWN],
}

impl Grow {
    const fn new() -> Grow {
        Grow {
            grown: [None; MAX_GROWN],
        }
    }
}

/// Takes a run of at least `need` bytes (page multiple), preferring [`GROW_CHUNK`], unless
/// that would leave fewer than `reserve` frames free. Returns (physical base, bytes).
fn take_run(need: u64, reserve: u64) -> Option<(u64, u64)> {
    let free = frames::stats().free;
    let spare = free.saturating_sub(reserve) * PAGE_SIZE;
    let mut size = GROW_CHUNK.max(need).min(spare);
    while size >= need && size > 0 {
        if let Some(base) = frames::alloc_contiguous(size / PAGE_SIZE, 1) {
            return Some((base, size));
        }
        size = (size / 2).next_multiple_of(PAGE_SIZE);
    }
    None
}

// SAFETY: `acquire` and `resize` use only the frame allocator (its own leaf lock, which
// never allocates) and their own fixed-size bookkeeping: never the heap itself.
unsafe impl Source for Grow {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        let Some(slot) = talc.source.grown.iter().position(Option::is_none) else {
            return Err(());
        };
        let need =
            (layout.size() as u64 + layout.align() as u64 + PAGE_SIZE).next_multiple_of(PAGE_SIZE);
        let reserve = if layout.size() >= LARGE {
            FRAME_RESERVE + LOW_WATER / PAGE_SIZE
        } else {
            FRAME_RESERVE
        };
        let (base, size) = take_run(need, reserve).ok_or(())?;
        let start = phys_to_virt(base) as *mut u8;
        // SAFETY: the frames were just taken from the frame allocator for the heap alone,
        // and the direct map covers them read-write.
        match unsafe { talc.claim(start, size as usize) } {
            Some(end) => {
                talc.source.grown[slot] = Some((start as usize, end.as_ptr() as usize));
                Ok(())
            }
            None => {
                free_run(start as usize, size as usize);
                Err(())
            }
        }
    }

    const TRACK_HEAP_END: bool = true;

    /// A grown run that is entirely free again (talc would delete the heap) goes back to
    /// the frame allocator; anything else stays as it is.
    unsafe fn resize(
        &mut self,
        chunk_base: *mut u8,
        heap_end: *mut u8,
        is_heap_base: bool,
    ) -> *mut u8 {
        if !is_heap_base {
            return heap_end;
        }
        let end = heap_end as usize;
        match self
            .grown
            .iter_mut()
            .find(|g| g.is_some_and(|(_, e)| e == end))
        {
            Some(g) => {
                let (start, _) = g.take().expect("found above");
                let size = (end - start).next_multiple_of(PAGE_SIZE as usize);
                free_run(start, size);
                chunk_base
            }
            None => heap_end,
        }
    }
}

/// Returns the frames of a run the heap took.
fn free_run(start: usize, size: usize) {
    let base = virt_to_phys(start as u64);
    for i in 0..size as u64 / PAGE_SIZE {
        frames::free(base + i * PAGE_SIZE);
    }
}

/// Takes the initial run of frames and hands it to the allocator. Boot CPU, once,
/// after the direct map covers all RAM.
pub fn init_from_frames() {
    let free = super::frames::stats().free * PAGE_SIZE;
    let size = (free / 8).clamp(MIN_HEAP, MAX_INITIAL_HEAP);
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

/// Heap counts for the `mem` command.
#[derive(Debug, Clone, Copy)]
pub struct HeapUsage {
    /// Bytes in live allocations.
    pub used: usize,
    /// Bytes the heap holds (initial run plus grown runs).
    pub claimed: usize,
    /// Runs it holds besides the initial one.
    pub grown_runs: usize,
}

pub fn usage() -> HeapUsage {
    let heap = HEAP.lock();
    let c = heap.counters();
    HeapUsage {
        used: c.allocated_bytes,
        claimed: c.claimed_bytes,
        grown_runs: heap.source.grown.iter().flatten().count(),
    }
}

/// Bytes that allocations can still get: free heap plus frames above the reserve.
pub fn available() -> u64 {
    let u = usage();
    let frames_spare = frames::stats().free.saturating_sub(FRAME_RESERVE) * PAGE_SIZE;
    (u.claimed - u.used) as u64 + frames_spare
}

/// True when free memory is below twice [`LOW_WATER`] (so new work is refused while
/// buffers can still grow a little, before large allocations start failing), or free
/// frames are below [`FRAME_RESERVE`] (stacks ate into the frames kept for page tables
/// and devices): refuse new work a peer can cause.
pub fn low_memory() -> bool {
    available() < 2 * LOW_WATER || frames::stats().free < FRAME_RESERVE
}
