//! `AF_INET` stream sockets as open files: the kernel socket layer (`net::socket`) behind
//! a file descriptor, with Linux's states and errnos.
//!
//! A socket starts unconnected (optionally bound to a port), then becomes a listener
//! (`listen`) or a stream (`connect`, or made by `accept`). The state sits under a
//! sleeping mutex that no call holds while it waits: a call takes the listener or stream
//! out (they are shared, `Arc`) and blocks on the socket layer's own wait queue, so
//! `poll`, `getsockname` or `close` on the same descriptor from another thread never wait
//! behind a blocked `accept` or `recv`. The socket layer's waits end on a pending signal
//! ([`SocketError::Interrupted`]); this file turns that into `ERESTARTSYS` (restarted
//! under `SA_RESTART`) or, when a timeout (`SO_RCVTIMEO`/`SO_SNDTIMEO`) is set, `EINTR`,
//! as Linux's `sock_intr_errno`. An interrupted `connect` leaves the handshake going;
//! calling `connect` again waits for it (Linux's `SS_CONNECTING` path).
//!
//! Readiness events of every socket wake the socket file's own readiness queue
//! ([`super::poll::PollQueue`], through the socket layer's hook, from NET_RX or the
//! thread that changed the state), which wakes the `poll`s and epolls watching it; they
//! then read the state ([`FileOps::poll`]), level-triggered as Linux's `tcp_poll`.
//!
//! A connection's error (reset, refused, timed out) is reported once, as Linux's
//! `sk_err`: by `SO_ERROR`, a read, a write or `connect`; after that reads see end of
//! stream and writes `EPIPE` (with `SIGPIPE` unless `MSG_NOSIGNAL`).
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use halyard_tcp::{Error as TcpError, State as TcpState};
use linux_raw_sys::errno as e;
use linux_raw_sys::general::{
    O_RDWR, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM,
};
use linux_raw_sys::net as n;

use super::file::{FileOps, FileStat, OpenFile};
use super::poll::PollQueue;
use super::socket::{MsgSink, Received, RecvBuf, RecvFlags, SendBuf, SendMsg, Socket};
use crate::net::socket::{self, Interest, SocketError, SocketOptions, TcpListener, TcpStream};
use crate::sync::Mutex;
use crate::syscall::Errno;

/// Options a socket carries into the listener or stream it becomes.
#[derive(Clone, Copy, Default)]
pub struct Options {
    /// Reuse, no-delay, keepalive and buffers (inherited by accepted connections).
    pub socket: SocketOptions,
    /// `SO_KEEPALIVE` on (the idle time and probes are `TCP_KEEP*`'s).
    pub keepalive: bool,
    /// `TCP_KEEPIDLE`, `TCP_KEEPINTVL`, `TCP_KEEPCNT` (Linux's defaults when `None`),
    /// kept while keepalive is off.
    pub keep: Option<halyard_tcp::Keepalive>,
    /// `SO_RCVTIMEO` and `SO_SNDTIMEO` in ns.
    pub recv_timeout: Option<u64>,
    pub send_timeout: Option<u64>,
    /// `SO_LINGER`: `Some(ns)` when on.
    pub linger: Option<u64>,
    /// `SO_REUSEPORT`: kept and reported only. The engine has one listener per
    /// address, so a second socket's `listen` on the same address is `EADDRINUSE`
    /// with or without it (Linux would let both listen and spread connections).
    pub reuse_port: bool,
}

enum State {
    /// Not connected; bound to an address and port if `bind` was called.
    Fresh { bound: Option<SocketAddrV4> },
    Listening {
        listener: Arc<TcpListener>,
        addr: SocketAddrV4,
    },
    /// `pending`: a `connect` started and its outcome was not reported yet.
    Stream {
        stream: Arc<TcpStream>,
        pending: bool,
    },
}

/// An `AF_INET` `SOCK_STREAM` socket.
pub struct InetSocket {
    state: Mutex<(State, Options)>,
    /// The connection's error was reported (Linux clears `sk_err` once read).
    error_reported: AtomicBool,
    /// Readiness queue (`poll`, `epoll`), woken by the socket layer's hook.
    poll_queue: Arc<PollQueue>,
    ino: u64,
}

