//! `system`: the calls about the system and the process's standing in it that the other
//! programs leave out. AF_UNIX socket pairs (socketpair, sendto, recvfrom), prctl (names,
//! dumpability, the parent-death signal), sysinfo, getcpu, uname and sethostname,
//! clock_settime/settimeofday (only calls that fail: the host's clock is never set),
//! mount/umount2 of tmpfs and proc, sendfile to a pipe and its errnos, and the credential
//! setters (setre*, setres*, setfs*, setgroups/getgroups).
//!
//! On the host the harness runs it as root in private mount and UTS namespaces, so the
//! mounts and the host name it sets vanish with it; it puts the host name back anyway
//! (inside Halyard the name is system-wide). Everything unprivileged runs in a child that
//! dropped to uid and gid 65534 ([`abi_tests::process::drop_to`]).
//!
//! Run with `--dumpable` it is the program a child executes to see the dumpable flag
//! after `execve`: it exits with `PR_GET_DUMPABLE`'s answer.

mod clocks;
mod creds;
mod info;
mod mounts;
mod prctl;
mod sendfile;
mod sockets;

use abi_tests::errno::{cvt, Errno};
use abi_tests::report::scratch_dir;
use abi_tests::Transcript;
use core::ffi::c_int;
use std::ffi::CString;

/// The uid and gid of the unprivileged children (`nobody`).
pub const NOBODY: libc::uid_t = 65534;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--dumpable") {
        // SAFETY: PR_GET_DUMPABLE takes no pointer.
        std::process::exit(unsafe { libc::prctl(libc::PR_GET_DUMPABLE) });
    }
    let t = Transcript::new("system");
    let Some(dir) = scratch_dir() else {
        return t.fail("scratch_dir", "a directory argument", "none");
    };
    let entered = std::env::set_current_dir(&dir);
    t.is("scratch_dir_entered", entered.is_ok());
    sockets::pairs(&t);
    sockets::transfer(&t);
    sockets::errors(&t);
    prctl::names(&t);
    prctl::dumpability(&t, &args[0]);
    prctl::death_signal(&t);
    info::sysinfo(&t);
    info::cpu(&t);
    info::uname(&t);
    info::hostname(&t);
    clocks::settime(&t);
    mounts::mount_umount(&t);
    mounts::errors(&t);
    sendfile::to_pipe(&t);
    sendfile::errors(&t);
    creds::groups(&t);
    creds::user_ids(&t);
    creds::group_ids(&t);
    creds::fs_ids(&t);
}

/// A path as a C string (the program's strings have no NUL).
pub fn c(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// A call's outcome as a transcript word: `ok` or the errno's name.
pub fn outcome<T>(r: Result<T, Errno>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string(),
    }
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

/// openat(AT_FDCWD, path, flags, mode).
pub fn open(path: &str, flags: c_int, mode: libc::mode_t) -> Result<c_int, Errno> {
    // SAFETY: the path is a valid C string for the call's duration.
    cvt(unsafe { libc::openat(libc::AT_FDCWD, c(path).as_ptr(), flags, mode) })
}

/// The whole (small) content of `path` as text.
pub fn text_of(path: &str) -> Result<String, Errno> {
    let fd = open(path, libc::O_RDONLY, 0)?;
    let r = read(fd, 1 << 16);
    close(fd);
    r.map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// A pipe's `[read, write]` ends.
pub fn pipe() -> Result<[c_int; 2], Errno> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    cvt(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
    Ok(fds)
}

/// The lowest free descriptor (what the next `open` would get): for leak checks.
pub fn next_fd() -> c_int {
    // SAFETY: dup of standard input; the copy is closed at once.
    let fd = unsafe { libc::dup(0) };
    close(fd);
    fd
}

/// An address no program maps: the first page.
pub const BAD_PTR: usize = 8;

/// Runs `f` in a child that dropped to [`NOBODY`]; returns the text it reports.
pub fn as_nobody(f: impl FnOnce() -> String) -> Result<String, Errno> {
    abi_tests::process::report(|| {
        if !abi_tests::process::drop_to(NOBODY) {
            return "cannot drop privileges".to_string();
        }
        f()
    })
}
