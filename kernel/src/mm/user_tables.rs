//! The page tables of one user address space.
//!
//! Every process has its own PML4. Its upper half is the kernel's: at boot the kernel's
//! tables get a third-level table under each of the 256 upper PML4 entries
//! ([`super::address_space`]), so the kernel half never gains a new top-level entry and
//! copying those 256 entries into a new PML4 shares all of the kernel's mappings, present
//! and future. The lower half holds only 4 KiB user pages, whose frames are counted in
//! [`super::page_refs`]. Dropping the tables releases every page and table frame.
//!
//! TLBs: the tables are loaded on one CPU per running thread of the process. Changes that
//! remove or restrict mappings flush this CPU's entries and shoot down the others'
//! ([`crate::arch::tlb`]) before they return, and before the frames of removed pages go
//! back to the allocator, so no CPU keeps a path to a frame the kernel reuses.
use paging::{Mapper, PageSize, PageTableFlags as F, USER_PML4_ENTRIES};

use super::address_space::{kernel_root, DirectMapTables};

/// Page-table frames for user mappings: like the kernel's, but refused below the kernel's
/// memory reserve, so a process cannot exhaust memory through its page tables either.
struct UserTableFrames;

impl paging::FrameSource for UserTableFrames {
    fn alloc_zeroed_frame(&mut self) -> Option<u64> {
        if page_refs::short_of_memory() {
            return None;
        }
        frames::alloc_zeroed()
    }
}
use super::{frames, page_refs, phys_to_virt, MemError, PAGE_SIZE};
use crate::arch::cpu;

/// One user address space's tables. Not `Clone`: [`UserTables::fork_from`] shares pages.
pub struct UserTables {
    mapper: Mapper,
    /// Pages mapped (present or held): the resident set.
    resident: u64,
}

impl UserTables {
    /// Empty user half, the kernel's upper half.
    pub fn new() -> Result<UserTables, MemError> {
        let root = paging::FrameSource::alloc_zeroed_frame(&mut UserTableFrames)
            .ok_or(MemError::OutOfFrames)?;
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
            resident: 0,
        })
    }

    /// The CR3 value.
    pub fn root(&self) -> u64 {
        self.mapper.root
    }

    /// Maps `frame` (whose reference the caller passes in) at user page `va`. On failure
    /// the reference is the caller's again.
    pub fn map(&mut self, va: u64, frame: u64, flags: F) -> Result<(), MemError> {
        self.resident += 1;
        self.mapper
            .map(
                va,
                frame,
                PageSize::Size4K,
                flags | F::PRESENT | F::USER,
                &mut DirectMapTables,
                &mut UserTableFrames,
            )
            .map_err(|e| {
                self.resident -= 1;
                MemError::from(e)
            })
    }

    /// Pages mapped (the resident set).
    pub fn resident(&self) -> u64 {
        self.resident
    }

    /// The frame and flags of user page `va`, if present.
    pub fn translate(&self, va: u64) -> Option<(u64, F)> {
        self.mapper.translate(va, &mut DirectMapTables)
    }

    /// Replaces the entry of present page `va` (same frame, new flags, or a new frame
    /// whose reference the caller passes in; the old frame's reference is returned, after
    /// every CPU has forgotten the old entry).
    pub fn replace(&mut self, va: u64, frame: u64, flags: F) -> Option<u64> {
        let mut old = None;
        self.mapper
            .for_each_leaf(va..va + PAGE_SIZE, &mut DirectMapTables, |_, _, entry| {
                old = Some(*entry & paging::ADDR_MASK);
                *entry = paging::PageTableEntry::new(frame, flags | F::PRESENT | F::USER).0;
            });
        cpu::invlpg(va);
        self.flush_others();
        old
    }

    /// Unmaps every page in `range` and drops their references.
    pub fn unmap(&mut self, range: core::ops::Range<u64>) {
        let mut freed = alloc::vec::Vec::new();
        self.mapper
            .for_each_leaf(range, &mut DirectMapTables, |va, _, entry| {
                freed.push(*entry & paging::ADDR_MASK);
                *entry = 0;
                cpu::invlpg(va);
            });
        if !freed.is_empty() {
            self.flush_others();
        }
        self.resident -= freed.len() as u64;
        for frame in freed {
            page_refs::release(frame);
        }
    }

    /// Shoots down the other CPUs' TLB entries of these tables.
    pub fn flush_others(&self) {
        crate::arch::tlb::shoot_down(self.root());
    }

    /// Gives every page in `range` (present or held) the flags `make(frame)` returns:
    /// with PRESENT it is mapped for the user; without, it is held inaccessible (its frame
    /// kept: `PROT_NONE`).
    pub fn protect(&mut self, range: core::ops::Range<u64>, mut make: impl FnMut(u64) -> F) {
        self.mapper
            .for_each_leaf(range, &mut DirectMapTables, |va, _, entry| {
                let frame = *entry & paging::ADDR_MASK;
                let flags = make(frame);
                *entry = if flags.contains(F::PRESENT) {
                    frame | (flags | F::USER).bits()
                } else {
                    frame | F::HELD.bits()
                };
                cpu::invlpg(va);
            });
        self.flush_others();
    }

    /// Moves the entries of `len` bytes at `from` to `to` (mremap); the destination is empty.
    /// If a table for the destination cannot be had, the pages that did not move are
    /// released (the region map has moved them already: they read as zero afterwards).
    pub fn move_range(&mut self, from: u64, to: u64, len: u64) -> Result<(), MemError> {
        let mut moved = alloc::vec::Vec::new();
        self.mapper
            .for_each_leaf(from..from + len, &mut DirectMapTables, |va, _, entry| {
                moved.push((va - from + to, *entry));
                *entry = 0;
                cpu::invlpg(va);
            });
        self.flush_others();
        let mut result = Ok(());
        for (va, entry) in moved {
            if result.is_err() {
                page_refs::release(entry & paging::ADDR_MASK);
                continue;
            }
            if let Err(e) =
                self.mapper
                    .set_leaf(va, entry, &mut DirectMapTables, &mut UserTableFrames)
            {
                page_refs::release(entry & paging::ADDR_MASK);
                self.resident -= 1;
                result = Err(MemError::from(e));
            }
        }
        result
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
        if cow {
            self.flush_others();
        }
        for (va, entry) in pages {
            let frame = entry & paging::ADDR_MASK;
            page_refs::share(frame);
            if let Err(e) =
                child
                    .mapper
                    .set_leaf(va, entry, &mut DirectMapTables, &mut UserTableFrames)
            {
                page_refs::release(frame);
                return Err(e.into());
            }
            child.resident += 1;
        }
        Ok(())
    }
}

/// No thread may run on the tables when they are dropped: their owner (the process's
/// memory) outlives every thread that runs on them, and a thread loads other tables before
/// it lets go of its process. CPUs that still keep them lazily (`arch::tlb`) are made to
/// let go first.
impl Drop for UserTables {
    fn drop(&mut self) {
        crate::arch::tlb::release(self.root());
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
