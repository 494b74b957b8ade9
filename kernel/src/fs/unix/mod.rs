//! `AF_UNIX` sockets: `SOCK_STREAM`, `SOCK_DGRAM` and `SOCK_SEQPACKET` (Linux's
//! `net/unix/af_unix.c`), unnamed (`socketpair`, or never bound), bound to a path or an
//! abstract name ([`name`]), listening and connected.
//!
//! Each socket has one receive queue of messages; a sender puts its message, with the
//! files of `SCM_RIGHTS` and its credentials, on the receiver's queue (the peer's for a
//! connected socket, the named socket's for `sendto`). A stream reader takes bytes
//! across messages and stops after a message that carried files; datagram and seqpacket
//! readers take one message, the rest of it dropped (`MSG_TRUNC`). Flow control is
//! Linux's: a stream sender waits while the peer holds `SO_SNDBUF` of its bytes unread
//! (and is writable for `poll` while that is at most a quarter), a datagram sender while
//! the receiver holds more than `max_dgram_qlen` (10) messages unless the receiver is
//! connected back to it.
//!
//! `connect` on a stream or seqpacket socket makes the server's end at once (an
//! "embryo", Linux's `newsk`) and queues it on the listener, which counts as full when it
//! holds more than the backlog (`EAGAIN` without blocking); `accept` takes it. Data may be
//! sent before the accept. Closing a socket shuts both directions of its peer, which sees
//! `ECONNRESET` first if unread data or an unaccepted connection died with it; files in
//! flight live in the queues, so they outlive the sender's descriptors.
//!
//! Sockets that only unreachable queues hold (cycles of sockets in flight) are found and
//! freed by [`gc`] when a socket closes.
//!
//! Every socket has one state lock (an interrupts-off leaf, as the pipes'), never held
//! with another socket's, and one reader lock (Linux's `iolock`) that keeps a reader's
//! copy-out and consume together.
//!
//! Here: the socket, its states, connections (`connect`, `listen`, `accept`), `poll`,
//! options and closing; the data paths are [`stream`] and [`datagram`]; names and the
//! table of bound names are [`name`].
use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use linux_raw_sys::errno as e;
use linux_raw_sys::general::{
    O_RDWR, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM,
};
use linux_raw_sys::net as n;

mod datagram;
mod gc;
pub mod name;
mod stream;

use super::file::{FileOps, FileStat, OpenFile};
use super::poll::{PollQueue, Registration};
use super::socket::{MsgSink, Received, RecvFlags, SendMsg, Socket, Ucred};
use crate::fs::socket::wait_for;
use crate::sched::WaitQueue;
use crate::sync::{IrqLock, LockClass, Mutex};
use crate::syscall::Errno;
use gc::Rights;
use name::{self as names, Name, Target};

static UNIX_CLASS: LockClass = LockClass::new("fs.unix");
static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// Linux's `net.core.wmem_default`/`rmem_default`: the buffer sizes a socket starts with.
pub const DEFAULT_BUF: usize = 212_992;
/// Linux's `SOMAXCONN`, the cap on a backlog.
pub const SOMAXCONN: u32 = 4096;

/// The socket type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Stream,
    Dgram,
    SeqPacket,
}

impl Kind {
    /// `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_SEQPACKET`.
    pub fn from_type(ty: u32) -> Option<Kind> {
        match ty {
            n::SOCK_STREAM => Some(Kind::Stream),
            n::SOCK_DGRAM | n::SOCK_RAW => Some(Kind::Dgram),
            n::SOCK_SEQPACKET => Some(Kind::SeqPacket),
            _ => None,
        }
    }

    fn code(self) -> u32 {
        match self {
            Kind::Stream => n::SOCK_STREAM,
            Kind::Dgram => n::SOCK_DGRAM,
            Kind::SeqPacket => n::SOCK_SEQPACKET,
        }
    }

    /// Connection-oriented (a peer for life, `listen`/`accept`).
    fn connected_kind(self) -> bool {
        self != Kind::Dgram
    }
}

/// Files in flight whose message was dropped unread, waiting to be closed.
static ORPHANS: IrqLock<Vec<Arc<OpenFile>>> = IrqLock::new(Vec::new(), &ORPHANS_CLASS);
static ORPHANS_CLASS: LockClass = LockClass::new("fs.unix.orphans");
static CLOSING_ORPHANS: AtomicBool = AtomicBool::new(false);

