//! One region (Linux's VMA): a page-aligned range with permissions, a kind and attributes.
//!
//! Two touching regions merge when nothing about them differs except where they are: same
//! permissions, attributes and kind, and for shared or file memory the second continues
//! the first's offset. Linux merges by the same rule, so region boundaries match what
//! `/proc/PID/maps` shows on Linux for memory that was never faulted. (Linux also refuses
//! to merge anonymous memory that was faulted under different `anon_vma`s; Halyard has no
//! such bookkeeping, so it merges those too: only the line count of `maps` can differ.)

use linux_raw_sys::general::{PROT_EXEC, PROT_READ, PROT_WRITE};

use crate::layout::STACK_GUARD_GAP;

/// Access permissions of a region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Perms {
    /// `PROT_READ`.
    pub read: bool,
    /// `PROT_WRITE`.
    pub write: bool,
    /// `PROT_EXEC`.
    pub exec: bool,
}

impl Perms {
    /// `PROT_NONE`.
    pub const NONE: Self = Self {
        read: false,
        write: false,
        exec: false,
    };
    /// `PROT_READ | PROT_WRITE`.
    pub const RW: Self = Self {
        read: true,
        write: true,
        exec: false,
    };

    /// The read/write/exec bits of a `prot` argument (other bits are the caller's to check).
    pub const fn from_prot(prot: u64) -> Self {
        Self {
            read: prot & PROT_READ as u64 != 0,
            write: prot & PROT_WRITE as u64 != 0,
            exec: prot & PROT_EXEC as u64 != 0,
        }
    }

    /// Linux's `vma_is_accessible`: any of read, write or exec.
    pub const fn any(self) -> bool {
        self.read || self.write || self.exec
    }
}

/// Identifies an open file description (Linux compares `struct file`, so two `open`s of
/// one file never merge their mappings, two mappings of one descriptor may).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u64);

/// Identifies a shared anonymous memory object (one per `MAP_SHARED|MAP_ANONYMOUS` call,
/// shared with children after fork and with `mremap` duplicates). The caller creates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SharedId(pub u64);

/// What backs a region's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Private anonymous memory (`MAP_PRIVATE|MAP_ANONYMOUS`): zero-filled on demand.
    Anonymous,
    /// Shared anonymous memory: `offset` bytes into `object` at the region's start.
    Shared {
        /// The shared object.
        object: SharedId,
        /// Byte offset of the region's first page in the object.
        offset: u64,
    },
    /// File mapping: pages come from `file` at `offset` (at the region's start). A
    /// private one (`MAP_PRIVATE`) copies a page on its first write. A shared one
    /// (`MAP_SHARED`) is, in Halyard, one that is never written: Linux's `VM_MAYSHARE`
    /// without `VM_MAYWRITE`, which is what Linux makes of `MAP_SHARED` on a descriptor
    /// not open for writing (see [`crate::Kind::may_write`]).
    File {
        /// The open file.
        file: FileId,
        /// Byte offset of the region's first page in the file.
        offset: u64,
        /// `MAP_SHARED` (read-only).
        shared: bool,
    },
    /// Private anonymous memory that grows down (`MAP_GROWSDOWN`, the initial stack).
    Stack,
    /// The brk area: private anonymous memory that `brk` grows and shrinks.
    Heap,
}

impl Kind {
    /// Is this memory shared with other mappings of the same object (Linux `VM_SHARED`)?
    pub const fn is_shared(self) -> bool {
        matches!(self, Kind::Shared { .. })
    }

    /// Was this mapped with `MAP_SHARED` (Linux's `VM_MAYSHARE`: the `s` of
    /// `/proc/PID/maps`, and what `mremap` may duplicate)?
    pub const fn may_share(self) -> bool {
        matches!(self, Kind::Shared { .. } | Kind::File { shared: true, .. })
    }

    /// May this memory be made writable (Linux's `VM_MAYWRITE`)? Not a shared file
    /// mapping: Linux refuses write to one whose descriptor is read-only (`EACCES`), and
    /// Halyard writes no file pages back, so it refuses write to all of them.
    pub const fn may_write(self) -> bool {
        !matches!(self, Kind::File { shared: true, .. })
    }

    /// Is this private anonymous memory (Linux's `vma_is_anonymous`)?
    pub const fn is_private_anonymous(self) -> bool {
        matches!(self, Kind::Anonymous | Kind::Stack | Kind::Heap)
    }

    /// The same kind `delta` bytes further into the region.
    pub(crate) const fn advanced(self, delta: u64) -> Self {
        match self {
            Kind::Shared { object, offset } => Kind::Shared {
                object,
                offset: offset + delta,
            },
            Kind::File {
                file,
                offset,
                shared,
            } => Kind::File {
                file,
                offset: offset + delta,
                shared,
            },
            other => other,
        }
    }
}

/// Transparent huge page advice (`VM_HUGEPAGE`/`VM_NOHUGEPAGE`). Halyard maps only base
/// pages; the attribute is kept because it splits regions exactly as on Linux.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HugeAdvice {
    /// No advice.
    #[default]
    Default,
    /// `MADV_HUGEPAGE`.
    Huge,
    /// `MADV_NOHUGEPAGE`, or `MAP_STACK` (Linux 6.7 and later mark stacks so).
    NoHuge,
}

