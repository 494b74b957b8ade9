//! Memory management: the kernel's address space, physical frames, the heap, stacks.
//!
//! # Address space
//! | range | what |
//! | --- | --- |
//! | `0x0000_0000_0000_0000 ..` (lower half) | free for user processes |
//! | `HHDM_BASE = 0xffff_8000_0000_0000 ..` | every physical frame, at `HHDM_BASE + paddr` |
//! | `STACKS_BASE = 0xffff_c000_0000_0000 ..` | kernel stacks, each below an unmapped guard page |
//! | `KERNEL_VMA = 0xffff_ffff_8000_0000 ..` | the kernel image, at `KERNEL_VMA + paddr` |
pub mod heap;
pub mod stack;

/// Start of the direct map of physical memory.
pub const HHDM_BASE: u64 = 0xffff_8000_0000_0000;
/// Where the kernel image is linked (`link.ld`).
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;
/// Size of a small page.
pub const PAGE_SIZE: u64 = 4096;

/// The direct-map address of physical address `paddr`.
pub fn phys_to_virt(paddr: u64) -> u64 {
    HHDM_BASE + paddr
}

/// The physical address behind a kernel-image or direct-map address.
pub fn virt_to_phys(va: u64) -> u64 {
    if va >= KERNEL_VMA {
        va - KERNEL_VMA
    } else {
        assert!(va >= HHDM_BASE && va < HHDM_BASE + (1 << 46), "{va:#x} is not a direct-map address");
        va - HHDM_BASE
    }
}

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

/// True when `[va, va + len)` lies in the kernel image or in mapped RAM of the direct
/// map, so a fault report can read it without faulting again.
pub fn is_kernel_readable(va: u64, len: u64) -> bool {
    // SAFETY: only the addresses of the linker symbols are taken.
    let (start, end) = unsafe { (&__kernel_start as *const u8 as u64, &__kernel_end as *const u8 as u64) };
    let Some(last) = va.checked_add(len) else { return false };
    (va >= start && last <= end) || (va >= HHDM_BASE && last <= HHDM_BASE + (1 << 30))
}