/// Closes the files of dropped messages one batch at a time: a file closed here may be a
/// socket whose own queue holds more files, and so on, so the first caller loops while
/// the nested ones only queue (Linux defers `fput` for the same reason). No lock may be
/// held by the caller.
fn close_orphans(files: Vec<Arc<OpenFile>>) {
    ORPHANS.lock().extend(files);
    loop {
        if CLOSING_ORPHANS.swap(true, Ordering::Acquire) {
            // Someone up the stack (or on another CPU) is closing them.
            return;
        }
        loop {
            let batch = core::mem::take(&mut *ORPHANS.lock());
            if batch.is_empty() {
                break;
            }
            drop(batch);
        }
        CLOSING_ORPHANS.store(false, Ordering::Release);
        // A file queued between the last look and the store would wait for the next
        // caller: look once more.
        if ORPHANS.lock().is_empty() {
            return;
        }
    }
}

/// One queued message (a stream's is a segment: its bytes may be taken in parts).
struct Msg {
    data: Vec<u8>,
    /// Bytes of `data` already read (streams).
    off: usize,
    rights: Rights,
    /// The sender's address (`sockaddr_un` bytes), if it was bound.
    from: Option<Vec<u8>>,
    cred: Ucred,
}

#[derive(PartialEq, Eq)]
enum State {
    /// Linux's `TCP_CLOSE`: fresh, or a datagram socket.
    Unconnected,
    Listening,
    Connected,
}

struct Inner {
    state: State,
    name: Option<Name>,
    /// The connected peer (streams: for life; datagrams: `connect`'s target).
    peer: Option<Weak<UnixSocket>>,
    /// A datagram socket's [`Relay`] on its peer's readiness queue.
    relay: Option<Registration>,
    /// The peer's address when it was connected (for `getpeername`).
    peer_addr: Vec<u8>,
    /// `SO_PEERCRED`.
    peer_cred: Option<Ucred>,
    rx: VecDeque<Msg>,
    /// Unread bytes in `rx`.
    rx_bytes: usize,
    /// Connections waiting for `accept`, and how many may wait beyond the first.
    pending: VecDeque<Arc<UnixSocket>>,
    backlog: usize,
    /// Linux's `sk_shutdown` bits.
    shut_rd: bool,
    shut_wr: bool,
    /// Closed (Linux's `SOCK_DEAD`).
    dead: bool,
    /// `sk_err`, reported once.
    error: Option<Errno>,
    passcred: bool,
    sndbuf: usize,
    rcvbuf: usize,
    /// `SO_RCVTIMEO`, `SO_SNDTIMEO` in ns.
    rcvtimeo: Option<u64>,
    sndtimeo: Option<u64>,
}

/// An `AF_UNIX` socket.
pub struct UnixSocket {
    kind: Kind,
    inner: IrqLock<Inner>,
    /// Readers and `accept` wait here.
    readable: WaitQueue,
    /// Senders to this socket and connectors to this listener wait here for room.
    room: WaitQueue,
    poll_queue: Arc<PollQueue>,
    /// One reader at a time (Linux's `iolock`).
    reader: Mutex<()>,
    me: Weak<UnixSocket>,
    ino: u64,
}

impl UnixSocket {
    fn create(kind: Kind) -> Arc<UnixSocket> {
        Arc::new_cyclic(|me| UnixSocket {
            kind,
            inner: IrqLock::new(
                Inner {
                    state: State::Unconnected,
                    name: None,
                    peer: None,
                    relay: None,
                    peer_addr: names::unnamed(),
                    peer_cred: None,
                    rx: VecDeque::new(),
                    rx_bytes: 0,
                    pending: VecDeque::new(),
                    backlog: 0,
                    shut_rd: false,
                    shut_wr: false,
                    dead: false,
                    error: None,
                    passcred: false,
                    sndbuf: DEFAULT_BUF,
                    rcvbuf: DEFAULT_BUF,
                    rcvtimeo: None,
                    sndtimeo: None,
                },
                &UNIX_CLASS,
            ),
            readable: WaitQueue::new(),
            room: WaitQueue::new(),
            poll_queue: Arc::new(PollQueue::new()),
            reader: Mutex::new(()),
            me: me.clone(),
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        })
    }

    fn arc(&self) -> Arc<UnixSocket> {
        self.me.upgrade().expect("a socket in use is alive")
    }

