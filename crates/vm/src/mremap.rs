//! `mremap(2)`, following Linux 6.18's `mm/mremap.c` step by step.
//!
//! - Shrinking unmaps the tail in place (even across region boundaries, as Linux does).
//! - Growing extends the region in place when `[addr, addr + old_len)` reaches its end
//!   and the pages after it are free; otherwise it moves (`MREMAP_MAYMOVE`) or fails with
//!   `ENOMEM`.
//! - `MREMAP_FIXED` unmaps the destination first and moves there; `MREMAP_DONTUNMAP`
//!   moves the pages but leaves the old range mapped (and empty).
//! - With `MREMAP_FIXED` and equal lengths, the range may span several regions and gaps
//!   (Linux 6.17+): each region moves to the same offset from `new_addr`, gaps stay gaps
//!   (and what lies in the destination's gaps is left alone).
//! - `old_len == 0` duplicates a shared mapping (a second mapping of the same object);
//!   for private memory it is `EINVAL`.
//!
//! The pages follow through [`Change::Move`]. Errors after a first step (for example the
//! destination was unmapped, then the source proved invalid) leave the changes made so
//! far in `out`, as Linux leaves them.

use alloc::vec::Vec;

use linux_raw_sys::general::{MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE};

use crate::errno::Errno;
use crate::layout::{page_align, page_offset, PAGE_SIZE, TASK_SIZE};
use crate::placement::Placement;
use crate::region::Region;
use crate::space::{AddressSpace, Change};

const MAYMOVE: u64 = MREMAP_MAYMOVE as u64;
const FIXED: u64 = MREMAP_FIXED as u64;
const DONTUNMAP: u64 = MREMAP_DONTUNMAP as u64;

/// One remap step (Linux's `vma_remap_struct`).
#[derive(Clone, Copy)]
struct Remap {
    addr: u64,
    old_len: u64,
    new_len: u64,
    new_addr: u64,
    flags: u64,
}

impl Remap {
    /// `MREMAP_FIXED` or `MREMAP_DONTUNMAP`: the caller names the destination.
    fn names_target(&self) -> bool {
        self.flags & (FIXED | DONTUNMAP) != 0
    }
}

impl AddressSpace {
    /// `mremap(addr, old_len, new_len, flags, new_addr)`: the mapping's address afterwards.
    /// Page-table changes go to `out`, also when a later step fails.
    pub fn mremap(
        &mut self,
        addr: u64,
        old_len: u64,
        new_len: u64,
        flags: u64,
        new_addr: u64,
        out: &mut Vec<Change>,
    ) -> Result<u64, Errno> {
        let mut rq = Remap {
            addr,
            old_len: page_align(old_len),
            new_len: page_align(new_len),
            new_addr,
            flags,
        };
        self.check_params(&rq)?;
        if flags & FIXED != 0 && rq.old_len == rq.new_len {
            return self.remap_move(rq, out);
        }
        let region = self.map.find(rq.addr).copied().ok_or(Errno::EFAULT)?;
        if !rq.names_target() {
            rq.new_addr = rq.addr;
        }
        self.check_region(&region, &rq)?;
        if rq.names_target() {
            self.remap_to(rq, out)
        } else {
            self.remap_at(region, rq, out)
        }
    }

