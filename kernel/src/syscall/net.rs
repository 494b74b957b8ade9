//! Socket system calls: `socket`, `bind`, `listen`, `accept`, `accept4`, `connect`,
//! `shutdown`, `getsockname`, `getpeername`, `getsockopt`, `setsockopt` (Linux's
//! `net/socket.c`); the message calls are [`super::msg`], `socketpair` is [`super::io`].
//!
//! This file decodes arguments, moves addresses and option values between user memory
//! and the socket, and calls the socket file's [`Socket`] operations (`AF_UNIX`:
//! [`crate::fs::unix`]; `AF_INET` TCP: [`crate::fs::inet`]; `AF_INET` UDP:
//! [`inet_dgram`]), which hold the states and errnos of their family. Checks follow
//! Linux's order: the descriptor (`EBADF`, `ENOTSOCK`), the address length (`EINVAL`),
//! the address (`EFAULT`), then the family's own. `AF_INET` serves `SOCK_STREAM` and
//! `SOCK_DGRAM`; `SOCK_RAW` is `ESOCKTNOSUPPORT`. The TCP options are served here
//! (`with_inet`); other families serve theirs ([`Socket::option`],
//! [`Socket::set_option`]).
//!
//! Outcomes are counted per kind ([`counters`], in `/proc/halyard/counters`).
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use halyard_tcp::Keepalive;
use linux_raw_sys::errno as e;
use linux_raw_sys::general::{O_CLOEXEC, O_NONBLOCK};
use linux_raw_sys::net as n;

use super::io::{file, nofile};
use super::{Errno, SysResult};
use crate::fs::file::OpenFile;
use crate::fs::inet::{self, InetSocket, Options};
use crate::fs::inet_dgram;
use crate::fs::socket::{self, buffer_size, Socket, MIN_RCVBUF, MIN_SNDBUF};
use crate::fs::unix;
use crate::process::usercopy::{self, UserAddr, UserRef};

/// Linux's `SOCK_CLOEXEC` and `SOCK_NONBLOCK` are `O_CLOEXEC` and `O_NONBLOCK`.
const SOCK_CLOEXEC: u32 = O_CLOEXEC;
const SOCK_NONBLOCK: u32 = O_NONBLOCK;
/// The type bits of `socket`'s second argument.
const SOCK_TYPE_MASK: u32 = 0xf;
/// Linux's `SOCK_MAX`: types at or above it are `EINVAL`.
const SOCK_MAX: u32 = 11;
/// Linux's `NPROTO`: families at or above it are `EAFNOSUPPORT`.
const NPROTO: u32 = 46;
/// `sizeof(struct sockaddr_storage)`: the largest address a call takes.
const SOCKADDR_STORAGE: i32 = 128;
const IPPROTO_TCP: u32 = n::IPPROTO_TCP as u32;
const IPPROTO_UDP: u32 = n::IPPROTO_UDP as u32;
/// Linux's keepalive defaults (`tcp_keepalive_time`, `_intvl`, `_probes`).
const KEEPALIVE_DEFAULT: Keepalive = Keepalive {
    idle: Duration::from_secs(7200),
    interval: Duration::from_secs(75),
    probes: 9,
};

/// Outcomes of socket calls.
struct Counters {
    created: AtomicU64,
    accepted: AtomicU64,
    connected: AtomicU64,
    in_progress: AtomicU64,
    refused: AtomicU64,
    would_block: AtomicU64,
    interrupted: AtomicU64,
    epipe: AtomicU64,
    reset: AtomicU64,
    other_errors: AtomicU64,
}

static COUNTERS: Counters = Counters {
    created: AtomicU64::new(0),
    accepted: AtomicU64::new(0),
    connected: AtomicU64::new(0),
    in_progress: AtomicU64::new(0),
    refused: AtomicU64::new(0),
    would_block: AtomicU64::new(0),
    interrupted: AtomicU64::new(0),
    epipe: AtomicU64::new(0),
    reset: AtomicU64::new(0),
    other_errors: AtomicU64::new(0),
};