    /// `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_SEQPACKET`.
    pub fn type_code(&self) -> u32 {
        self.kind.code()
    }

    fn peer(&self) -> Option<Arc<UnixSocket>> {
        self.inner.lock().peer.as_ref().and_then(Weak::upgrade)
    }

    /// The sockaddr of this socket's name, if bound.
    fn name_addr(&self) -> Option<Vec<u8>> {
        self.inner.lock().name.as_ref().map(Name::sockaddr)
    }

    /// Wakes whoever waits on this socket's state: readers, senders, pollers.
    fn wake(&self) {
        self.readable.wake_all();
        self.room.wake_all();
        self.poll_queue.wake(0);
    }

    /// Gives an unbound socket an abstract name (for `SO_PASSCRED`).
    fn autobind(&self) {
        if self.inner.lock().name.is_some() {
            return;
        }
        let me = self.arc();
        names::autobind(self.kind.code(), &me, |name| {
            self.inner.lock().name.get_or_insert(name);
        });
    }

    /// Waits with [`wait_for`], or `EAGAIN` at once if `nonblocking` and `cond` is
    /// false.
    fn wait_or(
        queue: &WaitQueue,
        nonblocking: bool,
        timeout: Option<u64>,
        mut cond: impl FnMut() -> bool,
    ) -> Result<(), Errno> {
        if cond() {
            return Ok(());
        }
        if nonblocking {
            return Err(Errno::EAGAIN);
        }
        wait_for(queue, timeout, cond)
    }

    /// A read freed room: wake senders to us and the peer's pollers (its `POLLOUT`).
    fn room_freed(&self) {
        self.room.wake_all();
        self.poll_queue.wake(POLLOUT | POLLWRNORM);
        if let Some(peer) = self.peer() {
            peer.poll_queue.wake(POLLOUT | POLLWRNORM);
        }
    }

    /// The last descriptor closed, or an unaccepted connection's listener closed
    /// (`embryo`): Linux's `unix_release_sock`.
    fn close(&self, embryo: bool) {
        let (peer, rx, pending, name, _relay) = {
            let mut s = self.inner.lock();
            s.dead = true;
            s.state = State::Unconnected;
            s.rx_bytes = 0;
            (
                s.peer.take(),
                core::mem::take(&mut s.rx),
                core::mem::take(&mut s.pending),
                s.name.take(),
                s.relay.take(),
            )
        };
        if let Some(name) = &name {
            names::unbind(self.kind.code(), name, self);
        }
        if let Some(peer) = peer.and_then(|p| p.upgrade()) {
            if self.kind.connected_kind() {
                let mut s = peer.inner.lock();
                s.shut_rd = true;
                s.shut_wr = true;
                if !rx.is_empty() || embryo {
                    s.error = Some(Errno(e::ECONNRESET));
                }
            }
            peer.wake();
        }
        self.wake();
        drop(rx);
        for c in pending {
            c.close(true);
        }
        if !embryo {
            gc::collect();
        }
    }

    /// The in-flight sockets this socket's queue and its embryos' queues carry
    /// ([`gc`]). Takes one socket's lock at a time.
    fn in_flight_children(&self) -> Vec<usize> {
        let (mut keys, embryos) = {
            let s = self.inner.lock();
            (gc::in_flight_keys(s.rx.iter()), s.pending.clone())
        };
        for e in embryos {
            keys.extend(gc::in_flight_keys(e.inner.lock().rx.iter()));
        }
        keys
    }

    /// Moves this socket's queue and its embryos' queues to `out`: the socket is garbage
    /// ([`gc`]), so nothing can read them.
    fn purge_queue(&self, out: &mut Vec<Msg>) {
        let embryos = {
            let mut s = self.inner.lock();
            s.rx_bytes = 0;
            out.extend(s.rx.drain(..));
            s.pending.clone()
        };
        for e in embryos {
            let mut s = e.inner.lock();
            s.rx_bytes = 0;
            out.extend(s.rx.drain(..));
        }
    }

    /// Options' shared part: the buffer sizes and timeouts.
    fn set(&self, f: impl FnOnce(&mut Inner)) {
        f(&mut self.inner.lock());
        self.wake();
    }
}

