//! Descriptors and the process's view of the tree: dup/dup2/dup3, fcntl, getcwd/chdir/
//! fchdir, umask, faccessat2, sendfile and statfs.

use super::{as_nobody, c, close, content, make, open, read, write};
use abi_tests::errno::{cvt, raw, Errno};
use abi_tests::Transcript;
use std::path::Path;

fn fcntl_int(fd: i32, cmd: i32, arg: i32) -> Result<i32, Errno> {
    // SAFETY: the commands used take an integer argument, never a pointer.
    cvt(unsafe { libc::fcntl(fd, cmd, arg) })
}

/// Whether `fd` is open.
fn is_open(fd: i32) -> bool {
    fcntl_int(fd, libc::F_GETFD, 0).is_ok()
}

pub fn dups(t: &Transcript) {
    let _ = make("dup", b"abcdef");
    let Ok(fd) = open("dup", libc::O_RDONLY, 0) else {
        return t.fail("dup_lowest_free", "a file", Errno::last());
    };
    // SAFETY: takes descriptor numbers and flags only.
    let dup = |fd| cvt(unsafe { libc::dup(fd) });
    let d = dup(fd);
    t.is("dup_is_lowest_free", d.is_ok_and(|d| d == fd + 1));
    if let Ok(d) = d {
        let _ = read(fd, 2);
        t.shows(
            "dup_shares_offset",
            read(d, 2).map(|b| String::from_utf8_lossy(&b).into_owned()),
            "cd",
        );
        close(d);
    }
    // SAFETY: takes descriptor numbers and flags only.
    let dup2 = |a, b| cvt(unsafe { libc::dup2(a, b) });
    t.shows(
        "dup2_same_fd_returns_it",
        dup2(fd, fd).map(|r| r == fd),
        true,
    );
    t.shows("dup2_to_chosen_fd", dup2(fd, 100), 100);
    t.is("dup2_target_open", is_open(100));
    t.errno("dup2_bad_oldfd", dup2(-1, 101), libc::EBADF);
    t.errno("dup2_negative_newfd", dup2(fd, -1), libc::EBADF);
    // SAFETY: takes descriptor numbers and flags only.
    let dup3 = |a, b, f| cvt(unsafe { libc::dup3(a, b, f) });
    t.errno("dup3_same_fd", dup3(fd, fd, 0), libc::EINVAL);
    t.errno(
        "dup3_bad_flags",
        dup3(fd, 102, libc::O_NONBLOCK),
        libc::EINVAL,
    );
    t.shows(
        "dup3_o_cloexec",
        dup3(fd, 100, libc::O_CLOEXEC).and_then(|d| fcntl_int(d, libc::F_GETFD, 0)),
        libc::FD_CLOEXEC,
    );
    t.shows(
        "dup2_clears_cloexec",
        dup2(fd, 100).and_then(|d| fcntl_int(d, libc::F_GETFD, 0)),
        0,
    );
    close(100);
    t.errno("dup_closed_fd", dup(100), libc::EBADF);
    close(fd);
}

