//! Kernel stacks.
//!
//! Stacks made at run time ([`KernelStack`]) get their own range in the stack region of
//! the address space, with the page below them left unmapped. A freed stack is kept,
//! still mapped, in a small cache and handed to the next stack of the same size: spawning
//! a thread then maps nothing, and a server that starts a thread per connection reuses a
//! few ranges instead of growing the page tables by a range per thread ever started. The
//! mapping of a cached range never changes, so no CPU can hold a stale translation of it.
//! Reused stacks are not cleared (they only ever held kernel data).
//!
//! Statically allocated stacks (the boot CPU's boot and IST stacks, needed before any
//! allocator exists) live in `.bss` as a [`StaticStack`]: a guard page followed by the
//! stack. `mm::init` unmaps each guard page, so overflowing one of these stacks faults
//! instead of silently overwriting the neighbouring data.
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};

use paging::PageTableFlags;

use super::{address_space, frames, PAGE_SIZE, STACKS_BASE};
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

/// True when `addr` is in the guard page below a kernel stack: the boot stack's, or an
/// unmapped page of the run-time stack region (its only unmapped pages are guards). Used
/// by the page-fault report to name a stack overflow. Any context; takes no lock.
pub fn is_guard_page(addr: u64) -> bool {
    let page = addr & !(PAGE_SIZE - 1);
    if page == BOOT_STACK.guard_page() {
        return true;
    }
    (STACKS_BASE..NEXT_STACK_VA.load(Ordering::Relaxed)).contains(&addr)
        && address_space::translate_unlocked(page).is_none()
}

/// Stack ranges mapped so far (each grew the stack region), and stacks in the cache.
pub fn stack_stats() -> (u64, usize) {
    (
        MAPPED.load(Ordering::Relaxed),
        CACHE.lock().iter().filter(|s| s.is_some()).count(),
    )
}

/// Stack ranges ever mapped by [`KernelStack::new`].
static MAPPED: AtomicU64 = AtomicU64::new(0);

/// A kernel stack in the stack region, above an unmapped guard page.
pub struct KernelStack {
    guard: u64,
    top: u64,
}

impl KernelStack {
    /// Maps a new stack of `size` bytes (rounded up to pages). Process context.
    pub fn new(size: usize) -> KernelStack {
        let pages = (size as u64).div_ceil(PAGE_SIZE);
        let span = (pages + 1) * PAGE_SIZE;
        let cached = CACHE
            .lock()
            .iter_mut()
            .find(|s| s.is_some_and(|(g, t)| t - g == span))
            .and_then(Option::take);
        if let Some((guard, top)) = cached {
            return KernelStack { guard, top };
        }
        MAPPED.fetch_add(1, Ordering::Relaxed);
        let guard = NEXT_STACK_VA.fetch_add((pages + 1) * PAGE_SIZE, Ordering::Relaxed);
        for i in 1..=pages {
            let frame = frames::alloc().expect("out of memory for a kernel stack");
            address_space::map_page(
                guard + i * PAGE_SIZE,
                frame,
                PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE,
            );
        }
        KernelStack {
            guard,
            top: guard + (pages + 1) * PAGE_SIZE,
        }
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
    /// Puts the stack in the reuse cache, or when that is full unmaps it and frees its
    /// frames. The owner has stopped using it (a thread stack is dropped only after its
    /// thread switched away for the last time). An unmapped range is never reused, so a
    /// stale TLB entry on another CPU can never be used to reach the freed frames.
    fn drop(&mut self) {
        if let Some(free) = CACHE.lock().iter_mut().find(|s| s.is_none()) {
            *free = Some((self.guard, self.top));
            return;
        }
        let mut va = self.guard + PAGE_SIZE;
        while va < self.top {
            let frame = address_space::unmap_page(va);
            frames::free(frame);
            va += PAGE_SIZE;
        }
    }
}