static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// A new unconnected socket with status flags `flags` (`O_NONBLOCK`).
pub fn new(flags: u32) -> Arc<OpenFile> {
    file(
        State::Fresh { bound: None },
        Options::default(),
        flags,
        Arc::new(PollQueue::new()),
    )
}

fn file(state: State, options: Options, flags: u32, poll_queue: Arc<PollQueue>) -> Arc<OpenFile> {
    OpenFile::new(
        Arc::new(InetSocket {
            state: Mutex::new((state, options)),
            error_reported: AtomicBool::new(false),
            poll_queue,
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        }),
        O_RDWR | flags,
    )
}

/// The errno of an engine error.
fn tcp_errno(err: TcpError) -> Errno {
    Errno(match err {
        TcpError::WouldBlock => e::EAGAIN,
        TcpError::Reset => e::ECONNRESET,
        TcpError::Refused => e::ECONNREFUSED,
        TcpError::TimedOut => e::ETIMEDOUT,
        TcpError::Aborted => e::ECONNABORTED,
        TcpError::NoPorts => e::EADDRNOTAVAIL,
        TcpError::TooManyConnections => e::ENOBUFS,
        TcpError::AddrInUse => e::EADDRINUSE,
        TcpError::InvalidState => e::EPIPE,
        TcpError::InvalidHandle => e::EBADF,
    })
}

/// The errno of a socket-layer error; `timeout`: the call had a timeout (an interrupted
/// call is then `EINTR`, not restarted; a timeout that passed is `EAGAIN`).
fn errno(err: SocketError, timeout: bool) -> Errno {
    match err {
        SocketError::NoNetwork => Errno(e::ENETUNREACH),
        SocketError::TimedOut | SocketError::WouldBlock => Errno::EAGAIN,
        SocketError::Interrupted if timeout => Errno::EINTR,
        SocketError::Interrupted => Errno::ERESTARTSYS,
        SocketError::Tcp(t) => tcp_errno(t),
        SocketError::Fault => Errno::EFAULT,
    }
}

/// A connection error (not a would-block or a state error).
fn is_connection_error(err: SocketError) -> bool {
    matches!(
        err,
        SocketError::Tcp(
            TcpError::Reset | TcpError::Refused | TcpError::TimedOut | TcpError::Aborted
        )
    )
}

impl InetSocket {
    fn stream(&self) -> Option<Arc<TcpStream>> {
        match &self.state.lock().0 {
            State::Stream { stream, .. } => Some(stream.clone()),
            _ => None,
        }
    }

    fn options(&self) -> Options {
        self.state.lock().1
    }

    /// The connection's details and counters (`TCP_INFO`); `Err(state)` for a socket
    /// with no connection: `Listen`, or `Closed` (not connected yet).
    pub fn details(&self) -> Result<(halyard_tcp::Details, halyard_tcp::Stats), TcpState> {
        let stream = match &self.state.lock().0 {
            State::Stream { stream, .. } => stream.clone(),
            State::Listening { .. } => return Err(TcpState::Listen),
            State::Fresh { .. } => return Err(TcpState::Closed),
        };
        Ok(stream.details())
    }

    /// `bind`: only the wildcard address or a local one (127.0.0.0/8, the interface's;
    /// else `EADDRNOTAVAIL`); port 0 picks a free one; a port in use is `EADDRINUSE`
    /// unless `SO_REUSEADDR`.
    pub fn bind(&self, addr: SocketAddrV4) -> Result<(), Errno> {
        let ip = *addr.ip();
        if ip != Ipv4Addr::UNSPECIFIED && !socket::is_local_address(ip) {
            return Err(Errno(e::EADDRNOTAVAIL));
        }
        let mut guard = self.state.lock();
        let (state, options) = &mut *guard;
        if !matches!(state, State::Fresh { bound: None }) {
            return Err(Errno::EINVAL);
        }
        let port = match addr.port() {
            0 => socket::ephemeral_port().map_err(|err| errno(err, false))?,
            p => {
                let in_use = socket::port_in_use(p).map_err(|err| errno(err, false))?;
                if in_use && !options.socket.reuse_address {
                    return Err(Errno(e::EADDRINUSE));
                }
                p
            }
        };
        *state = State::Fresh {
            bound: Some(SocketAddrV4::new(ip, port)),
        };
        Ok(())
    }

