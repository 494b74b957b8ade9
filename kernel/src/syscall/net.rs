//! Socket system calls of the `AF_INET` family: `socket`, `bind`, `listen`, `accept`,
//! `accept4`, `connect`, `sendto`, `recvfrom`, `shutdown`, `getsockname`, `getpeername`,
//! `getsockopt`, `setsockopt` (Linux's `net/socket.c` and `net/ipv4/af_inet.c`;
//! `TCP_INFO` is [`super::tcp_info`]'s).
//!
//! This file decodes arguments and moves addresses and option values between user
//! memory and the socket ([`crate::fs::inet`], which holds the states and errnos of a
//! TCP socket). Checks follow Linux's order: the descriptor (`EBADF`, `ENOTSOCK`), the
//! address length (`EINVAL`), the address (`EFAULT`), its family (`EAFNOSUPPORT`).
//! `AF_UNIX` socket pairs (`socketpair`, [`crate::fs::unix`]) keep their own
//! `sendto`/`recvfrom` ([`super::io`]); the address calls give their unnamed address.
//! Only `SOCK_STREAM` is served; a `SOCK_DGRAM` socket can be made but serves only the
//! interface ioctls (`EOPNOTSUPP` here, [`inet_dgram`]); `SOCK_RAW` is `ESOCKTNOSUPPORT`.
//!
//! Outcomes are counted per kind ([`counters`], in `/proc/halyard/counters`).
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use halyard_tcp::Keepalive;
use linux_raw_sys::errno as e;
use linux_raw_sys::general::{O_CLOEXEC, O_NONBLOCK, S_IFMT, S_IFSOCK};
use linux_raw_sys::net as n;

use super::io::{self, file, nofile, read_with, write_with};
use super::{Errno, SysResult};
use crate::fs::file::OpenFile;
use crate::fs::inet::{self, InetSocket, Options};
use crate::fs::inet_dgram;
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
const SOCKADDR_STORAGE: u64 = 128;
const SOCKADDR_IN: usize = core::mem::size_of::<n::sockaddr_in>();
const IPPROTO_TCP: u32 = n::IPPROTO_TCP as u32;
const IPPROTO_UDP: u32 = n::IPPROTO_UDP as u32;
/// Linux's `sysctl_rmem_max`/`wmem_max` (what `SO_RCVBUF`/`SO_SNDBUF` are capped at
/// before doubling) and the minimums after.
const BUF_MAX: usize = 212_992;
const MIN_RCVBUF: usize = 2304;
const MIN_SNDBUF: usize = 4608;
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
fn counted(r: SysResult) -> SysResult {
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

/// The socket behind `fd`: `EBADF`, `ENOTSOCK` for other files, `EOPNOTSUPP` for an
/// `AF_INET` datagram socket (it serves only the interface ioctls, [`inet_dgram`]).
fn socket_file(fd: u64) -> Result<Arc<OpenFile>, Errno> {
    let f = file(fd)?;
    if f.ops.stat().mode & S_IFMT != S_IFSOCK {
        return Err(Errno(e::ENOTSOCK));
    }
    if f.ops.inet_dgram().is_some() {
        return Err(Errno::EOPNOTSUPP);
    }
    Ok(f)
}

/// Runs `op` on the `AF_INET` socket behind `fd`; `other` answers for an `AF_UNIX` one.
fn with_inet(
    fd: u64,
    other: Errno,
    op: impl FnOnce(&OpenFile, &InetSocket) -> SysResult,
) -> SysResult {
    let f = socket_file(fd)?;
    match f.ops.inet() {
        Some(sock) => counted(op(&f, sock)),
        None => Err(other),
    }
}

/// `socket(domain, type, protocol)`.
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
    if domain != n::AF_INET {
        return Err(Errno(e::EAFNOSUPPORT));
    }
    let f = match kind {
        n::SOCK_STREAM if protocol == 0 || protocol == IPPROTO_TCP => {
            inet::new(flags & SOCK_NONBLOCK)
        }
        n::SOCK_DGRAM if protocol == 0 || protocol == IPPROTO_UDP => {
            inet_dgram::new(flags & SOCK_NONBLOCK)
        }
        n::SOCK_STREAM | n::SOCK_DGRAM => return Err(Errno(e::EPROTONOSUPPORT)),
        _ => return Err(Errno(e::ESOCKTNOSUPPORT)),
    };
    let fd = crate::process::current().process.files.lock().install(
        f,
        flags & SOCK_CLOEXEC != 0,
        nofile(),
    )?;
    COUNTERS.created.fetch_add(1, Ordering::Relaxed);
    Ok(fd as u64)
}

