//! The sorted region map: insertion, removal, splitting, merging, gap search, and the
//! usage counters, all kept consistent in one place.
//!
//! Every change of the set goes through [`RegionMap::insert`] and [`RegionMap::remove`],
//! which also update the counters, so the accounting can never drift from the regions.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::layout::PAGE_SIZE;
use crate::region::Region;

/// Mapped memory by Linux's accounting classes (the `VmSize`, `VmData`, `VmStk` and
/// `VmExe`+`VmLib` lines of `/proc/PID/status`). Residency is the kernel's business.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Everything mapped (`total_vm`), in bytes.
    pub total: u64,
    /// Private writable memory that is not stack (`data_vm`), in bytes.
    pub data: u64,
    /// Executable, non-writable memory that is not stack (`exec_vm`), in bytes.
    pub exec: u64,
    /// Grows-down memory (`stack_vm`), in bytes.
    pub stack: u64,
}

impl Usage {
    fn add(&mut self, r: &Region, sign: bool) {
        let len = r.size();
        let apply = |field: &mut u64| {
            *field = if sign { *field + len } else { *field - len };
        };
        apply(&mut self.total);
        if r.is_data() {
            apply(&mut self.data);
        }
        if r.is_exec() {
            apply(&mut self.exec);
        }
        if r.grows_down() {
            apply(&mut self.stack);
        }
    }
}

/// Regions by start address; they never overlap.
#[derive(Clone, Debug, Default)]
pub(crate) struct RegionMap {
    regions: BTreeMap<u64, Region>,
    usage: Usage,
}

impl RegionMap {
    pub(crate) fn len(&self) -> usize {
        self.regions.len()
    }

