//! `mprotect(2)` (Linux's `do_mprotect_pkey`).
//!
//! Linux walks the regions in order and changes each one before looking at the next, so
//! a hole in the middle of the range gives `ENOMEM` after the part before the hole has
//! been changed; the changes made are in `out` either way. `PROT_GROWSDOWN` extends the
//! range down to the start of the grows-down region it begins in (`EINVAL` on any other
//! region); `PROT_GROWSUP` is always `EINVAL` on x86_64 (no region grows up). Unknown
//! `prot` bits are `EINVAL` (`PROT_SEM` is accepted and ignored, as on x86 Linux).

use alloc::vec::Vec;

use linux_raw_sys::general::{
    PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_SEM, PROT_WRITE,
};

use crate::errno::Errno;
use crate::layout::{page_align, page_offset, PAGE_SIZE};
use crate::region::Perms;
use crate::space::{AddressSpace, Change};

const GROWSDOWN: u64 = PROT_GROWSDOWN as u64;
const GROWSUP: u64 = PROT_GROWSUP as u64;
const VALID_PROT: u64 = (PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) as u64;

impl AddressSpace {
    /// `mprotect(addr, len, prot)`. Permission changes to apply go to `out`, also when an
    /// error comes after part of the range was changed.
    pub fn mprotect(
        &mut self,
        addr: u64,
        len: u64,
        prot: u64,
        out: &mut Vec<Change>,
    ) -> Result<(), Errno> {
        let grows = prot & (GROWSDOWN | GROWSUP);
        let prot = prot & !grows;
        if grows == GROWSDOWN | GROWSUP || page_offset(addr) != 0 {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(());
        }
        let mut start = addr;
        let end = addr.wrapping_add(page_align(len));
        if end <= start {
            return Err(Errno::ENOMEM);
        }
        if prot & !VALID_PROT != 0 {
            return Err(Errno::EINVAL);
        }
        let first = self
            .map
            .first_in(start, end)
            .copied()
            .ok_or(Errno::ENOMEM)?;
        if grows & GROWSDOWN != 0 {
            start = first.start;
            if !first.grows_down() {
                return Err(Errno::EINVAL);
            }
        } else {
            if first.start > start {
                return Err(Errno::ENOMEM);
            }
            if grows & GROWSUP != 0 {
                return Err(Errno::EINVAL); // VM_GROWSUP does not exist on x86_64
            }
        }
        let perms = Perms::from_prot(prot);
        let mut at = start;
        while at < end {
            let Some(r) = self.map.first_in(at, end).copied() else {
                break;
            };
            if r.start > at {
                return Err(Errno::ENOMEM); // a hole
            }
            // `newflags & ~(newflags >> 4)`: write asked of memory that may not be written.
            if perms.write && !r.kind.may_write() {
                return Err(Errno::EACCES);
            }
            if self.mdwe.denies(r.perms, perms) {
                return Err(Errno::EACCES);
            }
            let upto = r.end.min(end);
            if r.perms != perms {
                // mprotect_fixup: memory turning into data must fit RLIMIT_DATA.
                let turned = crate::Region { perms, ..r };
                let pages = (upto - at) / PAGE_SIZE;
                if !self.may_expand(&turned, pages) && self.may_expand(&r, pages) {
                    return Err(Errno::ENOMEM);
                }
                let charged = charged_after(&r, perms);
                self.modify(at, upto, |piece| {
                    piece.perms = perms;
                    piece.attrs.charged = charged;
                })?;
                push_protect(out, at, upto, perms);
            }
            at = upto;
        }
        if at < end {
            return Err(Errno::ENOMEM); // the range runs past the last region
        }
        Ok(())
    }
}

/// mprotect_fixup's `VM_ACCOUNT` rule: private memory becoming writable is charged
/// (unless `MAP_NORESERVE`); anonymous memory losing write is uncharged (Linux only when
/// it was never faulted; Halyard does not track that and treats it as never faulted).
fn charged_after(r: &crate::Region, perms: Perms) -> bool {
    let a = r.attrs;
    if perms.write {
        a.charged || !(r.perms.write || r.kind.is_shared() || a.noreserve)
    } else {
        a.charged && !r.kind.is_private_anonymous()
    }
}

fn push_protect(out: &mut Vec<Change>, start: u64, end: u64, perms: Perms) {
    match out.last_mut() {
        Some(Change::Protect(last, p)) if last.end == start && *p == perms => last.end = end,
        _ => out.push(Change::Protect(start..end, perms)),
    }
}
