//! One test per rule, through the public API, each citing the man page (or the Linux
//! source, where the man page is silent) that states it.

use linux_raw_sys::general::*;
use vm::{
    Access, AddressSpace, Backing, Change, Errno, Fault, FileId, FileRef, Inherit, Kind, Layout,
    Limits, MmapArgs, Perms, SegvCode, SharedId, MMAP_MIN_ADDR, PAGE_SIZE, STACK_GUARD_GAP,
    TASK_SIZE,
};

const P: u64 = PAGE_SIZE;
const BASE: u64 = 0x1000_0000;
const R: u64 = PROT_READ as u64;
const RW: u64 = (PROT_READ | PROT_WRITE) as u64;
const PA: u64 = (MAP_PRIVATE | MAP_ANONYMOUS) as u64;
const FIXED: u64 = MAP_FIXED as u64;
const MAYMOVE: u64 = MREMAP_MAYMOVE as u64;
const RFIXED: u64 = MREMAP_FIXED as u64;
const DONTUNMAP: u64 = MREMAP_DONTUNMAP as u64;

/// Records which backing calls were made.
#[derive(Default)]
struct Calls {
    files: u32,
    shared: u32,
    file: Option<FileRef>,
}

impl Backing for Calls {
    fn file(&mut self) -> Result<FileRef, Errno> {
        self.files += 1;
        self.file.ok_or(Errno::EBADF)
    }
    fn new_shared(&mut self, _len: u64) -> Result<SharedId, Errno> {
        self.shared += 1;
        Ok(SharedId(u64::from(self.shared)))
    }
}

/// A backing whose descriptor is an open file (not open for writing).
fn with_file(id: u64, readable: bool, mappable: bool) -> Calls {
    let file = FileRef {
        file: FileId(id),
        readable,
        mappable,
        writable: false,
    };
    Calls {
        file: Some(file),
        ..Calls::default()
    }
}

fn space() -> AddressSpace {
    AddressSpace::new(Layout::default())
}

fn map(s: &mut AddressSpace, addr: u64, len: u64, prot: u64, flags: u64) -> Result<u64, Errno> {
    let args = MmapArgs {
        addr,
        len,
        prot,
        flags,
        offset: 0,
    };
    s.mmap(args, &mut Calls::default(), &mut Vec::new())
        .map(|m| m.addr)
}

/// RW memory at pages 0-1 and 3 from `BASE`, a hole at page 2.
fn with_hole() -> AddressSpace {
    let mut s = space();
    map(&mut s, BASE, 2 * P, RW, PA | FIXED).unwrap();
    map(&mut s, BASE + 3 * P, P, RW, PA | FIXED).unwrap();
    s
}

fn regions(s: &AddressSpace) -> Vec<(u64, u64, Perms)> {
    s.regions().map(|r| (r.start, r.end, r.perms)).collect()
}

const RWP: Perms = Perms::RW;
const RP: Perms = Perms {
    read: true,
    write: false,
    exec: false,
};

/// mmap(2): "If addr is NULL, then the kernel chooses the (page-aligned) address";
/// Linux takes the highest free gap below the mmap base.
#[test]
fn mmap_without_hint_goes_top_down() {
    let mut s = space();
    let base = s.layout().mmap_base;
    assert_eq!(map(&mut s, 0, 3 * P, RW, PA), Ok(base - 3 * P));
    assert_eq!(map(&mut s, 0, P, R, PA), Ok(base - 4 * P));
}

/// mmap(2): "If addr is not NULL, then the kernel takes it as a hint about where to place
/// the mapping"; Linux uses it when the range is free and ignores it otherwise.
#[test]
fn mmap_hint_used_if_free() {
    let mut s = space();
    assert_eq!(map(&mut s, BASE + 5, P, RW, PA), Ok(BASE));
    assert_ne!(map(&mut s, BASE, P, RW, PA), Ok(BASE));
    // A non-zero hint below mmap_min_addr is raised to it (round_hint_to_min).
    assert_eq!(map(&mut s, P, P, RW, PA), Ok(MMAP_MIN_ADDR));
}

