//! Kernel stacks.
//!
//! Stacks made at run time ([`KernelStack`]) get their own range in the stack region of
//! the address space, with the page below them left unmapped.
//!
//! Statically allocated stacks (the boot CPU's boot and IST stacks, needed before any
//! allocator exists) live in `.bss` as a [`StaticStack`]: a guard page followed by the
//! stack. `mm::init` unmaps each guard page, so overflowing one of these stacks faults
//! instead of silently overwriting the neighbouring data.
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};

use paging::PageTableFlags;

use super::{address_space, frames, PAGE_SIZE, STACKS_BASE};

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
        StaticStack { guard: UnsafeCell::new([0; PAGE_SIZE as usize]), stack: UnsafeCell::new([0; N]) }
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

/// Next free address in the stack region (stacks are not reused yet).
static NEXT_STACK_VA: AtomicU64 = AtomicU64::new(STACKS_BASE);

/// A kernel stack in the stack region, above an unmapped guard page.
pub struct KernelStack {
    guard: u64,
    top: u64,
}

impl KernelStack {
    /// Maps a new stack of `size` bytes (rounded up to pages). Process context.
    pub fn new(size: usize) -> KernelStack {
        let pages = (size as u64).div_ceil(PAGE_SIZE);
        let guard = NEXT_STACK_VA.fetch_add((pages + 1) * PAGE_SIZE, Ordering::Relaxed);
        for i in 1..=pages {
            let frame = frames::alloc().expect("out of memory for a kernel stack");
            address_space::map_page(guard + i * PAGE_SIZE, frame, PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE);
        }
        KernelStack { guard, top: guard + (pages + 1) * PAGE_SIZE }
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
    /// Unmaps the stack and frees its frames. The owner has stopped using it (a thread
    /// stack is dropped only after its thread switched away for the last time). The
    /// virtual range is never reused, so a stale TLB entry on another CPU can never be
    /// used to reach the freed frames.
    fn drop(&mut self) {
        let mut va = self.guard + PAGE_SIZE;
        while va < self.top {
            let frame = address_space::unmap_page(va);
            frames::free(frame);
            va += PAGE_SIZE;
        }
    }
}
