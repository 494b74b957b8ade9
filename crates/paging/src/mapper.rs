//! Mapping, unmapping and translating pages in one four-level address space.
//!
//! Intermediate entries are created PRESENT | WRITABLE, plus USER when a user page
//! lies below them: x86 combines permissions along the walk, so restricting them at the
//! leaf is enough and intermediate tables never need rewriting when a leaf changes.
//! Empty intermediate tables are not freed on unmap (they are few, and freeing them
//! would need a TLB shootdown of the paging-structure caches).

use crate::addr::{is_canonical, table_index, PageSize};
use crate::entry::{PageTableEntry, ADDR_MASK};
use crate::{FrameSource, MapError, PageTableFlags, TableAccess};

/// Flags of every intermediate entry the mapper creates.
const TABLE_FLAGS: PageTableFlags = PageTableFlags::PRESENT.union(PageTableFlags::WRITABLE);

/// Where a leaf entry lives: the table's physical address, the index in it and the size
/// of the page it maps.
struct Leaf {
    table: u64,
    index: usize,
    size: PageSize,
}

/// One address space, identified by the physical address of its PML4 (the CR3 value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapper {
    /// Physical address of the PML4 table.
    pub root: u64,
}

impl Mapper {
    /// A mapper for the tables rooted at `root` (a zeroed frame for a new address space).
    pub const fn new(root: u64) -> Self {
        Mapper { root }
    }

    /// Maps the page of `size` at `va` to the frame at `pa` with `flags` (PRESENT is
    /// added; HUGE is set or cleared to match `size`). Creates missing intermediate
    /// tables from `frames`.
    pub fn map<A: TableAccess, F: FrameSource>(
        &self,
        va: u64,
        pa: u64,
        size: PageSize,
        flags: PageTableFlags,
        access: &mut A,
        frames: &mut F,
    ) -> Result<(), MapError> {
        check_addresses(va, pa, size)?;
        let user = flags.contains(PageTableFlags::USER);
        let table = self.walk_create(va, size.level(), user, access, frames)?;
        let index = table_index(va, size.level());
        let slot = &mut access.table(table)[index];
        let existing = PageTableEntry(*slot);
        if existing.is_present() {
            // A present entry at the leaf level: the same-size page, or (for huge sizes)
            // a table of smaller pages.
            return Err(if size == PageSize::Size4K || existing.is_huge() {
                MapError::AlreadyMapped
            } else {
                MapError::HugePageConflict
            });
        }
        *slot = PageTableEntry::new(pa, leaf_flags(flags, size)).0;
        Ok(())
    }

    /// Maps `len` bytes from `va` to `pa`, using for each step the largest page size that
    /// both addresses' alignment and the remaining length allow. All of `va`, `pa` and
    /// `len` must be 4 KiB aligned. On failure (including a range that runs into the
    /// non-canonical hole or past the physical address width), pages this call mapped
    /// are unmapped again.
    pub fn map_range<A: TableAccess, F: FrameSource>(
        &self,
        va: u64,
        pa: u64,
        len: u64,
        flags: PageTableFlags,
        access: &mut A,
        frames: &mut F,
    ) -> Result<(), MapError> {
        if !PageSize::Size4K.is_aligned(va | pa | len) {
            return Err(MapError::NotAligned);
        }
        // The last byte of each range must not wrap around the address space (a range
        // may end exactly at 2^64).
        let last = len.saturating_sub(1);
        if va.checked_add(last).is_none() {
            return Err(MapError::NonCanonical);
        }
        if pa.checked_add(last).is_none() {
            return Err(MapError::PhysAddrTooLarge);
        }
        let mut done = 0;
        while done < len {
            let (v, p, left) = (va.wrapping_add(done), pa.wrapping_add(done), len - done);
            let size = PageSize::DESCENDING
                .into_iter()
                .find(|s| s.is_aligned(v | p) && s.bytes() <= left)
                .unwrap_or(PageSize::Size4K);
            if let Err(e) = self.map(v, p, size, flags, access, frames) {
                self.unmap_prefix(va, done, access);
                return Err(e);
            }
            done += size.bytes();
        }
        Ok(())
    }

    /// Removes the mapping of the page starting at `va` and returns the frame it mapped
    /// and its size. `va` must be the first address of the page. The caller flushes the
    /// TLB.
    pub fn unmap<A: TableAccess>(
        &self,
        va: u64,
        access: &mut A,
    ) -> Result<(u64, PageSize), MapError> {
        let leaf = self.find_leaf(va, access)?;
        if !leaf.size.is_aligned(va) {
            return Err(MapError::NotAligned);
        }
        let slot = &mut access.table(leaf.table)[leaf.index];
        let pa = frame_of(PageTableEntry(*slot), leaf.size);
        *slot = 0;
        Ok((pa, leaf.size))
    }

    /// The physical address `va` translates to and the leaf entry's flags, or `None` if
    /// it is not mapped (or not canonical).
    pub fn translate<A: TableAccess>(
        &self,
        va: u64,
        access: &mut A,
    ) -> Option<(u64, PageTableFlags)> {
        let leaf = self.find_leaf(va, access).ok()?;
        let entry = PageTableEntry(access.table(leaf.table)[leaf.index]);
        let offset = va & (leaf.size.bytes() - 1);
        Some((frame_of(entry, leaf.size) + offset, entry.flags()))
    }

