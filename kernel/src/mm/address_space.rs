//! The kernel's page tables: built once at boot, then extended for MMIO and stacks.
//!
//! The boot tables from `arch::boot` map the first GiB with 2 MiB pages, everything
//! writable and executable. [`build_and_switch`] replaces them with tables that map:
//! every RAM region at the direct map (largest pages that fit, no-execute); the kernel
//! image with 4 KiB pages and per-section rights (text read+execute, rodata read-only,
//! data and bss read+write, both no-execute), leaving the guard page of every static
//! stack unmapped. The page-table logic itself is the host-tested `paging` crate; this
//! file only supplies direct-map access and frames.
use paging::{FrameSource, Mapper, PageSize, PageTableFlags as F, TableAccess};

use super::{frames, phys_to_virt, HHDM_BASE, KERNEL_VMA, PAGE_SIZE};
use crate::arch::cpu;
use crate::sync::{IrqLock, LockClass};

/// Page tables reached through the direct map.
pub struct DirectMapTables;

// SAFETY: every table frame is RAM covered by the direct map (boot tables: the first GiB;
// later: all RAM). Kernel tables are changed under the KERNEL_TABLES lock (or before other
// CPUs exist); a user address space's lower half only under its owner's lock
// (`mm::user_tables`), and its upper half is the kernel's, never written through it. So no
// other reference to a table is live during the borrow.
unsafe impl TableAccess for DirectMapTables {
    fn table(&mut self, paddr: u64) -> &mut [u64; 512] {
        // SAFETY: see the impl's safety comment.
        unsafe { &mut *(phys_to_virt(paddr) as *mut [u64; 512]) }
    }
}

/// Table frames from the frame allocator.
pub struct AllocatorFrames;

impl FrameSource for AllocatorFrames {
    fn alloc_zeroed_frame(&mut self) -> Option<u64> {
        frames::alloc_zeroed()
    }
}

/// The kernel's top-level table, once built.
static KERNEL_TABLES_CLASS: LockClass = LockClass::new("mm.kernel_tables");
static KERNEL_TABLES: IrqLock<Option<Mapper>> = IrqLock::new(None, &KERNEL_TABLES_CLASS);

extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __kernel_end: u8;
}

fn sym(s: &u8) -> u64 {
    s as *const u8 as u64
}

/// Builds the kernel's page tables and switches to them. Boot CPU, once.
pub fn build_and_switch(ram: &[core::ops::Range<u64>], guard_pages: &[u64]) {
    let root = frames::alloc_zeroed().expect("no frame for the kernel's top-level table");
    let mapper = Mapper::new(root);
    // A table under every upper-half PML4 entry, so the kernel half never gains a top-level
    // entry and every user address space can share it by copying those 256 entries.
    for i in paging::USER_PML4_ENTRIES..paging::ENTRIES {
        let table = frames::alloc_zeroed().expect("no frame for a kernel page table");
        DirectMapTables.table(root)[i] =
            paging::PageTableEntry::new(table, F::PRESENT | F::WRITABLE).0;
    }
    let direct = F::PRESENT | F::WRITABLE | F::NO_EXECUTE | F::GLOBAL;
    for r in ram {
        let start = r.start / PAGE_SIZE * PAGE_SIZE;
        let end = r.end.next_multiple_of(PAGE_SIZE);
        mapper
            .map_range(
                HHDM_BASE + start,
                start,
                end - start,
                direct,
                &mut DirectMapTables,
                &mut AllocatorFrames,
            )
            .unwrap_or_else(|e| panic!("direct map of {start:#x}..{end:#x}: {e}"));
    }
    // SAFETY: only addresses of linker symbols are taken.
    let sections = unsafe {
        [
            (sym(&__text_start), sym(&__text_end), F::PRESENT | F::GLOBAL),
            (
                sym(&__rodata_start),
                sym(&__rodata_end),
                F::PRESENT | F::NO_EXECUTE | F::GLOBAL,
            ),
            (
                sym(&__data_start),
                sym(&__kernel_end),
                F::PRESENT | F::WRITABLE | F::NO_EXECUTE | F::GLOBAL,
            ),
        ]
    };
    for (start, end, flags) in sections {
        let mut va = start / PAGE_SIZE * PAGE_SIZE;
        while va < end {
            if !guard_pages.contains(&va) {
                mapper
                    .map(
                        va,
                        va - KERNEL_VMA,
                        PageSize::Size4K,
                        flags,
                        &mut DirectMapTables,
                        &mut AllocatorFrames,
                    )
                    .unwrap_or_else(|e| panic!("kernel image page {va:#x}: {e}"));
            }
            va += PAGE_SIZE;
        }
    }
    // SAFETY: the new tables map the running code (text), the current stack (bss),
    // all data and every RAM frame the kernel references through the direct map.
    unsafe { cpu::write_cr3(root) };
    *KERNEL_TABLES.lock() = Some(mapper);
    KERNEL_ROOT.store(root, core::sync::atomic::Ordering::Release);
    LIVE.store(true, core::sync::atomic::Ordering::Release);
}

