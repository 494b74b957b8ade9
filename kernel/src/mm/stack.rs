//! Kernel stacks.
//!
//! Stacks made at run time ([`KernelStack`]) get their own range in the stack region of
//! the address space, with the page below them left unmapped. A freed stack is kept,
//! still mapped, in a small cache and handed to the next stack of the same size: spawning
//! a thread then maps nothing. The mapping of a cached range never changes, so no CPU can
//! hold a stale translation of it. Reused stacks are not cleared (they only ever held
//! kernel data).
//!
//! When the cache is full, a freed stack is unmapped, its frames go back to the frame
//! allocator, and its address range joins a free list to be mapped again later, so thread
//! churn does not grow the stack region (and its page tables) forever. Another CPU may
//! still hold a stale TLB entry for an unmapped page, pointing at a frame that now belongs
//! to someone else; a new stack mapped over the range and then run on that CPU would write
//! through it. So a range is reused only once every CPU has flushed its TLB since the
//! range was unmapped, with no shootdown IPI and no waiting: unmapping bumps a global
//! flush generation ([`FLUSH_GEN`]); each CPU's tick ([`on_tick`]) sees a newer generation,
//! reloads CR3 (which drops every non-global translation; stack pages are never global)
//! and records the generation it flushed at. A range retired at generation `g` is
//! reusable once every online CPU has recorded `g` or later, i.e. within a tick. Until
//! then a new stack takes a fresh range.
//!
//! Creating a stack fails cleanly ([`MemError`]) when frames or page-table frames run
//! out: the frames and mappings taken so far are given back first.
//!
//! Statically allocated stacks (the boot CPU's boot and IST stacks, needed before any
//! allocator exists) live in `.bss` as a [`StaticStack`]: a guard page followed by the
//! stack. `mm::init` unmaps each guard page, so overflowing one of these stacks faults
//! instead of silently overwriting the neighbouring data.
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};

use paging::PageTableFlags;

use super::{address_space, frames, MemError, PAGE_SIZE, STACKS_BASE};
use crate::arch::{cpu, percpu};
use crate::sync::{IrqLock, LockClass};

/// A page-aligned stack of `N` bytes preceded by a guard page.
#[repr(C, align(4096))]
pub struct StaticStack<const N: usize> {
    guard: UnsafeCell<[u8; PAGE_SIZE as usize]>,
    stack: UnsafeCell<[u8; N]>,
}

// SAFETY: the bytes are only ever used as a stack by the one CPU that owns it (each
// static stack is assigned to exactly one role on the boot CPU); Rust code never reads
// or writes them through this type.
unsafe impl<const N: usize> Sync for StaticStack<N> {}

impl<const N: usize> StaticStack<N> {
    pub const fn new() -> Self {
        StaticStack {
            guard: UnsafeCell::new([0; PAGE_SIZE as usize]),
            stack: UnsafeCell::new([0; N]),
        }
    }

    /// Address just past the stack's highest byte (the initial RSP).
    pub fn top(&self) -> u64 {
        self.stack.get() as u64 + N as u64
    }

    /// Address of the guard page.
    pub fn guard_page(&self) -> u64 {
        self.guard.get() as u64
    }
}

/// Size of the boot CPU's initial stack.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;
pub type BootStack = StaticStack<BOOT_STACK_SIZE>;

/// The stack `arch::boot` switches to before calling `kernel_main`.
pub static BOOT_STACK: BootStack = StaticStack::new();

/// Next never-used address in the stack region.
static NEXT_STACK_VA: AtomicU64 = AtomicU64::new(STACKS_BASE);

/// Freed stacks kept mapped for reuse: at most this many.
const CACHE_SLOTS: usize = 64;
static CACHE_CLASS: LockClass = LockClass::new("mm.stack_cache");
/// (guard page, top) of cached stacks. Interrupts-off lock: stacks are freed wherever the
/// last reference to their thread goes, which may be with interrupts off.
static CACHE: IrqLock<[Option<(u64, u64)>; CACHE_SLOTS]> =
    IrqLock::new([None; CACHE_SLOTS], &CACHE_CLASS);

/// An unmapped range waiting for every CPU's TLB flush before it is mapped again.
#[derive(Clone, Copy)]
struct FreeRange {
    guard: u64,
    top: u64,
    /// The flush generation its unmapping started.
    generation: u64,
}

static FREE_CLASS: LockClass = LockClass::new("mm.stack_free_ranges");
/// Unmapped ranges (interrupts off, like the cache). A leaf lock.
static FREE: IrqLock<Vec<FreeRange>> = IrqLock::new(Vec::new(), &FREE_CLASS);

/// Bumped whenever a range is unmapped; see the module docs.
static FLUSH_GEN: AtomicU64 = AtomicU64::new(0);
/// Per CPU: the flush generation it last reloaded CR3 at.
static FLUSHED: [AtomicU64; percpu::MAX_CPUS] = [const { AtomicU64::new(0) }; percpu::MAX_CPUS];

/// Stack ranges ever taken from the region, ranges mapped (fresh or recycled), and
/// ranges dropped because the free list could not grow (their addresses are lost, not
/// their frames).
static REGION_RANGES: AtomicU64 = AtomicU64::new(0);
static MAPPED: AtomicU64 = AtomicU64::new(0);
static LOST_RANGES: AtomicU64 = AtomicU64::new(0);

/// The stack part of the timer tick: reloads CR3 when a range was unmapped since this
/// CPU's last flush. Hardirq context, lock-free.
pub fn on_tick() {
    let generation = FLUSH_GEN.load(Ordering::Acquire);
    let me = &FLUSHED[percpu::cpu_index() as usize];
    if me.load(Ordering::Relaxed) < generation {
        // SAFETY: reloading the current top-level table changes no mapping; it only drops
        // this CPU's cached non-global translations.
        unsafe { cpu::write_cr3(cpu::cr3()) };
        me.store(generation, Ordering::Release);
    }
}

