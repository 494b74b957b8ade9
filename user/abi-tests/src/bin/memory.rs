//! `memory`: brk, mmap/munmap/mprotect/madvise(DONTNEED)/mremap, MAP_FIXED and
//! MAP_FIXED_NOREPLACE, copy-on-write after fork, a shared anonymous mapping seen by a
//! child, faults after mprotect and munmap, main-thread stack growth, and file mappings
//! (contents, offsets, the zero tail and SIGBUS past the end of the file, private writes,
//! fork, read-only MAP_SHARED, /proc/self/maps, mprotect/mremap/madvise of them, errnos).

use abi_tests::errno::{cvt, raw, Errno};
use abi_tests::process::{no_core_dumps, run, WaitStatus};
use abi_tests::report::scratch_dir;
use abi_tests::signal::{set_action, Action};
use abi_tests::Transcript;
use core::ffi::{c_int, c_void};
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

const PAGE: usize = 4096;

fn main() {
    let t = Transcript::new("memory");
    brk(&t);
    anonymous(&t);
    fixed(&t);
    protect(&t);
    advise(&t);
    remap(&t);
    fork_sharing(&t);
    stack_growth(&t);
    file_mappings(&t);
}

/// mmap(addr, len, prot, flags, -1, 0) of anonymous memory.
fn map(addr: usize, len: usize, prot: c_int, flags: c_int) -> Result<*mut u8, Errno> {
    // SAFETY: anonymous mappings; with MAP_FIXED the callers name only ranges this
    // program mapped itself and uses for nothing else.
    let p = unsafe {
        libc::mmap(
            addr as *mut c_void,
            len,
            prot,
            flags | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        Err(Errno::last())
    } else {
        Ok(p.cast())
    }
}

fn private(len: usize) -> Result<*mut u8, Errno> {
    map(
        0,
        len,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE,
    )
}

fn unmap(p: *mut u8, len: usize) -> Result<c_int, Errno> {
    // SAFETY: callers unmap ranges they mapped and no longer use (or bad ranges on purpose,
    // which the kernel refuses).
    cvt(unsafe { libc::munmap(p.cast(), len) })
}

fn protect_range(p: *mut u8, len: usize, prot: c_int) -> Result<c_int, Errno> {
    // SAFETY: as for unmap; no reference into the range is live across the call.
    cvt(unsafe { libc::mprotect(p.cast(), len, prot) })
}

/// Volatile byte access to mappings of this program (the compiler must not assume
/// anything about memory the kernel changes under it).
fn peek(p: *mut u8, off: usize) -> u8 {
    // SAFETY: callers pass a readable mapping of at least `off + 1` bytes.
    unsafe { read_volatile(p.add(off)) }
}

fn poke(p: *mut u8, off: usize, v: u8) {
    // SAFETY: callers pass a writable mapping of at least `off + 1` bytes.
    unsafe { write_volatile(p.add(off), v) }
}

fn sys_brk(addr: usize) -> usize {
    // SAFETY: brk moves the program break; callers move it back before anything else
    // (malloc) may use the space.
    unsafe { raw(libc::SYS_brk, [addr, 0, 0, 0, 0, 0]) }.map_or(0, |v| v as usize)
}

fn brk(t: &Transcript) {
    // Nothing may allocate between growing and shrinking back: malloc owns the break.
    let start = sys_brk(0);
    let grown = sys_brk(start + 16 * PAGE);
    let usable = grown == start + 16 * PAGE && {
        let p = start as *mut u8;
        let zero = peek(p, 0) == 0 && peek(p, 16 * PAGE - 1) == 0;
        poke(p, 5 * PAGE, 0x5a);
        zero && peek(p, 5 * PAGE) == 0x5a
    };
    let shrunk = sys_brk(start);
    let kernel_half = sys_brk(0xffff_8000_0000_0000);
    let unchanged = sys_brk(0);
    t.is("brk_0_is_positive", start > 0);
    t.is("brk_grows_by_request", grown == start + 16 * PAGE);
    t.is("brk_memory_zero_and_writable", usable);
    t.is("brk_shrinks_back", shrunk == start);
    t.is(
        "brk_to_kernel_half_returns_old_break",
        kernel_half == start && unchanged == start,
    );
}

fn anonymous(t: &Transcript) {
    let Ok(p) = private(4 * PAGE) else {
        return t.fail("mmap_anonymous", "ok", Errno::last());
    };
    t.is("mmap_page_aligned", (p as usize).is_multiple_of(PAGE));
    t.is(
        "mmap_anonymous_is_zero",
        (0..4 * PAGE).step_by(512).all(|o| peek(p, o) == 0),
    );
    poke(p, 3 * PAGE + 7, 9);
    t.eq("mmap_write_reads_back", peek(p, 3 * PAGE + 7), 9);
    t.ok("munmap_middle_page", unmap(p.wrapping_add(PAGE), PAGE));
    let hole = p.wrapping_add(PAGE);
    let status = run(|| {
        no_core_dumps();
        let _ = set_action(libc::SIGSEGV, Action::Default, 0);
        peek(hole, 0).into()
    });
    t.shows("touch_unmapped_hole", status, "killed(SIGSEGV)");
    t.eq("pages_around_hole_intact", peek(p, 3 * PAGE + 7), 9);
    t.ok("munmap_rest_including_hole", unmap(p, 4 * PAGE));
    t.ok("munmap_again_is_fine", unmap(p, 4 * PAGE));
    t.errno("mmap_length_0", private(0), libc::EINVAL);
    t.errno(
        "munmap_unaligned",
        unmap(p.wrapping_add(1), PAGE),
        libc::EINVAL,
    );
    t.errno("munmap_length_0", unmap(p, 0), libc::EINVAL);
    let flags = libc::MAP_PRIVATE | libc::MAP_SHARED;
    t.errno(
        "mmap_private_and_shared",
        map(0, PAGE, libc::PROT_READ, flags),
        libc::EINVAL,
    );
    t.errno("mmap_huge_length", private(1 << 62), libc::ENOMEM);
}

fn fixed(t: &Transcript) {
    let Ok(p) = private(2 * PAGE) else {
        return t.fail("map_fixed_replaces", "ok", Errno::last());
    };
    poke(p, 0, 1);
    let rw = libc::PROT_READ | libc::PROT_WRITE;
    let again = map(p as usize, PAGE, rw, libc::MAP_PRIVATE | libc::MAP_FIXED);
    t.is("map_fixed_at_address", again == Ok(p));
    t.eq("map_fixed_replaces_with_zero", peek(p, 0), 0);
    let noreplace = libc::MAP_PRIVATE | libc::MAP_FIXED_NOREPLACE;
    t.errno(
        "map_fixed_noreplace_over_mapping",
        map(p as usize, PAGE, rw, noreplace),
        libc::EEXIST,
    );
    let _ = unmap(p.wrapping_add(PAGE), PAGE);
    let free = map(p as usize + PAGE, PAGE, rw, noreplace);
    t.is(
        "map_fixed_noreplace_in_hole",
        free == Ok(p.wrapping_add(PAGE)),
    );
    let odd = map(
        p as usize + 1,
        PAGE,
        rw,
        libc::MAP_PRIVATE | libc::MAP_FIXED,
    );
    t.errno("map_fixed_unaligned", odd, libc::EINVAL);
    let _ = unmap(p, 2 * PAGE);
}

fn protect(t: &Transcript) {
    let Ok(p) = private(2 * PAGE) else {
        return t.fail("mprotect_read_only", "ok", Errno::last());
    };
    poke(p, 0, 3);
    t.ok(
        "mprotect_read_only",
        protect_range(p, PAGE, libc::PROT_READ),
    );
    t.eq("read_only_still_reads", peek(p, 0), 3);
    let status = run(|| {
        no_core_dumps();
        let _ = set_action(libc::SIGSEGV, Action::Default, 0);
        poke(p, 0, 4);
        0
    });
    t.shows("write_to_read_only_faults", status, "killed(SIGSEGV)");
    let status = run(|| {
        no_core_dumps();
        let _ = set_action(libc::SIGSEGV, Action::Default, 0);
        let _ = protect_range(p, PAGE, libc::PROT_NONE);
        peek(p, 0).into()
    });
    t.shows("read_of_prot_none_faults", status, "killed(SIGSEGV)");
    t.ok(
        "mprotect_back_to_rw",
        protect_range(p, PAGE, libc::PROT_READ | libc::PROT_WRITE),
    );
    poke(p, 0, 5);
    t.eq("write_after_restore", peek(p, 0), 5);
    t.errno(
        "mprotect_unaligned",
        protect_range(p.wrapping_add(1), PAGE, libc::PROT_READ),
        libc::EINVAL,
    );
    t.errno(
        "mprotect_unknown_bits",
        protect_range(p, PAGE, 0x100),
        libc::EINVAL,
    );
    let _ = unmap(p, 2 * PAGE);
    t.errno(
        "mprotect_unmapped",
        protect_range(p, PAGE, libc::PROT_READ),
        libc::ENOMEM,
    );
}

fn madvise(p: *mut u8, len: usize, advice: c_int) -> Result<c_int, Errno> {
    // SAFETY: callers advise on their own mappings; DONTNEED drops private contents,
    // which the check then observes through volatile reads only.
    cvt(unsafe { libc::madvise(p.cast(), len, advice) })
}

fn advise(t: &Transcript) {
    let rw = libc::PROT_READ | libc::PROT_WRITE;
    if let Ok(p) = private(PAGE) {
        poke(p, 100, 7);
        t.ok(
            "madvise_dontneed_private",
            madvise(p, PAGE, libc::MADV_DONTNEED),
        );
        t.eq("private_reads_zero_after_dontneed", peek(p, 100), 0);
        t.errno("madvise_bad_advice", madvise(p, PAGE, 9999), libc::EINVAL);
        t.errno(
            "madvise_unaligned",
            madvise(p.wrapping_add(1), PAGE, libc::MADV_DONTNEED),
            libc::EINVAL,
        );
        let _ = unmap(p, PAGE);
        t.errno(
            "madvise_unmapped",
            madvise(p, PAGE, libc::MADV_DONTNEED),
            libc::ENOMEM,
        );
    }
    if let Ok(s) = map(0, PAGE, rw, libc::MAP_SHARED) {
        poke(s, 100, 7);
        t.ok(
            "madvise_dontneed_shared",
            madvise(s, PAGE, libc::MADV_DONTNEED),
        );
        t.eq("shared_keeps_data_after_dontneed", peek(s, 100), 7);
        let _ = unmap(s, PAGE);
    }
}

fn mremap(p: *mut u8, old: usize, new: usize, flags: c_int) -> Result<*mut u8, Errno> {
    // SAFETY: callers remap their own mappings and use only the returned address after.
    let q = unsafe { libc::mremap(p.cast(), old, new, flags) };
    if q == libc::MAP_FAILED {
        Err(Errno::last())
    } else {
        Ok(q.cast())
    }
}

fn remap(t: &Transcript) {
    // Two pages with a guard page mapped right after them, so growing in place fails.
    let Ok(area) = private(3 * PAGE) else {
        return t.fail("mremap_grow_in_place_blocked", "ok", Errno::last());
    };
    let _ = map(
        area as usize + 2 * PAGE,
        PAGE,
        libc::PROT_NONE,
        libc::MAP_PRIVATE | libc::MAP_FIXED,
    );
    poke(area, 2 * PAGE - 1, 0x77);
    t.errno(
        "mremap_grow_in_place_blocked",
        mremap(area, 2 * PAGE, 4 * PAGE, 0),
        libc::ENOMEM,
    );
    let moved = mremap(area, 2 * PAGE, 8 * PAGE, libc::MREMAP_MAYMOVE);
    t.ok("mremap_maymove_grows", moved);
    if let Ok(q) = moved {
        t.eq("mremap_keeps_contents", peek(q, 2 * PAGE - 1), 0x77);
        t.eq("mremap_new_part_is_zero", peek(q, 7 * PAGE), 0);
        let shrunk = mremap(q, 8 * PAGE, PAGE, 0);
        t.is("mremap_shrinks_in_place", shrunk == Ok(q));
        let _ = unmap(q, PAGE);
    }
    let _ = unmap(area.wrapping_add(2 * PAGE), PAGE);
    t.errno(
        "mremap_unknown_flags",
        mremap(area, PAGE, PAGE, 0x100),
        libc::EINVAL,
    );
    t.errno(
        "mremap_fixed_without_maymove",
        mremap(area, PAGE, PAGE, libc::MREMAP_FIXED),
        libc::EINVAL,
    );
    t.errno(
        "mremap_unmapped",
        mremap(area, PAGE, 2 * PAGE, libc::MREMAP_MAYMOVE),
        libc::EFAULT,
    );
}

fn fork_sharing(t: &Transcript) {
    if let Ok(p) = private(PAGE) {
        poke(p, 0, 1);
        let child = run(|| {
            let saw = peek(p, 0);
            poke(p, 0, 2);
            c_int::from(saw) * 10 + c_int::from(peek(p, 0))
        });
        t.shows("cow_child_sees_then_writes_own_copy", child, "exited(12)");
        t.eq("cow_parent_keeps_its_value", peek(p, 0), 1);
        let _ = unmap(p, PAGE);
    }
    if let Ok(s) = map(
        0,
        PAGE,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_SHARED,
    ) {
        let child = run(|| {
            poke(s, 10, 42);
            0
        });
        t.shows("shared_child_exits", child, "exited(0)");
        t.eq("shared_write_seen_by_parent", peek(s, 10), 42);
        let _ = unmap(s, PAGE);
    }
}

/// Uses about `depth` × 64 KiB of stack.
fn deep(depth: u32) -> u8 {
    let mut frame = [0u8; 64 * 1024];
    frame[depth as usize % frame.len()] = depth as u8;
    let frame = std::hint::black_box(frame);
    if depth == 0 {
        frame[0]
    } else {
        deep(depth - 1).wrapping_add(frame[depth as usize % frame.len()])
    }
}

fn stack_growth(t: &Transcript) {
    // At least 1.5 MiB: far past what the kernel maps at exec, well inside the usual
    // 8 MiB limit (unoptimised frames hold two copies of the array).
    let status = run(|| c_int::from(std::hint::black_box(deep(24)) == 0));
    t.shows("main_stack_grows_past_1mib", status, "exited(0)");
}

/// The test file: two pages and 100 bytes, no byte zero.
const FILE_LEN: usize = 2 * PAGE + 100;

fn file_byte(offset: usize) -> u8 {
    (offset % 251) as u8 + 1
}

/// mmap(addr, len, prot, flags, fd, offset) of a file (or anything a descriptor names).
fn map_fd(len: usize, prot: c_int, flags: c_int, fd: c_int, offset: i64) -> Result<*mut u8, Errno> {
    // SAFETY: never MAP_FIXED: the kernel picks a free range, nothing else is replaced.
    let p = unsafe { libc::mmap(core::ptr::null_mut(), len, prot, flags, fd, offset) };
    if p == libc::MAP_FAILED {
        Err(Errno::last())
    } else {
        Ok(p.cast())
    }
}

/// Do `len` bytes at `p` equal the file's bytes from `offset` (zero past its end)?
fn shows_file(p: *mut u8, offset: usize, len: usize) -> bool {
    (0..len).all(|i| {
        let at = offset + i;
        peek(p, i) == if at < FILE_LEN { file_byte(at) } else { 0 }
    })
}

fn open_with(path: &Path, options: &mut OpenOptions) -> Option<File> {
    options.open(path).ok()
}

fn file_mappings(t: &Transcript) {
    let Some(dir) = scratch_dir() else {
        return t.fail("file_map_setup", "a scratch directory", "none");
    };
    let path = dir.join("mapped");
    let data: Vec<u8> = (0..FILE_LEN).map(file_byte).collect();
    let (Ok(()), Ok(real)) = (std::fs::write(&path, &data), std::fs::canonicalize(&dir)) else {
        return t.fail("file_map_setup", "ok", Errno::last());
    };
    let real = real.join("mapped");
    let Some(file) = open_with(&path, OpenOptions::new().read(true)) else {
        return t.fail("file_map_setup", "ok", Errno::last());
    };
    t.value("file_map_setup", "ok");
    private_file(t, &file, &real);
    past_eof(t, &file);
    shared_file(t, &file);
    file_errnos(t, &path, &dir, &file);
}

/// The `/proc/self/maps` line of the mapping that starts at `p`.
fn maps_line(p: *mut u8) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let start = format!("{:08x}-", p as usize);
    maps.lines()
        .find(|l| l.starts_with(&start))
        .map(str::to_string)
}

