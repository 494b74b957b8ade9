//! Metadata: the stat family, chmod/chown, utimensat and truncate.

use super::{as_nobody, c, close, content, fstat, make, mode_of, open, stat, stat_at};
use abi_tests::errno::{cvt, Errno};
use abi_tests::Transcript;

pub fn stats(t: &Transcript) {
    let _ = make("st", b"hello");
    let _ = std::os::unix::fs::symlink("st", "st-link");
    let st = stat("st");
    t.shows("stat_size", st.map(|s| s.st_size), 5);
    t.shows(
        "stat_mode",
        st.map(|s| super::mode_string(s.st_mode)),
        "-rw-r--r--",
    );
    t.shows("stat_nlink", st.map(|s| s.st_nlink), 1);
    t.shows(
        "stat_uid_gid_root",
        st.map(|s| (s.st_uid, s.st_gid) == (0, 0)),
        true,
    );
    let via_fd = open("st", libc::O_RDONLY, 0).and_then(|fd| fstat(fd).map(|f| (close(fd), f).1));
    let same = |a: &Result<libc::stat, Errno>, b: &Result<libc::stat, Errno>| match (a, b) {
        (Ok(a), Ok(b)) => (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev),
        _ => false,
    };
    t.is("fstat_same_inode_as_stat", same(&st, &via_fd));
    let link = stat_at("st-link", libc::AT_SYMLINK_NOFOLLOW);
    t.shows(
        "lstat_symlink_mode",
        link.map(|s| super::mode_string(s.st_mode)),
        "lrwxrwxrwx",
    );
    t.shows(
        "lstat_symlink_size_is_target_length",
        link.map(|s| s.st_size),
        2,
    );
    t.is("stat_follows_symlink", same(&st, &stat("st-link")));
    t.is(
        "blocks_cover_size",
        st.is_ok_and(|s| s.st_blocks * 512 >= s.st_size && s.st_blksize > 0),
    );
    t.shows(
        "stat_directory_mode",
        stat(".").map(|s| super::mode_string(s.st_mode & !0o7777 | 0o755)),
        "drwxr-xr-x",
    );
    t.errno("stat_missing", stat("missing"), libc::ENOENT);
    t.errno("stat_through_file", stat("st/x"), libc::ENOTDIR);
    t.errno("stat_empty_path", stat(""), libc::ENOENT);
    let empty_path = open("st", libc::O_RDONLY, 0).and_then(|fd| {
        // SAFETY: stat is plain data.
        let mut s: libc::stat = unsafe { core::mem::zeroed() };
        // SAFETY: an empty C string and a writable stat.
        let r = cvt(unsafe { libc::fstatat(fd, c"".as_ptr(), &mut s, libc::AT_EMPTY_PATH) });
        close(fd);
        r.map(|_| s)
    });
    t.is("fstatat_at_empty_path_is_fstat", same(&st, &empty_path));
    t.errno("fstat_bad_fd", fstat(-1), libc::EBADF);
    t.errno(
        "fstatat_unknown_flag",
        stat_at("st", 0x4000_0000),
        libc::EINVAL,
    );
}

