//! `mmap(2)`: Linux's `sys_mmap` → `ksys_mmap_pgoff` → `do_mmap` → `mmap_region`, check
//! by check and in Linux's order, because the order decides which errno a program sees
//! when several things are wrong.
//!
//! Unknown flag bits: Linux ignores them for `MAP_PRIVATE` and anonymous mappings and
//! rejects them only under `MAP_SHARED_VALIDATE` (`EOPNOTSUPP`), and it ignores unknown
//! `prot` bits too. Halyard does exactly the same, so programs that pass stray bits keep
//! working; [`Mapped`] reports the ignored bits so the kernel can count them.
//!
//! File mappings: `MAP_PRIVATE` of any file the kernel calls mappable, and `MAP_SHARED`
//! only where the mapping can never be written, because Halyard writes no mapped page back
//! to its file. With a read-only descriptor that is Linux's own rule (no `VM_MAYWRITE`:
//! `PROT_WRITE` is `EACCES`, now and in a later `mprotect`). With a descriptor open for
//! writing, Halyard refuses `PROT_WRITE` with `ENODEV` (as for a file system without
//! shared mmap) after all of Linux's checks, and a later `mprotect` adding it with
//! `EACCES` (Linux allows both).
//!
//! Not supported, with the errno Linux gives in the matching configuration:
//! `MAP_HUGETLB` (`ENOMEM`, as on Linux with no huge pages reserved), `MAP_LOCKED`
//! (`EPERM`, as for a process with `RLIMIT_MEMLOCK` 0 and no `CAP_IPC_LOCK`),
//! `MAP_DROPPABLE` (`EINVAL`, as before Linux 6.11). `MAP_SYNC`, `MAP_UNINITIALIZED`,
//! `MAP_DENYWRITE` and `MAP_EXECUTABLE` are accepted and ignored, as on Linux for these
//! mappings. Halyard never charges commit (overcommit is always on; running out of memory
//! is the kernel's OOM path), so `MAP_NORESERVE` only keeps regions apart as on Linux.

use alloc::vec::Vec;

use linux_raw_sys::general::{
    MAP_32BIT, MAP_ABOVE4G, MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED,
    MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_HUGETLB, MAP_HUGE_1GB, MAP_HUGE_2MB, MAP_HUGE_MASK,
    MAP_HUGE_SHIFT, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED,
    MAP_SHARED_VALIDATE, MAP_STACK, MAP_SYNC, MAP_TYPE, MAP_UNINITIALIZED, PROT_EXEC, PROT_READ,
    PROT_WRITE,
};

use crate::errno::Errno;
use crate::layout::{page_align, page_offset, MMAP_MIN_ADDR, PAGE_SIZE, TASK_SIZE};
use crate::placement::Placement;
use crate::region::{Attrs, FileId, HugeAdvice, Kind, Perms, Region, SharedId};
use crate::space::{push_unmaps, AddressSpace, Change};

const fn flag(bits: u32) -> u64 {
    bits as u64
}

/// Linux's `LEGACY_MAP_MASK`: what `MAP_SHARED_VALIDATE` accepts for ordinary files.
const LEGACY_MAP_MASK: u64 = flag(
    MAP_SHARED
        | MAP_PRIVATE
        | MAP_FIXED
        | MAP_ANONYMOUS
        | MAP_DENYWRITE
        | MAP_EXECUTABLE
        | MAP_UNINITIALIZED
        | MAP_GROWSDOWN
        | MAP_LOCKED
        | MAP_NORESERVE
        | MAP_POPULATE
        | MAP_NONBLOCK
        | MAP_STACK
        | MAP_HUGETLB
        | MAP_32BIT
        | MAP_ABOVE4G
        | MAP_HUGE_2MB
        | MAP_HUGE_1GB,
);

/// Every bit Linux gives a meaning to; the rest are reported as ignored.
const KNOWN_FLAGS: u64 = LEGACY_MAP_MASK
    | flag(MAP_TYPE | MAP_FIXED_NOREPLACE | MAP_SYNC)
    | flag(MAP_HUGE_MASK) << MAP_HUGE_SHIFT;

/// The `prot` bits `mmap` uses.
const KNOWN_PROT: u64 = flag(PROT_READ | PROT_WRITE | PROT_EXEC);

/// Largest file position (`MAX_LFS_FILESIZE`).
const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// The raw `mmap` arguments (registers), minus the file descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmapArgs {
    /// Address or hint.
    pub addr: u64,
    /// Length in bytes.
    pub len: u64,
    /// `PROT_*` bits.
    pub prot: u64,
    /// `MAP_*` bits.
    pub flags: u64,
    /// File offset in bytes.
    pub offset: u64,
}

