//! The address space: the region map plus the per-process state the calls consult
//! (layout, limits, brk, the W^X policy), and the page-table changes the calls produce.

use alloc::vec::Vec;
use core::ops::Range;

use crate::errno::Errno;
use crate::layout::{Layout, Limits, DEFAULT_MAX_MAP_COUNT, PAGE_SIZE};
use crate::map::{RegionMap, Usage};
use crate::mdwe::Mdwe;
use crate::region::{Kind, Region};

/// A change the kernel must make to the page tables, in the order given, whether the call
/// succeeded or not (some Linux calls fail after changing part of the range).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Clear the page-table entries in the range and release their pages (for shared
    /// memory: drop this mapping's references; the object keeps its pages). `munmap`,
    /// `MAP_FIXED` replacement, `brk` shrinking, `mremap` shrinking, `MADV_DONTNEED`.
    Unmap(Range<u64>),
    /// Give the present pages in the range exactly these permissions, except that a page
    /// shared copy-on-write stays write-protected, then flush the TLBs (`mprotect`).
    Protect(Range<u64>, crate::Perms),
    /// Move the page-table entries of `len` bytes at `from` to `to`; the pages keep their
    /// contents and the source is left empty (`mremap`).
    Move {
        /// Source address.
        from: u64,
        /// Destination address.
        to: u64,
        /// Bytes to move.
        len: u64,
    },
}

/// How a forked child receives a region's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inherit {
    /// Private memory: both sides map the same pages write-protected and copy on write.
    CopyOnWrite,
    /// Shared memory: both sides map the same pages with the region's permissions.
    Shared,
    /// `MADV_WIPEONFORK`: the child starts with no pages (zero-fill on demand).
    Empty,
}

/// The brk state (Linux's `start_brk`/`brk`, plus the data segment size that
/// `RLIMIT_DATA` counts together with the heap).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Brk {
    pub(crate) start: u64,
    pub(crate) current: u64,
    pub(crate) data_bytes: u64,
}

/// A process's virtual memory layout. Threads share one; `fork` copies it.
#[derive(Clone, Debug)]
pub struct AddressSpace {
    pub(crate) map: RegionMap,
    pub(crate) layout: Layout,
    pub(crate) limits: Limits,
    pub(crate) max_map_count: usize,
    pub(crate) brk: Brk,
    pub(crate) mdwe: Mdwe,
}

impl AddressSpace {
    /// An empty address space with the given layout, default limits and no brk area.
    pub fn new(layout: Layout) -> Self {
        Self {
            map: RegionMap::default(),
            layout,
            limits: Limits::default(),
            max_map_count: DEFAULT_MAX_MAP_COUNT,
            brk: Brk::default(),
            mdwe: Mdwe::default(),
        }
    }

    /// The empty address space `execve` gives a process that had this one: limits and the
    /// map-count limit carry over, and the W^X policy unless it was set not to be
    /// inherited (Linux keeps `MMF_HAS_MDWE` across exec the same way).
    pub fn exec_successor(&self, layout: Layout) -> Self {
        Self {
            limits: self.limits,
            max_map_count: self.max_map_count,
            mdwe: self.mdwe.inherited(),
            ..Self::new(layout)
        }
    }

    /// The child's copy for `fork`, and how each of its regions gets its pages (in address
    /// order). `MADV_DONTFORK` regions are left out of the child.
    pub fn fork(&self) -> (Self, Vec<(Range<u64>, Inherit)>) {
        let mut child = Self {
            map: RegionMap::default(),
            mdwe: self.mdwe.inherited(),
            ..self.clone()
        };
        let mut plan = Vec::new();
        for r in self.map.iter().filter(|r| !r.attrs.dontfork) {
            child.map.insert(*r);
            let how = if r.kind.is_shared() {
                Inherit::Shared
            } else if r.attrs.wipeonfork {
                Inherit::Empty
            } else {
                Inherit::CopyOnWrite
            };
            plan.push((r.start..r.end, how));
        }
        (child, plan)
    }

    /// The regions in address order.
    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.map.iter()
    }

    /// The region containing `addr`.
    pub fn region_at(&self, addr: u64) -> Option<&Region> {
        self.map.find(addr)
    }

    /// Mapped memory by accounting class.
    pub fn usage(&self) -> Usage {
        self.map.usage()
    }

    /// The layout unhinted mappings follow.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Sets the limits (the kernel calls this when `setrlimit`/`prlimit64` change them).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Sets the largest number of regions (Linux's `vm.max_map_count`).
    pub fn set_max_map_count(&mut self, count: usize) {
        self.max_map_count = count;
    }

    /// Linux's `may_expand_vm`: may `pages` more pages of a region like `like` be mapped
    /// under `RLIMIT_AS` and (for data mappings) `RLIMIT_DATA`?
    pub(crate) fn may_expand(&self, like: &Region, pages: u64) -> bool {
        let usage = self.map.usage();
        let within = |used: u64, limit: u64| used / PAGE_SIZE + pages <= limit / PAGE_SIZE;
        within(usage.total, self.limits.address_space)
            && (!like.is_data() || within(usage.data, self.limits.data))
    }

    /// Removes `[start, end)` and records the unmapping; fails with `ENOMEM` (changing
    /// nothing) if the split this needs would exceed the map-count limit.
    pub(crate) fn unmap_range(
        &mut self,
        start: u64,
        end: u64,
        out: &mut Vec<Change>,
    ) -> Result<(), Errno> {
        if !self.map.overlaps(start, end) {
            return Ok(());
        }
        if self.map.count_without(start, end) > self.max_map_count {
            return Err(Errno::ENOMEM);
        }
        let removed = self.map.carve(start, end);
        push_unmaps(out, &removed);
        Ok(())
    }

    /// Applies `edit` to the part `[start, end)` of the region that contains it (splitting
    /// it off), then merges with the neighbours. Fails with `ENOMEM`, changing nothing, if
    /// the splits would exceed the map-count limit.
    pub(crate) fn modify(
        &mut self,
        start: u64,
        end: u64,
        edit: impl FnOnce(&mut Region),
    ) -> Result<(), Errno> {
        let Some(r) = self.map.find(start).copied() else {
            return Ok(());
        };
        let splits = usize::from(r.start < start) + usize::from(end < r.end);
        if self.map.len() + splits > self.max_map_count {
            return Err(Errno::ENOMEM);
        }
        self.map.split_at(start);
        self.map.split_at(end);
        if let Some(mut piece) = self.map.remove(start) {
            edit(&mut piece);
            self.map.insert(piece);
        }
        self.map.merge_at(end);
        self.map.merge_at(start);
        Ok(())
    }

    /// Inserts a new region and merges it with its neighbours.
    pub(crate) fn insert_merged(&mut self, r: Region) {
        self.map.insert(r);
        self.map.merge_at(r.end);
        self.map.merge_at(r.start);
    }
}

/// Records the removed pieces as unmappings, coalescing touching ones.
pub(crate) fn push_unmaps(out: &mut Vec<Change>, removed: &[Region]) {
    for r in removed {
        match out.last_mut() {
            Some(Change::Unmap(last)) if last.end == r.start => last.end = r.end,
            _ => out.push(Change::Unmap(r.start..r.end)),
        }
    }
}

/// A region of `kind` with default attributes, for the brk and tests.
pub(crate) fn plain(start: u64, end: u64, perms: crate::Perms, kind: Kind) -> Region {
    Region {
        start,
        end,
        perms,
        kind,
        attrs: crate::Attrs::default(),
    }
}