/// The oldest flush generation every online CPU has reached.
fn flushed_everywhere() -> u64 {
    percpu::all()
        .filter(|c| c.online.load(Ordering::Acquire))
        .map(|c| FLUSHED[c.index as usize].load(Ordering::Acquire))
        .min()
        .unwrap_or(0)
}

/// True when `addr` is in the guard page below a kernel stack: the boot stack's, or an
/// unmapped page of the run-time stack region (guards, or a freed range: a use after
/// free of a stack is reported like an overflow). Used by the page-fault report to name
/// a stack overflow. Any context; takes no lock.
pub fn is_guard_page(addr: u64) -> bool {
    let page = addr & !(PAGE_SIZE - 1);
    if page == BOOT_STACK.guard_page() {
        return true;
    }
    (STACKS_BASE..NEXT_STACK_VA.load(Ordering::Relaxed)).contains(&addr)
        && address_space::translate_unlocked(page).is_none()
}

/// Counts for the `mem` command.
#[derive(Debug, Clone, Copy)]
pub struct StackStats {
    /// Ranges taken from the stack region since boot (the region's size in stacks).
    pub region_ranges: u64,
    /// Times a range was mapped (fresh or recycled).
    pub mapped: u64,
    /// Freed stacks kept mapped in the cache.
    pub cached: usize,
    /// Unmapped ranges waiting for reuse.
    pub free_ranges: usize,
    /// Ranges whose addresses were given up (the free list could not grow).
    pub lost_ranges: u64,
}

pub fn stack_stats() -> StackStats {
    StackStats {
        region_ranges: REGION_RANGES.load(Ordering::Relaxed),
        mapped: MAPPED.load(Ordering::Relaxed),
        cached: CACHE.lock().iter().filter(|s| s.is_some()).count(),
        free_ranges: FREE.lock().len(),
        lost_ranges: LOST_RANGES.load(Ordering::Relaxed),
    }
}

/// A kernel stack in the stack region, above an unmapped guard page.
pub struct KernelStack {
    guard: u64,
    top: u64,
}

/// A recycled range of `span` bytes (guard included) that every CPU has flushed since it
/// was unmapped, if there is one.
fn recycled_range(span: u64) -> Option<(u64, u64)> {
    let flushed = flushed_everywhere();
    let mut free = FREE.lock();
    let i = free
        .iter()
        .position(|r| r.top - r.guard == span && r.generation <= flushed)?;
    let r = free.swap_remove(i);
    Some((r.guard, r.top))
}

/// Unmaps the stack pages of `guard..top` that are mapped, frees their frames and puts
/// the range on the free list.
fn retire(guard: u64, top: u64) {
    let mut va = guard + PAGE_SIZE;
    while va < top {
        if address_space::translate(va).is_some() {
            frames::free(address_space::unmap_page(va));
        }
        va += PAGE_SIZE;
    }
    let generation = FLUSH_GEN.fetch_add(1, Ordering::AcqRel) + 1;
    let mut free = FREE.lock();
    if free.try_reserve(1).is_ok() {
        free.push(FreeRange {
            guard,
            top,
            generation,
        });
    } else {
        LOST_RANGES.fetch_add(1, Ordering::Relaxed);
    }
}

impl KernelStack {
    /// A stack of `size` bytes (rounded up to pages): a cached one, else a recycled or
    /// fresh range mapped with new frames. Fails, having given back what it took, when
    /// frames or page-table frames run out. Process context.
    pub fn new(size: usize) -> Result<KernelStack, MemError> {
        let pages = (size as u64).div_ceil(PAGE_SIZE);
        let span = (pages + 1) * PAGE_SIZE;
        let cached = CACHE
            .lock()
            .iter_mut()
            .find(|s| s.is_some_and(|(g, t)| t - g == span))
            .and_then(Option::take);
        if let Some((guard, top)) = cached {
            return Ok(KernelStack { guard, top });
        }
        let (guard, top) = recycled_range(span).unwrap_or_else(|| {
            REGION_RANGES.fetch_add(1, Ordering::Relaxed);
            let guard = NEXT_STACK_VA.fetch_add(span, Ordering::Relaxed);
            (guard, guard + span)
        });
        for i in 1..=pages {
            let mapped = frames::alloc()
                .ok_or(MemError::OutOfFrames)
                .and_then(|frame| {
                    address_space::map_page(
                        guard + i * PAGE_SIZE,
                        frame,
                        PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE,
                    )
                    .map_err(|e| {
                        frames::free(frame);
                        MemError::from(e)
                    })
                });
            if let Err(e) = mapped {
                retire(guard, top);
                return Err(e);
            }
        }
        MAPPED.fetch_add(1, Ordering::Relaxed);
        Ok(KernelStack { guard, top })
    }

    /// Initial stack pointer (16-byte aligned).
    pub fn top(&self) -> u64 {
        self.top
    }

    /// Gives the stack up for good (per-CPU stacks live as long as the machine) and
    /// returns its initial stack pointer.
    pub fn leak_top(self) -> u64 {
        let top = self.top;
        core::mem::forget(self);
        top
    }
}

impl Drop for KernelStack {
    /// Puts the stack in the reuse cache, or when that is full unmaps it, frees its
    /// frames and puts its range on the free list (see the module docs). The owner has
    /// stopped using it (a thread stack is dropped only after its thread switched away for
    /// the last time).
    fn drop(&mut self) {
        if let Some(free) = CACHE.lock().iter_mut().find(|s| s.is_none()) {
            *free = Some((self.guard, self.top));
            return;
        }
        retire(self.guard, self.top);
    }
}
