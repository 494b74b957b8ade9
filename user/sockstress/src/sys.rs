//! Thin wrappers over the system calls the loops make. Each returns the errno on failure
//! (`Result<_, i32>`), so a loop can count failures by kind and errno; descriptors are
//! `OwnedFd`s, closed on drop, except where a race closes one by hand ([`close_raw`]).

use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// A system call's return value: the errno if it failed.
fn check(r: isize) -> Result<usize, i32> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(r as usize)
    }
}

fn owned(r: i32) -> Result<OwnedFd, i32> {
    let fd = check(r as isize)? as RawFd;
    // SAFETY: the system call just returned this new descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub fn socket(domain: i32, ty: i32) -> Result<OwnedFd, i32> {
    // SAFETY: plain system call.
    owned(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, 0) })
}

pub fn socketpair(ty: i32) -> Result<(OwnedFd, OwnedFd), i32> {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors.
    let r =
        unsafe { libc::socketpair(libc::AF_UNIX, ty | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) };
    check(r as isize)?;
    // SAFETY: both descriptors are new and owned by no one else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn sin(addr: SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain integers; all-zero is valid.
    let mut a: libc::sockaddr_in = unsafe { zeroed() };
    a.sin_family = libc::AF_INET as libc::sa_family_t;
    a.sin_port = addr.port().to_be();
    a.sin_addr.s_addr = u32::from_ne_bytes(addr.ip().octets());
    a
}

fn from_sin(a: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::from(a.sin_addr.s_addr.to_ne_bytes()),
        u16::from_be(a.sin_port),
    )
}

const SIN_LEN: libc::socklen_t = size_of::<libc::sockaddr_in>() as libc::socklen_t;

pub fn connect(fd: &OwnedFd, addr: SocketAddrV4) -> Result<(), i32> {
    let a = sin(addr);
    // SAFETY: `a` is a valid sockaddr_in.
    check(unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&a as *const libc::sockaddr_in).cast(),
            SIN_LEN,
        )
    } as isize)
    .map(drop)
}

/// A TCP listener on `addr` (`SO_REUSEADDR`, so a rerun does not wait for TIME-WAIT).
pub fn listen(addr: SocketAddrV4, flags: i32) -> Result<OwnedFd, i32> {
    let fd = socket(libc::AF_INET, libc::SOCK_STREAM | flags)?;
    set_int(&fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    let a = sin(addr);
    // SAFETY: `a` is a valid sockaddr_in.
    check(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&a as *const libc::sockaddr_in).cast(),
            SIN_LEN,
        )
    } as isize)?;
    // SAFETY: plain system call.
    check(unsafe { libc::listen(fd.as_raw_fd(), 128) } as isize)?;
    Ok(fd)
}

pub fn local_addr(fd: &OwnedFd) -> Result<SocketAddrV4, i32> {
    // SAFETY: sockaddr_in is plain integers; all-zero is valid.
    let mut a: libc::sockaddr_in = unsafe { zeroed() };
    let mut len = SIN_LEN;
    // SAFETY: the buffer and its length are valid.
    check(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut a as *mut libc::sockaddr_in).cast(),
            &mut len,
        )
    } as isize)?;
    Ok(from_sin(&a))
}

/// `accept4` with `flags` (plus `SOCK_CLOEXEC`); the peer's address.
pub fn accept(fd: RawFd, flags: i32) -> Result<(OwnedFd, SocketAddrV4), i32> {
    // SAFETY: sockaddr_in is plain integers; all-zero is valid.
    let mut a: libc::sockaddr_in = unsafe { zeroed() };
    let mut len = SIN_LEN;
    // SAFETY: the buffer and its length are valid.
    let conn = owned(unsafe {
        libc::accept4(
            fd,
            (&mut a as *mut libc::sockaddr_in).cast(),
            &mut len,
            flags | libc::SOCK_CLOEXEC,
        )
    })?;
    Ok((conn, from_sin(&a)))
}

pub fn set_int(fd: &OwnedFd, level: i32, name: i32, value: i32) -> Result<(), i32> {
    // SAFETY: the option value is a valid int of the given size.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    } as isize)
    .map(drop)
}

/// `SO_RCVTIMEO` and `SO_SNDTIMEO`: every blocking call on `fd` gives up after `t`.
pub fn set_timeouts(fd: &OwnedFd, t: Duration) -> Result<(), i32> {
    let tv = libc::timeval {
        tv_sec: t.as_secs() as libc::time_t,
        tv_usec: t.subsec_micros() as libc::suseconds_t,
    };
    for name in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
        // SAFETY: the option value is a valid timeval of the given size.
        check(unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                name,
                (&tv as *const libc::timeval).cast(),
                size_of::<libc::timeval>() as libc::socklen_t,
            )
        } as isize)?;
    }
    Ok(())
}

/// `SO_ERROR`: the pending error of a non-blocking connect (0 once connected).
pub fn so_error(fd: &OwnedFd) -> Result<i32, i32> {
    let mut v = 0i32;
    let mut len = size_of::<i32>() as libc::socklen_t;
    // SAFETY: `v` and `len` are valid.
    check(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut v as *mut i32).cast(),
            &mut len,
        )
    } as isize)?;
    Ok(v)
}

