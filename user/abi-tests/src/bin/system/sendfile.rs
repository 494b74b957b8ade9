//! `sendfile` beyond what `files` checks (file to file with and without an offset
//! pointer, end of file, a write-only source): a pipe as destination, the source's file
//! offset left alone when an offset pointer is given, and the errnos of a pipe as source,
//! an `O_APPEND` destination, a negative offset and a bad offset pointer.

use crate::{close, open, pipe, read, write, BAD_PTR};
use abi_tests::errno::{cvt, raw, Errno};
use abi_tests::Transcript;
use core::ffi::c_int;

fn sendfile(
    out: c_int,
    inp: c_int,
    off: Option<&mut libc::off_t>,
    count: usize,
) -> Result<isize, Errno> {
    let off = off.map_or(core::ptr::null_mut(), |o| o as *mut _);
    // SAFETY: `off` is null or a live off_t.
    cvt(unsafe { libc::sendfile(out, inp, off, count) })
}

fn source() -> Result<c_int, Errno> {
    let data: Vec<u8> = (0..200u8).collect();
    let fd = open(
        "sendfile-src",
        libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC,
        0o644,
    )?;
    write(fd, &data)?;
    // SAFETY: lseek takes no pointer.
    cvt(unsafe { libc::lseek(fd, 0, libc::SEEK_SET) })?;
    Ok(fd)
}

pub fn to_pipe(t: &Transcript) {
    let (Ok(src), Ok([r, w])) = (source(), pipe(0)) else {
        return t.fail("sendfile_to_pipe", "a file and a pipe", Errno::last());
    };
    t.shows("sendfile_to_pipe", sendfile(w, src, None, 100), 100);
    let want: Vec<u8> = (0..100u8).collect();
    t.is(
        "sendfile_to_pipe_bytes",
        read(r, 256).is_ok_and(|d| d == want),
    );
    let mut off: libc::off_t = 150;
    t.shows(
        "sendfile_to_pipe_with_offset",
        sendfile(w, src, Some(&mut off), 100),
        50,
    );
    t.eq("sendfile_offset_moved_to_eof", off, 200);
    // SAFETY: lseek takes no pointer.
    let pos = unsafe { libc::lseek(src, 0, libc::SEEK_CUR) };
    t.eq("sendfile_offset_pointer_keeps_file_offset", pos, 100);
    let want: Vec<u8> = (150..200u8).collect();
    t.is(
        "sendfile_to_pipe_offset_bytes",
        read(r, 256).is_ok_and(|d| d == want),
    );
    let mut past: libc::off_t = 1000;
    t.shows(
        "sendfile_offset_past_eof",
        sendfile(w, src, Some(&mut past), 10),
        0,
    );
    t.eq("sendfile_offset_past_eof_unchanged", past, 1000);
    t.shows("sendfile_count_0", sendfile(w, src, None, 0), 0);
    close(src);
    close(r);
    close(w);
}

pub fn errors(t: &Transcript) {
    let (Ok(src), Ok([r, w])) = (source(), pipe(0)) else {
        return t.fail(
            "sendfile_from_pipe_einval",
            "a file and a pipe",
            Errno::last(),
        );
    };
    let _ = write(w, b"data");
    let dst = open(
        "sendfile-dst",
        libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
        0o644,
    );
    let dst = dst.unwrap_or(-1);
    t.errno(
        "sendfile_from_pipe_einval",
        sendfile(dst, r, None, 4),
        libc::EINVAL,
    );
    let mut off: libc::off_t = 0;
    t.errno(
        "sendfile_from_pipe_with_offset_espipe",
        sendfile(dst, r, Some(&mut off), 4),
        libc::ESPIPE,
    );
    let mut negative: libc::off_t = -1;
    t.errno(
        "sendfile_negative_offset_einval",
        sendfile(dst, src, Some(&mut negative), 4),
        libc::EINVAL,
    );
    let append = open("sendfile-dst", libc::O_WRONLY | libc::O_APPEND, 0).unwrap_or(-1);
    t.errno(
        "sendfile_to_append_einval",
        sendfile(append, src, None, 4),
        libc::EINVAL,
    );
    let args = [dst as usize, src as usize, BAD_PTR, 4, 0, 0];
    // SAFETY: the offset pointer is bad on purpose: the kernel must fail, not fault.
    t.errno(
        "sendfile_bad_offset_pointer_efault",
        unsafe { raw(libc::SYS_sendfile, args) },
        libc::EFAULT,
    );
    t.errno(
        "sendfile_bad_in_fd_ebadf",
        sendfile(dst, -1, None, 4),
        libc::EBADF,
    );
    t.errno(
        "sendfile_bad_out_fd_ebadf",
        sendfile(-1, src, None, 4),
        libc::EBADF,
    );
    for fd in [src, r, w, dst, append] {
        close(fd);
    }
}
