//! The directory tree: getdents64, mkdir/rmdir/unlink, rename and renameat2, link,
//! symlink and readlink.

use super::{c, close, content, make, open, stat};
use abi_tests::errno::{cvt, raw, Errno};
use abi_tests::Transcript;
use core::mem::offset_of;
use linux_raw_sys::general::linux_dirent64;

/// The entries of directory `fd` as `name:type` (`a:DT_REG`), sorted, read with a
/// buffer of `size` bytes.
fn entries(fd: i32, size: usize) -> Result<Vec<String>, Errno> {
    let mut buf = vec![0u8; size];
    let mut names = Vec::new();
    loop {
        // SAFETY: `buf` is a live, writable buffer of its length.
        let n = unsafe {
            raw(
                libc::SYS_getdents64,
                [fd as usize, buf.as_mut_ptr() as usize, size, 0, 0, 0],
            )
        }? as usize;
        if n == 0 {
            break;
        }
        let mut off = 0;
        let name_field = offset_of!(linux_dirent64, d_name);
        while off + name_field <= n {
            let reclen_at = off + offset_of!(linux_dirent64, d_reclen);
            let reclen = u16::from_ne_bytes([buf[reclen_at], buf[reclen_at + 1]]) as usize;
            if reclen < name_field || off + reclen > n {
                return Err(Errno(libc::EIO));
            }
            let kind = buf[off + offset_of!(linux_dirent64, d_type)];
            let name = &buf[off + name_field..off + reclen];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            names.push((String::from_utf8_lossy(name).into_owned(), dtype(kind)));
            off += reclen;
        }
    }
    names.sort();
    Ok(names
        .into_iter()
        .map(|(name, kind)| format!("{name}:{kind}"))
        .collect())
}

fn dtype(kind: u8) -> &'static str {
    match kind {
        libc::DT_REG => "DT_REG",
        libc::DT_DIR => "DT_DIR",
        libc::DT_LNK => "DT_LNK",
        libc::DT_FIFO => "DT_FIFO",
        _ => "DT_OTHER",
    }
}

pub fn dirents(t: &Transcript) {
    let _ = std::fs::create_dir("list");
    let _ = make("list/a", b"");
    let _ = std::fs::create_dir("list/b");
    let _ = std::os::unix::fs::symlink("a", "list/c");
    // SAFETY: mkfifo reads a valid C string.
    let _ = unsafe { libc::mkfifo(c("list/d").as_ptr(), 0o644) };
    let Ok(fd) = open("list", libc::O_RDONLY | libc::O_DIRECTORY, 0) else {
        return t.fail("getdents64_entries", "a directory", Errno::last());
    };
    t.shows(
        "getdents64_entries",
        entries(fd, 4096).map(|e| e.join(" ")),
        ".:DT_DIR ..:DT_DIR a:DT_REG b:DT_DIR c:DT_LNK d:DT_FIFO",
    );
    close(fd);
    if let Ok(fd) = open("list", libc::O_RDONLY | libc::O_DIRECTORY, 0) {
        t.shows(
            "getdents64_small_buffer_same_entries",
            entries(fd, 64).map(|e| e.len()),
            6,
        );
        t.errno(
            "getdents64_buffer_too_small",
            entries(fd, 8).and_then(|_| {
                // SAFETY: lseek takes no pointer.
                unsafe { libc::lseek(fd, 0, libc::SEEK_SET) };
                entries(fd, 8)
            }),
            libc::EINVAL,
        );
        close(fd);
    }
    if let Ok(fd) = open("list/a", libc::O_RDONLY, 0) {
        t.errno("getdents64_on_file", entries(fd, 4096), libc::ENOTDIR);
        close(fd);
    }
    t.errno("getdents64_bad_fd", entries(-1, 4096), libc::EBADF);
}

fn mkdir(p: &str, mode: libc::mode_t) -> Result<i32, Errno> {
    // SAFETY: a valid C string.
    cvt(unsafe { libc::mkdir(c(p).as_ptr(), mode) })
}

fn rmdir(p: &str) -> Result<i32, Errno> {
    // SAFETY: a valid C string.
    cvt(unsafe { libc::rmdir(c(p).as_ptr()) })
}

fn unlink(p: &str) -> Result<i32, Errno> {
    // SAFETY: a valid C string.
    cvt(unsafe { libc::unlink(c(p).as_ptr()) })
}

fn rename2(from: &str, to: &str, flags: u32) -> Result<i32, Errno> {
    // SAFETY: valid C strings.
    cvt(unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            c(from).as_ptr(),
            libc::AT_FDCWD,
            c(to).as_ptr(),
            flags,
        )
    })
}

