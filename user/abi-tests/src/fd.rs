//! Descriptors: the thin wrappers every program uses to open, read, write and close, and
//! pipes. Each returns the call's errno on failure; none retries or interprets.

use crate::errno::{cvt, Errno};
use core::ffi::c_int;
use std::ffi::CString;

/// A path as a C string (the programs' paths have no NUL).
pub fn c(path: &str) -> CString {
    CString::new(path).unwrap_or_default()
}

/// openat(AT_FDCWD, path, flags, mode).
pub fn open(path: &str, flags: c_int, mode: libc::mode_t) -> Result<c_int, Errno> {
    // SAFETY: the path is a valid C string for the call's duration.
    cvt(unsafe { libc::openat(libc::AT_FDCWD, c(path).as_ptr(), flags, mode) })
}

pub fn close(fd: c_int) {
    // SAFETY: closes a descriptor of this program that is no longer used.
    unsafe { libc::close(fd) };
}

pub fn write(fd: c_int, data: &[u8]) -> Result<isize, Errno> {
    // SAFETY: `data` is a live buffer of its length.
    cvt(unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) })
}

/// Reads up to `len` bytes.
pub fn read(fd: c_int, len: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` is a live, writable buffer of `len` bytes.
    let n = cvt(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), len) })?;
    buf.truncate(n as usize);
    Ok(buf)
}

/// A pipe's `[read, write]` ends, made with `pipe2(flags)`.
pub fn pipe(flags: c_int) -> Result<[c_int; 2], Errno> {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for two descriptors.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) })?;
    Ok(fds)
}

/// `recvmsg` of up to `len` bytes into one iovec: the call's result, the data and
/// `msg_flags` (`MSG_TRUNC` on datagrams cut short).
pub fn recv_msg(fd: c_int, len: usize, flags: c_int) -> Result<(usize, Vec<u8>, c_int), Errno> {
    let mut buf = vec![0u8; len];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: len,
    };
    // SAFETY: msghdr is plain data; all-zero is valid.
    let mut m: libc::msghdr = unsafe { core::mem::zeroed() };
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    // SAFETY: `m` points at one live iovec over `buf`.
    let n = cvt(unsafe { libc::recvmsg(fd, &mut m, flags) })? as usize;
    buf.truncate(n.min(len));
    Ok((n, buf, m.msg_flags))
}
