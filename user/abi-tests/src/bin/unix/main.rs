//! `unix`: `AF_UNIX` sockets of all three types and the message calls.
//!
//! Named sockets (a path: the socket inode, `EADDRINUSE`, `ENOENT`/`ECONNREFUSED`/
//! `EPROTOTYPE` on connect; abstract names; autobind), `listen`/`accept` with a backlog,
//! names and peer credentials; datagrams (boundaries, `MSG_TRUNC`, `MSG_PEEK`, the
//! sender's address, a full queue, a closed peer); seqpacket; `SCM_RIGHTS` on all three
//! types (in-flight files outlive the sender's descriptor, `MSG_CTRUNC`, `EBADF`, the
//! limit of 253) and `SCM_CREDENTIALS`; `sendmsg`/`recvmsg` with hostile headers (iovec
//! counts, negative and huge lengths, unmapped and overlapping iovecs, an iovec array the
//! data overwrites); `sendmmsg`/`recvmmsg` with `MSG_WAITFORONE` and a timeout; and
//! readiness of listeners, pairs and datagram sockets; garbage collection of sockets in
//! flight that only unreachable queues hold ([`gc`]).
//!
//! Paths are relative to the scratch directory; abstract names carry the pid, so two
//! runs (and other programs) never meet. Nothing printed depends on timing.

mod gc;
mod msg;
mod names;
mod rights;
mod types;

use abi_tests::errno::{cvt, Errno};
use abi_tests::report::scratch_dir;
use abi_tests::signal::{set_action, Action};
use abi_tests::Transcript;
use core::ffi::c_int;
use core::mem::{size_of, zeroed};

pub use abi_tests::fd::{close, read, write};

fn main() {
    let t = Transcript::new("unix");
    let Some(dir) = scratch_dir() else {
        return t.fail("scratch_dir", "a directory argument", "none");
    };
    t.is(
        "scratch_dir_entered",
        std::env::set_current_dir(&dir).is_ok(),
    );
    // SAFETY: umask takes no pointer and cannot fail.
    unsafe { libc::umask(0o022) };
    t.ok(
        "sigpipe_ignored",
        set_action(libc::SIGPIPE, Action::Ignore, 0),
    );
    names::creation(&t);
    names::paths(&t);
    names::listen_accept(&t);
    names::abstract_names(&t);
    names::bad_lengths(&t);
    types::stream(&t);
    types::datagram(&t);
    types::seqpacket(&t);
    types::readiness(&t);
    rights::rights(&t);
    rights::limits(&t);
    rights::credentials(&t);
    msg::headers(&t);
    msg::iovecs(&t);
    msg::multiple(&t);
    gc::collector(&t);
}

/// `socket(AF_UNIX, ty | SOCK_CLOEXEC, 0)`.
pub fn sock(ty: c_int) -> Result<c_int, Errno> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::socket(libc::AF_UNIX, ty | libc::SOCK_CLOEXEC, 0) })
}

/// A connected pair of type `ty`.
pub fn pair(ty: c_int) -> Result<[c_int; 2], Errno> {
    let mut sv = [-1; 2];
    // SAFETY: `sv` has room for the two descriptors.
    cvt(unsafe { libc::socketpair(libc::AF_UNIX, ty | libc::SOCK_CLOEXEC, 0, sv.as_mut_ptr()) })?;
    Ok(sv)
}

/// A `sockaddr_un` and its length.
pub struct Addr {
    pub sun: libc::sockaddr_un,
    pub len: libc::socklen_t,
}

impl Addr {
    /// A path name: the length counts the NUL, as `SUN_LEN + 1` does.
    pub fn path(path: &str) -> Addr {
        Addr::raw(path.as_bytes(), path.len() + 1)
    }

    /// An abstract name (a leading NUL, then `name`).
    pub fn abstract_name(name: &str) -> Addr {
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(name.as_bytes());
        let len = bytes.len();
        Addr::raw(&bytes, len)
    }

    /// `sun_path` starting with `bytes`, and a length of `path_len` bytes after the
    /// family.
    pub fn raw(bytes: &[u8], path_len: usize) -> Addr {
        // SAFETY: sockaddr_un is plain integers; all-zero is valid.
        let mut sun: libc::sockaddr_un = unsafe { zeroed() };
        sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (d, s) in sun.sun_path.iter_mut().zip(bytes) {
            *d = *s as libc::c_char;
        }
        Addr {
            sun,
            len: (2 + path_len) as libc::socklen_t,
        }
    }

    fn ptr(&self) -> *const libc::sockaddr {
        (&raw const self.sun).cast()
    }
}

pub fn bind(fd: c_int, a: &Addr) -> Result<c_int, Errno> {
    // SAFETY: `a.sun` is a live sockaddr_un; the kernel reads at most `a.len` bytes of it,
    // and the lengths used stay within its size unless a check says otherwise.
    cvt(unsafe { libc::bind(fd, a.ptr(), a.len) })
}

