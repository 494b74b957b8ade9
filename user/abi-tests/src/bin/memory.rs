//! `memory`: brk, mmap/munmap/mprotect/madvise(DONTNEED)/mremap, MAP_FIXED and
//! MAP_FIXED_NOREPLACE, copy-on-write after fork, a shared anonymous mapping seen by a
//! child, faults after mprotect and munmap, and main-thread stack growth.

use abi_tests::errno::{cvt, raw, Errno};
use abi_tests::process::{no_core_dumps, run};
use abi_tests::signal::{set_action, Action};
use abi_tests::Transcript;
use core::ffi::{c_int, c_void};
use core::ptr::{read_volatile, write_volatile};

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