pub fn fcntl(t: &Transcript) {
    let Ok(fd) = open("dup", libc::O_WRONLY | libc::O_APPEND, 0) else {
        return t.fail("f_getfl", "a file", Errno::last());
    };
    let fl = fcntl_int(fd, libc::F_GETFL, 0)
        .map(|f| f & (libc::O_ACCMODE | libc::O_APPEND | libc::O_NONBLOCK));
    t.shows("f_getfl_wronly_append", fl, libc::O_WRONLY | libc::O_APPEND);
    t.ok(
        "f_setfl_nonblock",
        fcntl_int(fd, libc::F_SETFL, libc::O_NONBLOCK),
    );
    let fl = fcntl_int(fd, libc::F_GETFL, 0)
        .map(|f| f & (libc::O_ACCMODE | libc::O_APPEND | libc::O_NONBLOCK));
    t.shows(
        "f_setfl_replaces_status_flags",
        fl,
        libc::O_WRONLY | libc::O_NONBLOCK,
    );
    t.shows(
        "f_dupfd_at_least_arg",
        fcntl_int(fd, libc::F_DUPFD, 50).map(|d| (close(d), d).1),
        50,
    );
    let cloexec = fcntl_int(fd, libc::F_DUPFD_CLOEXEC, 60).and_then(|d| {
        let r = fcntl_int(d, libc::F_GETFD, 0);
        close(d);
        r
    });
    t.shows("f_dupfd_cloexec", cloexec, libc::FD_CLOEXEC);
    t.ok(
        "f_setfd_cloexec",
        fcntl_int(fd, libc::F_SETFD, libc::FD_CLOEXEC),
    );
    t.shows(
        "f_getfd_reads_cloexec",
        fcntl_int(fd, libc::F_GETFD, 0),
        libc::FD_CLOEXEC,
    );
    t.errno("fcntl_unknown_cmd", fcntl_int(fd, 9999, 0), libc::EINVAL);
    t.errno(
        "f_dupfd_past_nofile_limit",
        fcntl_int(fd, libc::F_DUPFD, i32::MAX),
        libc::EINVAL,
    );
    t.errno("fcntl_bad_fd", fcntl_int(-1, libc::F_GETFD, 0), libc::EBADF);
    close(fd);
}

