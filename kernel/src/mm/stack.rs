//! Kernel stacks.
//!
//! Statically allocated stacks (the boot CPU's boot and IST stacks, needed before any
//! allocator exists) live in `.bss` as a [`StaticStack`]: a guard page followed by the
//! stack. `mm::init` unmaps each guard page, so overflowing one of these stacks faults
//! instead of silently overwriting the neighbouring data.
use core::cell::UnsafeCell;

use super::PAGE_SIZE;

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
