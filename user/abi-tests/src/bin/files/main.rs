//! `files`: open flags, read/write and their vectored and positioned forms, lseek, the stat
//! family, getdents64, the directory-tree calls, chmod/chown, utimensat, truncate, the
//! descriptor calls (dup, dup2, dup3, fcntl), the working directory, umask, faccessat2,
//! sendfile and statfs.
//!
//! Everything happens under the scratch directory (argv[1] or `$ABI_SCRATCH`), an empty
//! directory on a tmpfs; the program makes it its working directory and uses relative
//! paths.

mod fds;
mod io;
mod meta;
mod tree;

use abi_tests::errno::{cvt, Errno};
pub use abi_tests::fd::{c, close, open, read, write};
use abi_tests::report::scratch_dir;
use abi_tests::Transcript;
use core::ffi::c_int;

fn main() {
    let t = Transcript::new("files");
    let Some(dir) = scratch_dir() else {
        return t.fail("scratch_dir", "a directory argument", "none");
    };
    let entered = std::env::set_current_dir(&dir);
    t.is("scratch_dir_entered", entered.is_ok());
    // SAFETY: umask takes no pointer and cannot fail.
    unsafe { libc::umask(0o022) };
    io::open_flags(&t);
    io::read_write(&t);
    io::seek(&t);
    meta::stats(&t);
    meta::modes(&t);
    meta::times(&t);
    meta::truncate(&t);
    tree::dirents(&t);
    tree::names(&t);
    tree::links(&t);
    fds::dups(&t);
    fds::fcntl(&t);
    fds::cwd(&t, &dir);
    fds::access(&t);
    fds::sendfile(&t);
    fds::statfs(&t);
}

/// Creates (or truncates) `path` holding `data`.
pub fn make(path: &str, data: &[u8]) -> Result<(), Errno> {
    let fd = open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 0o644)?;
    let r = write(fd, data);
    close(fd);
    r.map(drop)
}

/// The whole content of `path`.
pub fn content(path: &str) -> Result<Vec<u8>, Errno> {
    let fd = open(path, libc::O_RDONLY, 0)?;
    let r = read(fd, 1 << 16);
    close(fd);
    r
}

/// fstatat(AT_FDCWD, path, flags).
pub fn stat_at(path: &str, flags: c_int) -> Result<libc::stat, Errno> {
    // SAFETY: stat is plain data.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: valid path and a writable stat.
    cvt(unsafe { libc::fstatat(libc::AT_FDCWD, c(path).as_ptr(), &mut st, flags) })?;
    Ok(st)
}

pub fn stat(path: &str) -> Result<libc::stat, Errno> {
    stat_at(path, 0)
}

pub fn fstat(fd: c_int) -> Result<libc::stat, Errno> {
    // SAFETY: stat is plain data.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: a writable stat.
    cvt(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(st)
}

/// The file type and permission bits of `path` (not following a last symlink), as
/// `ls` shows them: `-rw-r--r--`.
pub fn mode_of(path: &str) -> Result<String, Errno> {
    stat_at(path, libc::AT_SYMLINK_NOFOLLOW).map(|st| mode_string(st.st_mode))
}

pub fn mode_string(mode: libc::mode_t) -> String {
    let kind = match mode & libc::S_IFMT {
        libc::S_IFREG => '-',
        libc::S_IFDIR => 'd',
        libc::S_IFLNK => 'l',
        libc::S_IFIFO => 'p',
        libc::S_IFCHR => 'c',
        libc::S_IFBLK => 'b',
        libc::S_IFSOCK => 's',
        _ => '?',
    };
    let bits: String = (0..9)
        .map(|i| {
            if mode & (0o400 >> i) != 0 {
                b"rwxrwxrwx"[i] as char
            } else {
                '-'
            }
        })
        .collect();
    format!("{kind}{bits}")
}

/// Runs `f` in a child that has dropped root (uid and gid 65534); it must fail with
/// `want`, whose name is printed (the child exits with the errno).
pub fn as_nobody(
    t: &Transcript,
    check: &str,
    f: impl FnOnce() -> Result<c_int, Errno>,
    want: c_int,
) {
    let status = abi_tests::process::run(|| {
        // SAFETY: drops this child's privileges; no pointers.
        if unsafe { libc::setgid(65534) != 0 || libc::setuid(65534) != 0 } {
            return 255;
        }
        f().err().map_or(0, |e| e.0)
    });
    let got = status.map(|s| match libc::WEXITSTATUS(s.0) {
        0 => "ok".to_string(),
        e => Errno(e).to_string(),
    });
    t.shows(check, got, Errno(want));
}