/// Reads a `sockaddr_in` of `len` bytes at `addr` (Linux's `move_addr_to_kernel`, then
/// the `AF_INET` checks): `EINVAL` for a length outside 0..=128 or shorter than a
/// `sockaddr_in`, `EFAULT`, then the family: `AF_INET`, or `AF_UNSPEC` where
/// `unspec_ok` (bind's `INADDR_ANY` case), else `EAFNOSUPPORT`.
fn read_sockaddr(addr: u64, len: u64, unspec_ok: bool) -> Result<SocketAddrV4, Errno> {
    if len as i32 as i64 != len as i64 || (len as i32) < 0 || len > SOCKADDR_STORAGE {
        return Err(Errno::EINVAL);
    }
    if (len as usize) < SOCKADDR_IN {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; SOCKADDR_IN];
    usercopy::read_bytes(&mm(), UserAddr(addr), &mut raw)?;
    let family = u32::from(u16::from_ne_bytes([raw[0], raw[1]]));
    let port = u16::from_be_bytes([raw[2], raw[3]]);
    let ip = Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]);
    let unspec = unspec_ok && family == n::AF_UNSPEC && ip == Ipv4Addr::UNSPECIFIED;
    if family != n::AF_INET && !unspec {
        return Err(Errno(e::EAFNOSUPPORT));
    }
    Ok(SocketAddrV4::new(ip, port))
}

