//! What every kind of socket file does: Linux's `struct proto_ops`.
//!
//! A socket file ([`super::file::FileOps::socket`]) is an [`Socket`]: `AF_INET` TCP
//! ([`super::inet`]) and `AF_UNIX` stream, datagram and seqpacket sockets
//! ([`super::unix`]). The system calls (`syscall/net.rs`, `syscall/msg.rs`) decode
//! arguments, move addresses, option values and control messages between user memory and
//! the kernel, and call one of these methods; the socket decides everything else, with
//! its family's errnos. Addresses cross this boundary as the bytes of a `sockaddr` of
//! the socket's family (at most `sizeof(struct sockaddr_storage)`), as Linux's
//! `proto_ops` take them, so a new family parses its own.
//!
//! Message data stays in the caller's memory until the socket asks for it
//! ([`MsgSource`], [`MsgSink`]: the iovecs of `sendmsg`/`recvmsg`, or the buffer of
//! `sendto`/`recvfrom`). A socket copies it outside its locks (a datagram is read whole
//! before it is queued), or has it lent a piece at a time ([`SendBuf`], [`RecvBuf`]) and
//! copies straight between its own buffers and the caller's memory under its lock, taken
//! inside the lending (TCP: one copy per byte between the connection and the program).
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::file::OpenFile;
pub use crate::net::socket::{RecvBuf, SendBuf};
use crate::sched::WaitQueue;
use crate::syscall::Errno;

/// The bytes of an outgoing message in the sender's memory, read in order: copied out
/// ([`MsgSource::read_into`]), or lent to the socket to copy from straight into its
/// buffer ([`SendBuf::lend`]).
pub trait MsgSource: SendBuf {
    /// Reads the next bytes into `out`, as many as fit and remain; returns how many
    /// (`EFAULT` for a bad address).
    fn read_into(&mut self, out: &mut [u8]) -> Result<usize, Errno>;
    /// Reads the next `max` bytes at most (`EFAULT` for a bad address).
    fn read(&mut self, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = alloc::vec![0u8; max.min(self.remaining())];
        let n = self.read_into(&mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

/// Where a received message's bytes go in the receiver's memory, in order: copied in
/// ([`MsgSink::write`]), or lent to the socket to fill straight from its buffer
/// ([`RecvBuf::lend`]).
pub trait MsgSink: RecvBuf {
    /// Writes `bytes` (at most [`RecvBuf::room`]) after what was written before.
    fn write(&mut self, bytes: &[u8]) -> Result<(), Errno>;
}

/// Process credentials as `SO_PEERCRED` and `SCM_CREDENTIALS` carry them (`struct ucred`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ucred {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Ucred {
    /// The calling process's pid and effective ids (Linux's `init_peercred`).
    pub fn current() -> Ucred {
        let task = crate::process::current();
        let ids =
            crate::process::table::with(|p| p.table.creds(task.tid()).map(|c| (c.euid, c.egid)));
        let (uid, gid) = ids.unwrap_or((0, 0));
        Ucred {
            pid: task.process.pid,
            uid,
            gid,
        }
    }
}

/// One `sendmsg`.
pub struct SendMsg<'a> {
    pub data: &'a mut dyn MsgSource,
    /// The destination (`msg_name`), if the caller gave one.
    pub addr: Option<&'a [u8]>,
    /// Files of an `SCM_RIGHTS` control message.
    pub rights: Vec<Arc<OpenFile>>,
    /// Credentials of an `SCM_CREDENTIALS` control message (else the sender's own).
    pub cred: Option<Ucred>,
    /// `O_NONBLOCK` or `MSG_DONTWAIT`.
    pub nonblocking: bool,
    /// `MSG_NOSIGNAL`: no `SIGPIPE` with `EPIPE`.
    pub nosignal: bool,
}

/// The flags of one `recvmsg`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecvFlags {
    /// `O_NONBLOCK` or `MSG_DONTWAIT`.
    pub nonblocking: bool,
    /// `MSG_PEEK`: the data stays queued.
    pub peek: bool,
    /// `MSG_WAITALL`: a stream waits until the buffer is full.
    pub wait_all: bool,
    /// `MSG_TRUNC`: a datagram's full length is returned even if it did not fit.
    pub trunc: bool,
}

/// What one `recvmsg` received besides the bytes.
#[derive(Default)]
pub struct Received {
    /// The call's result: bytes written (or a datagram's whole length under `MSG_TRUNC`).
    pub len: usize,
    /// The sender's address, if the family gives one (`msg_name`).
    pub addr: Option<Vec<u8>>,
    /// Files passed with `SCM_RIGHTS`.
    pub rights: Vec<Arc<OpenFile>>,
    /// The sender's credentials when `SO_PASSCRED` is on (`SCM_CREDENTIALS`).
    pub cred: Option<Ucred>,
    /// The datagram was longer than the buffer (`MSG_TRUNC` in `msg_flags`).
    pub truncated: bool,
}