    /// `listen`: an unbound socket gets a free port (Linux's autobind); listening again
    /// is a no-op; a stream is `EINVAL`. The backlog is the engine's (4,096).
    pub fn listen(&self) -> Result<(), Errno> {
        let mut guard = self.state.lock();
        let (state, options) = &mut *guard;
        let addr = match state {
            State::Fresh { bound: Some(a) } => *a,
            State::Fresh { bound: None } => {
                let port = socket::ephemeral_port().map_err(|err| errno(err, false))?;
                SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)
            }
            State::Listening { .. } => return Ok(()),
            State::Stream { .. } => return Err(Errno::EINVAL),
        };
        let listener =
            TcpListener::bind_at(addr, &options.socket).map_err(|err| errno(err, false))?;
        listener.set_notify(waker(&self.poll_queue));
        listener.set_timeout(options.recv_timeout);
        *state = State::Listening {
            listener: Arc::new(listener),
            addr,
        };
        Ok(())
    }

    /// `accept`: the next connection as a new file with `flags`, and the peer's address.
    pub fn accept(
        &self,
        nonblocking: bool,
        flags: u32,
    ) -> Result<(Arc<OpenFile>, SocketAddrV4), Errno> {
        let (listener, options) = match &*self.state.lock() {
            (State::Listening { listener, .. }, options) => (listener.clone(), *options),
            _ => return Err(Errno::EINVAL),
        };
        let stream = listener
            .accept_with(nonblocking)
            .map_err(|err| errno(err, options.recv_timeout.is_some()))?;
        let peer = stream.addresses().1;
        let poll_queue = Arc::new(PollQueue::new());
        configure(&stream, &options, &poll_queue);
        let stream = Arc::new(stream);
        // One connection fewer waits on the listener.
        self.poll_queue.wake(0);
        let state = State::Stream {
            stream,
            pending: false,
        };
        Ok((file(state, options, flags, poll_queue), peer))
    }

    /// `connect`: starts the handshake (`EINPROGRESS` if `nonblocking`) and waits for
    /// it; on a socket already connecting, waits again (`EALREADY` if `nonblocking`);
    /// `EISCONN` once connected (after the outcome was reported) or listening.
    pub fn connect(&self, remote: SocketAddrV4, nonblocking: bool) -> Result<(), Errno> {
        let (stream, started) = {
            let mut guard = self.state.lock();
            let (state, options) = &mut *guard;
            match state {
                // Linux: a listener is not in `TCP_CLOSE`, so `EISCONN`.
                State::Listening { .. } | State::Stream { pending: false, .. } => {
                    return Err(Errno(e::EISCONN))
                }
                State::Stream { stream, .. } => (stream.clone(), false),
                State::Fresh { .. } => {
                    let stream = TcpStream::connect_nonblocking(remote, &options.socket)
                        .map_err(|err| errno(err, false))?;
                    configure(&stream, options, &self.poll_queue);
                    let stream = Arc::new(stream);
                    *state = State::Stream {
                        stream: stream.clone(),
                        pending: true,
                    };
                    (stream, true)
                }
            }
        };
        if started && nonblocking {
            // Linux answers before looking: the handshake is under way.
            return Err(Errno(e::EINPROGRESS));
        }
        let timeout = stream.timeouts().1.is_some();
        match stream.wait_connected(nonblocking) {
            Ok(()) => {
                self.connect_reported();
                Ok(())
            }
            Err(SocketError::WouldBlock) => Err(Errno(e::EALREADY)),
            // SO_SNDTIMEO passed: the handshake goes on (Linux's answer).
            Err(SocketError::TimedOut) => Err(Errno(e::EINPROGRESS)),
            Err(err) if is_connection_error(err) => {
                self.connect_reported();
                self.error_reported.store(true, Ordering::Relaxed);
                Err(errno(err, timeout))
            }
            Err(err) => Err(errno(err, timeout)),
        }
    }

    /// The outcome of the pending `connect` was reported.
    fn connect_reported(&self) {
        if let State::Stream { pending, .. } = &mut self.state.lock().0 {
            *pending = false;
        }
    }

    /// The connection's error unless already reported, marking it reported
    /// (`SO_ERROR`).
    pub fn take_error(&self) -> Option<Errno> {
        let err = self.stream()?.take_error().ok().flatten()?;
        (!self.error_reported.swap(true, Ordering::Relaxed)).then(|| tcp_errno(err))
    }

    /// `recv` into `dst`: `peek` leaves the data (`MSG_PEEK`); `wait_all` waits until
    /// `dst` is full, the stream ends, or an error or signal comes after some data
    /// (`MSG_WAITALL`). The bytes go straight from the connection's receive buffer to
    /// `dst` (lent a piece at a time: [`RecvBuf`]).
    pub fn recv(
        &self,
        dst: &mut (impl RecvBuf + ?Sized),
        nonblocking: bool,
        peek: bool,
        wait_all: bool,
    ) -> Result<usize, Errno> {
        let Some(stream) = self.stream() else {
            return Err(Errno(e::ENOTCONN));
        };
        if dst.room() == 0 {
            return Ok(0);
        }
        let timeout = stream.timeouts().0.is_some();
        let mut done = 0;
        loop {
            match stream.recv(dst, nonblocking, peek) {
                Ok(0) => return Ok(done),
                Ok(n) => {
                    done += n;
                    if !wait_all || peek || nonblocking || dst.room() == 0 {
                        return Ok(done);
                    }
                }
                Err(_) if done > 0 => return Ok(done),
                Err(err) if is_connection_error(err) => {
                    return if self.error_reported.swap(true, Ordering::Relaxed) {
                        Ok(0)
                    } else {
                        Err(errno(err, timeout))
                    };
                }
                Err(SocketError::Tcp(TcpError::InvalidState)) => return Err(Errno(e::ENOTCONN)),
                Err(err) => return Err(errno(err, timeout)),
            }
        }
    }

    /// `send` from `src`: a blocking call queues all of it (returning less only when a
    /// signal, timeout, error or bad address comes after some bytes); `EPIPE` (and
    /// `SIGPIPE` if `sigpipe`) once our direction is shut or the connection is gone. The
    /// bytes go straight from `src` (lent a piece at a time: [`SendBuf`]) to the
    /// connection's send buffer.
    pub fn send(
        &self,
        src: &mut (impl SendBuf + ?Sized),
        nonblocking: bool,
        sigpipe: bool,
    ) -> Result<usize, Errno> {
        let Some(stream) = self.stream() else {
            return Err(self.epipe(sigpipe));
        };
        let timeout = stream.timeouts().1.is_some();
        let mut done = 0;
        while src.remaining() > 0 {
            match stream.send(src, nonblocking) {
                Ok(n) => {
                    done += n;
                    if nonblocking {
                        break;
                    }
                }
                Err(_) if done > 0 => break,
                Err(err) if is_connection_error(err) => {
                    if !self.error_reported.swap(true, Ordering::Relaxed) {
                        return Err(errno(err, timeout));
                    }
                    return Err(self.epipe(sigpipe));
                }
                Err(SocketError::Tcp(TcpError::InvalidState)) => return Err(self.epipe(sigpipe)),
                Err(err) => return Err(errno(err, timeout)),
            }
        }
        Ok(done)
    }

    fn epipe(&self, sigpipe: bool) -> Errno {
        if sigpipe {
            crate::process::send_sigpipe();
        }
        Errno::EPIPE
    }

    /// `shutdown(how)` (`SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`, checked by the caller).
    pub fn shutdown(&self, read: bool, write: bool) -> Result<(), Errno> {
        match &self.state.lock().0 {
            State::Stream { stream, .. } => {
                if read {
                    stream.shutdown_read();
                }
                if write {
                    let _ = stream.shutdown();
                }
                self.poll_queue.wake(0);
                Ok(())
            }
            // Linux closes a listener shut for reading; Halyard leaves it (docs).
            State::Listening { .. } => Ok(()),
            State::Fresh { .. } => Err(Errno(e::ENOTCONN)),
        }
    }

    /// `getsockname`.
    pub fn local_address(&self) -> SocketAddrV4 {
        match &self.state.lock().0 {
            State::Fresh { bound } => bound.unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
            State::Listening { addr, .. } => *addr,
            State::Stream { stream, .. } => stream.addresses().0,
        }
    }

    /// `getpeername`: `ENOTCONN` unless connected.
    pub fn peer_address(&self) -> Result<SocketAddrV4, Errno> {
        let stream = self.stream().ok_or(Errno(e::ENOTCONN))?;
        match stream.info() {
            Ok(i) if i.state != TcpState::SynSent && i.error.is_none() => Ok(stream.addresses().1),
            _ => Err(Errno(e::ENOTCONN)),
        }
    }

    /// True once listening (`SO_ACCEPTCONN`).
    pub fn listening(&self) -> bool {
        matches!(self.state.lock().0, State::Listening { .. })
    }

    /// Reads the options.
    pub fn get_options(&self) -> Options {
        self.options()
    }

    /// The send and receive buffer limits in force.
    pub fn buffers(&self) -> (usize, usize) {
        let options = self.options();
        let defaults = socket::default_buffers();
        self.stream()
            .and_then(|s| s.buffer_limits().ok())
            .unwrap_or((
                options.socket.send_buffer.unwrap_or(defaults.0),
                options.socket.recv_buffer.unwrap_or(defaults.1),
            ))
    }

    /// Changes the options with `f`, then applies them to the live listener or stream.
    pub fn set_options(&self, f: impl FnOnce(&mut Options)) {
        let mut guard = self.state.lock();
        let (state, options) = &mut *guard;
        f(options);
        match state {
            State::Fresh { .. } => {}
            State::Listening { listener, .. } => listener.set_timeout(options.recv_timeout),
            State::Stream { stream, .. } => {
                configure(stream, options, &self.poll_queue);
                let o = &options.socket;
                let _ = stream.set_nodelay(o.nodelay);
                let _ = stream.set_keepalive(o.keepalive);
                if let Some(b) = o.send_buffer {
                    let _ = stream.set_send_buffer(b);
                }
                if let Some(b) = o.recv_buffer {
                    let _ = stream.set_recv_buffer(b);
                }
            }
        }
    }
}

