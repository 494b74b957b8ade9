//! Opening, reading and writing: open flags, read/write/readv/writev/pread/pwrite, lseek.

use super::{close, content, fstat, make, mode_of, open, read, write};
use abi_tests::errno::{cvt, Errno};
use abi_tests::Transcript;
use libc::{
    O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC,
    O_WRONLY,
};

pub fn open_flags(t: &Transcript) {
    let created = open("new", O_WRONLY | O_CREAT | O_EXCL, 0o666);
    t.ok("o_creat_o_excl_new", created.map(close));
    t.errno(
        "o_excl_existing",
        open("new", O_WRONLY | O_CREAT | O_EXCL, 0o666),
        libc::EEXIST,
    );
    t.shows("o_creat_mode_minus_umask_022", mode_of("new"), "-rw-r--r--");
    t.errno(
        "missing_without_o_creat",
        open("missing", O_RDONLY, 0),
        libc::ENOENT,
    );
    t.errno(
        "o_creat_in_missing_dir",
        open("nodir/x", O_WRONLY | O_CREAT, 0o644),
        libc::ENOENT,
    );
    let _ = make("trunc", b"0123456789");
    let fd = open("trunc", O_WRONLY | O_TRUNC, 0);
    t.shows(
        "o_trunc_empties",
        fd.and_then(|fd| fstat(fd).map(|st| (close(fd), st.st_size).1)),
        0,
    );
    let _ = make("append", b"ab");
    if let Ok(fd) = open("append", O_WRONLY | O_APPEND, 0) {
        // SAFETY: lseek takes no pointer.
        let _ = unsafe { libc::lseek(fd, 0, libc::SEEK_SET) };
        let _ = write(fd, b"c");
        close(fd);
    }
    t.shows(
        "o_append_writes_at_end",
        content("append").map(|c| String::from_utf8_lossy(&c).into_owned()),
        "abc",
    );
    let _ = std::fs::create_dir("dir");
    t.ok(
        "o_directory_on_directory",
        open("dir", O_RDONLY | O_DIRECTORY, 0).map(close),
    );
    t.errno(
        "o_directory_on_file",
        open("new", O_RDONLY | O_DIRECTORY, 0),
        libc::ENOTDIR,
    );
    t.errno(
        "directory_for_writing",
        open("dir", O_WRONLY, 0),
        libc::EISDIR,
    );
    let _ = std::os::unix::fs::symlink("new", "link-to-new");
    t.errno(
        "o_nofollow_on_symlink",
        open("link-to-new", O_RDONLY | O_NOFOLLOW, 0),
        libc::ELOOP,
    );
    t.ok(
        "symlink_followed_without_o_nofollow",
        open("link-to-new", O_RDONLY, 0).map(close),
    );
    let cloexec = open("new", O_RDONLY | O_CLOEXEC, 0).and_then(|fd| {
        // SAFETY: F_GETFD takes no pointer.
        let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) });
        close(fd);
        flags
    });
    t.shows("o_cloexec_sets_fd_cloexec", cloexec, libc::FD_CLOEXEC);
    t.errno(
        "o_creat_o_excl_on_symlink",
        open("link-to-new", O_WRONLY | O_CREAT | O_EXCL, 0o644),
        libc::EEXIST,
    );
    t.errno("empty_path", open("", O_RDONLY, 0), libc::ENOENT);
    t.errno(
        "file_as_directory",
        open("new/x", O_RDONLY, 0),
        libc::ENOTDIR,
    );
}