/// mmap(2) MAP_FIXED: "If the memory region specified by addr and length overlaps pages of
/// any existing mapping(s), then the overlapped part of the existing mapping(s) will be
/// discarded."
#[test]
fn map_fixed_replaces_and_reports_unmapped_ranges() {
    let mut s = space();
    map(&mut s, BASE, 4 * P, RW, PA).unwrap();
    let mut out = Vec::new();
    let args = MmapArgs {
        addr: BASE + P,
        len: 2 * P,
        prot: R,
        flags: PA | FIXED,
        offset: 0,
    };
    s.mmap(args, &mut Calls::default(), &mut out).unwrap();
    assert_eq!(out, [Change::Unmap(BASE + P..BASE + 3 * P)]);
    assert_eq!(
        regions(&s),
        [
            (BASE, BASE + P, RWP),
            (BASE + P, BASE + 3 * P, RP),
            (BASE + 3 * P, BASE + 4 * P, RWP)
        ]
    );
}

/// mmap(2) MAP_FIXED_NOREPLACE: "If the requested range would collide with an existing
/// mapping, then this call fails with the error EEXIST."
#[test]
fn map_fixed_noreplace_fails_on_overlap() {
    let mut s = space();
    let noreplace = PA | MAP_FIXED_NOREPLACE as u64;
    map(&mut s, BASE, P, RW, PA).unwrap();
    assert_eq!(map(&mut s, BASE, P, RW, noreplace), Err(Errno::EEXIST));
    assert_eq!(map(&mut s, BASE + P, P, RW, noreplace), Ok(BASE + P));
}

/// mmap(2) ERRORS, EINVAL: "We don't like addr, length, or offset (e.g., they are too
/// large, or not aligned on a page boundary)", "(since Linux 2.6.12) length was 0",
/// "flags contained none of MAP_PRIVATE, MAP_SHARED, or MAP_SHARED_VALIDATE".
#[test]
fn mmap_einval_cases() {
    let mut s = space();
    assert_eq!(map(&mut s, 0, 0, RW, PA), Err(Errno::EINVAL));
    assert_eq!(map(&mut s, BASE + 1, P, RW, PA | FIXED), Err(Errno::EINVAL));
    assert_eq!(
        map(&mut s, 0, P, RW, MAP_ANONYMOUS as u64),
        Err(Errno::EINVAL)
    );
    // MAP_SHARED | MAP_PRIVATE is MAP_SHARED_VALIDATE, which anonymous memory refuses.
    assert_eq!(
        map(
            &mut s,
            0,
            P,
            RW,
            (MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS) as u64
        ),
        Err(Errno::EINVAL)
    );
    let args = MmapArgs {
        len: P,
        prot: RW,
        flags: PA,
        offset: 1,
        ..MmapArgs::default()
    };
    assert_eq!(
        s.mmap(args, &mut Calls::default(), &mut Vec::new())
            .map(|m| m.addr),
        Err(Errno::EINVAL)
    );
}

/// mmap(2) ENOMEM: "the process's maximum number of mappings would have been exceeded",
/// "the process's RLIMIT_AS limit ... would have been exceeded", "We don't like addr,
/// because it exceeds the virtual address space of the CPU."
#[test]
fn mmap_enomem_cases() {
    let mut s = space();
    assert_eq!(map(&mut s, 0, u64::MAX, RW, PA), Err(Errno::ENOMEM));
    assert_eq!(
        map(&mut s, TASK_SIZE, P, RW, PA | FIXED),
        Err(Errno::ENOMEM)
    );
    s.set_limits(Limits {
        address_space: 4 * P,
        ..Limits::default()
    });
    assert_eq!(map(&mut s, BASE, 4 * P, RW, PA), Ok(BASE));
    assert_eq!(map(&mut s, 0, P, RW, PA), Err(Errno::ENOMEM));
    // Replacing mapped pages does not count twice.
    assert_eq!(map(&mut s, BASE, 2 * P, R, PA | FIXED), Ok(BASE));
    s.set_limits(Limits::default());
    // As on Linux, the count may reach the limit plus one, then nothing more maps.
    s.set_max_map_count(2);
    map(&mut s, BASE + 10 * P, P, RW, PA).unwrap();
    assert_eq!(map(&mut s, BASE + 20 * P, P, RW, PA), Err(Errno::ENOMEM));
}

/// Linux's `security_mmap_addr`: below `mmap_min_addr` is `EPERM` (Halyard grants no
/// process CAP_SYS_RAWIO for it).
#[test]
fn below_mmap_min_addr_is_eperm() {
    let mut s = space();
    assert_eq!(
        map(&mut s, MMAP_MIN_ADDR - P, P, RW, PA | FIXED),
        Err(Errno::EPERM)
    );
}

