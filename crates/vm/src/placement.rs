//! Choosing an address: Linux's `get_unmapped_area` for x86_64.
//!
//! Without a hint a mapping takes the highest free gap below the mmap base, top-down;
//! if nothing fits there the search runs bottom-up from the legacy base to `TASK_SIZE`.
//! A hint is used as is (rounded down to a page) when the range is free, including the
//! guard gap below a stack, and ignored otherwise. `MAP_FIXED` takes the address
//! unchecked (the caller unmaps what is there). `MAP_32BIT` searches bottom-up in
//! [1 GiB, 2 GiB) and `MAP_ABOVE4G` keeps the search above 4 GiB. Linux also aligns large
//! anonymous mappings to 2 MiB for transparent huge pages and randomises `MAP_32BIT`'s
//! window; Halyard does neither (only the addresses chosen differ).

use crate::errno::Errno;
use crate::layout::{page_offset, MMAP_MIN_ADDR, PAGE_SIZE, TASK_SIZE};
use crate::space::AddressSpace;

/// The placement-relevant `mmap` flags.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Placement {
    pub(crate) fixed: bool,
    pub(crate) below_2g: bool,
    pub(crate) above_4g: bool,
}

const WINDOW_32BIT: (u64, u64) = (0x4000_0000, 0x8000_0000);
const FOUR_GIB: u64 = 1 << 32;

impl AddressSpace {
    /// `__get_unmapped_area`: the address for `len` bytes (page-aligned, non-zero).
    pub(crate) fn unmapped_area(&self, hint: u64, len: u64, how: Placement) -> Result<u64, Errno> {
        if len > TASK_SIZE {
            return Err(Errno::ENOMEM);
        }
        let addr = if how.fixed {
            hint
        } else {
            self.search(hint, len, how).ok_or(Errno::ENOMEM)?
        };
        if addr > TASK_SIZE - len {
            return Err(Errno::ENOMEM);
        }
        if page_offset(addr) != 0 {
            return Err(Errno::EINVAL);
        }
        if addr < MMAP_MIN_ADDR {
            return Err(Errno::EPERM);
        }
        Ok(addr)
    }

    fn search(&self, hint: u64, len: u64, how: Placement) -> Option<u64> {
        let low = if how.above_4g {
            FOUR_GIB
        } else {
            MMAP_MIN_ADDR.max(PAGE_SIZE)
        };
        if !how.below_2g {
            // arch_get_unmapped_area_topdown
            let hint = hint & !(PAGE_SIZE - 1);
            if hint != 0 && hint <= TASK_SIZE - len && self.map.fits(hint, len) {
                return Some(hint);
            }
            if let Some(addr) = self.map.highest_free(len, low, self.layout.mmap_base) {
                return Some(addr);
            }
        }
        // arch_get_unmapped_area (bottom-up), also the top-down fallback
        let (begin, end) = if how.below_2g {
            WINDOW_32BIT
        } else {
            (self.layout.legacy_base, TASK_SIZE)
        };
        if len > end {
            return None;
        }
        if hint != 0 && end - len >= hint && self.map.fits(hint, len) {
            return Some(hint);
        }
        self.map.lowest_free(len, begin.max(low), end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::plain;
    use crate::{Kind, Layout, Perms};

    fn space() -> AddressSpace {
        AddressSpace::new(Layout {
            mmap_base: 0x10_0000_0000,
            legacy_base: 0x20_0000_0000,
        })
    }

    /// A space with `[from, to)` taken by one PROT_NONE region.
    fn taken(from: u64, to: u64) -> AddressSpace {
        let mut s = space();
        s.map.insert(plain(from, to, Perms::NONE, Kind::Anonymous));
        s
    }

    const FREE: Placement = Placement {
        fixed: false,
        below_2g: false,
        above_4g: false,
    };

    #[test]
    fn top_down_below_base_then_bottom_up_from_legacy_base() {
        assert_eq!(
            space().unmapped_area(0, 0x2000, FREE),
            Ok(0x10_0000_0000 - 0x2000)
        );
        // Fill everything below the base: the search moves to the legacy base.
        let s = taken(MMAP_MIN_ADDR, 0x10_0000_0000);
        assert_eq!(s.unmapped_area(0, 0x2000, FREE), Ok(0x20_0000_0000));
    }

    #[test]
    fn hint_used_only_when_free_and_rounded_down() {
        let mut s = space();
        assert_eq!(s.unmapped_area(0x50_0123, 0x1000, FREE), Ok(0x50_0000));
        s.map
            .insert(plain(0x50_0000, 0x51_0000, Perms::RW, Kind::Anonymous));
        assert_eq!(
            s.unmapped_area(0x50_0000, 0x1000, FREE),
            Ok(0x10_0000_0000 - 0x1000)
        );
        // Not within the guard gap below a stack either.
        s.map
            .insert(plain(0x90_0000, 0xa0_0000, Perms::RW, Kind::Stack));
        assert_ne!(s.unmapped_area(0x8f_f000, 0x1000, FREE), Ok(0x8f_f000));
        assert_eq!(s.unmapped_area(0x7f_f000, 0x1000, FREE), Ok(0x7f_f000));
    }

    #[test]
    fn fixed_checks_like_get_unmapped_area() {
        let s = space();
        let fixed = Placement {
            fixed: true,
            ..FREE
        };
        assert_eq!(s.unmapped_area(0x1001, 0x1000, fixed), Err(Errno::EINVAL));
        assert_eq!(
            s.unmapped_area(TASK_SIZE, 0x1000, fixed),
            Err(Errno::ENOMEM)
        );
        assert_eq!(s.unmapped_area(0x1000, 0x1000, fixed), Err(Errno::EPERM));
        assert_eq!(
            s.unmapped_area(0, TASK_SIZE + 0x1000, fixed),
            Err(Errno::ENOMEM)
        );
        assert_eq!(
            s.unmapped_area(TASK_SIZE - 0x1000, 0x1000, fixed),
            Ok(TASK_SIZE - 0x1000)
        );
    }

    #[test]
    fn map_32bit_and_above_4g() {
        let s = space();
        let low = Placement {
            below_2g: true,
            ..FREE
        };
        assert_eq!(s.unmapped_area(0, 0x1000, low), Ok(0x4000_0000));
        let high = Placement {
            above_4g: true,
            ..FREE
        };
        let full = taken(FOUR_GIB, 0x10_0000_0000);
        // Below 4 GiB is free, but the search may not go there: bottom-up from legacy.
        assert_eq!(full.unmapped_area(0, 0x1000, high), Ok(0x20_0000_0000));
        assert_eq!(
            s.unmapped_area(0, 0x1000, high),
            Ok(0x10_0000_0000 - 0x1000)
        );
    }
}
