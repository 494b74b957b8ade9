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

use abi_tests::errno::Errno;
pub use abi_tests::fd::{c, close, open, pipe, read, write};
use abi_tests::report::scratch_dir;
use abi_tests::Transcript;
use core::ffi::c_int;

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

/// A call's outcome as a transcript word: `ok` or the errno's name.
pub fn outcome<T>(r: Result<T, Errno>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string(),
    }
}

/// The whole (small) content of `path` as text.
pub fn text_of(path: &str) -> Result<String, Errno> {
    let fd = open(path, libc::O_RDONLY, 0)?;
    let r = read(fd, 1 << 16);
    close(fd);
    r.map(|b| String::from_utf8_lossy(&b).into_owned())
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