/// Writes an address for the caller (Linux's `move_addr_to_user`): `*lenp` says how much
/// room `addr` has (`EINVAL` if negative); at most that much is copied, and `*lenp` is set
/// to the address's full length. Nothing when `addr` is null.
fn write_addr(bytes: &[u8], addr: u64, lenp: u64) -> Result<(), Errno> {
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

/// A `sockaddr_in`'s bytes.
fn sockaddr_in(a: SocketAddrV4) -> [u8; SOCKADDR_IN] {
    let mut raw = [0u8; SOCKADDR_IN];
    raw[..2].copy_from_slice(&(n::AF_INET as u16).to_ne_bytes());
    raw[2..4].copy_from_slice(&a.port().to_be_bytes());
    raw[4..8].copy_from_slice(&a.ip().octets());
    raw
}

/// The unnamed `AF_UNIX` address (just the family) of a socket pair's end.
fn unnamed_unix() -> [u8; 2] {
    (n::AF_UNIX as u16).to_ne_bytes()
}

/// `bind(fd, addr, len)`.
pub fn bind(fd: u64, addr: u64, len: u64) -> SysResult {
    with_inet(fd, Errno::EINVAL, |_, sock| {
        sock.bind(read_sockaddr(addr, len, true)?)?;
        Ok(0)
    })
}

/// `listen(fd, backlog)`: the backlog is the engine's.
pub fn listen(fd: u64, _backlog: u64) -> SysResult {
    with_inet(fd, Errno::EOPNOTSUPP, |_, sock| {
        sock.listen()?;
        Ok(0)
    })
}

/// `accept4(fd, addr, lenp, flags)` (and `accept` with no flags).
pub fn accept4(fd: u64, addr: u64, lenp: u64, flags: u64) -> SysResult {
    if flags & !u64::from(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let flags = flags as u32;
    with_inet(fd, Errno::EOPNOTSUPP, |f, sock| {
        let (new, peer) = sock.accept(f.nonblocking(), flags & SOCK_NONBLOCK)?;
        // Linux installs the descriptor only once the address reached the caller.
        write_addr(&sockaddr_in(peer), addr, lenp)?;
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
    with_inet(fd, Errno(e::EISCONN), |f, sock| {
        let remote = read_sockaddr(addr, len, false)?;
        sock.connect(remote, f.nonblocking())?;
        COUNTERS.connected.fetch_add(1, Ordering::Relaxed);
        Ok(0)
    })
}

/// `getsockname(fd, addr, lenp)`.
pub fn getsockname(fd: u64, addr: u64, lenp: u64) -> SysResult {
    let f = socket_file(fd)?;
    match f.ops.inet() {
        Some(sock) => write_addr(&sockaddr_in(sock.local_address()), addr, lenp)?,
        None => write_addr(&unnamed_unix(), addr, lenp)?,
    }
    Ok(0)
}

/// `getpeername(fd, addr, lenp)`.
pub fn getpeername(fd: u64, addr: u64, lenp: u64) -> SysResult {
    let f = socket_file(fd)?;
    match f.ops.inet() {
        Some(sock) => write_addr(&sockaddr_in(sock.peer_address()?), addr, lenp)?,
        None => write_addr(&unnamed_unix(), addr, lenp)?,
    }
    Ok(0)
}

/// `shutdown(fd, how)`.
pub fn shutdown(fd: u64, how: u64) -> SysResult {
    let (read, write) = match how as u32 {
        n::SHUT_RD => (true, false),
        n::SHUT_WR => (false, true),
        n::SHUT_RDWR => (true, true),
        _ => return Err(Errno::EINVAL),
    };
    let f = socket_file(fd)?;
    match f.ops.inet() {
        Some(sock) => counted(sock.shutdown(read, write).map(|()| 0)),
        None => f.ops.shutdown(read, write).map(|()| 0),
    }
}

/// `sendto(fd, buf, len, flags, addr, addrlen)`: on a TCP socket the address is ignored
/// (as Linux); `MSG_DONTWAIT` and `MSG_NOSIGNAL` are honoured, `MSG_OOB` is
/// `EOPNOTSUPP` (no urgent data), other flags are ignored as TCP does.
pub fn sendto(fd: u64, buf: u64, len: u64, flags: u64, addr: u64, addrlen: u64) -> SysResult {
    let f = socket_file(fd)?;
    let Some(sock) = f.ops.inet() else {
        return io::sendto(fd, buf, len, flags, addr, addrlen);
    };
    let flags = flags as u32;
    if flags & n::MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let nonblocking = f.nonblocking() || flags & n::MSG_DONTWAIT != 0;
    let sigpipe = flags & n::MSG_NOSIGNAL == 0;
    counted(write_with(buf, len, |k| sock.send(k, nonblocking, sigpipe)))
}

/// `recvfrom(fd, buf, len, flags, addr, addrlen)`: `MSG_DONTWAIT`, `MSG_PEEK` and
/// `MSG_WAITALL` are honoured; `MSG_OOB` and `MSG_TRUNC` are `EOPNOTSUPP`. A TCP socket
/// gives no source address (`*addrlen` = 0, as Linux).
pub fn recvfrom(fd: u64, buf: u64, len: u64, flags: u64, addr: u64, addrlen: u64) -> SysResult {
    let f = socket_file(fd)?;
    let Some(sock) = f.ops.inet() else {
        return io::recvfrom(fd, buf, len, flags, addr, addrlen);
    };
    let flags = flags as u32;
    if flags & (n::MSG_OOB | n::MSG_TRUNC) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let nonblocking = f.nonblocking() || flags & n::MSG_DONTWAIT != 0;
    let peek = flags & n::MSG_PEEK != 0;
    let wait_all = flags & n::MSG_WAITALL != 0;
    let got = counted(recv_into(sock, buf, len, nonblocking, peek, wait_all))?;
    if addr != 0 && addrlen != 0 {
        usercopy::write(&mm(), UserRef::<u32>::new(addrlen), &0)?;
    }
    Ok(got)
}

/// Receives into user `buf`, a kernel chunk at a time: one chunk, or with `wait_all`
/// until `len` bytes, end of stream or an interruption after some data.
fn recv_into(
    sock: &InetSocket,
    buf: u64,
    len: u64,
    nonblocking: bool,
    peek: bool,
    wait_all: bool,
) -> SysResult {
    let mut done = 0u64;
    loop {
        let step = read_with(
            buf + done,
            len - done,
            |k| sock.recv(k, nonblocking, peek, wait_all),
            |_| {},
        );
        match step {
            Ok(got) => {
                let want = (len - done).min(io::CHUNK as u64);
                done += got;
                if !wait_all || peek || got < want || done == len {
                    return Ok(done);
                }
            }
            Err(_) if done > 0 => return Ok(done),
            Err(err) => return Err(err),
        }
    }
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
    let [sec, usec]: [i64; 2] = usercopy::read(&mm(), UserRef::new(val))?;
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno(e::EDOM));
    }
    if sec < 0 || (sec == 0 && usec == 0) {
        return Ok(None);
    }
    Ok(Some(
        (sec as u64).saturating_mul(1_000_000_000) + usec as u64 * 1000,
    ))
}

/// `SO_RCVBUF`/`SO_SNDBUF`: Linux doubles the request (room for its bookkeeping) after
/// capping it, and keeps a minimum.
fn buffer_size(v: i32, min: usize) -> usize {
    (usize::try_from(v).unwrap_or(0).min(BUF_MAX) * 2).max(min)
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
    with_inet(fd, Errno(e::ENOPROTOOPT), |_, sock| {
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
    with_inet(fd, Errno(e::ENOPROTOOPT), |_, sock| {
        let o = sock.get_options();
        let int = |v: i64| (v as i32).to_ne_bytes().to_vec();
        let timeval = |t: Option<u64>| {
            let ns = t.unwrap_or(0);
            let tv = [
                (ns / 1_000_000_000) as i64,
                ((ns % 1_000_000_000) / 1000) as i64,
            ];
            tv.iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<u8>>()
        };
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
            (n::SOL_SOCKET, n::SO_RCVTIMEO) => timeval(o.recv_timeout),
            (n::SOL_SOCKET, n::SO_SNDTIMEO) => timeval(o.send_timeout),
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
        let mm = mm();
        let room: i32 = usercopy::read(&mm, UserRef::new(lenp))?;
        let room = usize::try_from(room).map_err(|_| Errno::EINVAL)?;
        let n = room.min(bytes.len());
        usercopy::write_bytes(&mm, UserAddr(val), &bytes[..n])?;
        usercopy::write(&mm, UserRef::new(lenp), &(n as i32))?;
        Ok(0)
    })
}