/// What a maps line says of a file mapping: permissions, offset, whether the device and
/// inode are `file`'s, whether the path is `path` (at column 74, as Linux pads it).
fn describe_maps_line(line: &str, file: &File, path: &Path) -> String {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let Ok(meta) = file.metadata() else {
        return "no metadata".into();
    };
    let dev = format!(
        "{:02x}:{:02x}",
        libc::major(meta.dev()),
        libc::minor(meta.dev())
    );
    let same_file = fields.get(3) == Some(&dev.as_str())
        && fields.get(4) == Some(&meta.ino().to_string().as_str());
    let name = line.get(73..).unwrap_or("");
    format!(
        "{} offset={} same_dev_ino={same_file} path_at_column_74={}",
        fields.get(1).unwrap_or(&"?"),
        fields.get(2).unwrap_or(&"?"),
        Path::new(name) == path
    )
}

fn private_file(t: &Transcript, file: &File, path: &Path) {
    let rw = libc::PROT_READ | libc::PROT_WRITE;
    let Ok(p) = map_fd(3 * PAGE, rw, libc::MAP_PRIVATE, file.as_raw_fd(), 0) else {
        return t.fail("file_map_private", "ok", Errno::last());
    };
    t.value("file_map_private", "ok");
    t.is("file_map_reads_contents", shows_file(p, 0, FILE_LEN));
    t.is(
        "file_map_tail_past_eof_is_zero",
        (FILE_LEN..3 * PAGE).all(|o| peek(p, o) == 0),
    );
    match maps_line(p) {
        Some(line) => t.eq(
            "file_map_proc_maps_line",
            describe_maps_line(&line, file, path),
            "rw-p offset=00000000 same_dev_ino=true path_at_column_74=true".to_string(),
        ),
        None => t.fail("file_map_proc_maps_line", "a line", "none"),
    }
    poke(p, 10, 0);
    poke(p, 2 * PAGE + 900, 7); // in the zero tail of the last page
    let mut back = [0u8; 1];
    let unchanged = file.read_at(&mut back, 10).is_ok() && back[0] == file_byte(10);
    t.is("file_map_private_write_reads_back", peek(p, 10) == 0);
    t.is("file_map_private_write_leaves_file", unchanged);
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    t.eq("file_map_write_in_tail_leaves_size", size, FILE_LEN as u64);
    // fork: the child sees the parent's private page, its write is its own.
    let child = run(|| {
        let saw = peek(p, 10) == 0 && peek(p, 11) == file_byte(11);
        poke(p, 11, 0);
        c_int::from(saw) * 10 + c_int::from(peek(p, 11) == 0)
    });
    t.shows(
        "file_map_fork_child_sees_then_writes_own_copy",
        child,
        "exited(11)",
    );
    t.is(
        "file_map_fork_parent_keeps_its_value",
        peek(p, 11) == file_byte(11),
    );
    // madvise(DONTNEED) drops the private copy: the page is read from the file again.
    let dropped = madvise(p, PAGE, libc::MADV_DONTNEED);
    t.ok("file_map_madvise_dontneed", dropped);
    t.is(
        "file_map_rereads_file_after_dontneed",
        shows_file(p, 0, PAGE),
    );
    // mprotect read-only, then back: contents stay.
    t.ok(
        "file_map_mprotect_read_only",
        protect_range(p, 3 * PAGE, libc::PROT_READ),
    );
    t.ok("file_map_mprotect_back", protect_range(p, 3 * PAGE, rw));
    t.is(
        "file_map_keeps_contents_after_mprotect",
        shows_file(p, 0, PAGE),
    );
    // mremap moves it (a page after it is taken so it cannot grow in place): the old
    // pages move with their contents, the new ones come from the file.
    poke(p, PAGE, 0);
    let _ = unmap(p.wrapping_add(2 * PAGE), PAGE);
    let blocker = map(
        p as usize + 2 * PAGE,
        PAGE,
        libc::PROT_NONE,
        libc::MAP_PRIVATE | libc::MAP_FIXED,
    );
    match mremap(p, 2 * PAGE, 3 * PAGE, libc::MREMAP_MAYMOVE) {
        Ok(q) => {
            t.is("file_map_mremap_moves", q != p);
            t.is(
                "file_map_mremap_keeps_pages_and_reads_file",
                peek(q, PAGE) == 0
                    && shows_file(q, 0, PAGE)
                    && shows_file(q.wrapping_add(2 * PAGE), 2 * PAGE, PAGE),
            );
            let _ = unmap(q, 3 * PAGE);
        }
        Err(e) => {
            t.fail("file_map_mremap_moves", "ok", e);
            t.fail("file_map_mremap_keeps_pages_and_reads_file", "ok", e);
            let _ = unmap(p, 2 * PAGE);
        }
    }
    if let Ok(b) = blocker {
        let _ = unmap(b, PAGE);
    }
    // An offset mapping, still readable after its descriptor is closed.
    let Some(again) = open_with(path, OpenOptions::new().read(true)) else {
        return t.fail("file_map_offset", "ok", Errno::last());
    };
    let at = map_fd(
        PAGE,
        libc::PROT_READ,
        libc::MAP_PRIVATE,
        again.as_raw_fd(),
        PAGE as i64,
    );
    drop(again);
    match at {
        Ok(q) => {
            t.is("file_map_offset", shows_file(q, PAGE, PAGE));
            let _ = unmap(q, PAGE);
        }
        Err(e) => t.fail("file_map_offset", "ok", e),
    }
}