/// mmap(2): unknown flags are ignored unless MAP_SHARED_VALIDATE ("MAP_SHARED_VALIDATE
/// ... the kernel verifies that all passed flags are known and fails the mapping with the
/// error EOPNOTSUPP for unknown flags"); the ignored bits are reported for counting.
#[test]
fn unknown_bits_ignored_but_reported() {
    let mut s = space();
    let args = MmapArgs {
        len: P,
        prot: RW | 0x100,
        flags: PA | 1 << 40,
        ..MmapArgs::default()
    };
    let m = s
        .mmap(args, &mut Calls::default(), &mut Vec::new())
        .unwrap();
    assert_eq!((m.ignored_flags, m.ignored_prot), (1 << 40, 0x100));
    let mut calls = with_file(3, true, true);
    let args = MmapArgs {
        len: P,
        prot: R,
        flags: MAP_SHARED_VALIDATE as u64 | 1 << 40,
        ..MmapArgs::default()
    };
    assert_eq!(
        s.mmap(args, &mut calls, &mut Vec::new()).map(|m| m.addr),
        Err(Errno::EOPNOTSUPP)
    );
}

/// mmap(2): the file descriptor is looked up only for file mappings ("MAP_ANONYMOUS ...
/// The fd argument is ignored"), after the offset check; a shared anonymous object is
/// created only for a mapping that succeeds.
#[test]
fn backing_is_asked_only_when_needed() {
    let mut s = space();
    let mut calls = Calls::default();
    let anon = MmapArgs {
        len: P,
        prot: RW,
        flags: PA,
        ..MmapArgs::default()
    };
    s.mmap(anon, &mut calls, &mut Vec::new()).unwrap();
    assert_eq!((calls.files, calls.shared), (0, 0));
    let bad = MmapArgs {
        len: P,
        prot: R,
        flags: MAP_PRIVATE as u64,
        offset: 3,
        ..MmapArgs::default()
    };
    assert_eq!(
        s.mmap(bad, &mut calls, &mut Vec::new()).map(|m| m.addr),
        Err(Errno::EINVAL)
    );
    assert_eq!(calls.files, 0);
    let file = MmapArgs { offset: 0, ..bad };
    assert_eq!(
        s.mmap(file, &mut calls, &mut Vec::new()).map(|m| m.addr),
        Err(Errno::EBADF)
    );
    assert_eq!(calls.files, 1);
    let shared = MmapArgs {
        flags: (MAP_SHARED | MAP_ANONYMOUS) as u64,
        ..anon
    };
    let zero = MmapArgs { len: 0, ..shared };
    assert!(s.mmap(zero, &mut calls, &mut Vec::new()).is_err());
    assert_eq!(calls.shared, 0);
    let m = s.mmap(shared, &mut calls, &mut Vec::new()).unwrap();
    assert_eq!(calls.shared, 1);
    assert_eq!(
        s.region_at(m.addr).unwrap().kind,
        Kind::Shared {
            object: SharedId(1),
            offset: 0
        }
    );
}

/// mmap(2) EACCES: "A file descriptor refers to a non-regular file. Or a file mapping was
/// requested, but fd is not open for reading." ENODEV: "The underlying filesystem of the
/// specified file does not support memory mapping."
#[test]
fn file_mapping_checks() {
    let mut s = space();
    let mut calls = with_file(3, false, true);
    let args = MmapArgs {
        len: P,
        prot: R,
        flags: MAP_PRIVATE as u64,
        ..MmapArgs::default()
    };
    assert_eq!(
        s.mmap(args, &mut calls, &mut Vec::new()).map(|m| m.addr),
        Err(Errno::EACCES)
    );
    calls.file = with_file(3, true, false).file;
    assert_eq!(
        s.mmap(args, &mut calls, &mut Vec::new()).map(|m| m.addr),
        Err(Errno::ENODEV)
    );
    calls.file = with_file(3, true, true).file;
    let m = s
        .mmap(
            MmapArgs {
                offset: 5 * P,
                len: 2 * P,
                ..args
            },
            &mut calls,
            &mut Vec::new(),
        )
        .unwrap();
    assert_eq!(
        s.region_at(m.addr).unwrap().kind,
        Kind::File {
            file: FileId(3),
            offset: 5 * P,
            shared: false,
        }
    );
}