/// Applies the per-stream options the engine does not hold (timeouts, linger) and
/// hooks the stream's events to the file's readiness queue.
fn configure(stream: &TcpStream, options: &Options, poll_queue: &Arc<PollQueue>) {
    stream.set_read_timeout(options.recv_timeout);
    stream.set_write_timeout(options.send_timeout);
    stream.set_linger(options.linger);
    stream.set_notify(waker(poll_queue));
}

/// The socket layer's hook that wakes `poll_queue` (any context: it only wakes).
fn waker(poll_queue: &Arc<PollQueue>) -> Arc<dyn Fn() + Send + Sync> {
    let q = poll_queue.clone();
    Arc::new(move || q.wake(0))
}

impl FileOps for InetSocket {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        self.recv(&mut { buf }, file.nonblocking(), false, false)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        self.send(&mut { buf }, file.nonblocking(), true)
    }

    fn poll(&self) -> u16 {
        let state = match &self.state.lock().0 {
            State::Fresh { .. } => return (POLLOUT | POLLWRNORM | POLLHUP) as u16,
            State::Listening { listener, .. } => {
                return if listener.pending() {
                    (POLLIN | POLLRDNORM) as u16
                } else {
                    0
                };
            }
            State::Stream { stream, .. } => stream.clone(),
        };
        let ready = state.readiness();
        let mut ev = 0;
        let read_shut = state.read_shut();
        if ready.contains(Interest::READABLE) || read_shut {
            ev |= POLLIN | POLLRDNORM;
        }
        // Linux's RCV_SHUTDOWN: the peer's FIN or our SHUT_RD.
        if ready.contains(Interest::PEER_CLOSED) || read_shut {
            ev |= POLLRDHUP;
        }
        if ready.contains(Interest::WRITABLE) {
            ev |= POLLOUT | POLLWRNORM;
        }
        if ready.contains(Interest::HANGUP) {
            ev |= POLLHUP;
        }
        if ready.contains(Interest::ERROR) && !self.error_reported.load(Ordering::Relaxed) {
            ev |= POLLERR;
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
}

const SOCKADDR_IN: usize = core::mem::size_of::<n::sockaddr_in>();

/// Decodes a `sockaddr_in` (the `AF_INET` checks after Linux's `move_addr_to_kernel`):
/// `EINVAL` if shorter than a `sockaddr_in`, then the family: `AF_INET`, or `AF_UNSPEC`
/// with the wildcard address where `unspec_ok` (bind's `INADDR_ANY` case), else
/// `EAFNOSUPPORT`.
fn parse_sockaddr(raw: &[u8], unspec_ok: bool) -> Result<SocketAddrV4, Errno> {
    if raw.len() < SOCKADDR_IN {
        return Err(Errno::EINVAL);
    }
    let family = u32::from(u16::from_ne_bytes([raw[0], raw[1]]));
    let port = u16::from_be_bytes([raw[2], raw[3]]);
    let ip = Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]);
    let unspec = unspec_ok && family == n::AF_UNSPEC && ip == Ipv4Addr::UNSPECIFIED;
    if family != n::AF_INET && !unspec {
        return Err(Errno(e::EAFNOSUPPORT));
    }
    Ok(SocketAddrV4::new(ip, port))
}