pub fn modes(t: &Transcript) {
    let _ = make("mode", b"");
    // SAFETY: the paths are C strings that live through the call; the rest are integers.
    let chmod = |p: &str, m| cvt(unsafe { libc::chmod(c(p).as_ptr(), m) });
    t.ok("chmod_0600", chmod("mode", 0o600));
    t.shows("chmod_mode_seen", mode_of("mode"), "-rw-------");
    let fchmod = open("mode", libc::O_RDONLY, 0).and_then(|fd| {
        // SAFETY: fchmod takes no pointer.
        let r = cvt(unsafe { libc::fchmod(fd, 0o4755) });
        close(fd);
        r
    });
    t.ok("fchmod_setuid_0755", fchmod);
    t.shows(
        "fchmod_mode_seen",
        stat("mode").map(|s| s.st_mode & 0o7777),
        0o4755,
    );
    t.errno("chmod_missing", chmod("missing", 0o600), libc::ENOENT);
    // SAFETY: the paths are C strings that live through the call; the rest are integers.
    let chown = |p: &str, u, g| cvt(unsafe { libc::chown(c(p).as_ptr(), u, g) });
    t.ok("chown_1000_1000", chown("mode", 1000, 1000));
    t.shows(
        "chown_ids_seen",
        stat("mode").map(|s| (s.st_uid, s.st_gid) == (1000, 1000)),
        true,
    );
    t.shows(
        "chown_clears_setuid",
        stat("mode").map(|s| s.st_mode & 0o7777),
        0o755,
    );
    t.ok("chown_minus_one_keeps", chown("mode", u32::MAX, 2000));
    t.shows(
        "chown_minus_one_ids_seen",
        stat("mode").map(|s| (s.st_uid, s.st_gid) == (1000, 2000)),
        true,
    );
    let _ = std::os::unix::fs::symlink("mode", "mode-link");
    // SAFETY: as above.
    let l = cvt(unsafe {
        libc::fchownat(
            libc::AT_FDCWD,
            c("mode-link").as_ptr(),
            3000,
            3000,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    });
    t.ok("lchown_symlink", l);
    let link_uid = stat_at("mode-link", libc::AT_SYMLINK_NOFOLLOW).map(|s| s.st_uid);
    let target_uid = stat("mode").map(|s| s.st_uid);
    t.is(
        "lchown_changes_link_not_target",
        link_uid == Ok(3000) && target_uid == Ok(1000),
    );
    let _ = make("rootfile", b"");
    as_nobody(
        t,
        "chmod_not_owner",
        || chmod("rootfile", 0o777),
        libc::EPERM,
    );
    as_nobody(
        t,
        "chown_unprivileged",
        || chown("rootfile", 65534, 65534),
        libc::EPERM,
    );
}

fn utimens(path: &str, times: &[libc::timespec; 2], flags: i32) -> Result<i32, Errno> {
    // SAFETY: a valid C string and two timespecs.
    cvt(unsafe { libc::utimensat(libc::AT_FDCWD, c(path).as_ptr(), times.as_ptr(), flags) })
}

pub fn times(t: &Transcript) {
    let _ = make("times", b"");
    let at = |s, ns| libc::timespec {
        tv_sec: s,
        tv_nsec: ns,
    };
    t.ok(
        "utimensat_set_both",
        utimens("times", &[at(1_000_000_000, 5), at(1_500_000_000, 7)], 0),
    );
    let st = stat("times");
    let both = st.map(|s| (s.st_atime, s.st_atime_nsec, s.st_mtime, s.st_mtime_nsec));
    t.is(
        "utimensat_exact_times",
        both == Ok((1_000_000_000, 5, 1_500_000_000, 7)),
    );
    t.ok(
        "utimensat_omit_atime",
        utimens("times", &[at(0, libc::UTIME_OMIT), at(1_600_000_000, 0)], 0),
    );
    let st = stat("times").map(|s| (s.st_atime, s.st_mtime));
    t.is(
        "utime_omit_keeps_atime",
        st == Ok((1_000_000_000, 1_600_000_000)),
    );
    t.ok(
        "utimensat_now",
        utimens(
            "times",
            &[at(0, libc::UTIME_NOW), at(0, libc::UTIME_NOW)],
            0,
        ),
    );
    t.is(
        "utime_now_is_recent",
        stat("times").is_ok_and(|s| s.st_mtime > 1_600_000_000),
    );
    t.errno(
        "utimensat_bad_nsec",
        utimens("times", &[at(0, 1_000_000_000), at(0, 0)], 0),
        libc::EINVAL,
    );
    t.errno(
        "utimensat_missing",
        utimens("missing", &[at(0, 0), at(0, 0)], 0),
        libc::ENOENT,
    );
    t.errno(
        "utimensat_bad_flags",
        utimens("times", &[at(0, 0), at(0, 0)], 0x4000),
        libc::EINVAL,
    );
}

pub fn truncate(t: &Transcript) {
    let _ = make("trunc2", b"abcdef");
    // SAFETY: the paths are C strings that live through the call; the rest are integers.
    let trunc = |p: &str, len| cvt(unsafe { libc::truncate(c(p).as_ptr(), len) });
    t.ok("truncate_grow", trunc("trunc2", 10));
    t.is(
        "truncate_grows_with_zeros",
        content("trunc2") == Ok(b"abcdef\0\0\0\0".to_vec()),
    );
    t.ok("truncate_shrink", trunc("trunc2", 2));
    t.is("truncate_shrinks", content("trunc2") == Ok(b"ab".to_vec()));
    t.errno("truncate_negative", trunc("trunc2", -1), libc::EINVAL);
    t.errno("truncate_directory", trunc("dir", 0), libc::EISDIR);
    t.errno("truncate_missing", trunc("missing", 0), libc::ENOENT);
    let ro = open("trunc2", libc::O_RDONLY, 0).and_then(|fd| {
        // SAFETY: ftruncate takes no pointer.
        let r = cvt(unsafe { libc::ftruncate(fd, 0) });
        close(fd);
        r
    });
    t.errno("ftruncate_read_only_fd", ro, libc::EINVAL);
}