static BUS_TARGET: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_bus(_: c_int, info: *mut libc::siginfo_t, _: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo; si_addr is the fault address of SIGBUS.
    let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    let at_target = addr == BUS_TARGET.load(SeqCst);
    // SAFETY: _exit ends the child at once (async-signal-safe).
    unsafe { libc::_exit(code | c_int::from(at_target) << 4) };
}

/// A child's report from [`on_bus`]: the si_code's name and whether si_addr was right.
fn bus_report(status: Result<WaitStatus, Errno>) -> String {
    match status {
        Ok(WaitStatus(s)) if libc::WIFEXITED(s) => {
            let code = libc::WEXITSTATUS(s) & 15;
            let name = if code == linux_raw_sys::general::BUS_ADRERR as c_int {
                "BUS_ADRERR".to_string()
            } else {
                format!("si_code {code}")
            };
            format!("{name} addr_is_target={}", libc::WEXITSTATUS(s) >> 4 == 1)
        }
        Ok(other) => other.to_string(),
        Err(e) => e.to_string(),
    }
}

fn past_eof(t: &Transcript, file: &File) {
    // Four pages of a file of two and a bit: the third page has the tail, the fourth
    // lies wholly past the end.
    let Ok(p) = map_fd(
        4 * PAGE,
        libc::PROT_READ,
        libc::MAP_PRIVATE,
        file.as_raw_fd(),
        0,
    ) else {
        return t.fail("file_map_past_eof_sigbus", "ok", Errno::last());
    };
    let target = p.wrapping_add(3 * PAGE + 8);
    let status = run(|| {
        no_core_dumps();
        BUS_TARGET.store(target as usize, SeqCst);
        let _ = set_action(libc::SIGBUS, Action::Info(on_bus), 0);
        peek(target, 0).into()
    });
    t.eq(
        "file_map_past_eof_sigbus",
        bus_report(status),
        "BUS_ADRERR addr_is_target=true".into(),
    );
    let status = run(|| {
        no_core_dumps();
        let _ = set_action(libc::SIGBUS, Action::Default, 0);
        peek(target, 0).into()
    });
    t.shows("file_map_past_eof_kills", status, "killed(SIGBUS)");
    // A system call reading that page fails instead.
    let mut fds = [0; 2];
    // SAFETY: pipe fills the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } == 0 {
        // SAFETY: the buffer is this program's mapping; the kernel checks it.
        let wrote = cvt(unsafe { libc::write(fds[1], target.cast(), 16) as c_int });
        t.errno("file_map_past_eof_in_syscall", wrote, libc::EFAULT);
        // SAFETY: closes the pipe this function opened.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    } else {
        t.fail("file_map_past_eof_in_syscall", "a pipe", Errno::last());
    }
    t.is(
        "file_map_page_before_eof_readable",
        shows_file(p.wrapping_add(2 * PAGE), 2 * PAGE, PAGE),
    );
    let _ = unmap(p, 4 * PAGE);
}