    /// `check_mremap_params`.
    fn check_params(&self, rq: &Remap) -> Result<(), Errno> {
        if rq.flags & !(FIXED | MAYMOVE | DONTUNMAP) != 0 || page_offset(rq.addr) != 0 {
            return Err(Errno::EINVAL);
        }
        if rq.new_len == 0 || rq.new_len > TASK_SIZE {
            return Err(Errno::EINVAL);
        }
        if !rq.names_target() {
            return Ok(());
        }
        if rq.new_addr > TASK_SIZE - rq.new_len || page_offset(rq.new_addr) != 0 {
            return Err(Errno::EINVAL);
        }
        if rq.flags & MAYMOVE == 0 || (rq.flags & DONTUNMAP != 0 && rq.old_len != rq.new_len) {
            return Err(Errno::EINVAL);
        }
        // vrm_overlaps, with C's wrapping sums.
        let old_end = rq.addr.wrapping_add(rq.old_len);
        if old_end > rq.new_addr && rq.new_addr + rq.new_len > rq.addr {
            return Err(Errno::EINVAL);
        }
        if self.map.len() + 2 >= self.max_map_count.saturating_sub(3) {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// `check_prep_vma`: checks on the region the remap starts in, for steps that map new
    /// address space (growing or moving).
    fn check_region(&self, region: &Region, rq: &Remap) -> Result<(), Errno> {
        let grows = rq.new_len > rq.old_len;
        if !grows && !rq.names_target() {
            return Ok(());
        }
        if rq.old_len == 0 && !region.kind.may_share() {
            return Err(Errno::EINVAL);
        }
        // A shrink may unmap past the region's end; what moves must lie inside it.
        let kept = rq.old_len.min(rq.new_len);
        if kept > region.end - rq.addr {
            return Err(Errno::EFAULT);
        }
        if grows && !self.may_expand(region, (rq.new_len - rq.old_len) / PAGE_SIZE) {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// `mremap_at`: resize without a named destination.
    fn remap_at(&mut self, region: Region, rq: Remap, out: &mut Vec<Change>) -> Result<u64, Errno> {
        if rq.new_len < rq.old_len {
            self.munmap(rq.addr + rq.new_len, rq.old_len - rq.new_len, out)?;
            return Ok(rq.addr);
        }
        if rq.new_len == rq.old_len {
            return Ok(rq.addr);
        }
        let delta = rq.new_len - rq.old_len;
        if region.end - rq.addr == rq.old_len && self.expandable(&region, delta) {
            self.map.replace(
                region.start,
                Region {
                    end: region.end + delta,
                    ..region
                },
            );
            self.map.merge_at(region.end + delta);
            return Ok(rq.addr);
        }
        if rq.flags & MAYMOVE == 0 {
            return Err(Errno::ENOMEM);
        }
        let target = self.unmapped_area(0, rq.new_len, Placement::default())?;
        self.move_region(
            Remap {
                new_addr: target,
                ..rq
            },
            out,
        )
    }

    /// `vma_expandable`: may `region` grow by `delta` bytes where it is?
    fn expandable(&self, region: &Region, delta: u64) -> bool {
        let Some(end) = region.end.checked_add(delta) else {
            return false;
        };
        !self.map.overlaps(region.end, end)
            && self
                .unmapped_area(
                    region.start,
                    end - region.start,
                    Placement {
                        fixed: true,
                        ..Placement::default()
                    },
                )
                .is_ok()
    }

    /// `mremap_to`: move to a named destination (`MREMAP_FIXED`) or near a hint
    /// (`MREMAP_DONTUNMAP` alone).
    fn remap_to(&mut self, mut rq: Remap, out: &mut Vec<Change>) -> Result<u64, Errno> {
        if rq.flags & FIXED != 0 {
            self.munmap(rq.new_addr, rq.new_len, out)?;
            if self.map.find(rq.addr).is_none() {
                return Err(Errno::EFAULT);
            }
        }
        if rq.new_len < rq.old_len {
            self.munmap(rq.addr + rq.new_len, rq.old_len - rq.new_len, out)?;
            if self.map.find(rq.addr).is_none() {
                return Err(Errno::EFAULT);
            }
            rq.old_len = rq.new_len;
        }
        let region = self.map.find(rq.addr).copied().ok_or(Errno::EFAULT)?;
        if rq.flags & DONTUNMAP != 0 && !self.may_expand(&region, rq.old_len / PAGE_SIZE) {
            return Err(Errno::ENOMEM);
        }
        let how = Placement {
            fixed: rq.flags & FIXED != 0,
            ..Placement::default()
        };
        rq.new_addr = self.unmapped_area(rq.new_addr, rq.new_len, how)?;
        self.move_region(rq, out)
    }

    /// `move_vma`: copy the region's attributes to the destination, move the pages, and
    /// unmap the source unless `MREMAP_DONTUNMAP` (or a zero-length duplicate).
    fn move_region(&mut self, rq: Remap, out: &mut Vec<Change>) -> Result<u64, Errno> {
        if self.map.len() >= self.max_map_count.saturating_sub(3) {
            return Err(Errno::ENOMEM);
        }
        let source = self.map.find(rq.addr).copied().ok_or(Errno::EFAULT)?;
        let moved = Region {
            start: rq.new_addr,
            end: rq.new_addr + rq.new_len,
            kind: source.kind.advanced(rq.addr - source.start),
            ..source
        };
        if rq.old_len != 0 {
            out.push(Change::Move {
                from: rq.addr,
                to: rq.new_addr,
                len: rq.old_len,
            });
            if rq.flags & DONTUNMAP == 0 {
                // The pages have moved: only the source's regions go.
                self.map.carve(rq.addr, rq.addr + rq.old_len);
            }
        }
        self.insert_merged(moved);
        Ok(rq.new_addr)
    }

    /// `remap_move`: `MREMAP_FIXED` without resizing, over any number of regions.
    fn remap_move(&mut self, rq: Remap, out: &mut Vec<Change>) -> Result<u64, Errno> {
        let Some(end) = rq.addr.checked_add(rq.old_len) else {
            return Err(Errno::EFAULT);
        };
        let mut result = Err(Errno::EFAULT);
        let (mut at, mut target, mut last_end) = (rq.addr, rq.new_addr, None);
        // Like Linux's iterator, stop at `end`: a destination that merged with the source
        // side can reach past it.
        while let Some(region) = self.map.first_in(at, end).copied().filter(|_| at < end) {
            let from = region.start.max(rq.addr);
            let len = end.min(region.end) - from;
            let gap = match last_end {
                None if rq.addr < region.start => return Err(Errno::EFAULT),
                None => 0,
                Some(last) => match region.start.checked_sub(last) {
                    Some(gap) => gap,
                    None => break, // a region already moved (merged back): done
                },
            };
            last_end = Some(region.end);
            let step = Remap {
                addr: from,
                old_len: len,
                new_len: len,
                new_addr: target + gap,
                flags: rq.flags,
            };
            self.check_region(&region, &step)?;
            let moved_to = self.remap_to(step, out)?;
            if result.is_err() {
                result = Ok(moved_to);
            }
            target = moved_to + len;
            at = region.end;
        }
        result
    }
}