/// An open file as `mmap` sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileRef {
    /// The open file description.
    pub file: FileId,
    /// Opened for reading (Linux's `FMODE_READ`): every file mapping needs it (`EACCES`).
    pub readable: bool,
    /// Opened for writing (Linux's `FMODE_WRITE`): `MAP_SHARED` with `PROT_WRITE` needs
    /// it (`EACCES`).
    pub writable: bool,
    /// The file supports mmap at all (regular files do; most devices do not: `ENODEV`).
    pub mappable: bool,
}

/// What `mmap` asks of the rest of the kernel, each at the moment Linux would.
pub trait Backing {
    /// Looks up the file descriptor (only for non-anonymous mappings, right after the
    /// offset check, where Linux calls `fget`). Return `EBADF` for a bad descriptor.
    fn file(&mut self) -> Result<FileRef, Errno>;
    /// Creates the object behind a new `MAP_SHARED|MAP_ANONYMOUS` mapping of `len` bytes,
    /// once every check has passed.
    fn new_shared(&mut self, len: u64) -> Result<SharedId, Errno>;
}

/// A successful mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// Where it is (the syscall's return value).
    pub addr: u64,
    /// Its length, rounded up to pages.
    pub len: u64,
    /// `MAP_POPULATE` without `MAP_NONBLOCK`: the kernel may prefault the range.
    pub populate: bool,
    /// Flag bits Linux gives no meaning to, which were ignored (for counting).
    pub ignored_flags: u64,
    /// `prot` bits other than read, write and exec, which were ignored.
    pub ignored_prot: u64,
}

/// What the type checks decided the new region is.
enum NewKind {
    Ready(Kind),
    Shared,
}

impl AddressSpace {
    /// `mmap(addr, len, prot, flags, fd, offset)`. Page-table changes (pages of a replaced
    /// `MAP_FIXED` range to free) go to `out`.
    pub fn mmap(
        &mut self,
        args: MmapArgs,
        backing: &mut impl Backing,
        out: &mut Vec<Change>,
    ) -> Result<Mapped, Errno> {
        let MmapArgs { prot, offset, .. } = args;
        let mut flags = args.flags;
        // sys_mmap
        if page_offset(offset) != 0 {
            return Err(Errno::EINVAL);
        }
        // ksys_mmap_pgoff: the descriptor, and hugetlb
        let file = if flags & flag(MAP_ANONYMOUS) == 0 {
            let file = backing.file()?;
            if flags & flag(MAP_HUGETLB) != 0 {
                // Not a hugetlbfs file (Halyard has none).
                return Err(Errno::EINVAL);
            }
            Some(file)
        } else {
            None
        };
        // Anonymous hugetlb memory: the length rounds up to the huge page size (2 MiB by
        // default, or the MAP_HUGE_* size: 2 MiB or 1 GiB on x86_64).
        let huge = if file.is_none() && flags & flag(MAP_HUGETLB) != 0 {
            match (flags >> MAP_HUGE_SHIFT) & flag(MAP_HUGE_MASK) {
                0 | 21 => Some(2 << 20),
                30 => Some(1 << 30),
                _ => return Err(Errno::EINVAL), // no such huge page size
            }
        } else {
            None
        };
        let len = match huge {
            Some(size) => args.len.wrapping_add(size - 1) & !(size - 1),
            None => args.len,
        };
        // do_mmap
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        if flags & flag(MAP_FIXED_NOREPLACE) != 0 {
            flags |= flag(MAP_FIXED);
        }
        let fixed = flags & flag(MAP_FIXED) != 0;
        let hint = if fixed {
            args.addr
        } else {
            round_hint_to_min(args.addr)
        };
        let len = page_align(len);
        if len == 0 {
            return Err(Errno::ENOMEM);
        }
        if self.map.len() > self.max_map_count {
            return Err(Errno::ENOMEM);
        }
        let how = Placement {
            fixed,
            below_2g: flags & flag(MAP_32BIT) != 0,
            above_4g: flags & flag(MAP_ABOVE4G) != 0,
        };
        if let Some(size) = huge {
            // hugetlb_get_unmapped_area: a fixed address must be huge-page aligned.
            if fixed && len <= TASK_SIZE && hint % size != 0 {
                return Err(Errno::EINVAL);
            }
        }
        let addr = self.unmapped_area(hint, len, how)?;
        // addr + len <= TASK_SIZE from here on.
        let end = addr + len;
        if flags & flag(MAP_FIXED_NOREPLACE) != 0 && self.map.overlaps(addr, end) {
            return Err(Errno::EEXIST);
        }
        if flags & flag(MAP_LOCKED) != 0 {
            return Err(Errno::EPERM);
        }
        let grows_down = flags & flag(MAP_GROWSDOWN) != 0;
        let kind = match file {
            Some(file) => NewKind::Ready(file_kind(file, flags, prot, offset, len, grows_down)?),
            None => anonymous_kind(flags, grows_down)?,
        };
        let perms = Perms::from_prot(prot);
        // mmap_region
        if self.mdwe.denies(perms, perms) {
            return Err(Errno::EACCES);
        }
        if huge.is_some() {
            return Err(Errno::ENOMEM); // no huge pages reserved
        }
        let mut region = Region {
            start: addr,
            end,
            perms,
            kind: Kind::Anonymous,
            attrs: Attrs {
                noreserve: flags & flag(MAP_NORESERVE) != 0,
                huge: if flags & flag(MAP_STACK) != 0 {
                    HugeAdvice::NoHuge
                } else {
                    HugeAdvice::Default
                },
                ..Attrs::default()
            },
        };
        if let NewKind::Ready(kind) = kind {
            region.kind = kind;
        }
        // accountable_mapping
        region.attrs.charged =
            matches!(kind, NewKind::Ready(_)) && perms.write && !region.attrs.noreserve;
        let replaced = self.map.mapped_pages(addr, end);
        if !self.may_expand(&region, region.pages() - replaced) {
            return Err(Errno::ENOMEM);
        }
        // Linux checks the splits of what is replaced, not the new region itself.
        if self.map.count_without(addr, end) > self.max_map_count {
            return Err(Errno::ENOMEM);
        }
        if let NewKind::Shared = kind {
            region.kind = Kind::Shared {
                object: backing.new_shared(len)?,
                offset: 0,
            };
        }
        let removed = self.map.carve(addr, end);
        push_unmaps(out, &removed);
        self.insert_merged(region);
        Ok(Mapped {
            addr,
            len,
            populate: flags & flag(MAP_POPULATE | MAP_NONBLOCK) == flag(MAP_POPULATE),
            ignored_flags: flags & !KNOWN_FLAGS,
            ignored_prot: prot & !KNOWN_PROT,
        })
    }
}