pub fn read_write(t: &Transcript) {
    let Ok(fd) = open("data", O_RDWR | O_CREAT | O_TRUNC, 0o644) else {
        return t.fail("write_count", "a file", Errno::last());
    };
    let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    t.shows("write_count", write(fd, &data), 5000);
    // SAFETY: lseek takes no pointer.
    let _ = unsafe { libc::lseek(fd, 0, libc::SEEK_SET) };
    let back = read(fd, 8192);
    t.is("read_back_equals_written", back.as_deref() == Ok(&data[..]));
    t.shows("read_at_eof_is_0", read(fd, 10).map(|b| b.len()), 0);
    let (mut a, mut b) = ([0u8; 3], [0u8; 5]);
    let out = [b"abc".as_slice(), b"defgh".as_slice()];
    let iov_out: Vec<libc::iovec> = out
        .iter()
        .map(|s| libc::iovec {
            iov_base: s.as_ptr() as *mut _,
            iov_len: s.len(),
        })
        .collect();
    // SAFETY: the iovecs point to live buffers of their lengths; lseek takes no pointer.
    let wrote = cvt(unsafe {
        libc::lseek(fd, 0, libc::SEEK_SET);
        libc::writev(fd, iov_out.as_ptr(), 2)
    });
    t.shows("writev_total", wrote, 8);
    let iov_in = [
        libc::iovec {
            iov_base: a.as_mut_ptr().cast(),
            iov_len: 3,
        },
        libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: 5,
        },
    ];
    // SAFETY: as above, with writable buffers.
    let got = cvt(unsafe {
        libc::lseek(fd, 0, libc::SEEK_SET);
        libc::readv(fd, iov_in.as_ptr(), 2)
    });
    t.shows("readv_total", got, 8);
    t.is("readv_scatters_in_order", &a == b"abc" && &b == b"defgh");
    // SAFETY: pwrite/pread use live buffers; lseek takes no pointer.
    let (pw, pr, pos) = unsafe {
        let before = libc::lseek(fd, 2, libc::SEEK_SET);
        let pw = cvt(libc::pwrite(fd, b"XY".as_ptr().cast(), 2, 100));
        let mut two = [0u8; 2];
        let pr = cvt(libc::pread(fd, two.as_mut_ptr().cast(), 2, 100)).map(|_| two);
        (pw, pr, libc::lseek(fd, 0, libc::SEEK_CUR) == before)
    };
    t.shows("pwrite_count", pw, 2);
    t.is("pread_reads_pwrite", pr == Ok(*b"XY"));
    t.is("pread_pwrite_keep_offset", pos);
    let mut one = [0u8; 1];
    // SAFETY: a live buffer; the offset is negative on purpose.
    let neg = cvt(unsafe { libc::pread(fd, one.as_mut_ptr().cast(), 1, -1) });
    t.errno("pread_negative_offset", neg, libc::EINVAL);
    close(fd);
    t.errno("read_closed_fd", read(fd, 1), libc::EBADF);
    if let Ok(w) = open("data", O_WRONLY, 0) {
        t.errno("read_write_only_fd", read(w, 1), libc::EBADF);
        close(w);
    }
    if let Ok(r) = open("data", O_RDONLY, 0) {
        t.errno("write_read_only_fd", write(r, b"x"), libc::EBADF);
        close(r);
    }
    if let Ok(d) = open("dir", O_RDONLY | O_DIRECTORY, 0) {
        t.errno("read_directory", read(d, 1), libc::EISDIR);
        close(d);
    }
    t.shows(
        "write_zero_bytes",
        open("data", O_WRONLY, 0).and_then(|fd| write(fd, b"").map(|n| (close(fd), n).1)),
        0,
    );
}

fn lseek(fd: i32, off: i64, whence: i32) -> Result<i64, Errno> {
    // SAFETY: lseek takes no pointer.
    cvt(unsafe { libc::lseek(fd, off, whence) })
}

pub fn seek(t: &Transcript) {
    let _ = make("seek", b"0123456789");
    let Ok(fd) = open("seek", O_RDWR, 0) else {
        return t.fail("seek_end", "a file", Errno::last());
    };
    t.shows("seek_end", lseek(fd, 0, libc::SEEK_END), 10);
    t.shows("seek_end_minus_3", lseek(fd, -3, libc::SEEK_END), 7);
    t.shows(
        "read_after_seek_end_minus_3",
        read(fd, 10).map(|b| String::from_utf8_lossy(&b).into_owned()),
        "789",
    );
    t.shows("seek_cur_back_5", lseek(fd, -5, libc::SEEK_CUR), 5);
    t.errno(
        "seek_before_start",
        lseek(fd, -1, libc::SEEK_SET),
        libc::EINVAL,
    );
    t.errno("seek_bad_whence", lseek(fd, 0, 99), libc::EINVAL);
    t.shows("seek_past_end", lseek(fd, 20, libc::SEEK_SET), 20);
    let _ = write(fd, b"!");
    t.shows("write_past_end_grows", fstat(fd).map(|st| st.st_size), 21);
    let _ = lseek(fd, 10, libc::SEEK_SET);
    t.is("hole_reads_zero", read(fd, 10) == Ok(vec![0; 10]));
    close(fd);
    let mut p = [0; 2];
    // SAFETY: `p` has room for two descriptors.
    if unsafe { libc::pipe(p.as_mut_ptr()) } == 0 {
        t.errno("seek_on_pipe", lseek(p[0], 0, libc::SEEK_SET), libc::ESPIPE);
        close(p[0]);
        close(p[1]);
    }
    t.errno("seek_bad_fd", lseek(-1, 0, libc::SEEK_SET), libc::EBADF);
}