/// mmap(2) EACCES: "MAP_SHARED was requested and PROT_WRITE is set, but fd is not open in
/// read/write (O_RDWR) mode"; a file mapping needs a readable descriptor whatever the
/// type. Linux's `do_mmap` clears `VM_MAYWRITE` of a shared mapping of a read-only
/// descriptor, so mprotect(2) "EACCES: ... a MAP_SHARED mapping of a file opened read-only
/// [may not be] marked PROT_WRITE". Halyard refuses write to every shared file mapping
/// (`ENODEV` at mmap after Linux's checks, `EACCES` at mprotect): it has no writeback.
#[test]
fn shared_file_mappings() {
    let mut s = space();
    let shared = MmapArgs {
        len: 2 * P,
        prot: RW,
        flags: MAP_SHARED as u64,
        ..MmapArgs::default()
    };
    let mut out = Vec::new();
    let mut read_only = with_file(3, true, true);
    assert_eq!(
        s.mmap(shared, &mut read_only, &mut out).map(|m| m.addr),
        Err(Errno::EACCES)
    );
    let mut write_only = with_file(4, false, true);
    write_only.file.as_mut().unwrap().writable = true;
    assert_eq!(
        s.mmap(shared, &mut write_only, &mut out).map(|m| m.addr),
        Err(Errno::EACCES)
    );
    let mut read_write = with_file(5, true, true);
    read_write.file.as_mut().unwrap().writable = true;
    assert_eq!(
        s.mmap(shared, &mut read_write, &mut out).map(|m| m.addr),
        Err(Errno::ENODEV)
    );
    let mut pipe = with_file(6, true, false);
    assert_eq!(
        s.mmap(shared, &mut pipe, &mut out).map(|m| m.addr),
        Err(Errno::EACCES),
        "the write check comes first"
    );
    let read = MmapArgs { prot: R, ..shared };
    assert_eq!(
        s.mmap(read, &mut pipe, &mut out).map(|m| m.addr),
        Err(Errno::ENODEV)
    );
    for mut calls in [read_only, read_write] {
        let m = s.mmap(read, &mut calls, &mut out).unwrap();
        let r = *s.region_at(m.addr).unwrap();
        assert!(r.kind.may_share() && !r.kind.is_shared() && !r.kind.may_write());
        assert_eq!(s.mprotect(m.addr, P, RW, &mut out), Err(Errno::EACCES));
        assert_eq!(s.mprotect(m.addr, P, 0, &mut out), Ok(()));
        assert_eq!(
            s.fault(m.addr + P, Access::Write, false),
            Fault::Segv(SegvCode::AccErr)
        );
        assert!(matches!(
            s.fault(m.addr + P, Access::Read, false),
            Fault::File { offset: P, .. }
        ));
        // Shared mappings may be duplicated by mremap; the copy maps the same file page.
        let dup = s.mremap(m.addr + P, 0, P, MAYMOVE, 0, &mut out).unwrap();
        assert!(matches!(
            s.region_at(dup).unwrap().kind,
            Kind::File {
                offset: P,
                shared: true,
                ..
            }
        ));
    }
}

/// mmap(2) (munmap): "It is not an error if the indicated range does not contain any
/// mapped pages"; EINVAL for an unaligned address and (since 2.6.12) a zero length.
#[test]
fn munmap_rules() {
    let mut s = space();
    let mut out = Vec::new();
    assert_eq!(s.munmap(BASE, P, &mut out), Ok(()));
    assert!(out.is_empty());
    assert_eq!(s.munmap(BASE + 1, P, &mut out), Err(Errno::EINVAL));
    assert_eq!(s.munmap(BASE, 0, &mut out), Err(Errno::EINVAL));
    assert_eq!(s.munmap(BASE, TASK_SIZE, &mut out), Err(Errno::EINVAL));
    map(&mut s, BASE, 4 * P, RW, PA).unwrap();
    s.munmap(BASE + P, 2 * P - 1, &mut out).unwrap(); // length rounds up
    assert_eq!(out, [Change::Unmap(BASE + P..BASE + 3 * P)]);
    assert_eq!(regions(&s).len(), 2);
}

/// mprotect(2) ENOMEM: "Addresses in the range [addr, addr+len-1] are invalid for the
/// address space of the process, or specify one or more pages that are not mapped";
/// Linux changes the regions before the hole first.
#[test]
fn mprotect_hole_is_enomem_after_changing_the_start() {
    let mut s = with_hole();
    let mut out = Vec::new();
    assert_eq!(s.mprotect(BASE, 4 * P, R, &mut out), Err(Errno::ENOMEM));
    assert_eq!(out, [Change::Protect(BASE..BASE + 2 * P, RP)]);
    assert_eq!(s.region_at(BASE + 3 * P).unwrap().perms, RWP);
    assert_eq!(s.mprotect(BASE + 2 * P, P, R, &mut out), Err(Errno::ENOMEM));
}