/// `send` with `MSG_NOSIGNAL` (a closed peer is `EPIPE`, not a signal).
pub fn send(fd: RawFd, buf: &[u8]) -> Result<usize, i32> {
    // SAFETY: the buffer is valid for its length.
    check(unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) })
}

/// Sends all of `buf` (a blocking socket).
pub fn send_all(fd: RawFd, mut buf: &[u8]) -> Result<(), i32> {
    while !buf.is_empty() {
        let n = send(fd, buf)?;
        buf = &buf[n..];
    }
    Ok(())
}

pub fn recv(fd: RawFd, buf: &mut [u8]) -> Result<usize, i32> {
    // SAFETY: the buffer is valid for its length.
    check(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) })
}

pub fn read_u64(fd: &OwnedFd) -> Result<u64, i32> {
    let mut v = 0u64;
    // SAFETY: `v` is 8 writable bytes.
    let n = check(unsafe { libc::read(fd.as_raw_fd(), (&mut v as *mut u64).cast(), 8) })?;
    if n == 8 {
        Ok(v)
    } else {
        Err(libc::EIO)
    }
}

pub fn write_u64(fd: &OwnedFd, v: u64) -> Result<(), i32> {
    // SAFETY: `v` is 8 readable bytes.
    check(unsafe { libc::write(fd.as_raw_fd(), (&v as *const u64).cast(), 8) }).map(drop)
}

pub fn shutdown(fd: RawFd, how: i32) -> Result<(), i32> {
    // SAFETY: plain system call.
    check(unsafe { libc::shutdown(fd, how) } as isize).map(drop)
}

/// Closes a descriptor another thread may be using (the close races).
pub fn close_raw(fd: RawFd) -> Result<(), i32> {
    // SAFETY: the caller gave up ownership of `fd` (`into_raw_fd`); a thread still using
    // the number is the point of the race, and no descriptor is opened meanwhile.
    check(unsafe { libc::close(fd) } as isize).map(drop)
}

/// Whether `fd` is ready for any of `events` within `timeout_ms` (`poll`).
pub fn ready(fd: RawFd, events: i16, timeout_ms: i32) -> Result<bool, i32> {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = check(unsafe { libc::poll(&mut p, 1, timeout_ms) } as isize)?;
    Ok(n == 1 && p.revents & (events | libc::POLLERR | libc::POLLHUP) != 0)
}

pub fn eventfd(flags: i32) -> Result<OwnedFd, i32> {
    // SAFETY: plain system call.
    owned(unsafe { libc::eventfd(0, flags | libc::EFD_CLOEXEC) })
}

/// A non-blocking `CLOCK_MONOTONIC` timerfd that expires once, `after` from now.
pub fn timerfd_once(after: Duration) -> Result<OwnedFd, i32> {
    // SAFETY: plain system call.
    let fd = owned(unsafe {
        libc::timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_CLOEXEC | libc::TFD_NONBLOCK,
        )
    })?;
    let spec = libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: libc::timespec {
            tv_sec: after.as_secs() as libc::time_t,
            tv_nsec: after.subsec_nanos() as libc::c_long,
        },
    };
    // SAFETY: `spec` is a valid itimerspec; no old value wanted.
    let r = unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
    check(r as isize)?;
    Ok(fd)
}

/// An epoll instance; events carry the watched descriptor as their data.
pub struct Epoll(OwnedFd);

impl Epoll {
    pub fn new() -> Result<Epoll, i32> {
        // SAFETY: plain system call.
        owned(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }).map(Epoll)
    }

    fn ctl(&self, op: i32, fd: RawFd, events: u32) -> Result<(), i32> {
        let mut ev = libc::epoll_event {
            events,
            u64: fd as u64,
        };
        // SAFETY: `ev` is a valid epoll_event.
        check(unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, &mut ev) } as isize).map(drop)
    }

    pub fn add(&self, fd: RawFd, events: u32) -> Result<(), i32> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, events)
    }

    pub fn modify(&self, fd: RawFd, events: u32) -> Result<(), i32> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, events)
    }

    /// Waits up to `timeout_ms`; `(fd, events)` of each ready entry.
    pub fn wait(&self, timeout_ms: i32) -> Result<Vec<(RawFd, u32)>, i32> {
        // SAFETY: epoll_event is plain integers; all-zero is valid.
        let mut evs: [libc::epoll_event; 32] = unsafe { zeroed() };
        // SAFETY: the array has room for the 32 events asked for.
        let n =
            check(
                unsafe { libc::epoll_wait(self.0.as_raw_fd(), evs.as_mut_ptr(), 32, timeout_ms) }
                    as isize,
            )?;
        Ok(evs[..n]
            .iter()
            .map(|e| (e.u64 as RawFd, e.events))
            .collect())
    }
}

/// A short name for the errnos the loops meet, else the number.
pub fn errno_name(e: i32) -> String {
    let name = match e {
        libc::EAGAIN => "EAGAIN",
        libc::EBADF => "EBADF",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ECONNRESET => "ECONNRESET",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::EPIPE => "EPIPE",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EINPROGRESS => "EINPROGRESS",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::ENOBUFS => "ENOBUFS",
        libc::ENOMEM => "ENOMEM",
        libc::EMFILE => "EMFILE",
        libc::ENOTCONN => "ENOTCONN",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        _ => return format!("errno{e}"),
    };
    name.to_string()
}