    /// Replaces the flags of the page starting at `va` (PRESENT is kept, HUGE follows the
    /// page size), keeping its frame, and returns the page size. If `flags` has USER, the
    /// intermediate entries above it get USER too. The caller flushes the TLB.
    pub fn update_flags<A: TableAccess>(
        &self,
        va: u64,
        flags: PageTableFlags,
        access: &mut A,
    ) -> Result<PageSize, MapError> {
        let leaf = self.find_leaf(va, access)?;
        if !leaf.size.is_aligned(va) {
            return Err(MapError::NotAligned);
        }
        if flags.contains(PageTableFlags::USER) {
            self.walk_existing(va, access, |entry| *entry |= PageTableFlags::USER.bits());
        }
        let slot = &mut access.table(leaf.table)[leaf.index];
        let pa = frame_of(PageTableEntry(*slot), leaf.size);
        *slot = PageTableEntry::new(pa, leaf_flags(flags, leaf.size)).0;
        Ok(leaf.size)
    }

    /// Walks from the root down to the table at `level`, creating missing tables, and
    /// returns that table's physical address.
    fn walk_create<A: TableAccess, F: FrameSource>(
        &self,
        va: u64,
        level: u8,
        user: bool,
        access: &mut A,
        frames: &mut F,
    ) -> Result<u64, MapError> {
        let mut table = self.root;
        for l in (level + 1..=4).rev() {
            let slot = &mut access.table(table)[table_index(va, l)];
            let entry = PageTableEntry(*slot);
            if !entry.is_present() {
                let frame = frames.alloc_zeroed_frame().ok_or(MapError::OutOfFrames)?;
                let mut flags = TABLE_FLAGS;
                if user {
                    flags |= PageTableFlags::USER;
                }
                *slot = PageTableEntry::new(frame, flags).0;
                table = frame;
            } else if entry.is_huge() {
                return Err(MapError::HugePageConflict);
            } else {
                if user {
                    *slot |= PageTableFlags::USER.bits();
                }
                table = entry.addr();
            }
        }
        Ok(table)
    }

    /// Applies `f` to each present non-leaf entry on the walk to `va`.
    fn walk_existing<A: TableAccess>(&self, va: u64, access: &mut A, mut f: impl FnMut(&mut u64)) {
        let mut table = self.root;
        for level in (1..=4).rev() {
            let slot = &mut access.table(table)[table_index(va, level)];
            let entry = PageTableEntry(*slot);
            if !entry.is_present() || level == 1 || entry.is_huge() {
                return;
            }
            f(slot);
            table = entry.addr();
        }
    }

    /// Finds the present leaf entry that maps `va`.
    fn find_leaf<A: TableAccess>(&self, va: u64, access: &mut A) -> Result<Leaf, MapError> {
        if !is_canonical(va) {
            return Err(MapError::NonCanonical);
        }
        let mut table = self.root;
        for (level, size) in [
            (4, None),
            (3, Some(PageSize::Size1G)),
            (2, Some(PageSize::Size2M)),
        ] {
            let index = table_index(va, level);
            let entry = PageTableEntry(access.table(table)[index]);
            if !entry.is_present() {
                return Err(MapError::NotMapped);
            }
            if let (Some(size), true) = (size, entry.is_huge()) {
                return Ok(Leaf { table, index, size });
            }
            table = entry.addr();
        }
        let index = table_index(va, 1);
        if !PageTableEntry(access.table(table)[index]).is_present() {
            return Err(MapError::NotMapped);
        }
        Ok(Leaf {
            table,
            index,
            size: PageSize::Size4K,
        })
    }

    /// Unmaps the pages `map_range` mapped in `[va, va + len)` (rollback after failure).
    fn unmap_prefix<A: TableAccess>(&self, va: u64, len: u64, access: &mut A) {
        let mut done = 0;
        while done < len {
            match self.unmap(va.wrapping_add(done), access) {
                Ok((_, size)) => done += size.bytes(),
                // Cannot happen for pages this call just mapped; stop rather than loop.
                Err(_) => return,
            }
        }
    }
}

/// Checks a single-page request's addresses.
fn check_addresses(va: u64, pa: u64, size: PageSize) -> Result<(), MapError> {
    if !is_canonical(va) {
        return Err(MapError::NonCanonical);
    }
    if !size.is_aligned(va) || !size.is_aligned(pa) {
        return Err(MapError::NotAligned);
    }
    if pa & !ADDR_MASK != 0 {
        return Err(MapError::PhysAddrTooLarge);
    }
    Ok(())
}

/// The leaf entry flags for `flags` at `size`.
fn leaf_flags(flags: PageTableFlags, size: PageSize) -> PageTableFlags {
    let flags = flags.without(PageTableFlags::HUGE) | PageTableFlags::PRESENT;
    match size {
        PageSize::Size4K => flags,
        PageSize::Size2M | PageSize::Size1G => flags | PageTableFlags::HUGE,
    }
}

/// The frame a leaf entry of `size` maps (huge-page addresses are size aligned).
fn frame_of(entry: PageTableEntry, size: PageSize) -> u64 {
    entry.addr() & !(size.bytes() - 1)
}

#[cfg(test)]
mod tests;