/// mprotect(2) EINVAL: "addr is not a valid pointer, or not a multiple of the system page
/// size", "Both PROT_GROWSUP and PROT_GROWSDOWN were specified in prot", "Invalid flags
/// specified in prot".
#[test]
fn mprotect_einval_cases() {
    let mut s = space();
    map(&mut s, BASE, P, RW, PA | FIXED).unwrap();
    let mut out = Vec::new();
    assert_eq!(s.mprotect(BASE + 1, P, R, &mut out), Err(Errno::EINVAL));
    assert_eq!(s.mprotect(BASE, P, R | 0x40, &mut out), Err(Errno::EINVAL));
    let both = (PROT_GROWSDOWN | PROT_GROWSUP) as u64;
    assert_eq!(s.mprotect(BASE, P, R | both, &mut out), Err(Errno::EINVAL));
    assert_eq!(
        s.mprotect(BASE, P, R | PROT_GROWSUP as u64, &mut out),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        s.mprotect(BASE, P, R | PROT_GROWSDOWN as u64, &mut out),
        Err(Errno::EINVAL)
    );
    // A zero length succeeds before prot is looked at (as Linux).
    assert_eq!(s.mprotect(BASE, 0, 0x40, &mut out), Ok(()));
    assert!(out.is_empty());
}

/// mprotect(2) PROT_GROWSDOWN: "Apply the protection mode down to the beginning of a
/// mapping that grows downward".
#[test]
fn mprotect_growsdown_extends_to_the_stack_start() {
    let mut s = space();
    map(&mut s, BASE, 4 * P, RW, PA | FIXED | MAP_GROWSDOWN as u64).unwrap();
    let mut out = Vec::new();
    s.mprotect(BASE + 2 * P, P, R | PROT_GROWSDOWN as u64, &mut out)
        .unwrap();
    assert_eq!(out, [Change::Protect(BASE..BASE + 3 * P, RP)]);
}

/// Adjacent regions that differ in nothing but address merge (as Linux's VMAs do), and a
/// partial change splits them.
#[test]
fn split_and_merge() {
    let mut s = space();
    map(&mut s, BASE, 2 * P, RW, PA | FIXED).unwrap();
    map(&mut s, BASE + 2 * P, 2 * P, RW, PA | FIXED).unwrap();
    assert_eq!(regions(&s), [(BASE, BASE + 4 * P, RWP)]);
    let mut out = Vec::new();
    s.mprotect(BASE + P, P, R, &mut out).unwrap();
    assert_eq!(regions(&s).len(), 3);
    s.mprotect(BASE + P, P, RW, &mut out).unwrap();
    assert_eq!(regions(&s), [(BASE, BASE + 4 * P, RWP)]);
    // MAP_NORESERVE keeps regions apart.
    map(
        &mut s,
        BASE + 4 * P,
        P,
        RW,
        PA | FIXED | MAP_NORESERVE as u64,
    )
    .unwrap();
    assert_eq!(regions(&s).len(), 2);
}

/// madvise(2) MADV_DONTNEED: "subsequent accesses of pages in the range will succeed, but
/// will result in ... zero-fill-on-demand pages for anonymous private mappings";
/// ENOMEM: "Addresses in the specified range are not currently mapped".
#[test]
fn madvise_dontneed_drops_pages() {
    let mut s = with_hole();
    let mut out = Vec::new();
    assert_eq!(
        s.madvise(BASE, 4 * P, MADV_DONTNEED as u64, &mut out),
        Err(Errno::ENOMEM)
    );
    assert_eq!(
        out,
        [
            Change::Unmap(BASE..BASE + 2 * P),
            Change::Unmap(BASE + 3 * P..BASE + 4 * P)
        ]
    );
    assert_eq!(regions(&s).len(), 2);
    assert!(matches!(
        s.fault(BASE, Access::Read, false),
        Fault::ZeroFill { .. }
    ));
}

