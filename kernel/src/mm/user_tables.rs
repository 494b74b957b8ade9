//! The page tables of one user address space.
//!
//! Every process has its own PML4. Its upper half is the kernel's: at boot the kernel's
//! tables get a third-level table under each of the 256 upper PML4 entries
//! ([`super::address_space`]), so the kernel half never gains a new top-level entry and
//! copying those 256 entries into a new PML4 shares all of the kernel's mappings, present
//! and future. The lower half holds only 4 KiB user pages, whose frames are counted in
//! [`super::page_refs`]. Dropping the tables releases every page and table frame.
//!
//! TLBs: the tables are loaded on one CPU per thread of the process. Changes that remove
//! or restrict mappings flush this CPU's entries; the others are the caller's (a process
//! with one thread has nothing elsewhere: switching CR3 away flushed it).
use paging::{Mapper, PageSize, PageTableFlags as F, USER_PML4_ENTRIES};

use super::address_space::{kernel_root, AllocatorFrames, DirectMapTables};
use super::{frames, page_refs, phys_to_virt, MemError, PAGE_SIZE};
use crate::arch::cpu;

/// One user address space's tables. Not `Clone`: [`UserTables::fork_from`] shares pages.
pub struct UserTables {
    mapper: Mapper,
}

impl UserTables {
    /// Empty user half, the kernel's upper half.
    pub fn new() -> Result<UserTables, MemError> {
        let root = frames::alloc_zeroed().ok_or(MemError::OutOfFrames)?;
        let kernel = kernel_root();
        // SAFETY: both are page-table frames in the direct map; `root` is new and not
        // shared, and the kernel PML4's upper entries never change after boot.
        unsafe {
            let src = phys_to_virt(kernel) as *const u64;
            let dst = phys_to_virt(root) as *mut u64;
            core::ptr::copy_nonoverlapping(
                src.add(USER_PML4_ENTRIES),
                dst.add(USER_PML4_ENTRIES),
                512 - USER_PML4_ENTRIES,
            );
        }
        Ok(UserTables {
            mapper: Mapper::new(root),
        })
    }

    /// The CR3 value.
    pub fn root(&self) -> u64 {
        self.mapper.root
    }

    /// Maps `frame` (whose reference the caller passes in) at user page `va`. On failure
    /// the reference is the caller's again.
    pub fn map(&mut self, va: u64, frame: u64, flags: F) -> Result<(), MemError> {
        self.mapper
            .map(
                va,
                frame,
                PageSize::Size4K,
                flags | F::PRESENT | F::USER,
                &mut DirectMapTables,
                &mut AllocatorFrames,
            )
            .map_err(MemError::from)
    }

    /// The frame and flags of user page `va`, if present.
    pub fn translate(&self, va: u64) -> Option<(u64, F)> {
        self.mapper.translate(va, &mut DirectMapTables)
    }

    /// Replaces the entry of present page `va` (same frame, new flags, or a new frame
    /// whose reference the caller passes in; the old frame's reference is returned).
    pub fn replace(&mut self, va: u64, frame: u64, flags: F) -> Option<u64> {
        let mut old = None;
        self.mapper
            .for_each_leaf(va..va + PAGE_SIZE, &mut DirectMapTables, |_, _, entry| {
                old = Some(*entry & paging::ADDR_MASK);
                *entry = paging::PageTableEntry::new(frame, flags | F::PRESENT | F::USER).0;
            });
        cpu::invlpg(va);
        old
    }

    /// Unmaps every page in `range` and drops their references.
    pub fn unmap(&mut self, range: core::ops::Range<u64>) {
        self.mapper
            .for_each_leaf(range, &mut DirectMapTables, |va, _, entry| {
                page_refs::release(*entry & paging::ADDR_MASK);
                *entry = 0;
                cpu::invlpg(va);
            });
    }

    /// Gives every present page in `range` the flags `make(frame)` returns.
    pub fn protect(&mut self, range: core::ops::Range<u64>, mut make: impl FnMut(u64) -> F) {
        self.mapper
            .for_each_leaf(range, &mut DirectMapTables, |va, _, entry| {
                let frame = *entry & paging::ADDR_MASK;
                *entry = paging::PageTableEntry::new(frame, make(frame) | F::PRESENT | F::USER).0;
                cpu::invlpg(va);
            });
    }

    /// Moves the entries of `len` bytes at `from` to `to` (mremap); the destination is empty.
    pub fn move_range(&mut self, from: u64, to: u64, len: u64) -> Result<(), MemError> {
        let mut moved = alloc::vec::Vec::new();
        self.mapper
            .for_each_leaf(from..from + len, &mut DirectMapTables, |va, _, entry| {
                moved.push((va - from + to, *entry));
                *entry = 0;
                cpu::invlpg(va);
            });
        for (va, entry) in moved {
            let e = paging::PageTableEntry(entry);
            self.mapper
                .map(
                    va,
                    e.addr(),
                    PageSize::Size4K,
                    e.flags(),
                    &mut DirectMapTables,
                    &mut AllocatorFrames,
                )
                .map_err(MemError::from)?;
        }
        Ok(())
    }

    /// Fills the child's tables for `range` of `self`: each present page is mapped in the
    /// child too, one more reference; `cow` write-protects it on both sides.
    pub fn share_into(
        &mut self,
        child: &mut UserTables,
        range: core::ops::Range<u64>,
        cow: bool,
    ) -> Result<(), MemError> {
        let mut pages = alloc::vec::Vec::new();
        self.mapper
            .for_each_leaf(range, &mut DirectMapTables, |va, _, entry| {
                if cow {
                    *entry &= !F::WRITABLE.bits();
                    cpu::invlpg(va);
                }
                pages.push((va, *entry));
            });
        for (va, entry) in pages {
            let e = paging::PageTableEntry(entry);
            page_refs::share(e.addr());
            if let Err(e2) = child.map(va, e.addr(), e.flags()) {
                page_refs::release(e.addr());
                return Err(e2);
            }
        }
        Ok(())
    }
}

/// The tables must be loaded on no CPU when they are dropped: their owner (the process's
/// memory) outlives every thread that runs on them, and a thread loads other tables before
/// it lets go of its process.
impl Drop for UserTables {
    fn drop(&mut self) {
        self.mapper
            .for_each_leaf(0..1 << 47, &mut DirectMapTables, |_, _, entry| {
                page_refs::release(*entry & paging::ADDR_MASK);
                *entry = 0;
            });
        self.mapper
            .free_user_tables(&mut DirectMapTables, frames::free);
        frames::free(self.mapper.root);
    }
}
