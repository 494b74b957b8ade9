//! `madvise(2)` (Linux's `do_madvise` and `madvise_walk_vmas`).
//!
//! Holes in the range are skipped and reported as `ENOMEM` at the end, after the mapped
//! parts were advised (Linux does the same). Supported advice:
//! - `MADV_DONTNEED`, `MADV_DONTNEED_LOCKED`, and `MADV_FREE` (private anonymous memory
//!   only, else `EINVAL`): the pages are dropped ([`Change::Unmap`]); the next access
//!   faults in zeroes (anonymous) or the file's page (private file mappings).
//!   Dropping at once is a valid `MADV_FREE`: the kernel may reclaim any time.
//! - `MADV_WILLNEED`, `MADV_COLD`, `MADV_PAGEOUT`: hints with nothing to do.
//! - Advice that sets region attributes and so splits regions as on Linux:
//!   `MADV_NORMAL`/`RANDOM`/`SEQUENTIAL`, `MADV_HUGEPAGE`/`NOHUGEPAGE`,
//!   `MADV_DONTDUMP`/`DODUMP`, `MADV_DONTFORK`/`DOFORK` and `MADV_WIPEONFORK`/
//!   `KEEPONFORK` (which [`AddressSpace::fork`] honours; wipe-on-fork needs private
//!   anonymous memory, else `EINVAL`).
//!
//! Everything else is `EINVAL`, as an unknown advice is: KSM (`MADV_MERGEABLE`), memory
//! failure injection, `MADV_REMOVE`, `MADV_POPULATE_*`, `MADV_COLLAPSE` and guard regions
//! (Linux without the matching configuration gives the same for the first two).

use alloc::vec::Vec;

use linux_raw_sys::general::{
    MADV_COLD, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED,
    MADV_DONTNEED_LOCKED, MADV_FREE, MADV_HUGEPAGE, MADV_KEEPONFORK, MADV_NOHUGEPAGE, MADV_NORMAL,
    MADV_PAGEOUT, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_WIPEONFORK,
};

use crate::errno::Errno;
use crate::layout::{page_align, page_offset};
use crate::region::{Attrs, HugeAdvice, Readahead, Region};
use crate::space::{AddressSpace, Change};

/// What one advice does to each mapped part of the range.
#[derive(Clone, Copy)]
enum Effect {
    /// Drop the pages; `anon_only` for `MADV_FREE`.
    Drop { anon_only: bool },
    /// Nothing.
    Hint,
    /// Set an attribute; `anon_only` for `MADV_WIPEONFORK`.
    Attr {
        set: fn(&mut Attrs),
        anon_only: bool,
    },
}

fn effect(advice: u32) -> Option<Effect> {
    let attr = |set: fn(&mut Attrs)| Effect::Attr {
        set,
        anon_only: false,
    };
    Some(match advice {
        MADV_DONTNEED | MADV_DONTNEED_LOCKED => Effect::Drop { anon_only: false },
        MADV_FREE => Effect::Drop { anon_only: true },
        MADV_WILLNEED | MADV_COLD | MADV_PAGEOUT => Effect::Hint,
        MADV_NORMAL => attr(|a| a.readahead = Readahead::Normal),
        MADV_RANDOM => attr(|a| a.readahead = Readahead::Random),
        MADV_SEQUENTIAL => attr(|a| a.readahead = Readahead::Sequential),
        MADV_HUGEPAGE => attr(|a| a.huge = HugeAdvice::Huge),
        MADV_NOHUGEPAGE => attr(|a| a.huge = HugeAdvice::NoHuge),
        MADV_DONTDUMP => attr(|a| a.dontdump = true),
        MADV_DODUMP => attr(|a| a.dontdump = false),
        MADV_DONTFORK => attr(|a| a.dontfork = true),
        MADV_DOFORK => attr(|a| a.dontfork = false),
        MADV_WIPEONFORK => Effect::Attr {
            set: |a| a.wipeonfork = true,
            anon_only: true,
        },
        MADV_KEEPONFORK => attr(|a| a.wipeonfork = false),
        _ => return None,
    })
}

impl AddressSpace {
    /// `madvise(addr, len, advice)` (`advice` is the syscall's `int`, so only the low 32
    /// bits of the register count). Pages to drop go to `out`, also on `ENOMEM`.
    pub fn madvise(
        &mut self,
        addr: u64,
        len: u64,
        advice: u64,
        out: &mut Vec<Change>,
    ) -> Result<(), Errno> {
        // The `as` keeps the low 32 bits, as the C `int` parameter does.
        let effect = effect(advice as u32).ok_or(Errno::EINVAL)?;
        if page_offset(addr) != 0 {
            return Err(Errno::EINVAL);
        }
        let rounded = page_align(len);
        if len != 0 && rounded == 0 {
            return Err(Errno::EINVAL);
        }
        let end = addr.wrapping_add(rounded);
        if end < addr {
            return Err(Errno::EINVAL);
        }
        let mut result = Ok(());
        let mut at = addr;
        while at < end {
            let Some(r) = self.map.first_ending_after(at).copied() else {
                return Err(Errno::ENOMEM);
            };
            if r.start >= end {
                return Err(Errno::ENOMEM);
            }
            if r.start > at {
                result = Err(Errno::ENOMEM);
                at = r.start;
            }
            let upto = r.end.min(end);
            self.advise(&r, at, upto, effect, out)?;
            at = upto;
        }
        result
    }

    fn advise(
        &mut self,
        r: &Region,
        start: u64,
        end: u64,
        effect: Effect,
        out: &mut Vec<Change>,
    ) -> Result<(), Errno> {
        match effect {
            Effect::Hint => Ok(()),
            Effect::Drop { anon_only } => {
                if anon_only && !r.kind.is_private_anonymous() {
                    return Err(Errno::EINVAL);
                }
                out.push(Change::Unmap(start..end));
                Ok(())
            }
            Effect::Attr { set, anon_only } => {
                if anon_only && !r.kind.is_private_anonymous() {
                    return Err(Errno::EINVAL);
                }
                let mut attrs = r.attrs;
                set(&mut attrs);
                if attrs == r.attrs {
                    return Ok(());
                }
                self.modify(start, end, |piece| piece.attrs = attrs)
            }
        }
    }
}
