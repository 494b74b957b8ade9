//! `AF_INET` `SOCK_DGRAM` (UDP) sockets, for now only as handles for the interface
//! ioctls: busybox `ifconfig` (and any program that asks about interfaces the classic
//! way) opens one to issue `SIOCGIF*` ([`crate::syscall::netdev`]), which Linux serves
//! on any socket.
//!
//! User programs cannot send or receive UDP yet: every socket call on such a socket
//! (`bind`, `connect`, `sendto`, `recvfrom`, `shutdown`, options…) and `read`/`write`
//! fail with `EOPNOTSUPP`, visibly, rather than pretend; `getsockname` gives `0.0.0.0:0`
//! and `getpeername` `ENOTCONN`, an unbound socket's answers. `poll` says writable, as an
//! unconnected UDP socket on Linux does, so a program that polls first still meets the
//! error instead of waiting forever.
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicU64, Ordering};

use linux_raw_sys::general::{O_RDWR, POLLOUT, POLLWRNORM, S_IFSOCK};

use super::file::{FileOps, FileStat, OpenFile};
use super::socket::{MsgSink, Received, RecvFlags, SendMsg, Socket};
use crate::syscall::Errno;

/// Inode numbers of datagram sockets (their own space, from the top, so they never meet
/// a stream socket's).
static NEXT_INO: AtomicU64 = AtomicU64::new(u64::MAX / 2);

/// An `AF_INET` datagram socket. See the module docs.
pub struct InetDgram {
    ino: u64,
}

/// A new datagram socket with status flags `flags` (`O_NONBLOCK`).
pub fn new(flags: u32) -> Arc<OpenFile> {
    OpenFile::new(
        Arc::new(InetDgram {
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        }),
        O_RDWR | flags,
    )
}

impl FileOps for InetDgram {
    fn read(&self, _file: &OpenFile, _buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn write(&self, _file: &OpenFile, _buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn poll(&self) -> u16 {
        (POLLOUT | POLLWRNORM) as u16
    }

    fn stat(&self) -> FileStat {
        FileStat {
            mode: S_IFSOCK | 0o777,
            rdev: 0,
            size: 0,
            ino: self.ino,
        }
    }

    fn socket(&self) -> Option<&dyn Socket> {
        Some(self)
    }

    fn inet_dgram(&self) -> Option<&InetDgram> {
        Some(self)
    }
}

/// Every socket call is `EOPNOTSUPP` but the names: an unbound, unconnected UDP socket's
/// (`0.0.0.0:0`, `ENOTCONN`), as on Linux.
impl Socket for InetDgram {
    fn bind(&self, _addr: &[u8]) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn connect(&self, _addr: &[u8], _nonblocking: bool) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn listen(&self, _backlog: u32) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn accept(&self, _nonblocking: bool, _flags: u32) -> Result<(Arc<OpenFile>, Vec<u8>), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn send_msg(&self, _msg: SendMsg<'_>) -> Result<usize, Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn recv_msg(&self, _sink: &mut dyn MsgSink, _flags: RecvFlags) -> Result<Received, Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn shutdown(&self, _read: bool, _write: bool) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn local_address(&self) -> Vec<u8> {
        super::inet::sockaddr_in(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
    }

    fn peer_address(&self) -> Result<Vec<u8>, Errno> {
        Err(Errno(linux_raw_sys::errno::ENOTCONN))
    }
}
