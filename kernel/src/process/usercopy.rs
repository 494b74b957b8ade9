//! Reaching user memory: typed user addresses and copies that can fail but never fault.
//!
//! The kernel never dereferences a user address. A copy walks the process's page tables
//! page by page under the memory lock, makes each page present with the access the copy
//! needs exactly as a fault by the program would (demand-zero, stack growth, copy on
//! write), and moves the bytes through the direct map. An address the program may not
//! touch (unmapped, kernel half, wrong permissions) makes the copy fail with `EFAULT`; it
//! can never make the kernel fault or read memory that is not the process's. SMEP and
//! SMAP are on (`arch::user_mode`), so a kernel bug that touched a user address directly
//! would fault loudly instead.
use alloc::vec::Vec;
use core::marker::PhantomData;

use vm::Access;

use super::mm::{Mm, PageError, PIN_MAX};
use crate::mm::PAGE_SIZE;
use crate::syscall::Errno;

/// Why a copy stopped.
impl From<PageError> for Errno {
    fn from(e: PageError) -> Errno {
        match e {
            PageError::OutOfMemory => Errno::ENOMEM,
            PageError::Segv(_) | PageError::PastEof => Errno::EFAULT,
        }
    }
}

/// An address in the calling process's user half, as a program passed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct UserAddr(pub u64);

impl UserAddr {
    /// `self + n`, or `EFAULT` if that wraps.
    pub fn add(self, n: u64) -> Result<UserAddr, Errno> {
        self.0.checked_add(n).map(UserAddr).ok_or(Errno::EFAULT)
    }
}

/// A user address holding a `T` (plain data: any bit pattern is a valid `T`).
pub struct UserRef<T> {
    pub addr: UserAddr,
    _t: PhantomData<T>,
}

impl<T> Clone for UserRef<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for UserRef<T> {}

impl<T> UserRef<T> {
    pub fn new(addr: u64) -> UserRef<T> {
        UserRef {
            addr: UserAddr(addr),
            _t: PhantomData,
        }
    }
}

/// Marker for types that may be copied from and to user memory byte for byte: no
/// padding-sensitive invariants, every bit pattern valid.
///
/// # Safety
/// Implementors must be `repr(C)` (or primitive) with every bit pattern a valid value.
pub unsafe trait Pod: Copy + 'static {}
// SAFETY: primitive integers accept every bit pattern.
unsafe impl Pod for u8 {}
// SAFETY: as above.
unsafe impl Pod for u16 {}
// SAFETY: as above.
unsafe impl Pod for u32 {}
// SAFETY: as above.
unsafe impl Pod for i32 {}
// SAFETY: as above.
unsafe impl Pod for u64 {}
// SAFETY: as above.
unsafe impl Pod for i64 {}
// SAFETY: arrays of Pod are Pod.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// Highest user address + 1 (Linux's `TASK_SIZE`).
const USER_END: u64 = vm::TASK_SIZE;

/// Checks that `[addr, addr + len)` lies in the user half.
fn check_range(addr: u64, len: u64) -> Result<(), Errno> {
    let end = addr.checked_add(len).ok_or(Errno::EFAULT)?;
    if end > USER_END {
        return Err(Errno::EFAULT);
    }
    Ok(())
}

/// Walks `[addr, addr + len)` page by page, calling `f(kernel pointer, offset, n)`.
fn each_chunk(
    mm: &Mm,
    addr: u64,
    len: usize,
    access: Access,
    mut f: impl FnMut(*mut u8, usize, usize),
) -> Result<(), Errno> {
    check_range(addr, len as u64)?;
    let mut done = 0usize;
    while done < len {
        let at = addr + done as u64;
        let page = at & !(PAGE_SIZE - 1);
        let in_page = (at - page) as usize;
        let n = (PAGE_SIZE as usize - in_page).min(len - done);
        mm.with_page(page, access, |base| {
            // SAFETY: `base` is the direct-map address of the page, which stays mapped to
            // this process while `with_page` holds the memory lock; `in_page` < 4096.
            let p = unsafe { base.add(in_page) };
            f(p, done, n)
        })?;
        done += n;
    }
    Ok(())
}

/// Most pieces [`with_user_mut`] and [`with_user`] lend at once.
const PIN_PIECES: usize = super::mm::PIN_PAGES;

