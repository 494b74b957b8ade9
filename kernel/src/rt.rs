//! Symbols that a hosted target's C library would provide and the precompiled `core`,
//! `alloc` and `compiler_builtins` link against.
//!
//! The loops in `memcmp`/`bcmp`/`strlen` read through `read_volatile` so LLVM cannot
//! recognise them as the very functions being defined and turn them into calls to
//! themselves.
//!
//! `memcpy` and `memset` move 64 bytes per loop iteration with eight ordinary 8-byte moves
//! and only the last few bytes with a string instruction: the QEMU CPU model has no
//! fast-string (ERMS) feature, and under software emulation every iteration of a `rep`
//! instruction is emulated on its own (measured: zeroing a page with `rep stosb` took
//! most of a page fault, and with `rep stosq` still about 60 us), while plain moves are
//! translated inline. Linux picks the same kind of loop on such CPUs (`memcpy_orig`,
//! `clear_page_orig`).
use core::arch::asm;

/// # Safety
/// Standard `memcpy` contract: valid, non-overlapping regions of `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: forwarded from the caller's contract; the blocks and then the remaining
    // bytes are copied forwards, each from where the last stopped.
    unsafe {
        asm!(
            "test {blocks}, {blocks}",
            "jz 3f",
            "2:",
            "mov {t}, [rsi]", "mov [rdi], {t}",
            "mov {t}, [rsi + 8]", "mov [rdi + 8], {t}",
            "mov {t}, [rsi + 16]", "mov [rdi + 16], {t}",
            "mov {t}, [rsi + 24]", "mov [rdi + 24], {t}",
            "mov {t}, [rsi + 32]", "mov [rdi + 32], {t}",
            "mov {t}, [rsi + 40]", "mov [rdi + 40], {t}",
            "mov {t}, [rsi + 48]", "mov [rdi + 48], {t}",
            "mov {t}, [rsi + 56]", "mov [rdi + 56], {t}",
            "add rsi, 64",
            "add rdi, 64",
            "dec {blocks}",
            "jnz 2b",
            "3:",
            "rep movsb",
            blocks = inout(reg) n / 64 => _,
            t = out(reg) _,
            inout("rcx") n % 64 => _, inout("rdi") dest => _, inout("rsi") src => _,
            options(nostack),
        );
    }
    dest
}

/// # Safety
/// Standard `memmove` contract: valid regions of `n` bytes, which may overlap.
#[no_mangle]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize) <= (src as usize) || (dest as usize) >= (src as usize + n) {
        // SAFETY: forward copying is correct when dest does not start inside src.
        return unsafe { memcpy(dest, src, n) };
    }
    // SAFETY: copying backwards (direction flag set, restored after) handles dest
    // starting inside src.
    unsafe {
        asm!("std", "rep movsb", "cld",
             inout("rcx") n => _, inout("rdi") dest.add(n - 1) => _, inout("rsi") src.add(n - 1) => _,
             options(nostack));
    }
    dest
}

/// # Safety
/// Standard `memset` contract: a valid region of `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    // Every byte of the word is the fill byte (its low byte is what `stosb` stores).
    let word = u64::from(c as u8) * 0x0101_0101_0101_0101;
    // SAFETY: forwarded from the caller's contract; the blocks, then the remaining bytes.
    unsafe {
        asm!(
            "test {blocks}, {blocks}",
            "jz 3f",
            "2:",
            "mov [rdi], rax", "mov [rdi + 8], rax", "mov [rdi + 16], rax", "mov [rdi + 24], rax",
            "mov [rdi + 32], rax", "mov [rdi + 40], rax", "mov [rdi + 48], rax", "mov [rdi + 56], rax",
            "add rdi, 64",
            "dec {blocks}",
            "jnz 2b",
            "3:",
            "rep stosb",
            blocks = inout(reg) n / 64 => _,
            inout("rcx") n % 64 => _, inout("rdi") dest => _, in("rax") word,
            options(nostack),
        );
    }
    dest
}

/// # Safety
/// Standard `memcmp` contract: valid regions of `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: i < n, within both regions.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// # Safety
/// As for `memcmp`.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract.
    unsafe { memcmp(a, b, n) }
}

/// # Safety
/// `s` must point at a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the string is NUL-terminated, so every byte up to the NUL is readable.
    while unsafe { s.add(n).read_volatile() } != 0 {
        n += 1;
    }
    n
}

/// Referenced by the precompiled `core` (built with unwinding); never called with
/// `panic = "abort"`.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// Referenced by the precompiled `alloc`; unwinding is impossible here.
#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    panic!("_Unwind_Resume called: unwinding is not supported")
}