/// Reads an `int` option value (at least 4 bytes, else `EINVAL`).
fn int_value(val: &[u8]) -> Result<i32, Errno> {
    let b: [u8; 4] = val
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(Errno::EINVAL)?;
    Ok(i32::from_ne_bytes(b))
}

impl Socket for UnixSocket {
    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        let me = self.arc();
        let register = |name: Name| {
            let mut s = self.inner.lock();
            if s.name.is_some() {
                return Err(Errno::EINVAL);
            }
            s.name = Some(name);
            Ok(())
        };
        if names::is_autobind(addr) {
            self.autobind();
            return Ok(());
        }
        match names::parse(addr)? {
            Target::Path(p) => names::bind_path(&p, &me, register),
            Target::Abstract(a) => {
                if self.inner.lock().name.is_some() {
                    return Err(Errno::EINVAL);
                }
                names::bind_abstract(self.kind.code(), a, &me, register)
            }
        }
    }

    fn connect(&self, addr: &[u8], nonblocking: bool) -> Result<(), Errno> {
        if self.kind == Kind::Dgram {
            return self.connect_datagram(addr);
        }
        let target = names::parse(addr)?;
        let (passcred, timeout) = {
            let s = self.inner.lock();
            (s.passcred, s.sndtimeo)
        };
        if passcred {
            self.autobind();
        }
        loop {
            let listener = names::find(&target, self.kind.code())?;
            {
                let ls = listener.inner.lock();
                if ls.state != State::Listening || ls.shut_rd || ls.dead {
                    return Err(Errno(e::ECONNREFUSED));
                }
                if ls.pending.len() > ls.backlog {
                    drop(ls);
                    UnixSocket::wait_or(&listener.room, nonblocking, timeout, || {
                        let ls = listener.inner.lock();
                        ls.dead || ls.state != State::Listening || ls.pending.len() <= ls.backlog
                    })?;
                    continue;
                }
            }
            let (listen_addr, listen_cred) = {
                let s = self.inner.lock();
                match s.state {
                    State::Connected => return Err(Errno(e::EISCONN)),
                    State::Listening => return Err(Errno::EINVAL),
                    State::Unconnected => {}
                }
                drop(s);
                let ls = listener.inner.lock();
                (ls.name.as_ref().map(Name::sockaddr), ls.peer_cred)
            };
            let embryo = UnixSocket::create(self.kind);
            let listen_name = listener.inner.lock().name.clone();
            let our_addr = self.name_addr().unwrap_or_else(names::unnamed);
            let our_cred = Ucred::current();
            {
                let mut es = embryo.inner.lock();
                es.state = State::Connected;
                es.name = listen_name;
                es.peer = Some(self.me.clone());
                es.peer_addr = our_addr;
                es.peer_cred = Some(our_cred);
            }
            {
                let mut s = self.inner.lock();
                s.state = State::Connected;
                s.peer = Some(Arc::downgrade(&embryo));
                s.peer_addr = listen_addr.unwrap_or_else(names::unnamed);
                s.peer_cred = listen_cred;
            }
            listener.inner.lock().pending.push_back(embryo);
            listener.readable.wake_all();
            listener.poll_queue.wake(POLLIN | POLLRDNORM);
            self.poll_queue.wake(POLLOUT | POLLWRNORM);
            return Ok(());
        }
    }

    fn listen(&self, backlog: u32) -> Result<(), Errno> {
        if self.kind == Kind::Dgram {
            return Err(Errno::EOPNOTSUPP);
        }
        let cred = Ucred::current();
        let mut s = self.inner.lock();
        if s.name.is_none() || s.state == State::Connected {
            return Err(Errno::EINVAL);
        }
        s.backlog = backlog as usize;
        if s.state != State::Listening {
            s.state = State::Listening;
            s.peer_cred = Some(cred);
        }
        drop(s);
        self.wake();
        Ok(())
    }

    fn accept(&self, nonblocking: bool, flags: u32) -> Result<(Arc<OpenFile>, Vec<u8>), Errno> {
        if self.kind == Kind::Dgram {
            return Err(Errno::EOPNOTSUPP);
        }
        let timeout = self.inner.lock().rcvtimeo;
        let embryo = loop {
            {
                let mut s = self.inner.lock();
                if s.state != State::Listening {
                    return Err(Errno::EINVAL);
                }
                if let Some(c) = s.pending.pop_front() {
                    break c;
                }
            }
            if nonblocking {
                return Err(Errno::EAGAIN);
            }
            wait_for(&self.readable, timeout, || {
                let s = self.inner.lock();
                !s.pending.is_empty() || s.state != State::Listening
            })?;
        };
        self.room.wake_all();
        self.poll_queue.wake(0);
        let peer = embryo.inner.lock().peer_addr.clone();
        Ok((OpenFile::new(embryo, O_RDWR | flags), peer))
    }

    fn send_msg(&self, msg: SendMsg<'_>) -> Result<usize, Errno> {
        match self.kind {
            Kind::Stream => self.send_stream(msg),
            Kind::Dgram | Kind::SeqPacket => self.send_datagram(msg),
        }
    }

    fn recv_msg(&self, sink: &mut dyn MsgSink, flags: RecvFlags) -> Result<Received, Errno> {
        let mut got = match self.kind {
            Kind::Stream => self.recv_stream(sink, flags)?,
            Kind::Dgram | Kind::SeqPacket => self.recv_datagram(sink, flags)?,
        };
        if !self.inner.lock().passcred {
            got.cred = None;
        }
        Ok(got)
    }

    fn shutdown(&self, read: bool, write: bool) -> Result<(), Errno> {
        let peer = {
            let mut s = self.inner.lock();
            s.shut_rd |= read;
            s.shut_wr |= write;
            s.peer.as_ref().and_then(Weak::upgrade)
        };
        if let Some(peer) = peer.filter(|_| self.kind.connected_kind()) {
            let mut s = peer.inner.lock();
            s.shut_wr |= read;
            s.shut_rd |= write;
            drop(s);
            peer.wake();
        }
        self.wake();
        Ok(())
    }

    fn local_address(&self) -> Vec<u8> {
        self.name_addr().unwrap_or_else(names::unnamed)
    }

    fn peer_address(&self) -> Result<Vec<u8>, Errno> {
        let s = self.inner.lock();
        match (&s.state, &s.peer) {
            (State::Connected, _) | (State::Unconnected, Some(_)) => Ok(s.peer_addr.clone()),
            _ => Err(Errno(e::ENOTCONN)),
        }
    }

    fn option(&self, level: u32, name: u32) -> Result<Vec<u8>, Errno> {
        if level != n::SOL_SOCKET {
            return Err(Errno(e::EOPNOTSUPP));
        }
        let int = |v: usize| (v as i32).to_ne_bytes().to_vec();
        let mut s = self.inner.lock();
        Ok(match name {
            n::SO_TYPE => int(self.kind.code() as usize),
            n::SO_DOMAIN => int(n::AF_UNIX as usize),
            n::SO_PROTOCOL => int(0),
            n::SO_ACCEPTCONN => int(usize::from(s.state == State::Listening)),
            n::SO_ERROR => int(s.error.take().map_or(0, |e| e.0 as usize)),
            n::SO_PASSCRED => int(usize::from(s.passcred)),
            n::SO_SNDBUF => int(s.sndbuf),
            n::SO_RCVBUF => int(s.rcvbuf),
            n::SO_PEERCRED => {
                // Linux: no peer is pid 0 with the overflow ids.
                let c = s.peer_cred.unwrap_or(Ucred {
                    pid: 0,
                    uid: 65534,
                    gid: 65534,
                });
                [c.pid, c.uid, c.gid]
                    .iter()
                    .flat_map(|v| v.to_ne_bytes())
                    .collect()
            }
            n::SO_RCVTIMEO | n::SO_SNDTIMEO => {
                let t = if name == n::SO_RCVTIMEO {
                    s.rcvtimeo
                } else {
                    s.sndtimeo
                };
                super::socket::timeval_bytes(t)
            }
            _ => return Err(Errno(e::ENOPROTOOPT)),
        })
    }

    fn set_option(&self, level: u32, name: u32, val: &[u8]) -> Result<(), Errno> {
        if level != n::SOL_SOCKET {
            return Err(Errno(e::EOPNOTSUPP));
        }
        match name {
            n::SO_PASSCRED => {
                let on = int_value(val)? != 0;
                self.set(|s| s.passcred = on);
            }
            n::SO_SNDBUF | n::SO_RCVBUF => {
                let min = if name == n::SO_RCVBUF {
                    super::socket::MIN_RCVBUF
                } else {
                    super::socket::MIN_SNDBUF
                };
                let size = super::socket::buffer_size(int_value(val)?, min);
                self.set(|s| {
                    if name == n::SO_SNDBUF {
                        s.sndbuf = size;
                    } else {
                        s.rcvbuf = size;
                    }
                });
            }
            n::SO_RCVTIMEO | n::SO_SNDTIMEO => {
                let t = super::socket::timeval_ns(val)?;
                self.set(|s| {
                    if name == n::SO_RCVTIMEO {
                        s.rcvtimeo = t;
                    } else {
                        s.sndtimeo = t;
                    }
                });
            }
            _ => return Err(Errno(e::ENOPROTOOPT)),
        }
        Ok(())
    }
}