pub fn names(t: &Transcript) {
    t.ok("mkdir", mkdir("m", 0o777));
    t.shows(
        "mkdir_mode_minus_umask",
        stat("m").map(|s| s.st_mode & 0o777),
        0o755,
    );
    t.errno("mkdir_existing", mkdir("m", 0o777), libc::EEXIST);
    t.errno("mkdir_missing_parent", mkdir("nope/m", 0o777), libc::ENOENT);
    let _ = make("m/f", b"1");
    t.errno("rmdir_not_empty", rmdir("m"), libc::ENOTEMPTY);
    t.errno("rmdir_file", rmdir("m/f"), libc::ENOTDIR);
    t.errno("unlink_directory", unlink("m"), libc::EISDIR);
    t.errno("rmdir_dot", rmdir("m/."), libc::EINVAL);
    t.ok("unlink_file", unlink("m/f"));
    t.errno("unlink_missing", unlink("m/f"), libc::ENOENT);
    t.ok("rmdir_empty", rmdir("m"));
    let _ = make("r1", b"one");
    let _ = make("r2", b"two");
    t.ok("rename_over_file", rename2("r1", "r2", 0));
    t.is(
        "rename_replaced_target",
        content("r2") == Ok(b"one".to_vec()) && stat("r1").is_err(),
    );
    let _ = make("r3", b"three");
    t.errno(
        "renameat2_noreplace_existing",
        rename2("r3", "r2", libc::RENAME_NOREPLACE),
        libc::EEXIST,
    );
    t.ok(
        "renameat2_exchange",
        rename2("r3", "r2", libc::RENAME_EXCHANGE),
    );
    t.is(
        "exchange_swapped",
        content("r2") == Ok(b"three".to_vec()) && content("r3") == Ok(b"one".to_vec()),
    );
    let _ = mkdir("d1", 0o755);
    let _ = mkdir("d2", 0o755);
    let _ = make("d2/x", b"");
    t.errno(
        "rename_dir_over_nonempty_dir",
        rename2("d1", "d2", 0),
        libc::ENOTEMPTY,
    );
    t.errno("rename_file_over_dir", rename2("r2", "d1", 0), libc::EISDIR);
    t.errno(
        "rename_dir_over_file",
        rename2("d1", "r2", 0),
        libc::ENOTDIR,
    );
    t.errno(
        "rename_dir_into_itself",
        rename2("d2", "d2/sub", 0),
        libc::EINVAL,
    );
    t.errno("rename_missing", rename2("missing", "x", 0), libc::ENOENT);
    t.errno(
        "renameat2_bad_flags",
        rename2("r2", "r4", 0x80),
        libc::EINVAL,
    );
}

fn readlink(p: &str, size: usize) -> Result<String, Errno> {
    let mut buf = vec![0u8; size];
    // SAFETY: a valid C string and a writable buffer of `size` bytes.
    let n = cvt(unsafe { libc::readlink(c(p).as_ptr(), buf.as_mut_ptr().cast(), size) })?;
    buf.truncate(n as usize);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

pub fn links(t: &Transcript) {
    let _ = make("orig", b"x");
    // SAFETY: the paths are C strings that live through the call; the rest are integers.
    let link = |a: &str, b: &str| cvt(unsafe { libc::link(c(a).as_ptr(), c(b).as_ptr()) });
    t.ok("link", link("orig", "hard"));
    t.shows("link_nlink_2", stat("orig").map(|s| s.st_nlink), 2);
    let same = matches!((stat("orig"), stat("hard")), (Ok(a), Ok(b)) if a.st_ino == b.st_ino);
    t.is("link_same_inode", same);
    t.errno("link_existing_name", link("orig", "hard"), libc::EEXIST);
    t.errno("link_directory", link("dir", "dir-link"), libc::EPERM);
    t.errno("link_missing", link("missing", "x"), libc::ENOENT);
    let _ = unlink("hard");
    t.shows("unlink_drops_nlink", stat("orig").map(|s| s.st_nlink), 1);
    // SAFETY: the paths are C strings that live through the call; the rest are integers.
    let symlink = |a: &str, b: &str| cvt(unsafe { libc::symlink(c(a).as_ptr(), c(b).as_ptr()) });
    t.ok(
        "symlink_dangling_allowed",
        symlink("no/such/target", "dangling"),
    );
    t.shows(
        "readlink_target",
        readlink("dangling", 64),
        "no/such/target",
    );
    t.shows(
        "readlink_truncates_silently",
        readlink("dangling", 4),
        "no/s",
    );
    t.errno("stat_dangling", stat("dangling"), libc::ENOENT);
    t.errno(
        "symlink_existing_name",
        symlink("x", "dangling"),
        libc::EEXIST,
    );
    t.errno("readlink_regular_file", readlink("orig", 64), libc::EINVAL);
    let _ = symlink("loop2", "loop1");
    let _ = symlink("loop1", "loop2");
    t.errno("symlink_loop", stat("loop1"), libc::ELOOP);
}