fn shared_file(t: &Transcript, file: &File) {
    let fd = file.as_raw_fd();
    let Ok(p) = map_fd(3 * PAGE, libc::PROT_READ, libc::MAP_SHARED, fd, 0) else {
        return t.fail("file_map_shared_read_only", "ok", Errno::last());
    };
    t.value("file_map_shared_read_only", "ok");
    t.is("file_map_shared_sees_file", shows_file(p, 0, 3 * PAGE));
    let line = maps_line(p).unwrap_or_default();
    t.eq(
        "file_map_shared_maps_perms",
        line.split_whitespace().nth(1).unwrap_or(""),
        "r--s",
    );
    t.errno(
        "file_map_shared_mprotect_write_on_read_only_fd",
        protect_range(p, PAGE, libc::PROT_READ | libc::PROT_WRITE),
        libc::EACCES,
    );
    let child = run(|| c_int::from(shows_file(p, 0, PAGE)));
    t.shows("file_map_shared_seen_by_child", child, "exited(1)");
    let status = run(|| {
        no_core_dumps();
        let _ = set_action(libc::SIGSEGV, Action::Default, 0);
        poke(p, 0, 1);
        0
    });
    t.shows("file_map_shared_write_faults", status, "killed(SIGSEGV)");
    let _ = unmap(p, 3 * PAGE);
}