/// `(NAME, value)` of every socket-call counter, for `/proc/halyard/counters`.
pub fn counters() -> [(&'static str, u64); 10] {
    let c = &COUNTERS;
    let v = |a: &AtomicU64| a.load(Ordering::Relaxed);
    [
        ("SOCK_CREATED", v(&c.created)),
        ("SOCK_ACCEPTED", v(&c.accepted)),
        ("SOCK_CONNECTED", v(&c.connected)),
        ("SOCK_EINPROGRESS", v(&c.in_progress)),
        ("SOCK_ECONNREFUSED", v(&c.refused)),
        ("SOCK_EAGAIN", v(&c.would_block)),
        ("SOCK_INTERRUPTED", v(&c.interrupted)),
        ("SOCK_EPIPE", v(&c.epipe)),
        ("SOCK_ECONNRESET", v(&c.reset)),
        ("SOCK_OTHER_ERRORS", v(&c.other_errors)),
    ]
}

/// Counts a failed call's errno; passes the result on.
pub(super) fn counted(r: SysResult) -> SysResult {
    if let Err(err) = r {
        let c = &COUNTERS;
        let counter = match err.0 {
            e::EAGAIN => &c.would_block,
            e::EINPROGRESS => &c.in_progress,
            e::ECONNREFUSED => &c.refused,
            e::EPIPE => &c.epipe,
            e::ECONNRESET => &c.reset,
            _ if err == Errno::EINTR || err == Errno::ERESTARTSYS => &c.interrupted,
            _ => &c.other_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    r
}

fn mm() -> Arc<crate::process::mm::Mm> {
    crate::process::current().process.mm()
}

/// Runs `op` on the socket behind `fd` (`EBADF`, `ENOTSOCK` for other files), counting
/// its outcome.
pub(super) fn with_socket(
    fd: u64,
    op: impl FnOnce(&OpenFile, &dyn Socket) -> SysResult,
) -> SysResult {
    let f = file(fd)?;
    let sock = f.ops.socket().ok_or(Errno(e::ENOTSOCK))?;
    counted(op(&f, sock))
}

/// Runs `op` on the `AF_INET` socket behind `fd`; `other` answers for another family.
fn with_inet(
    fd: u64,
    other: impl FnOnce(&dyn Socket) -> SysResult,
    op: impl FnOnce(&OpenFile, &InetSocket) -> SysResult,
) -> SysResult {
    with_socket(fd, |f, sock| match sock.inet() {
        Some(inet) => op(f, inet),
        None => other(sock),
    })
}

/// `socket(domain, type, protocol)`: `AF_UNIX` stream, datagram and seqpacket
/// sockets, `AF_INET` TCP and UDP.
pub fn socket(domain: u64, ty: u64, protocol: u64) -> SysResult {
    let (domain, ty, protocol) = (domain as u32, ty as u32, protocol as u32);
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    if domain >= NPROTO {
        return Err(Errno(e::EAFNOSUPPORT));
    }
    let kind = ty & SOCK_TYPE_MASK;
    if kind >= SOCK_MAX {
        return Err(Errno::EINVAL);
    }
    let f = match domain {
        n::AF_UNIX => unix::new(unix_kind(kind, protocol)?, flags & SOCK_NONBLOCK),
        n::AF_INET => match kind {
            n::SOCK_STREAM if protocol == 0 || protocol == IPPROTO_TCP => {
                inet::new(flags & SOCK_NONBLOCK)
            }
            n::SOCK_DGRAM if protocol == 0 || protocol == IPPROTO_UDP => {
                inet_dgram::new(flags & SOCK_NONBLOCK)
            }
            n::SOCK_STREAM | n::SOCK_DGRAM => return Err(Errno(e::EPROTONOSUPPORT)),
            _ => return Err(Errno(e::ESOCKTNOSUPPORT)),
        },
        _ => return Err(Errno(e::EAFNOSUPPORT)),
    };
    let fd = crate::process::current().process.files.lock().install(
        f,
        flags & SOCK_CLOEXEC != 0,
        nofile(),
    )?;
    COUNTERS.created.fetch_add(1, Ordering::Relaxed);
    Ok(fd as u64)
}

/// The `AF_UNIX` socket type `kind` with `protocol` (Linux's `unix_create`): a protocol
/// other than 0 or `PF_UNIX` is `EPROTONOSUPPORT`, a type without `AF_UNIX` sockets
/// `ESOCKTNOSUPPORT`.
pub(super) fn unix_kind(kind: u32, protocol: u32) -> Result<unix::Kind, Errno> {
    if protocol != 0 && protocol != n::AF_UNIX {
        return Err(Errno(e::EPROTONOSUPPORT));
    }
    unix::Kind::from_type(kind).ok_or(Errno(e::ESOCKTNOSUPPORT))
}

/// Copies a socket address of `len` bytes at `addr` (Linux's `move_addr_to_kernel`):
/// `EINVAL` for a length outside 0..=128, `EFAULT`. The family checks it.
pub(super) fn read_addr(addr: u64, len: u64) -> Result<Vec<u8>, Errno> {
    let len = len as i32;
    if !(0..=SOCKADDR_STORAGE).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let mut raw = alloc::vec![0u8; len as usize];
    usercopy::read_bytes(&mm(), UserAddr(addr), &mut raw)?;
    Ok(raw)
}

/// Writes an address for the caller (Linux's `move_addr_to_user`): `*lenp` says how much
/// room `addr` has (`EINVAL` if negative); at most that much is copied, and `*lenp` is set
/// to the address's full length. Nothing when `addr` is null.
pub(super) fn write_addr(bytes: &[u8], addr: u64, lenp: u64) -> Result<(), Errno> {
    if addr == 0 {
        return Ok(());
    }
    let mm = mm();
    let room: i32 = usercopy::read(&mm, UserRef::new(lenp))?;
    let room = usize::try_from(room).map_err(|_| Errno::EINVAL)?;
    let n = room.min(bytes.len());
    if n > 0 {
        usercopy::write_bytes(&mm, UserAddr(addr), &bytes[..n])?;
    }
    usercopy::write(&mm, UserRef::new(lenp), &(bytes.len() as i32))?;
    Ok(())
}

/// `bind(fd, addr, len)`.
pub fn bind(fd: u64, addr: u64, len: u64) -> SysResult {
    with_socket(fd, |_, sock| {
        sock.bind(&read_addr(addr, len)?)?;
        Ok(0)
    })
}

/// `listen(fd, backlog)`: the backlog is capped at `SOMAXCONN` (a negative one too).
pub fn listen(fd: u64, backlog: u64) -> SysResult {
    with_socket(fd, |_, sock| {
        sock.listen((backlog as u32).min(unix::SOMAXCONN))?;
        Ok(0)
    })
}

/// `accept4(fd, addr, lenp, flags)` (and `accept` with no flags).
pub fn accept4(fd: u64, addr: u64, lenp: u64, flags: u64) -> SysResult {
    if flags & !u64::from(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let flags = flags as u32;
    with_socket(fd, |f, sock| {
        let (new, peer) = sock.accept(f.nonblocking(), flags & SOCK_NONBLOCK)?;
        // Linux installs the descriptor only once the address reached the caller.
        write_addr(&peer, addr, lenp)?;
        let fd = crate::process::current().process.files.lock().install(
            new,
            flags & SOCK_CLOEXEC != 0,
            nofile(),
        )?;
        COUNTERS.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(fd as u64)
    })
}

/// `connect(fd, addr, len)`.
pub fn connect(fd: u64, addr: u64, len: u64) -> SysResult {
    with_socket(fd, |f, sock| {
        sock.connect(&read_addr(addr, len)?, f.nonblocking())?;
        COUNTERS.connected.fetch_add(1, Ordering::Relaxed);
        Ok(0)
    })
}

/// `getsockname(fd, addr, lenp)`.
pub fn getsockname(fd: u64, addr: u64, lenp: u64) -> SysResult {
    with_socket(fd, |_, sock| {
        write_addr(&sock.local_address(), addr, lenp)?;
        Ok(0)
    })
}

/// `getpeername(fd, addr, lenp)`.
pub fn getpeername(fd: u64, addr: u64, lenp: u64) -> SysResult {
    with_socket(fd, |_, sock| {
        write_addr(&sock.peer_address()?, addr, lenp)?;
        Ok(0)
    })
}

/// `shutdown(fd, how)`: the descriptor first, then `how` (`EINVAL`), as Linux.
pub fn shutdown(fd: u64, how: u64) -> SysResult {
    with_socket(fd, |_, sock| {
        let (read, write) = match how as u32 {
            n::SHUT_RD => (true, false),
            n::SHUT_WR => (false, true),
            n::SHUT_RDWR => (true, true),
            _ => return Err(Errno::EINVAL),
        };
        sock.shutdown(read, write).map(|()| 0)
    })
}

/// An option's value as Linux reads it: an `int` (at least 4 bytes, else `EINVAL`).
fn read_int(val: u64, len: u64) -> Result<i32, Errno> {
    if (len as i32) < 4 {
        return Err(Errno::EINVAL);
    }
    usercopy::read(&mm(), UserRef::new(val))
}

/// A `struct timeval` option (`SO_RCVTIMEO`, `SO_SNDTIMEO`) in ns; zero is no timeout.
fn read_timeval(val: u64, len: u64) -> Result<Option<u64>, Errno> {
    if (len as i32) < 16 {
        return Err(Errno::EINVAL);
    }
    let raw: [u8; 16] = usercopy::read(&mm(), UserRef::new(val))?;
    socket::timeval_ns(&raw)
}

/// A keepalive parameter in seconds, 1..=`max` (`EINVAL` outside).
fn keep_secs(v: i32, max: i32) -> Result<u64, Errno> {
    if (1..=max).contains(&v) {
        Ok(v as u64)
    } else {
        Err(Errno::EINVAL)
    }
}

/// The keepalive parameters of `o` (Linux's defaults until `TCP_KEEP*` change them).
fn keepalive_of(o: &Options) -> Keepalive {
    o.keep.unwrap_or(KEEPALIVE_DEFAULT)
}

/// Puts the keepalive settings of `o` in force: probing with its parameters if
/// `SO_KEEPALIVE` is on.
fn apply_keepalive(o: &mut Options) {
    o.socket.keepalive = o.keepalive.then(|| keepalive_of(o));
}

/// `setsockopt(fd, level, name, val, len)`.
pub fn setsockopt(fd: u64, level: u64, name: u64, val: u64, len: u64) -> SysResult {
    if (len as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let (level, name) = (level as u32, name as u32);
    let other = |sock: &dyn Socket| {
        // The longest value a family reads is a `struct timeval`.
        let mut raw = alloc::vec![0u8; (len as usize).min(16)];
        usercopy::read_bytes(&mm(), UserAddr(val), &mut raw)?;
        sock.set_option(level, name, &raw).map(|()| 0)
    };
    with_inet(fd, other, |_, sock| {
        let opt = |f: &dyn Fn(&mut Options)| sock.set_options(f);
        match (level, name) {
            (n::SOL_SOCKET, n::SO_RCVTIMEO | n::SO_SNDTIMEO) => {
                let t = read_timeval(val, len)?;
                let recv = name == n::SO_RCVTIMEO;
                opt(&|o| {
                    if recv {
                        o.recv_timeout = t;
                    } else {
                        o.send_timeout = t;
                    }
                });
            }
            (n::SOL_SOCKET, n::SO_LINGER) => {
                if (len as i32) < 8 {
                    return Err(Errno::EINVAL);
                }
                let [on, secs]: [i32; 2] = usercopy::read(&mm(), UserRef::new(val))?;
                let linger = (on != 0).then(|| u64::try_from(secs).unwrap_or(0) * 1_000_000_000);
                opt(&|o| o.linger = linger);
            }
            (n::SOL_SOCKET, n::SO_REUSEADDR) => {
                let v = read_int(val, len)? != 0;
                opt(&|o| o.socket.reuse_address = v);
            }
            (n::SOL_SOCKET, n::SO_REUSEPORT) => {
                let v = read_int(val, len)? != 0;
                opt(&|o| o.reuse_port = v);
            }
            (n::SOL_SOCKET, n::SO_KEEPALIVE) => {
                let v = read_int(val, len)? != 0;
                opt(&|o| {
                    o.keepalive = v;
                    apply_keepalive(o);
                });
            }
            (n::SOL_SOCKET, n::SO_RCVBUF) => {
                let v = buffer_size(read_int(val, len)?, MIN_RCVBUF);
                opt(&|o| o.socket.recv_buffer = Some(v));
            }
            (n::SOL_SOCKET, n::SO_SNDBUF) => {
                let v = buffer_size(read_int(val, len)?, MIN_SNDBUF);
                opt(&|o| o.socket.send_buffer = Some(v));
            }
            (IPPROTO_TCP, n::TCP_NODELAY) => {
                let v = read_int(val, len)? != 0;
                opt(&|o| o.socket.nodelay = v);
            }
            (IPPROTO_TCP, n::TCP_KEEPIDLE | n::TCP_KEEPINTVL | n::TCP_KEEPCNT) => {
                let v = read_int(val, len)?;
                let mut k = keepalive_of(&sock.get_options());
                match name {
                    n::TCP_KEEPIDLE => k.idle = Duration::from_secs(keep_secs(v, 32767)?),
                    n::TCP_KEEPINTVL => k.interval = Duration::from_secs(keep_secs(v, 32767)?),
                    _ => k.probes = keep_secs(v, 127)? as u32,
                }
                opt(&|o| {
                    o.keep = Some(k);
                    apply_keepalive(o);
                });
            }
            _ => return Err(Errno(e::ENOPROTOOPT)),
        }
        Ok(0)
    })
}

/// `getsockopt(fd, level, name, val, lenp)`.
pub fn getsockopt(fd: u64, level: u64, name: u64, val: u64, lenp: u64) -> SysResult {
    let (level, name) = (level as u32, name as u32);
    let other = |sock: &dyn Socket| put_option(&sock.option(level, name)?, val, lenp);
    with_inet(fd, other, |_, sock| {
        let o = sock.get_options();
        let int = |v: i64| (v as i32).to_ne_bytes().to_vec();
        let bytes = match (level, name) {
            (n::SOL_SOCKET, n::SO_TYPE) => int(n::SOCK_STREAM.into()),
            (n::SOL_SOCKET, n::SO_DOMAIN) => int(n::AF_INET.into()),
            (n::SOL_SOCKET, n::SO_PROTOCOL) => int(IPPROTO_TCP.into()),
            (n::SOL_SOCKET, n::SO_ACCEPTCONN) => int(sock.listening().into()),
            (n::SOL_SOCKET, n::SO_ERROR) => int(sock.take_error().map_or(0, |e| e.0.into())),
            (n::SOL_SOCKET, n::SO_REUSEADDR) => int(o.socket.reuse_address.into()),
            (n::SOL_SOCKET, n::SO_REUSEPORT) => int(o.reuse_port.into()),
            (n::SOL_SOCKET, n::SO_KEEPALIVE) => int(o.keepalive.into()),
            (n::SOL_SOCKET, n::SO_SNDBUF) => int(sock.buffers().0 as i64),
            (n::SOL_SOCKET, n::SO_RCVBUF) => int(sock.buffers().1 as i64),
            (n::SOL_SOCKET, n::SO_RCVTIMEO) => socket::timeval_bytes(o.recv_timeout),
            (n::SOL_SOCKET, n::SO_SNDTIMEO) => socket::timeval_bytes(o.send_timeout),
            (n::SOL_SOCKET, n::SO_LINGER) => {
                let secs = o.linger.map_or(0, |ns| ns / 1_000_000_000) as i32;
                [i32::from(o.linger.is_some()), secs]
                    .iter()
                    .flat_map(|v| v.to_ne_bytes())
                    .collect()
            }
            (IPPROTO_TCP, n::TCP_NODELAY) => int(o.socket.nodelay.into()),
            (IPPROTO_TCP, n::TCP_KEEPIDLE) => int(keepalive_of(&o).idle.as_secs() as i64),
            (IPPROTO_TCP, n::TCP_KEEPINTVL) => int(keepalive_of(&o).interval.as_secs() as i64),
            (IPPROTO_TCP, n::TCP_KEEPCNT) => int(keepalive_of(&o).probes.into()),
            (IPPROTO_TCP, n::TCP_INFO) => super::tcp_info::bytes(sock).to_vec(),
            _ => return Err(Errno(e::ENOPROTOOPT)),
        };
        put_option(&bytes, val, lenp)
    })
}

/// Copies an option's value out (Linux's `sock_getsockopt` tail): at most `*lenp` bytes
/// (`EINVAL` if negative), and `*lenp` set to the bytes copied.
fn put_option(bytes: &[u8], val: u64, lenp: u64) -> SysResult {
    let mm = mm();
    let room: i32 = usercopy::read(&mm, UserRef::new(lenp))?;
    let room = usize::try_from(room).map_err(|_| Errno::EINVAL)?;
    let n = room.min(bytes.len());
    usercopy::write_bytes(&mm, UserAddr(val), &bytes[..n])?;
    usercopy::write(&mm, UserRef::new(lenp), &(n as i32))?;
    Ok(0)
}