/// Linux's `round_hint_to_min`: a non-zero hint below `mmap_min_addr` is raised to it.
fn round_hint_to_min(hint: u64) -> u64 {
    let hint = hint & !(PAGE_SIZE - 1);
    if hint != 0 && hint < MMAP_MIN_ADDR {
        MMAP_MIN_ADDR
    } else {
        hint
    }
}

/// `do_mmap`'s checks for a file mapping.
fn file_kind(
    file: FileRef,
    flags: u64,
    prot: u64,
    offset: u64,
    len: u64,
    grows_down: bool,
) -> Result<Kind, Errno> {
    // file_mmap_ok: offset + len must be a valid file position.
    if len > MAX_FILE_SIZE || offset / PAGE_SIZE > (MAX_FILE_SIZE - len) / PAGE_SIZE {
        return Err(Errno::EOVERFLOW);
    }
    let write = prot & flag(PROT_WRITE) != 0;
    let shared = match flags & flag(MAP_TYPE) {
        t if t == flag(MAP_SHARED) || t == flag(MAP_SHARED_VALIDATE) => {
            if t == flag(MAP_SHARED_VALIDATE) && flags & !LEGACY_MAP_MASK != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            if write && !file.writable {
                return Err(Errno::EACCES);
            }
            true
        }
        t if t == flag(MAP_PRIVATE) => false,
        _ => return Err(Errno::EINVAL),
    };
    if !file.readable {
        return Err(Errno::EACCES);
    }
    if !file.mappable {
        return Err(Errno::ENODEV);
    }
    if grows_down {
        return Err(Errno::EINVAL);
    }
    if shared && write {
        return Err(Errno::ENODEV); // Halyard: no writeback of shared file pages
    }
    Ok(Kind::File {
        file: file.file,
        offset,
        shared,
    })
}

/// `do_mmap`'s checks for an anonymous mapping.
fn anonymous_kind(flags: u64, grows_down: bool) -> Result<NewKind, Errno> {
    match flags & flag(MAP_TYPE) {
        t if t == flag(MAP_SHARED) => {
            if grows_down {
                Err(Errno::EINVAL)
            } else {
                Ok(NewKind::Shared)
            }
        }
        t if t == flag(MAP_PRIVATE) => Ok(NewKind::Ready(if grows_down {
            Kind::Stack
        } else {
            Kind::Anonymous
        })),
        // MAP_SHARED_VALIDATE, MAP_DROPPABLE and the rest.
        _ => Err(Errno::EINVAL),
    }
}
