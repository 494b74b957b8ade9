//! `AF_INET` helpers of the socket programs (`sockets`, `udp`): addresses, the calls
//! with their lengths filled in, `poll` on one descriptor, integer and timeout options.

use crate::errno::{cvt, Errno};
use core::ffi::c_int;
use core::mem::{size_of, zeroed};

/// 127.0.0.1.
pub const LOOPBACK: [u8; 4] = [127, 0, 0, 1];

pub fn sin(ip: [u8; 4], port: u16) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain integers; all-zero is valid.
    let mut a: libc::sockaddr_in = unsafe { zeroed() };
    a.sin_family = libc::AF_INET as libc::sa_family_t;
    a.sin_port = port.to_be();
    a.sin_addr.s_addr = u32::from_ne_bytes(ip);
    a
}

pub fn ip_of(a: &libc::sockaddr_in) -> std::net::Ipv4Addr {
    a.sin_addr.s_addr.to_ne_bytes().into()
}

/// Same address and port.
pub fn same(a: &libc::sockaddr_in, b: &libc::sockaddr_in) -> bool {
    (ip_of(a), port_of(a)) == (ip_of(b), port_of(b))
}

pub fn port_of(a: &libc::sockaddr_in) -> u16 {
    u16::from_be(a.sin_port)
}

pub fn bind(fd: c_int, a: &libc::sockaddr_in) -> Result<c_int, Errno> {
    // SAFETY: `a` is a live sockaddr_in of the length given.
    cvt(unsafe {
        libc::bind(
            fd,
            (a as *const libc::sockaddr_in).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    })
}

pub fn connect(fd: c_int, a: &libc::sockaddr_in) -> Result<c_int, Errno> {
    // SAFETY: `a` is a live sockaddr_in of the length given.
    cvt(unsafe {
        libc::connect(
            fd,
            (a as *const libc::sockaddr_in).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    })
}

/// `getsockname` (`peer` false) or `getpeername`.
pub fn name(fd: c_int, peer: bool) -> Result<libc::sockaddr_in, Errno> {
    // SAFETY: sockaddr_in is plain data.
    let mut a: libc::sockaddr_in = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    let p = (&raw mut a).cast();
    // SAFETY: `a` and `len` are live and writable.
    cvt(unsafe {
        if peer {
            libc::getpeername(fd, p, &mut len)
        } else {
            libc::getsockname(fd, p, &mut len)
        }
    })?;
    Ok(a)
}

pub fn send(fd: c_int, data: &[u8], flags: c_int) -> Result<usize, Errno> {
    // SAFETY: `data` is a live buffer of its length; no address.
    cvt(unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), flags) }).map(|n| n as usize)
}

pub fn recv(fd: c_int, len: usize, flags: c_int) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` is a live, writable buffer of `len` bytes.
    let n = cvt(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), len, flags) })?;
    buf.truncate(n as usize);
    Ok(buf)
}

pub fn text(r: Result<Vec<u8>, Errno>) -> Result<String, Errno> {
    r.map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// `poll` on one descriptor; `None` waits as long as it takes.
pub fn poll1(fd: c_int, events: i16, timeout_ms: Option<c_int>) -> Result<i16, Errno> {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    cvt(unsafe { libc::poll(&mut p, 1, timeout_ms.unwrap_or(-1)) })?;
    Ok(p.revents)
}

/// The names of the poll bits set in `ev`.
pub fn events(ev: i16) -> String {
    let names = [
        (libc::POLLIN, "IN"),
        (libc::POLLOUT, "OUT"),
        (libc::POLLERR, "ERR"),
        (libc::POLLHUP, "HUP"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| ev & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    if set.is_empty() {
        "none".into()
    } else {
        set.join("|")
    }
}

pub fn set_int(fd: c_int, level: c_int, opt: c_int, v: c_int) -> Result<c_int, Errno> {
    // SAFETY: `v` is an int of the size given.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (&raw const v).cast(),
            size_of::<c_int>() as _,
        )
    })
}

pub fn get_int(fd: c_int, level: c_int, opt: c_int) -> Result<c_int, Errno> {
    let mut v: c_int = -1;
    let mut len = size_of::<c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are live and writable.
    cvt(unsafe { libc::getsockopt(fd, level, opt, (&raw mut v).cast(), &mut len) })?;
    Ok(v)
}

pub fn set_timeout(fd: c_int, opt: c_int, ms: i64) -> Result<c_int, Errno> {
    let tv = libc::timeval {
        tv_sec: ms / 1000,
        tv_usec: (ms % 1000) * 1000,
    };
    // SAFETY: `tv` is a live timeval of the size given.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            opt,
            (&raw const tv).cast(),
            size_of::<libc::timeval>() as _,
        )
    })
}

pub fn get_timeout_ms(fd: c_int, opt: c_int) -> Result<i64, Errno> {
    // SAFETY: timeval is plain data.
    let mut tv: libc::timeval = unsafe { zeroed() };
    let mut len = size_of::<libc::timeval>() as libc::socklen_t;
    // SAFETY: `tv` and `len` are live and writable.
    cvt(unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, (&raw mut tv).cast(), &mut len) })?;
    Ok(tv.tv_sec * 1000 + tv.tv_usec / 1000)
}
