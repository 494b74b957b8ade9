//! `brk(2)`: the heap grows and shrinks between the initial break and the next mapping.
//!
//! As on Linux, the syscall never fails with an errno: it returns the new break on
//! success and the old one otherwise (below the initial break, over `RLIMIT_DATA` or
//! `RLIMIT_AS`, too close to the next mapping, outside the user half). Growth extends the
//! heap region when it ends at the old break, else adds a new one; shrinking unmaps
//! whatever lies between the new and the old break.

use alloc::vec::Vec;

use crate::layout::{
    page_align, MMAP_MIN_ADDR, PAGE_SIZE, RLIM_INFINITY, STACK_GUARD_GAP, TASK_SIZE,
};
use crate::region::{Kind, Perms};
use crate::space::{plain, AddressSpace, Brk, Change};

impl AddressSpace {
    /// Sets up the brk area for a new image: the break starts at `start` (page-aligned,
    /// above the loaded segments), and `data_bytes` is the size of the data segment, which
    /// `RLIMIT_DATA` counts together with the heap.
    pub fn init_brk(&mut self, start: u64, data_bytes: u64) {
        self.brk = Brk {
            start,
            current: start,
            data_bytes,
        };
    }

    /// The current break.
    pub fn current_brk(&self) -> u64 {
        self.brk.current
    }

    /// `brk(addr)`: returns the break in force afterwards. Pages to free go to `out`.
    pub fn brk(&mut self, addr: u64, out: &mut Vec<Change>) -> u64 {
        let Brk {
            start,
            current,
            data_bytes,
        } = self.brk;
        if addr < start {
            return current;
        }
        // check_data_rlimit
        if self.limits.data != RLIM_INFINITY
            && (addr - start)
                .checked_add(data_bytes)
                .is_none_or(|bytes| bytes > self.limits.data)
        {
            return current;
        }
        let (new_end, old_end) = (page_align(addr), page_align(current));
        if new_end == old_end {
            self.brk.current = addr;
            return addr;
        }
        if addr <= current {
            // Always allowed to shrink, if something is mapped there (Linux refuses when
            // the heap was unmapped behind its back).
            if !self.map.overlaps(new_end, old_end)
                || self.unmap_range(new_end, old_end, out).is_err()
            {
                return current;
            }
            self.brk.current = addr;
            return addr;
        }
        if self.grow_heap(old_end, new_end) {
            self.brk.current = addr;
            addr
        } else {
            current
        }
    }

    /// Maps `[old_end, new_end)` as heap if it is allowed and free.
    fn grow_heap(&mut self, old_end: u64, new_end: u64) -> bool {
        // check_brk_limits: what get_unmapped_area(MAP_FIXED) accepts (new_end may have
        // wrapped to 0 when the break was within a page of the top).
        if new_end <= old_end || new_end > TASK_SIZE || old_end < MMAP_MIN_ADDR {
            return false;
        }
        // At least a page (and a stack's guard gap) must stay free above the heap.
        let reach = (new_end + PAGE_SIZE).saturating_add(STACK_GUARD_GAP);
        if self
            .map
            .first_in(old_end, reach)
            .is_some_and(|next| new_end + PAGE_SIZE > next.start_gap())
        {
            return false;
        }
        let mut heap = plain(old_end, new_end, Perms::RW, Kind::Heap);
        heap.attrs.charged = true; // do_brk_flags: VM_ACCOUNT
        if !self.may_expand(&heap, heap.pages()) || self.map.len() > self.max_map_count {
            return false;
        }
        self.insert_merged(heap);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Layout, Limits};

    fn space() -> AddressSpace {
        let mut s = AddressSpace::new(Layout::default());
        s.init_brk(0x60_0000, 0x1000);
        s
    }

    /// brk(2): "On success, brk() returns the new program break. On failure, the
    /// system call returns the current break." (the raw syscall, not glibc's wrapper)
    #[test]
    fn grows_shrinks_and_never_below_start() {
        let mut s = space();
        let mut out = Vec::new();
        assert_eq!(s.brk(0, &mut out), 0x60_0000);
        assert_eq!(s.brk(0x5f_f000, &mut out), 0x60_0000);
        assert_eq!(s.brk(0x60_2800, &mut out), 0x60_2800);
        let heap = s.region_at(0x60_0000).copied().unwrap();
        assert_eq!(
            (heap.start, heap.end, heap.kind),
            (0x60_0000, 0x60_3000, Kind::Heap)
        );
        // Within the same page: only the break moves.
        assert_eq!(s.brk(0x60_2001, &mut out), 0x60_2001);
        assert!(out.is_empty());
        assert_eq!(s.brk(0x60_1000, &mut out), 0x60_1000);
        assert_eq!(out, [Change::Unmap(0x60_1000..0x60_3000)]);
        assert_eq!(s.region_at(0x60_0000).unwrap().end, 0x60_1000);
        assert_eq!(s.brk(0x60_0000, &mut out), 0x60_0000);
        assert!(s.region_at(0x60_0000).is_none());
    }

    #[test]
    fn stops_a_page_short_of_the_next_mapping() {
        let mut s = space();
        let mut out = Vec::new();
        s.map
            .insert(plain(0x70_0000, 0x71_0000, Perms::RW, Kind::Anonymous));
        assert_eq!(s.brk(0x6f_f000, &mut out), 0x6f_f000);
        assert_eq!(s.brk(0x6f_f001, &mut out), 0x6f_f000);
        assert_eq!(s.brk(u64::MAX, &mut out), 0x6f_f000);
    }

    #[test]
    fn respects_rlimit_data() {
        let mut s = space();
        let mut out = Vec::new();
        s.set_limits(Limits {
            data: 0x3000,
            ..Limits::default()
        });
        // data segment (0x1000) + heap must stay <= 0x3000
        assert_eq!(s.brk(0x60_2000, &mut out), 0x60_2000);
        assert_eq!(s.brk(0x60_2001, &mut out), 0x60_2000);
    }
}
