//! Walking the present pages of a range, and releasing the tables of a user half.
//!
//! A process's tables are sparse: most of the 128 TiB user half has no table at all. Both
//! walks descend only into present entries, so their cost follows what is mapped, not the
//! size of the range: `munmap` of a huge reservation, `fork`'s copy of every mapped page,
//! and the teardown of an address space.

use core::ops::Range;

use crate::addr::PageSize;
use crate::entry::PageTableEntry;
use crate::{Mapper, TableAccess};

/// Entries of a PML4 that map the lower (user) half.
pub const USER_PML4_ENTRIES: usize = 256;

impl Mapper {
    /// Calls `f(va, size, entry)` for every present leaf entry whose page starts in
    /// `range`, in address order; `f` may rewrite or clear the entry (the caller flushes
    /// the TLB). Non-canonical parts of the range are skipped.
    pub fn for_each_leaf<A: TableAccess>(
        &self,
        range: Range<u64>,
        access: &mut A,
        mut f: impl FnMut(u64, PageSize, &mut u64),
    ) {
        walk(self.root, 4, 0, &range, access, &mut f);
    }

    /// Writes the 4 KiB leaf entry `raw` for `va` as it is (present or [`crate::PageTableFlags::HELD`]),
    /// creating missing tables (user tables when `raw` has USER or HELD). Fails with
    /// `AlreadyMapped` when the slot holds a present or held entry.
    pub fn set_leaf<A: TableAccess, F: crate::FrameSource>(
        &self,
        va: u64,
        raw: u64,
        access: &mut A,
        frames: &mut F,
    ) -> Result<(), crate::MapError> {
        use crate::PageTableFlags as Fl;
        if !crate::is_canonical(va) {
            return Err(crate::MapError::NonCanonical);
        }
        if !PageSize::Size4K.is_aligned(va) {
            return Err(crate::MapError::NotAligned);
        }
        // Intermediate entries: as `map` makes them for a user page.
        let mut table = self.root;
        for level in (2..=4).rev() {
            let slot = &mut access.table(table)[crate::table_index(va, level)];
            let entry = PageTableEntry(*slot);
            if !entry.is_present() {
                let frame = frames
                    .alloc_zeroed_frame()
                    .ok_or(crate::MapError::OutOfFrames)?;
                *slot = PageTableEntry::new(frame, Fl::PRESENT | Fl::WRITABLE | Fl::USER).0;
                table = frame;
            } else if entry.is_huge() {
                return Err(crate::MapError::HugePageConflict);
            } else {
                *slot |= Fl::USER.bits();
                table = entry.addr();
            }
        }
        let slot = &mut access.table(table)[crate::table_index(va, 1)];
        if *slot & (Fl::PRESENT.bits() | Fl::HELD.bits()) != 0 {
            return Err(crate::MapError::AlreadyMapped);
        }
        *slot = raw;
        Ok(())
    }

    /// Frees every page table below the user half of the PML4 (entries
    /// `0..USER_PML4_ENTRIES`) through `free`, and clears those PML4 entries. Leaf frames
    /// are the caller's: release them first (with [`Mapper::for_each_leaf`]).
    pub fn free_user_tables<A: TableAccess>(&self, access: &mut A, mut free: impl FnMut(u64)) {
        for i in 0..USER_PML4_ENTRIES {
            let entry = PageTableEntry(access.table(self.root)[i]);
            if entry.is_present() {
                free_table(entry.addr(), 3, access, &mut free);
                access.table(self.root)[i] = 0;
            }
        }
    }
}

/// Bytes one entry of a table at `level` (4 = PML4) covers.
const fn entry_span(level: u8) -> u64 {
    1 << (12 + 9 * (level as u64 - 1))
}

/// Sign-extends a 48-bit address.
const fn canonical(va: u64) -> u64 {
    (((va << 16) as i64) >> 16) as u64
}

fn walk<A: TableAccess>(
    table: u64,
    level: u8,
    base: u64,
    range: &Range<u64>,
    access: &mut A,
    f: &mut impl FnMut(u64, PageSize, &mut u64),
) {
    let span = entry_span(level);
    for i in 0..crate::ENTRIES {
        let va = canonical(base + i as u64 * span);
        // The entry covers [va, va + span); skip it when that misses the range.
        if va.saturating_add(span) <= range.start || va >= range.end {
            continue;
        }
        let entry = PageTableEntry(access.table(table)[i]);
        let held = level == 1 && entry.0 & crate::PageTableFlags::HELD.bits() != 0;
        if !entry.is_present() && !held {
            continue;
        }
        let size = match level {
            1 => Some(PageSize::Size4K),
            2 if entry.is_huge() => Some(PageSize::Size2M),
            3 if entry.is_huge() => Some(PageSize::Size1G),
            _ => None,
        };
        match size {
            Some(size) => {
                if range.contains(&va) {
                    f(va, size, &mut access.table(table)[i]);
                }
            }
            None => walk(entry.addr(), level - 1, va, range, access, f),
        }
    }
}

fn free_table<A: TableAccess>(table: u64, level: u8, access: &mut A, free: &mut impl FnMut(u64)) {
    if level > 1 {
        for i in 0..crate::ENTRIES {
            let entry = PageTableEntry(access.table(table)[i]);
            if entry.is_present() && !entry.is_huge() {
                free_table(entry.addr(), level - 1, access, free);
            }
        }
    }
    free(table);
}