/// Runs `f` on user memory `[addr, addr + len)` as slices of the kernel's view of it, in
/// order (one per page), so a caller can copy straight between its own buffers and the
/// program's with no copy in between (Linux's pinned-page copy: `pin_user_pages`, then
/// the copy through the kernel mapping). The pages are made present and writable as a
/// write by the program would make them ([`Mm::with_pages`]), and stay so while `f` runs:
/// the memory lock is held. So `f` must not sleep or touch user memory by other means;
/// it may take spin locks (the memory lock always comes first).
///
/// The slices cover a prefix of the range: at most [`PIN_MAX`] bytes (64 KiB), ending
/// before a page whose frame is already lent, or before a page the program may not write:
/// `f`'s flag then says that a bad address follows the slices (the caller decides
/// whether the copy fails, as Linux's socket calls fail a copy that reaches it). `EFAULT`
/// when the first byte cannot be reached (`ENOMEM` without memory for it); `len` is not
/// 0.
pub fn with_user_mut<R>(
    mm: &Mm,
    addr: UserAddr,
    len: usize,
    f: impl FnOnce(&mut [&mut [u8]], bool) -> R,
) -> Result<R, Errno> {
    let len = len.min(PIN_MAX);
    check_range(addr.0, len as u64)?;
    Ok(
        mm.with_pages(addr.0, len, Access::Write, |pieces, faulted| {
            let mut slices: [&mut [u8]; PIN_PIECES] =
                core::array::from_fn(|i| match pieces.get(i) {
                    // SAFETY: `p..p + n` is the direct-map view of part of one page of the process,
                    // present and writable, which `with_pages` keeps mapped (the lock is held) until
                    // `f` returns and the slice is gone; the pieces are distinct frames, so no two
                    // slices overlap, and no kernel data lives in a user frame. The program's other
                    // threads may write the same bytes meanwhile, as during any copy to user memory:
                    // the kernel only stores bytes there, never relies on what it reads back.
                    Some(&(p, n)) => unsafe { core::slice::from_raw_parts_mut(p, n) },
                    None => &mut [],
                });
            f(&mut slices[..pieces.len()], faulted)
        })?,
    )
}

/// [`with_user_mut`] for reading: `f` gets user memory `[addr, addr + len)` as slices,
/// made present and readable as a read by the program would make them.
pub fn with_user<R>(
    mm: &Mm,
    addr: UserAddr,
    len: usize,
    f: impl FnOnce(&[&[u8]], bool) -> R,
) -> Result<R, Errno> {
    let len = len.min(PIN_MAX);
    check_range(addr.0, len as u64)?;
    Ok(mm.with_pages(addr.0, len, Access::Read, |pieces, faulted| {
        let slices: [&[u8]; PIN_PIECES] = core::array::from_fn(|i| match pieces.get(i) {
            // SAFETY: as in `with_user_mut`: present, mapped until `f` returns; shared
            // slices may overlap. The program's other threads may change the bytes
            // meanwhile, as during any copy from user memory: the caller only copies them.
            Some(&(p, n)) => unsafe { core::slice::from_raw_parts(p, n) },
            None => &[],
        });
        f(&slices[..pieces.len()], faulted)
    })?)
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn read_bytes(mm: &Mm, src: UserAddr, dst: &mut [u8]) -> Result<(), Errno> {
    let len = dst.len();
    each_chunk(mm, src.0, len, Access::Read, |p, off, n| {
        // SAFETY: `p..p+n` is inside one mapped user page (see `each_chunk`), `dst` is a
        // kernel buffer of at least `off + n` bytes; they cannot overlap.
        unsafe { core::ptr::copy_nonoverlapping(p, dst[off..].as_mut_ptr(), n) }
    })
}

/// Copies `src` to user address `dst`.
pub fn write_bytes(mm: &Mm, dst: UserAddr, src: &[u8]) -> Result<(), Errno> {
    each_chunk(mm, dst.0, src.len(), Access::Write, |p, off, n| {
        // SAFETY: as in `read_bytes`, the other way round.
        unsafe { core::ptr::copy_nonoverlapping(src[off..].as_ptr(), p, n) }
    })
}

/// Zeroes `len` bytes at user address `dst`.
pub fn zero_bytes(mm: &Mm, dst: UserAddr, len: usize) -> Result<(), Errno> {
    each_chunk(mm, dst.0, len, Access::Write, |p, _, n| {
        // SAFETY: `p..p+n` is inside one writable user page (see `each_chunk`).
        unsafe { core::ptr::write_bytes(p, 0, n) }
    })
}

/// Reads a `T`.
pub fn read<T: Pod>(mm: &Mm, src: UserRef<T>) -> Result<T, Errno> {
    let mut value = core::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: the buffer is the value's own bytes; `T: Pod` accepts any bytes copied in.
    let bytes = unsafe {
        core::slice::from_raw_parts_mut(value.as_mut_ptr() as *mut u8, core::mem::size_of::<T>())
    };
    read_bytes(mm, src.addr, bytes)?;
    // SAFETY: zero-initialised, then overwritten with bytes: valid for a `Pod` type.
    Ok(unsafe { value.assume_init() })
}

/// Writes a `T`.
pub fn write<T: Pod>(mm: &Mm, dst: UserRef<T>, value: &T) -> Result<(), Errno> {
    // SAFETY: a `Pod` value is plain bytes.
    let bytes = unsafe {
        core::slice::from_raw_parts(value as *const T as *const u8, core::mem::size_of::<T>())
    };
    write_bytes(mm, dst.addr, bytes)
}

/// Reads a NUL-terminated string of at most `max` bytes (without the NUL):
/// `ENAMETOOLONG` when no NUL comes within `max` bytes.
pub fn read_cstr(mm: &Mm, src: UserAddr, max: usize) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut at = src.0;
    loop {
        let page_end = (at & !(PAGE_SIZE - 1)) + PAGE_SIZE;
        let n = (page_end - at) as usize;
        let mut chunk = alloc::vec![0u8; n];
        read_bytes(mm, UserAddr(at), &mut chunk)?;
        if let Some(nul) = chunk.iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..nul]);
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
        if out.len() > max {
            return Err(Errno::ENAMETOOLONG);
        }
        at = page_end;
    }
}