/// madvise(2) EINVAL: "advice is not valid", "addr is not page-aligned or length is
/// negative"; "MADV_FREE ... only on private anonymous pages"; "MADV_WIPEONFORK ... only
/// for private anonymous mappings".
#[test]
fn madvise_einval_cases() {
    let mut s = space();
    let mut calls = with_file(3, true, true);
    let file = MmapArgs {
        addr: BASE,
        len: P,
        prot: R,
        flags: PF,
        offset: 0,
    };
    s.mmap(file, &mut calls, &mut Vec::new()).unwrap();
    let mut out = Vec::new();
    assert_eq!(s.madvise(BASE, P, 999, &mut out), Err(Errno::EINVAL));
    assert_eq!(
        s.madvise(BASE + 1, P, MADV_DONTNEED as u64, &mut out),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        s.madvise(BASE, u64::MAX, MADV_DONTNEED as u64, &mut out),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        s.madvise(BASE, P, MADV_FREE as u64, &mut out),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        s.madvise(BASE, P, MADV_WIPEONFORK as u64, &mut out),
        Err(Errno::EINVAL)
    );
    assert_eq!(s.madvise(BASE, 0, 999_999, &mut out), Err(Errno::EINVAL));
    assert_eq!(s.madvise(BASE, 0, MADV_DONTNEED as u64, &mut out), Ok(()));
    assert!(out.is_empty());
}
const PF: u64 = (MAP_PRIVATE | MAP_FIXED) as u64;

/// fork(2): "The child inherits copies of the parent's set of ... memory mappings";
/// madvise(2) MADV_DONTFORK: "Do not make the pages in this range available to the child
/// after a fork(2)"; MADV_WIPEONFORK: "Present the child process with zero-filled memory
/// in this range after a fork(2)". Private pages are shared copy-on-write.
#[test]
fn fork_copies_the_map() {
    let mut s = space();
    let mut out = Vec::new();
    map(&mut s, BASE, P, RW, PA | FIXED).unwrap();
    map(
        &mut s,
        BASE + 2 * P,
        P,
        RW,
        (MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED) as u64,
    )
    .unwrap();
    map(&mut s, BASE + 4 * P, P, RW, PA | FIXED).unwrap();
    map(&mut s, BASE + 6 * P, P, RW, PA | FIXED).unwrap();
    s.madvise(BASE + 4 * P, P, MADV_DONTFORK as u64, &mut out)
        .unwrap();
    s.madvise(BASE + 6 * P, P, MADV_WIPEONFORK as u64, &mut out)
        .unwrap();
    let (child, plan) = s.fork();
    assert_eq!(
        plan,
        [
            (BASE..BASE + P, Inherit::CopyOnWrite),
            (BASE + 2 * P..BASE + 3 * P, Inherit::Shared),
            (BASE + 6 * P..BASE + 7 * P, Inherit::Empty),
        ]
    );
    assert_eq!(child.regions().count(), 3);
    assert_eq!(child.usage().total, 3 * P);
    assert_eq!(s.usage().total, 4 * P);
}

/// mremap(2): "If the mapping cannot be expanded in place and MREMAP_MAYMOVE is not set,
/// ENOMEM"; shrinking unmaps the tail; MREMAP_MAYMOVE moves, and the pages follow.
#[test]
fn mremap_grow_shrink_move() {
    let mut s = space();
    let mut out = Vec::new();
    map(&mut s, BASE, 2 * P, RW, PA | FIXED).unwrap();
    assert_eq!(s.mremap(BASE, 2 * P, 4 * P, 0, 0, &mut out), Ok(BASE));
    assert!(out.is_empty());
    map(&mut s, BASE + 4 * P, P, R, PA | FIXED).unwrap();
    assert_eq!(
        s.mremap(BASE, 4 * P, 5 * P, 0, 0, &mut out),
        Err(Errno::ENOMEM)
    );
    let moved = s.mremap(BASE, 4 * P, 5 * P, MAYMOVE, 0, &mut out).unwrap();
    assert_eq!(
        out,
        [Change::Move {
            from: BASE,
            to: moved,
            len: 4 * P
        }]
    );
    assert_eq!(s.region_at(moved).unwrap().end, moved + 5 * P);
    assert!(s.region_at(BASE).is_none());
    out.clear();
    assert_eq!(s.mremap(moved, 5 * P, P, 0, 0, &mut out), Ok(moved));
    assert_eq!(out, [Change::Unmap(moved + P..moved + 5 * P)]);
}