/// A `sockaddr_in`'s bytes.
pub(super) fn sockaddr_in(a: SocketAddrV4) -> Vec<u8> {
    let mut raw = alloc::vec![0u8; SOCKADDR_IN];
    raw[..2].copy_from_slice(&(n::AF_INET as u16).to_ne_bytes());
    raw[2..4].copy_from_slice(&a.port().to_be_bytes());
    raw[4..8].copy_from_slice(&a.ip().octets());
    raw
}

impl Socket for InetSocket {
    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        InetSocket::bind(self, parse_sockaddr(addr, true)?)
    }

    fn connect(&self, addr: &[u8], nonblocking: bool) -> Result<(), Errno> {
        InetSocket::connect(self, parse_sockaddr(addr, false)?, nonblocking)
    }

    /// The backlog is the engine's (4,096).
    fn listen(&self, _backlog: u32) -> Result<(), Errno> {
        InetSocket::listen(self)
    }

    fn accept(&self, nonblocking: bool, flags: u32) -> Result<(Arc<OpenFile>, Vec<u8>), Errno> {
        let (file, peer) = InetSocket::accept(self, nonblocking, flags)?;
        Ok((file, sockaddr_in(peer)))
    }

    /// The destination is ignored, as TCP does; a blocking send queues everything
    /// (less only when a signal, timeout, error or bad address comes after some bytes).
    fn send_msg(&self, msg: SendMsg<'_>) -> Result<usize, Errno> {
        if msg.data.remaining() == 0 {
            return Ok(0);
        }
        self.send(msg.data, msg.nonblocking, !msg.nosignal)
    }

    /// What is queued and fits, or with `MSG_WAITALL` until the buffer is full, the
    /// stream ends, or an interruption after some data. `MSG_TRUNC` (discarding) is
    /// `EOPNOTSUPP`; TCP gives no source address.
    fn recv_msg(&self, sink: &mut dyn MsgSink, flags: RecvFlags) -> Result<Received, Errno> {
        if flags.trunc {
            return Err(Errno::EOPNOTSUPP);
        }
        let len = self.recv(sink, flags.nonblocking, flags.peek, flags.wait_all)?;
        Ok(Received {
            len,
            ..Received::default()
        })
    }

    fn shutdown(&self, read: bool, write: bool) -> Result<(), Errno> {
        InetSocket::shutdown(self, read, write)
    }

    fn local_address(&self) -> Vec<u8> {
        sockaddr_in(InetSocket::local_address(self))
    }

    fn peer_address(&self) -> Result<Vec<u8>, Errno> {
        Ok(sockaddr_in(InetSocket::peer_address(self)?))
    }

    fn inet(&self) -> Option<&InetSocket> {
        Some(self)
    }
}