impl FileOps for UnixSocket {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        let mut sink = super::socket::SliceSink { buf, at: 0 };
        let flags = RecvFlags {
            nonblocking: file.nonblocking(),
            ..RecvFlags::default()
        };
        Ok(self.recv_msg(&mut sink, flags)?.len)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        let mut source = super::socket::SliceSource { buf, at: 0 };
        self.send_msg(SendMsg {
            data: &mut source,
            addr: None,
            rights: Vec::new(),
            cred: None,
            nonblocking: file.nonblocking(),
            nosignal: false,
        })
    }

    fn poll(&self) -> u16 {
        let (mut ev, peer, state_ok, sndbuf) = {
            let s = self.inner.lock();
            let mut ev = 0;
            if s.error.is_some() {
                ev |= POLLERR;
            }
            if s.shut_rd && s.shut_wr {
                ev |= POLLHUP;
            }
            if s.shut_rd {
                ev |= POLLRDHUP | POLLIN | POLLRDNORM;
            }
            if !s.rx.is_empty() || !s.pending.is_empty() {
                ev |= POLLIN | POLLRDNORM;
            }
            if self.kind.connected_kind() && s.state == State::Unconnected {
                ev |= POLLHUP;
            }
            let peer = s.peer.as_ref().and_then(Weak::upgrade);
            (ev, peer, s.state != State::Listening, s.sndbuf)
        };
        let mut writable = state_ok;
        if let Some(peer) = peer.filter(|p| !core::ptr::eq(p.as_ref(), self)) {
            let ps = peer.inner.lock();
            writable &= match self.kind {
                // Our bytes in the peer's queue, against our send buffer.
                Kind::Stream => ps.rx_bytes * 4 <= sndbuf,
                _ => {
                    let to_us = ps
                        .peer
                        .as_ref()
                        .is_some_and(|p| core::ptr::eq(p.as_ptr(), self));
                    to_us || ps.rx.len() <= datagram::MAX_DGRAM_QLEN
                }
            };
        }
        if writable {
            ev |= POLLOUT | POLLWRNORM | POLLWRBAND;
        }
        ev as u16
    }

    fn poll_queues(&self, add: &mut dyn FnMut(&Arc<PollQueue>)) -> bool {
        add(&self.poll_queue);
        true
    }

    fn stat(&self) -> FileStat {
        FileStat::socket(self.ino)
    }

    fn socket(&self) -> Option<&dyn Socket> {
        Some(self)
    }

    fn unix_socket(&self) -> Option<&UnixSocket> {
        Some(self)
    }

    fn release(&self, _file: &OpenFile) {
        self.close(false);
    }
}

/// A new socket of `kind` with status flags `flags` (`O_NONBLOCK`).
pub fn new(kind: Kind, flags: u32) -> Arc<OpenFile> {
    OpenFile::new(UnixSocket::create(kind), O_RDWR | flags)
}

/// A connected pair of sockets of `kind` with status flags `flags` (`O_NONBLOCK`).
pub fn socketpair(kind: Kind, flags: u32) -> (Arc<OpenFile>, Arc<OpenFile>) {
    let (a, b) = (UnixSocket::create(kind), UnixSocket::create(kind));
    let cred = Ucred::current();
    for (x, y) in [(&a, &b), (&b, &a)] {
        if kind.connected_kind() {
            let mut s = x.inner.lock();
            s.state = State::Connected;
            s.peer = Some(Arc::downgrade(y));
        } else {
            x.set_datagram_peer(Some(y), names::unnamed());
        }
        x.inner.lock().peer_cred = Some(cred);
    }
    (
        OpenFile::new(a, O_RDWR | flags),
        OpenFile::new(b, O_RDWR | flags),
    )
}
