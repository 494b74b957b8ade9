//! Page-fault classification (Linux's x86 `do_user_addr_fault` and `access_error`).
//!
//! The kernel passes the faulting address and what the error code says (write or
//! instruction fetch, page present or not); the answer says which page to map and how to
//! fill it, or which `SIGSEGV` to send. The same answer serves faults taken while the
//! kernel copies to or from user memory: there a `SIGSEGV` becomes `EFAULT`.
//!
//! Stack growth is Linux's: an access anywhere below a grows-down region extends it down
//! to the faulting page, as long as the region stays within `RLIMIT_STACK` (counted from
//! its top) and `RLIMIT_AS`, stays above `mmap_min_addr`, and keeps the guard gap to an
//! accessible region below. (There is no check against the stack pointer: Linux dropped
//! it in 4.20.) An access in the guard gap or past the limit is `SEGV_MAPERR`.
//!
//! An instruction fetch from a region without `PROT_EXEC` is `SEGV_ACCERR` straight
//! away; Linux first maps the page non-executable and takes a second fault to the same
//! end.

use linux_raw_sys::general::{SEGV_ACCERR, SEGV_MAPERR};

use crate::layout::{MMAP_MIN_ADDR, PAGE_SIZE, STACK_GUARD_GAP, TASK_SIZE};
use crate::region::{FileId, Kind, Perms, Region, SharedId};
use crate::space::AddressSpace;

/// The kind of access that faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A data read.
    Read,
    /// A data write.
    Write,
    /// An instruction fetch.
    Execute,
}

/// The `si_code` of a `SIGSEGV`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegvCode {
    /// No mapping at the address (`SEGV_MAPERR`).
    MapErr,
    /// A mapping whose permissions forbid the access (`SEGV_ACCERR`).
    AccErr,
}

impl SegvCode {
    /// The value for `siginfo.si_code`.
    pub const fn si_code(self) -> u32 {
        match self {
            SegvCode::MapErr => SEGV_MAPERR,
            SegvCode::AccErr => SEGV_ACCERR,
        }
    }
}

/// What to do about a fault. Every mapping variant names the page (the faulting address
/// rounded down) and the permissions its page-table entry may have; a page that other
/// mappings also use copy-on-write must still be mapped without write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Private anonymous memory (also heap and stack) that was never touched: map a zeroed
    /// page (for a read, the kernel may map a shared zero page read-only instead).
    ZeroFill {
        /// The page.
        page: u64,
        /// Its permissions.
        perms: Perms,
    },
    /// The access was below a grows-down region, which now starts at `page`: map a zeroed
    /// page there.
    GrowStack {
        /// The page (the stack region's new start).
        page: u64,
        /// Its permissions.
        perms: Perms,
    },
    /// Shared anonymous memory: map the object's page at `offset`, allocating a zeroed one
    /// if the object has none yet.
    Shared {
        /// The page.
        page: u64,
        /// Its permissions.
        perms: Perms,
        /// The shared object.
        object: SharedId,
        /// Byte offset of the page in the object.
        offset: u64,
    },
    /// File mapping: the file's page at `offset`, or `SIGBUS` if the page lies wholly
    /// past the end of the file (the kernel knows the size). A write maps a private copy;
    /// a read or fetch may map the page-cache page write-protected (copied on a later
    /// write).
    File {
        /// The page.
        page: u64,
        /// Its permissions.
        perms: Perms,
        /// The file.
        file: FileId,
        /// Byte offset of the page in the file.
        offset: u64,
    },
    /// A write to a present, write-protected page of private writable memory (shared with
    /// a fork, the zero page or the page cache): copy it, or just make it writable if this
    /// address space is its only user, and map it writable.
    CopyOnWrite {
        /// The page.
        page: u64,
        /// Its permissions.
        perms: Perms,
    },
    /// No page: send `SIGSEGV` with this code (`si_addr` is the faulting address).
    Segv(SegvCode),
}

impl AddressSpace {
    /// Classifies a user-space page fault at `addr`. `present` is the error code's P bit
    /// (the page was mapped, the access broke its protection). Grows the stack when the
    /// fault is below a grows-down region (even if the access is then refused, as on
    /// Linux).
    pub fn fault(&mut self, addr: u64, access: Access, present: bool) -> Fault {
        if addr >= TASK_SIZE {
            return Fault::Segv(SegvCode::MapErr);
        }
        let Some(mut region) = self.map.first_ending_after(addr).copied() else {
            return Fault::Segv(SegvCode::MapErr);
        };
        let page = addr & !(PAGE_SIZE - 1);
        let mut grew = false;
        if region.start > addr {
            if !region.grows_down() || !self.grow_stack(&mut region, page) {
                return Fault::Segv(SegvCode::MapErr);
            }
            grew = true;
        }
        let perms = region.perms;
        // access_error
        let allowed = match access {
            Access::Write => perms.write,
            Access::Read => !present && perms.any(),
            Access::Execute => !present && perms.exec,
        };
        if !allowed {
            return Fault::Segv(SegvCode::AccErr);
        }
        match region.kind.advanced(page - region.start) {
            Kind::Shared { object, offset } => Fault::Shared {
                page,
                perms,
                object,
                offset,
            },
            _ if present => Fault::CopyOnWrite { page, perms },
            Kind::File { file, offset, .. } => Fault::File {
                page,
                perms,
                file,
                offset,
            },
            _ if grew => Fault::GrowStack { page, perms },
            _ => Fault::ZeroFill { page, perms },
        }
    }

    /// `expand_downwards`: extends `stack` down to `page` if the limits allow.
    fn grow_stack(&mut self, stack: &mut Region, page: u64) -> bool {
        if page < MMAP_MIN_ADDR {
            return false;
        }
        if let Some(prev) = self.map.last_before(stack.start) {
            if !prev.grows_down() && prev.perms.any() && page - prev.end < STACK_GUARD_GAP {
                return false;
            }
        }
        let grow = (stack.start - page) / PAGE_SIZE;
        if !self.may_expand(stack, grow) || stack.end - page > self.limits.stack {
            return false;
        }
        let grown = Region {
            start: page,
            ..*stack
        };
        self.map.replace(stack.start, grown);
        *stack = grown;
        true
    }
}