/// mremap(2) ERRORS: EFAULT "some address in the range old_address to
/// old_address+old_size is an invalid virtual memory address"; EINVAL for an unaligned
/// old_address, unknown flags, MREMAP_FIXED without MREMAP_MAYMOVE, MREMAP_DONTUNMAP with
/// a size change, overlapping ranges, "old_size was zero and old_address does not refer
/// to a shareable mapping", new_size zero.
#[test]
fn mremap_errors() {
    let mut s = space();
    let mut out = Vec::new();
    assert_eq!(s.mremap(BASE, P, P, 0, 0, &mut out), Err(Errno::EFAULT));
    map(&mut s, BASE, 2 * P, RW, PA | FIXED).unwrap();
    assert_eq!(s.mremap(BASE + 1, P, P, 0, 0, &mut out), Err(Errno::EINVAL));
    assert_eq!(s.mremap(BASE, P, P, 16, 0, &mut out), Err(Errno::EINVAL));
    assert_eq!(s.mremap(BASE, P, 0, 0, 0, &mut out), Err(Errno::EINVAL));
    assert_eq!(
        s.mremap(BASE, P, P, RFIXED, BASE + 8 * P, &mut out),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        s.mremap(BASE, P, 2 * P, MAYMOVE | DONTUNMAP, 0, &mut out),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        s.mremap(BASE, 2 * P, 2 * P, MAYMOVE | RFIXED, BASE + P, &mut out),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        s.mremap(BASE, 0, P, MAYMOVE, 0, &mut out),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        s.mremap(BASE + P, 2 * P, 3 * P, MAYMOVE, 0, &mut out),
        Err(Errno::EFAULT)
    );
    assert!(out.is_empty());
}

/// mremap(2) MREMAP_DONTUNMAP: "the mapping is moved ... but the original mapping is not
/// unmapped"; old_size 0 with a shared mapping: "a new mapping ... of the same pages".
#[test]
fn mremap_dontunmap_and_duplicate() {
    let mut s = space();
    let mut out = Vec::new();
    map(&mut s, BASE, P, RW, PA | FIXED).unwrap();
    assert_eq!(
        s.mremap(
            BASE,
            P,
            P,
            MAYMOVE | RFIXED | DONTUNMAP,
            BASE + 8 * P,
            &mut out
        ),
        Ok(BASE + 8 * P)
    );
    assert!(s.region_at(BASE).is_some() && s.region_at(BASE + 8 * P).is_some());
    map(
        &mut s,
        BASE + 16 * P,
        2 * P,
        RW,
        (MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED) as u64,
    )
    .unwrap();
    let kind = s.region_at(BASE + 16 * P).unwrap().kind;
    out.clear();
    assert_eq!(
        s.mremap(
            BASE + 17 * P,
            0,
            P,
            MAYMOVE | RFIXED,
            BASE + 20 * P,
            &mut out
        ),
        Ok(BASE + 20 * P)
    );
    assert!(out.is_empty()); // nothing moves: both map the same object
    let Kind::Shared { object, .. } = kind else {
        panic!("{kind:?}")
    };
    assert_eq!(
        s.region_at(BASE + 20 * P).unwrap().kind,
        Kind::Shared { object, offset: P }
    );
    assert!(s.region_at(BASE + 17 * P).is_some());
}

/// sigaction(2) SIGSEGV si_codes: SEGV_MAPERR "Address not mapped to object", SEGV_ACCERR
/// "Invalid permissions for mapped object".
#[test]
fn fault_segv_codes() {
    let mut s = space();
    map(&mut s, BASE, P, R, PA | FIXED).unwrap();
    map(&mut s, BASE + P, P, 0, PA | FIXED).unwrap();
    let segv = |c| Fault::Segv(c);
    assert_eq!(
        s.fault(BASE + 2 * P, Access::Read, false),
        segv(SegvCode::MapErr)
    );
    assert_eq!(s.fault(BASE, Access::Write, false), segv(SegvCode::AccErr));
    assert_eq!(
        s.fault(BASE, Access::Execute, false),
        segv(SegvCode::AccErr)
    );
    assert_eq!(
        s.fault(BASE + P, Access::Read, false),
        segv(SegvCode::AccErr)
    );
    assert_eq!(
        s.fault(TASK_SIZE + P, Access::Read, false),
        segv(SegvCode::MapErr)
    );
    assert_eq!(SegvCode::MapErr.si_code(), SEGV_MAPERR);
    assert_eq!(SegvCode::AccErr.si_code(), SEGV_ACCERR);
}

/// The fill of a faulting page: zero for anonymous memory, the file's page at the right
/// offset, the shared object's page, and copy-on-write for a write to a present page.
#[test]
fn fault_fill_kinds() {
    let mut s = space();
    let mut calls = with_file(9, true, true);
    let file = MmapArgs {
        addr: BASE,
        len: 4 * P,
        prot: RW,
        flags: PF,
        offset: 8 * P,
    };
    s.mmap(file, &mut calls, &mut Vec::new()).unwrap();
    let page = BASE + 2 * P;
    assert_eq!(
        s.fault(page + 5, Access::Read, false),
        Fault::File {
            page,
            perms: RWP,
            file: FileId(9),
            offset: 10 * P
        }
    );
    assert_eq!(
        s.fault(page, Access::Write, true),
        Fault::CopyOnWrite { page, perms: RWP }
    );
    let shared = MmapArgs {
        addr: BASE + 8 * P,
        len: 2 * P,
        prot: RW,
        flags: (MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED) as u64,
        offset: 0,
    };
    s.mmap(shared, &mut calls, &mut Vec::new()).unwrap();
    let page = BASE + 9 * P;
    assert_eq!(
        s.fault(page, Access::Write, true),
        Fault::Shared {
            page,
            perms: RWP,
            object: SharedId(1),
            offset: P
        }
    );
}

