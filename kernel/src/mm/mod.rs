//! Memory management: the kernel's address space, physical frames, the heap, stacks.
//!
//! # Address space
//! | range | what |
//! | --- | --- |
//! | `0x0000_0000_0000_0000 ..` (lower half) | free for user processes |
//! | `HHDM_BASE = 0xffff_8000_0000_0000 ..` | every RAM frame at `HHDM_BASE + paddr`; device registers mapped uncached on demand |
//! | `STACKS_BASE = 0xffff_c000_0000_0000 ..` | kernel stacks, each above an unmapped guard page |
//! | `KERNEL_VMA = 0xffff_ffff_8000_0000 ..` | the kernel image, at `KERNEL_VMA + paddr` |
pub mod address_space;
pub mod frames;
pub mod heap;
pub mod mmio;
pub mod page_cache;
pub mod page_refs;
pub mod stack;
pub mod user_tables;

use firmware::memmap::{usable_ranges, RegionKind};
use paging::PageTableFlags;

use crate::boot_info::BootInfo;

/// Start of the direct map of physical memory.
pub const HHDM_BASE: u64 = 0xffff_8000_0000_0000;
/// Start of the kernel stack region.
pub const STACKS_BASE: u64 = 0xffff_c000_0000_0000;
/// Where the kernel image is linked (`link.ld`).
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;
/// Size of a small page.
pub const PAGE_SIZE: u64 = 4096;
/// What the boot page tables map at the direct map: the first GiB.
const BOOT_DIRECT_MAP_END: u64 = 1 << 30;
/// Physical memory below this is never handed out (firmware data, the AP trampoline).
const LOW_RESERVED_END: u64 = 1 << 20;
/// Most usable RAM ranges tracked.
const MAX_USABLE: usize = 128;

/// Why memory could not be had. Run-time allocations of stacks and mappings return it
/// instead of panicking; their callers refuse the work (a thread not started, a
/// connection reset) and go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemError {
    /// No free physical frame (for a page, or for a page table of its mapping).
    OutOfFrames,
    /// Free memory is below the reserve kept for the kernel's own work (see
    /// [`heap`]'s module docs): new work is refused before memory runs out.
    LowMemory,
    /// A mapping was refused for another reason (a kernel bug, reported).
    Map(paging::MapError),
}

impl From<paging::MapError> for MemError {
    fn from(e: paging::MapError) -> MemError {
        match e {
            paging::MapError::OutOfFrames => MemError::OutOfFrames,
            other => MemError::Map(other),
        }
    }
}

impl core::fmt::Display for MemError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MemError::OutOfFrames => f.write_str("out of physical memory"),
            MemError::LowMemory => f.write_str("free memory below the kernel's reserve"),
            MemError::Map(e) => write!(f, "mapping refused: {e}"),
        }
    }
}

/// The direct-map address of physical address `paddr`.
pub fn phys_to_virt(paddr: u64) -> u64 {
    HHDM_BASE + paddr
}

/// The physical address behind a mapped kernel virtual address.
pub fn virt_to_phys(va: u64) -> u64 {
    if va >= KERNEL_VMA {
        return va - KERNEL_VMA;
    }
    if (HHDM_BASE..STACKS_BASE).contains(&va) {
        return va - HHDM_BASE;
    }
    let (page, _) = address_space::translate(va & !(PAGE_SIZE - 1))
        .unwrap_or_else(|| panic!("{va:#x} is not mapped"));
    page + (va & (PAGE_SIZE - 1))
}

extern "C" {
    static __kernel_end: u8;
}

/// Frames, page tables and heap. Boot CPU, once, after the console and CPU setup.
pub fn init(boot: &BootInfo, guard_pages: &[u64]) {
    // SAFETY: only the address of the linker symbol is taken.
    let image_end = unsafe { &__kernel_end as *const u8 as u64 } - KERNEL_VMA;
    let mut reserved = [const { 0..0 }; 16];
    reserved[0] = 0..LOW_RESERVED_END;
    reserved[1] = LOW_RESERVED_END..image_end.next_multiple_of(PAGE_SIZE);
    let boot_data = boot.data_ranges(&mut reserved[2..]);
    let reserved = &reserved[..2 + boot_data];
    let mut usable = [const { 0..0 }; MAX_USABLE];
    let n = usable_ranges(boot.memory_map(), reserved, &mut usable)
        .expect("memory map has too many ranges");
    let usable = &usable[..n];
    frames::init(usable, BOOT_DIRECT_MAP_END);

    let mut ram = [const { 0..0 }; crate::boot_info::MAX_REGIONS];
    let mut ram_count = 0;
    for region in boot.memory_map() {
        if matches!(
            region.kind,
            RegionKind::Ram | RegionKind::AcpiReclaimable | RegionKind::AcpiNvs
        ) {
            ram[ram_count] = region.range();
            ram_count += 1;
        }
    }
    address_space::build_and_switch(&ram[..ram_count], guard_pages);
    heap::init_from_frames();
    page_refs::init(usable.iter().map(|r| r.end).max().unwrap_or(0));
}

/// Frame allocator counts.
pub fn frame_stats() -> frames::FrameStats {
    frames::stats()
}

/// True when `[va, va + len)` is mapped, so a fault report can read it without faulting
/// again. Before the kernel's tables exist: the kernel image or the boot direct map.
/// Takes no lock (reports run while other CPUs are stopped, maybe holding locks).
pub fn is_kernel_readable(va: u64, len: u64) -> bool {
    let Some(end) = va.checked_add(len) else {
        return false;
    };
    if !address_space::is_live() {
        // SAFETY: only the address of the linker symbol is taken.
        let image_end = unsafe { &__kernel_end as *const u8 as u64 };
        return (va >= KERNEL_VMA && end <= image_end)
            || (va >= HHDM_BASE && end <= HHDM_BASE + BOOT_DIRECT_MAP_END);
    }
    let mut page = va & !(PAGE_SIZE - 1);
    while page < end {
        if address_space::translate_unlocked(page).is_none() {
            return false;
        }
        page += PAGE_SIZE;
    }
    true
}

/// Identity-maps the AP trampoline page (bring-up only: without it no AP can start, so a
/// failure stops the boot).
pub fn map_trampoline_identity(paddr: u64) {
    address_space::map_page(paddr, paddr, PageTableFlags::WRITABLE)
        .unwrap_or_else(|e| panic!("identity map of the AP trampoline: {e}"));
}

/// Removes the trampoline's identity mapping once every AP is in the higher half.
pub fn unmap_trampoline_identity(paddr: u64) {
    let _frame = address_space::unmap_page(paddr);
}