fn file_errnos(t: &Transcript, path: &Path, dir: &Path, file: &File) {
    let (r, rw) = (libc::PROT_READ, libc::PROT_READ | libc::PROT_WRITE);
    let (private, shared) = (libc::MAP_PRIVATE, libc::MAP_SHARED);
    let fd = file.as_raw_fd();
    t.errno(
        "file_map_shared_write_on_read_only_fd",
        map_fd(PAGE, rw, shared, fd, 0),
        libc::EACCES,
    );
    match open_with(path, OpenOptions::new().write(true)) {
        Some(w) => {
            let wfd = w.as_raw_fd();
            t.errno(
                "file_map_write_only_fd",
                map_fd(PAGE, r, private, wfd, 0),
                libc::EACCES,
            );
            t.errno(
                "file_map_shared_write_only_fd",
                map_fd(PAGE, rw, shared, wfd, 0),
                libc::EACCES,
            );
        }
        None => {
            t.fail("file_map_write_only_fd", "ok", Errno::last());
            t.fail("file_map_shared_write_only_fd", "ok", Errno::last());
        }
    }
    let mut fds = [0; 2];
    // SAFETY: pipe fills the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } == 0 {
        t.errno(
            "file_map_pipe",
            map_fd(PAGE, r, private, fds[0], 0),
            libc::ENODEV,
        );
        t.errno(
            "file_map_pipe_write_end",
            map_fd(PAGE, r, private, fds[1], 0),
            libc::EACCES,
        );
        // SAFETY: closes the pipe this function opened; fds[1] is then a closed number.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        t.errno(
            "file_map_closed_fd",
            map_fd(PAGE, r, private, fds[1], 0),
            libc::EBADF,
        );
    } else {
        for check in [
            "file_map_pipe",
            "file_map_pipe_write_end",
            "file_map_closed_fd",
        ] {
            t.fail(check, "a pipe", Errno::last());
        }
    }
    let directory = File::open(dir);
    let got = directory
        .as_ref()
        .map_err(|_| Errno::last())
        .and_then(|d| map_fd(PAGE, r, private, d.as_raw_fd(), 0));
    t.errno("file_map_directory", got, libc::ENODEV);
    let null = File::open("/dev/null");
    let got = null
        .as_ref()
        .map_err(|_| Errno::last())
        .and_then(|d| map_fd(PAGE, r, private, d.as_raw_fd(), 0));
    t.errno("file_map_dev_null", got, libc::ENODEV);
    let proc_file = File::open("/proc/self/status");
    let got = proc_file
        .as_ref()
        .map_err(|_| Errno::last())
        .and_then(|d| map_fd(PAGE, r, private, d.as_raw_fd(), 0));
    t.errno("file_map_proc_file", got, libc::ENODEV);
    let o_path = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(path);
    let got = o_path
        .as_ref()
        .map_err(|_| Errno::last())
        .and_then(|d| map_fd(PAGE, r, private, d.as_raw_fd(), 0));
    t.errno("file_map_o_path_fd", got, libc::EBADF);
    t.errno(
        "file_map_unaligned_offset",
        map_fd(PAGE, r, private, fd, 100),
        libc::EINVAL,
    );
    t.errno(
        "file_map_negative_offset",
        map_fd(PAGE, r, private, fd, -(PAGE as i64)),
        libc::EOVERFLOW,
    );
    let huge = 0x7fff_ffff_ffff_f000;
    t.errno(
        "file_map_offset_overflow",
        map_fd(2 * PAGE, r, private, fd, huge),
        libc::EOVERFLOW,
    );
    t.errno(
        "file_map_growsdown",
        map_fd(PAGE, r, private | libc::MAP_GROWSDOWN, fd, 0),
        libc::EINVAL,
    );
    t.errno(
        "file_map_shared_validate_unknown_flag",
        map_fd(PAGE, r, libc::MAP_SHARED_VALIDATE | libc::MAP_SYNC, fd, 0),
        libc::EOPNOTSUPP,
    );
}