/// The kernel's PML4 (the CR3 of kernel threads; every user PML4 copies its upper half).
pub fn kernel_root() -> u64 {
    KERNEL_ROOT.load(core::sync::atomic::Ordering::Acquire)
}

static KERNEL_ROOT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

fn with<R>(f: impl FnOnce(&mut Mapper) -> R) -> R {
    f(KERNEL_TABLES
        .lock()
        .as_mut()
        .expect("kernel page tables used before mm::init"))
}

/// Set once the kernel's own tables are live (an atomic, so reports need no lock).
static LIVE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// True once the kernel's own tables are live.
pub fn is_live() -> bool {
    LIVE.load(core::sync::atomic::Ordering::Acquire)
}

/// Maps 4 KiB page `va` to `pa` with `flags` (PRESENT is added). Fails without changing
/// any mapping when a page table is needed and no frame is left for it, or when `va` is
/// already mapped; the caller decides what that means (a thread that cannot be started,
/// or a boot that cannot go on).
pub fn map_page(va: u64, pa: u64, flags: F) -> Result<(), paging::MapError> {
    with(|m| {
        m.map(
            va,
            pa,
            PageSize::Size4K,
            flags | F::PRESENT,
            &mut DirectMapTables,
            &mut AllocatorFrames,
        )
    })
}

/// Unmaps 4 KiB page `va`, flushes it from this CPU's TLB and returns the frame it
/// mapped. Other CPUs' TLBs are not shot down: callers either never use the address
/// again (`mm::unmap_trampoline_identity`) or wait until every CPU has flushed its TLB
/// before mapping it again (`mm::stack`'s recycled ranges).
pub fn unmap_page(va: u64) -> u64 {
    let (frame, _) = with(|m| m.unmap(va, &mut DirectMapTables))
        .unwrap_or_else(|e| panic!("unmapping {va:#x}: {e}"));
    cpu::invlpg(va);
    frame
}

/// The physical address and flags `va` maps to, if mapped.
pub fn translate(va: u64) -> Option<(u64, F)> {
    with(|m| m.translate(va, &mut DirectMapTables))
}

/// [`translate`] without taking the page-table lock, through whatever CR3 holds: for
/// fault and panic reports, when the other CPUs are stopped (possibly holding the lock)
/// and nothing modifies the tables any more.
pub fn translate_unlocked(va: u64) -> Option<(u64, F)> {
    Mapper::new(cpu::cr3() & paging::ADDR_MASK).translate(va, &mut DirectMapTables)
}

/// Maps device registers at `paddr..paddr + len` uncached into the direct-map range and
/// returns their virtual address. Idempotent for pages already mapped there.
pub fn map_mmio(paddr: u64, len: u64) -> u64 {
    map_physical(
        paddr,
        len,
        F::PRESENT | F::WRITABLE | F::NO_CACHE | F::WRITE_THROUGH | F::NO_EXECUTE,
    )
}

/// Maps firmware data outside RAM (ACPI tables in reserved regions, the BIOS area)
/// read-only into the direct-map range; returns its virtual address.
pub fn map_firmware(paddr: u64, len: u64) -> u64 {
    map_physical(paddr, len, F::PRESENT | F::NO_EXECUTE)
}

/// Boot-time mappings (device registers, firmware tables): a failure here means the
/// machine cannot be driven at all, so it is reported and the boot stops.
fn map_physical(paddr: u64, len: u64, flags: F) -> u64 {
    let first = paddr / PAGE_SIZE * PAGE_SIZE;
    let end = (paddr + len).next_multiple_of(PAGE_SIZE);
    for pa in (first..end).step_by(PAGE_SIZE as usize) {
        let va = phys_to_virt(pa);
        match translate(va) {
            Some((mapped, _)) if mapped == pa => {}
            Some((mapped, _)) => panic!("MMIO {pa:#x}: {va:#x} already maps {mapped:#x}"),
            None => map_page(va, pa, flags)
                .unwrap_or_else(|e| panic!("mapping {va:#x} -> {pa:#x}: {e}")),
        }
    }
    phys_to_virt(paddr)
}