pub fn connect(fd: c_int, a: &Addr) -> Result<c_int, Errno> {
    // SAFETY: as for `bind`.
    cvt(unsafe { libc::connect(fd, a.ptr(), a.len) })
}

pub fn listen(fd: c_int, backlog: c_int) -> Result<c_int, Errno> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::listen(fd, backlog) })
}

/// `accept4` with room for the peer's address: the descriptor and the address length.
pub fn accept(fd: c_int, flags: c_int) -> Result<(c_int, libc::socklen_t), Errno> {
    // SAFETY: sockaddr_un is plain data.
    let mut sun: libc::sockaddr_un = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: `sun` and `len` are live and writable.
    let fd = cvt(unsafe { libc::accept4(fd, (&raw mut sun).cast(), &mut len, flags) })?;
    Ok((fd, len))
}

/// `getsockname` (or `getpeername`): the address bytes after the family, and the length.
pub fn name_of(fd: c_int, peer: bool) -> Result<(Vec<u8>, usize), Errno> {
    // SAFETY: sockaddr_un is plain data.
    let mut sun: libc::sockaddr_un = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_un>() as libc::socklen_t;
    let p = (&raw mut sun).cast();
    // SAFETY: `sun` and `len` are live and writable, `len` says how much.
    let r = unsafe {
        if peer {
            libc::getpeername(fd, p, &mut len)
        } else {
            libc::getsockname(fd, p, &mut len)
        }
    };
    cvt(r)?;
    let n = (len as usize)
        .min(size_of::<libc::sockaddr_un>())
        .saturating_sub(2);
    let bytes = sun.sun_path[..n].iter().map(|&c| c as u8).collect();
    Ok((bytes, len as usize))
}

pub fn send(fd: c_int, data: &[u8], flags: c_int) -> Result<usize, Errno> {
    // SAFETY: `data` is a live buffer of its length; no address.
    cvt(unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), flags) }).map(|n| n as usize)
}

pub fn send_to(fd: c_int, data: &[u8], to: &Addr) -> Result<usize, Errno> {
    // SAFETY: `data` and `to` are live for the call.
    cvt(unsafe { libc::sendto(fd, data.as_ptr().cast(), data.len(), 0, to.ptr(), to.len) })
        .map(|n| n as usize)
}

/// `recv` of up to `len` bytes: the result (which `MSG_TRUNC` may make larger than the
/// data) and the data.
pub fn recv(fd: c_int, len: usize, flags: c_int) -> Result<(usize, Vec<u8>), Errno> {
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` is a live, writable buffer of `len` bytes.
    let n = cvt(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), len, flags) })? as usize;
    buf.truncate(n.min(len));
    Ok((n, buf))
}

/// `recvfrom`: the data and the source address (bytes after the family, and length).
pub fn recv_from(fd: c_int, len: usize) -> Result<(Vec<u8>, Vec<u8>, usize), Errno> {
    let mut buf = vec![0u8; len];
    // SAFETY: sockaddr_un is plain data.
    let mut sun: libc::sockaddr_un = unsafe { zeroed() };
    let mut alen = size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: every pointer is to a live, writable object of the size given.
    let n = cvt(unsafe {
        libc::recvfrom(
            fd,
            buf.as_mut_ptr().cast(),
            len,
            0,
            (&raw mut sun).cast(),
            &mut alen,
        )
    })?;
    buf.truncate(n as usize);
    let m = (alen as usize)
        .min(size_of::<libc::sockaddr_un>())
        .saturating_sub(2);
    Ok((
        buf,
        sun.sun_path[..m].iter().map(|&c| c as u8).collect(),
        alen as usize,
    ))
}

/// An `int` socket option.
pub fn int_opt(fd: c_int, name: c_int) -> Result<c_int, Errno> {
    let mut v: c_int = 0;
    let mut len = size_of::<c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are live and writable.
    cvt(unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, name, (&raw mut v).cast(), &mut len) })?;
    Ok(v)
}

pub fn set_int_opt(fd: c_int, name: c_int, v: c_int) -> Result<c_int, Errno> {
    // SAFETY: `v` is a live int.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            name,
            (&raw const v).cast(),
            size_of::<c_int>() as libc::socklen_t,
        )
    })
}

/// `poll` of one descriptor for `events`, without waiting: the returned events.
pub fn poll_now(fd: c_int, events: i16) -> i16 {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    if n < 0 {
        -1
    } else {
        p.revents
    }
}

/// Sets or clears `O_NONBLOCK`.
pub fn set_nonblocking(fd: c_int, on: bool) {
    // SAFETY: F_GETFL/F_SETFL take integers.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL) & !libc::O_NONBLOCK;
        libc::fcntl(
            fd,
            libc::F_SETFL,
            fl | if on { libc::O_NONBLOCK } else { 0 },
        );
    }
}

/// This process's pid, for names no other run shares.
pub fn pid() -> i32 {
    // SAFETY: no arguments.
    unsafe { libc::getpid() }
}