    pub(crate) fn usage(&self) -> Usage {
        self.usage
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    /// The region containing `addr`.
    pub(crate) fn find(&self, addr: u64) -> Option<&Region> {
        self.regions
            .range(..=addr)
            .next_back()
            .map(|(_, r)| r)
            .filter(|r| r.end > addr)
    }

    /// Linux's `find_vma`: the first region that ends above `addr`.
    pub(crate) fn first_ending_after(&self, addr: u64) -> Option<&Region> {
        self.find(addr)
            .or_else(|| self.regions.range(addr..).next().map(|(_, r)| r))
    }

    /// The first region intersecting `[start, end)`.
    pub(crate) fn first_in(&self, start: u64, end: u64) -> Option<&Region> {
        self.first_ending_after(start).filter(|r| r.start < end)
    }

    /// The region ending at or below `addr` with the highest start.
    pub(crate) fn last_before(&self, addr: u64) -> Option<&Region> {
        self.regions.range(..addr).next_back().map(|(_, r)| r)
    }

    /// Does any region intersect `[start, end)`?
    pub(crate) fn overlaps(&self, start: u64, end: u64) -> bool {
        self.first_in(start, end).is_some()
    }

    /// Pages of `[start, end)` that are mapped (Linux's `count_vma_pages_range`).
    pub(crate) fn mapped_pages(&self, start: u64, end: u64) -> u64 {
        self.intersecting(start, end)
            .map(|r| (r.end.min(end) - r.start.max(start)) / PAGE_SIZE)
            .sum()
    }

    fn intersecting(&self, start: u64, end: u64) -> impl Iterator<Item = &Region> {
        let first = self.first_in(start, end).map_or(end, |r| r.start);
        self.regions
            .range(first..end)
            .map(|(_, r)| r)
            .filter(move |r| r.end > start)
    }

    /// How many regions there would be after removing `[start, end)`.
    pub(crate) fn count_without(&self, start: u64, end: u64) -> usize {
        let inside = self.intersecting(start, end).count();
        let split = |at: u64| usize::from(self.find(at).is_some_and(|r| r.start < at));
        // A region straddling both ends becomes two; straddling one end keeps one piece.
        self.len() - inside + split(start) + split(end)
    }

    pub(crate) fn insert(&mut self, r: Region) {
        debug_assert!(r.start < r.end && !self.overlaps(r.start, r.end));
        self.usage.add(&r, true);
        self.regions.insert(r.start, r);
    }

    /// Removes the region starting exactly at `start`.
    pub(crate) fn remove(&mut self, start: u64) -> Option<Region> {
        let r = self.regions.remove(&start)?;
        self.usage.add(&r, false);
        Some(r)
    }

    /// Makes `at` a region boundary if a region straddles it.
    pub(crate) fn split_at(&mut self, at: u64) {
        let Some(start) = self.find(at).filter(|r| r.start < at).map(|r| r.start) else {
            return;
        };
        if let Some(mut low) = self.remove(start) {
            let high = low.split_off(at);
            self.insert(low);
            self.insert(high);
        }
    }

    /// Removes everything in `[start, end)`, splitting regions that straddle its ends;
    /// returns the removed pieces in address order.
    pub(crate) fn carve(&mut self, start: u64, end: u64) -> Vec<Region> {
        self.split_at(start);
        self.split_at(end);
        let starts: Vec<u64> = self.intersecting(start, end).map(|r| r.start).collect();
        starts.into_iter().filter_map(|s| self.remove(s)).collect()
    }

    /// Merges the regions on both sides of `at` if the upper one continues the lower one.
    pub(crate) fn merge_at(&mut self, at: u64) {
        let Some(low) = self.last_before(at).copied() else {
            return;
        };
        let Some(high) = self.regions.get(&at).copied() else {
            return;
        };
        if low.continues_into(&high) {
            self.remove(low.start);
            self.remove(high.start);
            self.insert(Region {
                end: high.end,
                ..low
            });
        }
    }

    /// Replaces the region starting at `start` by `r` (same start; used to resize).
    pub(crate) fn replace(&mut self, start: u64, r: Region) {
        self.remove(start);
        self.insert(r);
    }

    /// Free gaps `[from, to)` in address order; `to` stops short of a grows-down region's
    /// guard gap (an empty gap is skipped).
    fn gaps_up(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let froms = core::iter::once(0).chain(self.regions.values().map(|r| r.end));
        let tos = self
            .regions
            .values()
            .map(Region::start_gap)
            .chain(core::iter::once(u64::MAX));
        froms.zip(tos).filter(|(from, to)| from < to)
    }

    /// The same gaps from the top down.
    fn gaps_down(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let froms = self
            .regions
            .values()
            .rev()
            .map(|r| r.end)
            .chain(core::iter::once(0));
        let tos =
            core::iter::once(u64::MAX).chain(self.regions.values().rev().map(Region::start_gap));
        froms.zip(tos).filter(|(from, to)| from < to)
    }

    /// Linux's `unmapped_area_topdown`: the highest `len` bytes of free space inside
    /// `[low, high)`.
    pub(crate) fn highest_free(&self, len: u64, low: u64, high: u64) -> Option<u64> {
        self.gaps_down().find_map(|(from, to)| {
            let (from, to) = (from.max(low), to.min(high));
            (to > from && to - from >= len).then(|| to - len)
        })
    }

    /// Linux's `unmapped_area`: the lowest `len` bytes of free space inside `[low, high)`.
    pub(crate) fn lowest_free(&self, len: u64, low: u64, high: u64) -> Option<u64> {
        self.gaps_up().find_map(|(from, to)| {
            let (from, to) = (from.max(low), to.min(high));
            (to > from && to - from >= len).then_some(from)
        })
    }

    /// Is `[addr, addr + len)` free, including the guard gap of a grows-down region above
    /// it? (`addr + len` must not overflow.)
    pub(crate) fn fits(&self, addr: u64, len: u64) -> bool {
        self.first_ending_after(addr)
            .is_none_or(|next| addr + len <= next.start_gap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::{Attrs, Kind, Perms};

    fn anon(start: u64, end: u64, perms: Perms) -> Region {
        Region {
            start,
            end,
            perms,
            kind: Kind::Anonymous,
            attrs: Attrs::default(),
        }
    }

    #[test]
    fn carve_splits_and_counts() {
        let mut m = RegionMap::default();
        m.insert(anon(0x10000, 0x20000, Perms::RW));
        assert_eq!(m.count_without(0x12000, 0x13000), 2);
        assert_eq!(m.count_without(0x10000, 0x13000), 1);
        assert_eq!(m.count_without(0x0, 0x30000), 0);
        let removed = m.carve(0x12000, 0x13000);
        assert_eq!(removed.len(), 1);
        assert_eq!((removed[0].start, removed[0].end), (0x12000, 0x13000));
        assert_eq!(m.len(), 2);
        assert_eq!(m.usage().total, 0xf000);
        assert_eq!(m.usage().data, 0xf000);
    }

    #[test]
    fn merge_needs_equal_attributes() {
        let mut m = RegionMap::default();
        m.insert(anon(0x10000, 0x20000, Perms::RW));
        m.insert(anon(0x20000, 0x30000, Perms::NONE));
        m.merge_at(0x20000);
        assert_eq!(m.len(), 2);
        m.replace(0x20000, anon(0x20000, 0x30000, Perms::RW));
        m.merge_at(0x20000);
        assert_eq!(m.len(), 1);
        assert_eq!(m.find(0x2ffff).map(|r| r.start), Some(0x10000));
    }

    #[test]
    fn gaps_respect_limits_and_stack_guard() {
        let mut m = RegionMap::default();
        m.insert(anon(0x100000, 0x200000, Perms::RW));
        let mut stack = anon(0x400000, 0x500000, Perms::RW);
        stack.kind = Kind::Stack;
        m.insert(stack);
        // The guard gap below the stack swallows [0x300000, 0x400000).
        assert_eq!(m.highest_free(0x1000, 0x10000, 0x480000), Some(0x2ff000));
        assert_eq!(m.lowest_free(0x1000, 0x10000, u64::MAX), Some(0x10000));
        assert_eq!(m.lowest_free(0x100000, 0x100000, u64::MAX), Some(0x200000));
        assert!(m.fits(0x200000, 0x100000));
        assert!(!m.fits(0x200000, 0x100001));
    }
}