/// Stack growth (Linux's expand_downwards): below a grows-down region the stack grows to
/// the faulting page, within RLIMIT_STACK and keeping the guard gap above an accessible
/// region; a PROT_NONE region below needs no gap.
#[test]
fn stack_growth() {
    let mut s = space();
    let top = BASE + (64 << 20);
    map(
        &mut s,
        top - 16 * P,
        16 * P,
        RW,
        PA | FIXED | MAP_GROWSDOWN as u64,
    )
    .unwrap();
    let page = top - 20 * P;
    assert_eq!(
        s.fault(page + 8, Access::Write, false),
        Fault::GrowStack { page, perms: RWP }
    );
    assert_eq!(s.region_at(page).unwrap().start, page);
    assert_eq!(s.usage().stack, 20 * P);
    // RLIMIT_STACK counts from the top of the region.
    s.set_limits(Limits {
        stack: 24 * P,
        ..Limits::default()
    });
    assert_eq!(
        s.fault(top - 25 * P, Access::Read, false),
        Fault::Segv(SegvCode::MapErr)
    );
    assert!(matches!(
        s.fault(top - 24 * P, Access::Read, false),
        Fault::GrowStack { .. }
    ));
    s.set_limits(Limits::default());
    // The guard gap above an accessible neighbour.
    let below_end = top - 26 * P - STACK_GUARD_GAP;
    map(&mut s, below_end - P, P, RW, PA | FIXED).unwrap();
    let too_close = below_end + STACK_GUARD_GAP - P;
    assert_eq!(
        s.fault(too_close, Access::Read, false),
        Fault::Segv(SegvCode::MapErr)
    );
    let far_enough = below_end + STACK_GUARD_GAP;
    assert!(matches!(
        s.fault(far_enough, Access::Read, false),
        Fault::GrowStack { .. }
    ));
    let mut out = Vec::new();
    s.mprotect(below_end - P, P, 0, &mut out).unwrap();
    assert!(matches!(
        s.fault(below_end + P, Access::Read, false),
        Fault::GrowStack { .. }
    ));
}

/// prctl(2) PR_SET_MDWE (W^X): with it, mmap and mprotect refuse writable+executable
/// memory and new executable memory with EACCES.
#[test]
fn wx_policy() {
    let mut s = space();
    let rwx = (PROT_READ | PROT_WRITE | PROT_EXEC) as u64;
    let rx = (PROT_READ | PROT_EXEC) as u64;
    assert_eq!(map(&mut s, BASE, P, rwx, PA | FIXED), Ok(BASE)); // Linux's default
    s.prctl_set_mdwe(PR_MDWE_REFUSE_EXEC_GAIN_BIT, 0, 0, 0)
        .unwrap();
    assert_eq!(
        map(&mut s, BASE + P, P, rwx, PA | FIXED),
        Err(Errno::EACCES)
    );
    assert_eq!(map(&mut s, BASE + P, P, rx, PA | FIXED), Ok(BASE + P));
    let mut out = Vec::new();
    map(&mut s, BASE + 2 * P, P, RW, PA | FIXED).unwrap();
    assert_eq!(
        s.mprotect(BASE + 2 * P, P, rx, &mut out),
        Err(Errno::EACCES)
    );
}
const PR_MDWE_REFUSE_EXEC_GAIN_BIT: u64 = linux_raw_sys::prctl::PR_MDWE_REFUSE_EXEC_GAIN as u64;

/// brk(2) through the public API: the heap region and its accounting.
#[test]
fn brk_heap_is_data() {
    let mut s = space();
    s.init_brk(BASE, 0);
    let mut out = Vec::new();
    assert_eq!(s.brk(BASE + 3 * P, &mut out), BASE + 3 * P);
    assert_eq!(s.region_at(BASE).unwrap().kind, Kind::Heap);
    assert_eq!(s.usage().data, 3 * P);
    assert_eq!(s.current_brk(), BASE + 3 * P);
}