/// A socket's operations (Linux's `proto_ops`); every method has the errnos of its
/// family.
pub trait Socket: Send + Sync {
    /// `bind` with the address bytes the caller gave.
    fn bind(&self, addr: &[u8]) -> Result<(), Errno>;
    /// `connect` (`nonblocking`: the file's `O_NONBLOCK`).
    fn connect(&self, addr: &[u8], nonblocking: bool) -> Result<(), Errno>;
    /// `listen` with the backlog already capped at `SOMAXCONN`.
    fn listen(&self, backlog: u32) -> Result<(), Errno>;
    /// `accept`: the new connection as a file with status flags `flags`, and the peer's
    /// address.
    fn accept(&self, nonblocking: bool, flags: u32) -> Result<(Arc<OpenFile>, Vec<u8>), Errno>;
    /// `sendmsg`: bytes sent.
    fn send_msg(&self, msg: SendMsg<'_>) -> Result<usize, Errno>;
    /// `recvmsg` into `sink`.
    fn recv_msg(&self, sink: &mut dyn MsgSink, flags: RecvFlags) -> Result<Received, Errno>;
    /// `shutdown` (`how` already decoded).
    fn shutdown(&self, read: bool, write: bool) -> Result<(), Errno>;
    /// `getsockname`.
    fn local_address(&self) -> Vec<u8>;
    /// `getpeername` (`ENOTCONN` when there is no peer).
    fn peer_address(&self) -> Result<Vec<u8>, Errno>;
    /// `getsockopt` of an option this family serves itself: the value's bytes.
    fn option(&self, _level: u32, _name: u32) -> Result<Vec<u8>, Errno> {
        Err(Errno(linux_raw_sys::errno::ENOPROTOOPT))
    }
    /// `setsockopt` of an option this family serves itself, with the value's bytes.
    fn set_option(&self, _level: u32, _name: u32, _val: &[u8]) -> Result<(), Errno> {
        Err(Errno(linux_raw_sys::errno::ENOPROTOOPT))
    }
    /// The `AF_INET` TCP socket, whose options `syscall/net.rs` serves.
    fn inet(&self) -> Option<&super::inet::InetSocket> {
        None
    }
}

/// Linux's `sysctl_rmem_max`/`wmem_max` (what `SO_RCVBUF`/`SO_SNDBUF` are capped at
/// before doubling) and the minimums after.
pub const BUF_MAX: usize = 212_992;
pub const MIN_RCVBUF: usize = 2304;
pub const MIN_SNDBUF: usize = 4608;

/// Sleeps on `queue` until `cond` holds, for a socket call with receive or send timeout
/// `timeout` (ns): `EAGAIN` once it passed, `EINTR` (with a timeout) or `ERESTARTSYS`
/// (without) for a signal, as Linux's `sock_rcvtimeo` and `sock_intr_errno`. Process
/// context; may sleep.
pub fn wait_for(
    queue: &WaitQueue,
    timeout: Option<u64>,
    mut cond: impl FnMut() -> bool,
) -> Result<(), Errno> {
    let deadline = timeout.map(|t| crate::time::now_ns().saturating_add(t));
    let mut ok = false;
    queue.wait_until_deadline(deadline, || {
        ok = cond();
        ok || crate::process::signal_pending()
    });
    if ok {
        Ok(())
    } else if crate::process::signal_pending() {
        Err(if timeout.is_some() {
            Errno::EINTR
        } else {
            Errno::ERESTARTSYS
        })
    } else {
        Err(Errno::EAGAIN)
    }
}

/// `SO_RCVBUF`/`SO_SNDBUF`: Linux doubles the request (room for its bookkeeping) after
/// capping it, and keeps a minimum.
pub fn buffer_size(v: i32, min: usize) -> usize {
    (usize::try_from(v).unwrap_or(0).min(BUF_MAX) * 2).max(min)
}

/// A `struct timeval` option value (`SO_RCVTIMEO`, `SO_SNDTIMEO`) in ns: `EINVAL` if
/// shorter than one, `EDOM` for microseconds out of range; zero (or negative) is no
/// timeout.
pub fn timeval_ns(val: &[u8]) -> Result<Option<u64>, Errno> {
    let field = |at: usize| {
        val.get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(i64::from_ne_bytes)
            .ok_or(Errno::EINVAL)
    };
    let (sec, usec) = (field(0)?, field(8)?);
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno(linux_raw_sys::errno::EDOM));
    }
    if sec < 0 || (sec == 0 && usec == 0) {
        return Ok(None);
    }
    Ok(Some(
        (sec as u64).saturating_mul(1_000_000_000) + usec as u64 * 1000,
    ))
}

/// A timeout (ns, `None` for none) as the bytes of a `struct timeval`.
pub fn timeval_bytes(t: Option<u64>) -> Vec<u8> {
    let ns = t.unwrap_or(0);
    let tv = [
        (ns / 1_000_000_000) as i64,
        ((ns % 1_000_000_000) / 1000) as i64,
    ];
    tv.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

/// A kernel buffer as a [`MsgSource`] (`write` on a socket).
pub struct SliceSource<'a> {
    pub buf: &'a [u8],
    pub at: usize,
}

impl SendBuf for SliceSource<'_> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.at
    }

    fn lend(&mut self, f: &mut dyn FnMut(&[&[u8]]) -> usize) -> bool {
        self.at += f(&[&self.buf[self.at..]]);
        true
    }
}

impl MsgSource for SliceSource<'_> {
    fn read_into(&mut self, out: &mut [u8]) -> Result<usize, Errno> {
        let n = out.len().min(self.remaining());
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A kernel buffer as a [`MsgSink`] (`read` on a socket).
pub struct SliceSink<'a> {
    pub buf: &'a mut [u8],
    pub at: usize,
}

impl RecvBuf for SliceSink<'_> {
    fn room(&self) -> usize {
        self.buf.len() - self.at
    }

    fn lend(&mut self, f: &mut dyn FnMut(&mut [&mut [u8]], bool) -> usize) -> bool {
        self.at += f(&mut [&mut self.buf[self.at..]], false);
        true
    }
}

impl MsgSink for SliceSink<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), Errno> {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
        Ok(())
    }
}