/// Read-ahead advice (`MADV_NORMAL`/`MADV_RANDOM`/`MADV_SEQUENTIAL`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Readahead {
    /// `MADV_NORMAL`.
    #[default]
    Normal,
    /// `MADV_RANDOM`.
    Random,
    /// `MADV_SEQUENTIAL`.
    Sequential,
}

/// Per-region attributes beyond permissions (Linux `vm_flags` that user space can set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Attrs {
    /// `MAP_NORESERVE` (`VM_NORESERVE`): no commit charge (Halyard never charges, but the
    /// bit keeps regions apart as on Linux).
    pub noreserve: bool,
    /// Huge page advice.
    pub huge: HugeAdvice,
    /// Read-ahead advice.
    pub readahead: Readahead,
    /// `MADV_DONTDUMP`: left out of core dumps.
    pub dontdump: bool,
    /// `MADV_DONTFORK`: a forked child does not get this region.
    pub dontfork: bool,
    /// `MADV_WIPEONFORK`: a forked child gets the region empty (zero-filled).
    pub wipeonfork: bool,
    /// Linux's `VM_ACCOUNT`: private memory that was writable (without `MAP_NORESERVE`)
    /// and so charged to the commit limit. Linux drops the charge when never-faulted
    /// anonymous memory loses write permission, but keeps it on private file mappings,
    /// which then stay apart from never-writable neighbours. Halyard charges nothing; the
    /// bit only keeps region boundaries Linux's.
    pub charged: bool,
}

/// One mapped region `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Region {
    /// First address (page-aligned).
    pub start: u64,
    /// One past the last address (page-aligned).
    pub end: u64,
    /// Access permissions.
    pub perms: Perms,
    /// What backs the pages.
    pub kind: Kind,
    /// Attributes.
    pub attrs: Attrs,
}

impl Region {
    /// Length in bytes.
    pub const fn size(&self) -> u64 {
        self.end - self.start
    }

    /// Length in pages.
    pub(crate) const fn pages(&self) -> u64 {
        self.size() / crate::layout::PAGE_SIZE
    }

    /// Does the region grow down (`VM_GROWSDOWN`)?
    pub const fn grows_down(&self) -> bool {
        matches!(self.kind, Kind::Stack)
    }

    /// Linux's `vm_start_gap`: where the free space above a lower neighbour ends, i.e.
    /// the start minus the guard gap for a grows-down region.
    pub(crate) const fn start_gap(&self) -> u64 {
        if self.grows_down() {
            self.start.saturating_sub(STACK_GUARD_GAP)
        } else {
            self.start
        }
    }

    /// Linux's `is_data_mapping`: private, writable, not a stack (counts against
    /// `RLIMIT_DATA`).
    pub(crate) const fn is_data(&self) -> bool {
        self.perms.write && !self.kind.is_shared() && !self.grows_down()
    }

    /// Linux's `is_exec_mapping`: executable, not writable, not a stack.
    pub(crate) const fn is_exec(&self) -> bool {
        self.perms.exec && !self.perms.write && !self.grows_down()
    }

    /// Would `next`, starting where this region ends, merge into it?
    pub(crate) fn continues_into(&self, next: &Region) -> bool {
        self.end == next.start
            && self.perms == next.perms
            && self.attrs == next.attrs
            && self.kind.advanced(self.size()) == next.kind
    }

    /// Splits at `at` (strictly inside): `self` keeps the low part, the high part is
    /// returned.
    pub(crate) fn split_off(&mut self, at: u64) -> Region {
        let high = Region {
            start: at,
            kind: self.kind.advanced(at - self.start),
            ..*self
        };
        self.end = at;
        high
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(start: u64, end: u64, offset: u64) -> Region {
        Region {
            start,
            end,
            perms: Perms::RW,
            kind: Kind::File {
                file: FileId(1),
                offset,
                shared: false,
            },
            attrs: Attrs::default(),
        }
    }

    #[test]
    fn file_regions_merge_only_when_offsets_continue() {
        let a = file(0x10000, 0x12000, 0);
        assert!(a.continues_into(&file(0x12000, 0x13000, 0x2000)));
        assert!(!a.continues_into(&file(0x12000, 0x13000, 0x3000)));
        assert!(!a.continues_into(&file(0x13000, 0x14000, 0x2000)));
    }

    #[test]
    fn split_keeps_offsets() {
        let mut a = file(0x10000, 0x14000, 0x1000);
        let b = a.split_off(0x11000);
        assert_eq!((a.start, a.end), (0x10000, 0x11000));
        assert_eq!(
            b.kind,
            Kind::File {
                file: FileId(1),
                offset: 0x2000,
                shared: false,
            }
        );
        assert!(a.continues_into(&b));
    }

    #[test]
    fn stack_guard_gap_saturates() {
        let mut s = file(0x20000, 0x30000, 0);
        s.kind = Kind::Stack;
        assert_eq!(s.start_gap(), 0);
        assert!(!s.is_data());
    }
}