fn getcwd(size: usize) -> Result<String, Errno> {
    let mut buf = vec![0u8; size];
    // SAFETY: a writable buffer of `size` bytes (the raw call: glibc would allocate).
    let n = unsafe {
        raw(
            libc::SYS_getcwd,
            [buf.as_mut_ptr() as usize, size, 0, 0, 0, 0],
        )
    }? as usize;
    buf.truncate(n.saturating_sub(1));
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn chdir(p: &str) -> Result<i32, Errno> {
    // SAFETY: a valid C string.
    cvt(unsafe { libc::chdir(c(p).as_ptr()) })
}

pub fn cwd(t: &Transcript, scratch: &Path) {
    let home = std::fs::canonicalize(scratch)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    t.is(
        "getcwd_is_scratch",
        getcwd(4096).as_deref() == Ok(home.as_str()),
    );
    t.shows(
        "getcwd_length_includes_nul",
        getcwd(4096).map(|s| s.len() == home.len()),
        true,
    );
    t.errno("getcwd_buffer_too_small", getcwd(home.len()), libc::ERANGE);
    let _ = std::fs::create_dir("sub");
    let here = open(".", libc::O_RDONLY | libc::O_DIRECTORY, 0);
    t.ok("chdir_subdir", chdir("sub"));
    t.is(
        "getcwd_in_subdir",
        getcwd(4096) == Ok(format!("{home}/sub")),
    );
    if let Ok(fd) = here {
        // SAFETY: fchdir takes no pointer.
        t.ok("fchdir_back", cvt(unsafe { libc::fchdir(fd) }));
        close(fd);
    }
    t.is(
        "getcwd_after_fchdir",
        getcwd(4096).as_deref() == Ok(home.as_str()),
    );
    t.errno("chdir_file", chdir("dup"), libc::ENOTDIR);
    t.errno("chdir_missing", chdir("missing"), libc::ENOENT);
    if let Ok(fd) = open("dup", libc::O_RDONLY, 0) {
        // SAFETY: fchdir takes no pointer.
        t.errno(
            "fchdir_file",
            cvt(unsafe { libc::fchdir(fd) }),
            libc::ENOTDIR,
        );
        close(fd);
    }
    // SAFETY: umask takes no pointer and cannot fail.
    let old = unsafe { libc::umask(0o027) };
    t.eq("umask_returns_previous", old, 0o022);
    let _ = std::fs::create_dir("masked");
    t.shows(
        "umask_027_applies",
        super::stat("masked").map(|s| s.st_mode & 0o777),
        0o750,
    );
    // SAFETY: as above.
    t.eq(
        "umask_keeps_only_0777",
        unsafe { libc::umask(0o7777) },
        0o027,
    );
    // SAFETY: as above.
    t.eq("umask_masked_to_0777", unsafe { libc::umask(0o022) }, 0o777);
}

fn faccessat2(p: &str, mode: i32, flags: i32) -> Result<i64, Errno> {
    let path = c(p);
    // SAFETY: a valid C string; the other arguments are integers.
    unsafe {
        raw(
            libc::SYS_faccessat2,
            [
                libc::AT_FDCWD as usize,
                path.as_ptr() as usize,
                mode as usize,
                flags as usize,
                0,
                0,
            ],
        )
    }
}

pub fn access(t: &Transcript) {
    let _ = make("ro", b"");
    let _ = std::fs::set_permissions("ro", std::os::unix::fs::PermissionsExt::from_mode(0o444));
    t.ok("faccessat2_f_ok", faccessat2("ro", libc::F_OK, 0));
    t.errno(
        "faccessat2_missing",
        faccessat2("missing", libc::F_OK, 0),
        libc::ENOENT,
    );
    t.ok(
        "faccessat2_root_may_write_0444",
        faccessat2("ro", libc::W_OK, 0),
    );
    t.errno(
        "faccessat2_root_cannot_execute_0444",
        faccessat2("ro", libc::X_OK, 0),
        libc::EACCES,
    );
    t.ok(
        "faccessat2_eaccess",
        faccessat2("ro", libc::R_OK, libc::AT_EACCESS),
    );
    t.errno(
        "faccessat2_bad_mode",
        faccessat2("ro", 0o10, 0),
        libc::EINVAL,
    );
    t.errno(
        "faccessat2_bad_flags",
        faccessat2("ro", libc::F_OK, 0x1),
        libc::EINVAL,
    );
    as_nobody(
        t,
        "faccessat2_nobody_w_ok",
        || faccessat2("ro", libc::W_OK, 0).map(|_| 0),
        libc::EACCES,
    );
}

pub fn sendfile(t: &Transcript) {
    let data: Vec<u8> = (0..200u8).collect();
    let _ = make("src", &data);
    let (Ok(from), Ok(to)) = (
        open("src", libc::O_RDONLY, 0),
        open("dst", libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 0o644),
    ) else {
        return t.fail("sendfile_count", "two files", Errno::last());
    };
    let mut off: libc::off_t = 50;
    // SAFETY: `off` is a live off_t.
    let n = cvt(unsafe { libc::sendfile(to, from, &mut off, 100) });
    t.shows("sendfile_count", n, 100);
    t.eq("sendfile_advances_offset", off, 150);
    t.is(
        "sendfile_copied_bytes",
        content("dst").as_deref() == Ok(&data[50..150]),
    );
    // SAFETY: a null offset uses and moves the file offset.
    let n = cvt(unsafe { libc::sendfile(to, from, core::ptr::null_mut(), 1000) });
    t.shows("sendfile_without_offset_to_eof", n, 200);
    // SAFETY: as above.
    let n = cvt(unsafe { libc::sendfile(to, from, core::ptr::null_mut(), 10) });
    t.shows("sendfile_at_eof", n, 0);
    // SAFETY: as above; the descriptors are swapped on purpose.
    let bad = cvt(unsafe { libc::sendfile(from, to, core::ptr::null_mut(), 10) });
    t.errno("sendfile_wrong_directions", bad, libc::EBADF);
    let _ = write(to, b"");
    close(from);
    close(to);
}

pub fn statfs(t: &Transcript) {
    // SAFETY: statfs is plain data.
    let mut st: libc::statfs = unsafe { core::mem::zeroed() };
    // SAFETY: a valid C string and a writable statfs.
    let r = cvt(unsafe { libc::statfs(c(".").as_ptr(), &mut st) });
    t.ok("statfs_scratch", r);
    t.is("statfs_is_tmpfs", st.f_type == libc::TMPFS_MAGIC);
    t.is("statfs_block_size_positive", st.f_bsize > 0);
    // SAFETY: as above.
    let r = cvt(unsafe { libc::statfs(c("missing").as_ptr(), &mut st) });
    t.errno("statfs_missing", r, libc::ENOENT);
    // SAFETY: a writable statfs.
    t.errno(
        "fstatfs_bad_fd",
        cvt(unsafe { libc::fstatfs(-1, &mut st) }),
        libc::EBADF,
    );
}
