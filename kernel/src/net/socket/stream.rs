//! Connected sockets.
use alloc::sync::Arc;
use core::net::SocketAddrV4;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use halyard_tcp::{ConnInfo, DetachedConn, Error as TcpError, Keepalive, State};

use super::{now, with_tcp, Interest, Result, SocketError, SocketOptions, Timeout, Waiter};
use crate::net::loopback;
use crate::net::sock::{Notify, Sock, SockState};
use crate::time;

/// `linger` value meaning "no linger": close returns at once and the engine finishes
/// the connection in the background.
const NO_LINGER: u64 = u64::MAX;
/// While lingering, the close state is re-checked at least this often.
const LINGER_RECHECK_NS: u64 = 10_000_000;

/// A TCP connection.
pub struct TcpStream {
    pub(super) sock: Arc<Sock>,
    nonblocking: AtomicBool,
    read_timeout: Timeout,
    write_timeout: Timeout,
    /// SO_LINGER in ns, or [`NO_LINGER`].
    linger: AtomicU64,
    /// `shutdown(SHUT_RD)` (Linux's `RCV_SHUTDOWN`): once the received data is read, reads
    /// see end of stream, blocked ones included.
    read_shut: AtomicBool,
}

/// The handshake finished (or failed): `Ok` once data can flow.
fn connected(info: halyard_tcp::ConnInfo) -> core::result::Result<(), TcpError> {
    match info {
        ConnInfo {
            state: State::Established | State::CloseWait,
            ..
        } => Ok(()),
        ConnInfo { error: Some(e), .. } => Err(e),
        ConnInfo {
            state: State::Closed,
            ..
        } => Err(TcpError::Refused),
        _ => Err(TcpError::WouldBlock),
    }
}

impl TcpStream {
    /// A stream on a socket the stack just adopted: services it once (its pending
    /// output goes out, its timer is armed).
    pub(super) fn adopt(sock: Arc<Sock>) -> TcpStream {
        sock.with(|_| ());
        TcpStream {
            sock,
            nonblocking: AtomicBool::new(false),
            read_timeout: Timeout::none(),
            write_timeout: Timeout::none(),
            linger: AtomicU64::new(NO_LINGER),
            read_shut: AtomicBool::new(false),
        }
    }

    /// Connects to `remote` with default options, waiting at most `timeout_ns`.
    pub fn connect(remote: SocketAddrV4, timeout_ns: u64) -> Result<TcpStream> {
        Self::connect_with(remote, &SocketOptions::default(), timeout_ns)
    }

    /// Connects to `remote` with `options`, waiting at most `timeout_ns`.
    pub fn connect_with(
        remote: SocketAddrV4,
        options: &SocketOptions,
        timeout_ns: u64,
    ) -> Result<TcpStream> {
        let stream = Self::connect_nonblocking(remote, options)?;
        stream
            .waiter_until(Some(time::now_ns() + timeout_ns))
            .run(|| Ok(stream.on(|s| connected(s.conn.info()))))?;
        Ok(stream)
    }

    /// Waits until the handshake of a stream from [`TcpStream::connect_nonblocking`]
    /// finished (`Ok`) or failed (its error), up to the write timeout (`SO_SNDTIMEO`, as
    /// Linux's `connect`); `nonblocking`: just check (`WouldBlock` while in progress).
    pub fn wait_connected(&self, nonblocking: bool) -> Result<()> {
        self.waiter(nonblocking, self.write_timeout.deadline())
            .run(|| Ok(self.on(|s| connected(s.conn.info()))))
    }

    /// Starts connecting to `remote` and returns at once: the stream polls writable
    /// when the handshake is done, and [`TcpStream::take_error`] then says whether it
    /// failed. The stream is in blocking mode (set non-blocking as needed).
    pub fn connect_nonblocking(remote: SocketAddrV4, options: &SocketOptions) -> Result<TcpStream> {
        let sock = with_tcp(|s| {
            let local =
                loopback::source_for(&s.iface, *remote.ip()).ok_or(SocketError::NoNetwork)?;
            let cfg = options.config(s.tcp.endpoint.config());
            let id = s
                .tcp
                .endpoint
                .connect_with(now(), local, remote, &cfg)
                .map_err(SocketError::Tcp)?;
            s.tcp.adopt(id).map_err(SocketError::Tcp)
        })??;
        Ok(TcpStream::adopt(sock))
    }

    /// How a call on this stream waits, until `deadline` (monotonic ns).
    fn waiter_until(&self, deadline: Option<u64>) -> Waiter<'_> {
        self.waiter(self.nonblocking.load(Ordering::Relaxed), deadline)
    }

    /// How a call waits: not at all if `nonblocking`, else until `deadline`.
    fn waiter(&self, nonblocking: bool, deadline: Option<u64>) -> Waiter<'_> {
        Waiter {
            queue: &self.sock.queue,
            nonblocking,
            deadline,
        }
    }

    /// Runs `f` on the connection with its socket locked.
    fn on<R>(&self, f: impl FnOnce(&mut SockState) -> R) -> R {
        self.sock.with(f)
    }

    /// Reads into `buf`; `Ok(0)` is end of stream. Waits for data (unless non-blocking)
    /// up to the read timeout.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        self.read_until(buf, self.read_timeout.deadline())
    }

    /// Reads into `buf`, waiting for data until `deadline_ns` (monotonic clock).
    pub fn read_until(&self, buf: &mut [u8], deadline_ns: Option<u64>) -> Result<usize> {
        self.waiter_until(deadline_ns)
            .run(|| Ok(self.on(|s| s.conn.recv(buf))))
    }

    /// `recv`: moves received bytes into `dst` (or only copies them, with `peek`), as
    /// much as is queued and fits, waiting for data up to the read timeout unless
    /// `nonblocking`. `Ok(0)` is end of stream; after [`TcpStream::shutdown_read`], an
    /// empty queue is end of stream too. `dst` lends its memory a piece at a time, and
    /// each piece is filled under the socket lock taken inside the lending, straight from
    /// the receive buffer (see [`RecvBuf`]); nothing is lent while the call waits. A
    /// piece that cannot be lent is [`SocketError::Fault`] once there is data for it (as
    /// Linux, which finds the fault when it copies): before that, the call waits.
    pub fn recv(
        &self,
        dst: &mut (impl RecvBuf + ?Sized),
        nonblocking: bool,
        peek: bool,
    ) -> Result<usize> {
        let read_shut = || self.read_shut();
        self.waiter(nonblocking, self.read_timeout.deadline())
            .run(|| {
                let mut done = 0;
                loop {
                    let mut got = Err(SocketError::WouldBlock);
                    let mut full = false;
                    let lent = dst.lend(&mut |bufs, cut| {
                        let room: usize = bufs.iter().map(|b| b.len()).sum();
                        got = self.on(|s| {
                            let skip = if peek { done } else { 0 };
                            // A copy that would reach the bad address fails whole, the
                            // bytes left queued (Linux fails the copy of a buffer's worth
                            // of received data that faults).
                            if cut && s.conn.recv_queue().saturating_sub(skip) > room {
                                return Err(SocketError::Fault);
                            }
                            recv_vectored(&mut s.conn, bufs, peek.then_some(skip))
                                .map_err(SocketError::Tcp)
                        });
                        let n = *got.as_ref().unwrap_or(&0);
                        full = n == room;
                        n
                    });
                    if !lent {
                        if done > 0 {
                            return Ok(Ok(done));
                        }
                        // Would a copy be tried? Only then is the bad buffer the answer.
                        let nothing =
                            self.on(|s| (s.conn.recv_queue() == 0).then(|| s.conn.recv(&mut [])));
                        return match nothing {
                            Some(r) => Ok(end_if_shut(r, read_shut())),
                            None => Err(SocketError::Fault),
                        };
                    }
                    match got {
                        Ok(n) => done += n,
                        Err(_) if done > 0 => return Ok(Ok(done)),
                        Err(SocketError::Tcp(e)) => return Ok(end_if_shut(Err(e), read_shut())),
                        Err(e) => return Err(e),
                    }
                    if !full || dst.room() == 0 {
                        return Ok(Ok(done));
                    }
                }
            })
    }

    /// `shutdown(SHUT_RD)`: marks the read side shut, then wakes the threads blocked in
    /// [`TcpStream::recv`], which look at the mark again after the wake (Linux's
    /// `sk_state_change` after setting `RCV_SHUTDOWN`).
    pub fn shutdown_read(&self) {
        self.read_shut.store(true, Ordering::Release);
        self.sock.queue.wake_all();
    }

    /// The read side was shut ([`TcpStream::shutdown_read`]).
    pub fn read_shut(&self) -> bool {
        self.read_shut.load(Ordering::Acquire)
    }

    /// Queues as much of `data` as the send buffer takes (at least one byte: waits for
    /// room unless non-blocking, up to the write timeout). Returns the bytes taken.
    pub fn write(&self, data: &[u8]) -> Result<usize> {
        self.send(&mut { data }, self.nonblocking.load(Ordering::Relaxed))
    }

    /// Queues as much of `src` as the send buffer takes (at least one byte: waits for
    /// room unless `nonblocking`, up to the write timeout). `src` lends its memory a
    /// piece at a time, copied straight into the send buffer under the socket lock taken
    /// inside the lending (see [`RecvBuf`]); a piece that cannot be lent is
    /// [`SocketError::Fault`] once a copy would be tried (the connection can take data
    /// and has room, as Linux finds the fault when it copies). Returns the bytes taken.
    pub fn send(&self, src: &mut (impl SendBuf + ?Sized), nonblocking: bool) -> Result<usize> {
        if src.remaining() == 0 {
            return Ok(0);
        }
        self.waiter(nonblocking, self.write_timeout.deadline())
            .run(|| {
                let mut done = 0;
                loop {
                    let mut sent = Err(TcpError::WouldBlock);
                    let mut full = false;
                    let lent = src.lend(&mut |bufs| {
                        sent = self.on(|s| send_vectored(&mut s.conn, bufs));
                        let n = *sent.as_ref().unwrap_or(&0);
                        full = n == bufs.iter().map(|b| b.len()).sum();
                        n
                    });
                    if !lent {
                        if done > 0 {
                            return Ok(Ok(done));
                        }
                        return self.on(|s| match s.conn.send(&[]) {
                            Err(e) => Ok(Err(e)),
                            Ok(_) if s.conn.send_space() == 0 => Ok(Err(TcpError::WouldBlock)),
                            Ok(_) => Err(SocketError::Fault),
                        });
                    }
                    match sent {
                        Ok(n) => done += n,
                        Err(_) if done > 0 => return Ok(Ok(done)),
                        Err(e) => return Ok(Err(e)),
                    }
                    if !full || src.remaining() == 0 {
                        return Ok(Ok(done));
                    }
                }
            })
    }

    /// Writes all of `data`, waiting for send-buffer space as needed. In non-blocking
    /// mode, or when the write timeout passes, the error says so and the bytes queued
    /// before it stay queued.
    pub fn write_all(&self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let n = self.write(data)?;
            data = &data[n..];
        }
        Ok(())
    }

    /// Closes our direction (the peer reads end of stream); reading goes on.
    pub fn shutdown(&self) -> Result<()> {
        self.on(|s| s.conn.close());
        Ok(())
    }

    /// Non-blocking mode: calls return `WouldBlock` instead of waiting.
    pub fn set_nonblocking(&self, on: bool) {
        self.nonblocking.store(on, Ordering::Relaxed);
    }

    /// How long `read` waits (`None`: as long as it takes).
    pub fn set_read_timeout(&self, ns: Option<u64>) {
        self.read_timeout.set(ns);
    }

    /// How long `write` waits for room (`None`: as long as it takes).
    pub fn set_write_timeout(&self, ns: Option<u64>) {
        self.write_timeout.set(ns);
    }

    /// The read and write timeouts (`None`: none).
    pub fn timeouts(&self) -> (Option<u64>, Option<u64>) {
        (self.read_timeout.get(), self.write_timeout.get())
    }

    /// Calls `hook` on every readiness event of the connection (NET_RX or a thread's
    /// call; under the socket lock, so it must only wake).
    pub fn set_notify(&self, hook: Notify) {
        self.on(|s| s.notify = Some(hook));
    }

    /// What is ready on the connection now (level-triggered, from the engine's state).
    pub fn readiness(&self) -> Interest {
        self.on(|s| readiness(&s.conn))
    }

    /// Our address and the peer's.
    pub fn addresses(&self) -> (SocketAddrV4, SocketAddrV4) {
        (self.sock.local, self.sock.remote)
    }

    /// SO_LINGER: `None` (the default) closes in the background; `Some(0)` resets the
    /// connection on close; `Some(ns)` makes the close wait until the peer acknowledged
    /// everything, resetting the connection if that takes longer than `ns`.
    pub fn set_linger(&self, ns: Option<u64>) {
        self.linger
            .store(ns.unwrap_or(NO_LINGER), Ordering::Relaxed);
    }

    /// Disables (or re-enables) Nagle's algorithm (TCP_NODELAY).
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        self.on(|s| s.conn.set_nodelay(on));
        Ok(())
    }

    /// SO_KEEPALIVE: probes after `idle`, every `interval`, failing after `probes`
    /// unanswered; `None` turns it off.
    pub fn set_keepalive(&self, k: Option<Keepalive>) -> Result<()> {
        self.on(|s| s.conn.set_keepalive(now(), k));
        Ok(())
    }

    /// SO_SNDBUF (never below the bytes queued).
    pub fn set_send_buffer(&self, bytes: usize) -> Result<()> {
        self.on(|s| s.conn.set_send_buffer(bytes));
        Ok(())
    }

    /// SO_RCVBUF (never below the bytes held plus the window already offered).
    pub fn set_recv_buffer(&self, bytes: usize) -> Result<()> {
        self.on(|s| s.conn.set_recv_buffer(bytes));
        Ok(())
    }

    /// The buffer limits in force: (send, receive).
    pub fn buffer_limits(&self) -> Result<(usize, usize)> {
        Ok(self.on(|s| s.conn.buffer_limits()))
    }

    /// State, addresses, RTT, congestion window and error of the connection.
    pub fn info(&self) -> Result<ConnInfo> {
        Ok(self.on(|s| s.conn.info()))
    }

    /// The connection's state, timers and windows (`TCP_INFO`), with the counters of
    /// segments sent, received and retransmitted since it was detached.
    pub fn details(&self) -> (halyard_tcp::Details, halyard_tcp::Stats) {
        self.on(|s| (s.conn.details(), s.conn.stats().clone()))
    }

    /// SO_ERROR: why the connection failed, if it did.
    pub fn take_error(&self) -> Result<Option<TcpError>> {
        Ok(self.info()?.error)
    }

    /// Lingering close: our FIN, then wait until the peer acknowledged everything or
    /// the deadline passes. True if it finished in time.
    fn linger_close(&self, deadline: u64) -> bool {
        self.on(|s| s.conn.close());
        let done = || {
            self.on(|s| {
                s.conn.send_queue() == 0
                    && matches!(
                        s.conn.state(),
                        State::FinWait2 | State::TimeWait | State::Closed
                    )
            })
        };
        while time::now_ns() < deadline {
            let step = deadline.min(time::now_ns() + LINGER_RECHECK_NS);
            if self.sock.queue.wait_until_deadline(Some(step), done) {
                return true;
            }
        }
        done()
    }
}

/// Memory a [`TcpStream::recv`] fills: a kernel buffer, or a program's memory lent a
/// piece at a time (`fs::socket`'s sinks, through `process::usercopy::with_user_mut`,
/// which holds the program's memory lock while the piece is lent: the socket lock is
/// taken inside it, never the other way round, and no call waits while a piece is lent).
/// Lending may itself sleep (the memory lock is a mutex; a file page may be read) inside
/// a wait's check: the thread is then awake when the check ends, so the wait only looks
/// once more before it sleeps, and nothing a waker did is missed.
pub trait RecvBuf {
    /// Bytes still wanted.
    fn room(&self) -> usize;
    /// Runs `f` on the next piece of the room (slices in order, together at least one
    /// byte; `f`'s flag: a bad address follows them, the piece was cut there) and counts
    /// the bytes `f` says it filled (from the first) as written. False, without running
    /// `f`, if not even the first byte can be reached (a bad address).
    fn lend(&mut self, f: &mut dyn FnMut(&mut [&mut [u8]], bool) -> usize) -> bool;
}

/// Memory a [`TcpStream::send`] takes bytes from, lent as [`RecvBuf`]'s is.
pub trait SendBuf {
    /// Bytes not taken yet.
    fn remaining(&self) -> usize;
    /// Runs `f` on the next piece (slices in order, together at least one byte) and
    /// counts the bytes `f` says it took (from the first) as taken. False, without
    /// running `f`, if not all of the piece can be reached (a bad address: Linux fails
    /// the copy of a piece that faults, and queues none of it).
    fn lend(&mut self, f: &mut dyn FnMut(&[&[u8]]) -> usize) -> bool;
}

impl RecvBuf for &mut [u8] {
    fn room(&self) -> usize {
        self.len()
    }

    fn lend(&mut self, f: &mut dyn FnMut(&mut [&mut [u8]], bool) -> usize) -> bool {
        let buf = core::mem::take(self);
        let n = f(&mut [&mut buf[..]], false);
        *self = &mut buf[n..];
        true
    }
}

impl SendBuf for &[u8] {
    fn remaining(&self) -> usize {
        self.len()
    }

    fn lend(&mut self, f: &mut dyn FnMut(&[&[u8]]) -> usize) -> bool {
        let n = f(&[*self]);
        *self = &self[n..];
        true
    }
}

/// Moves queued bytes into `bufs` in order, one engine call per buffer (or copies them
/// from `peek`'s offset on, leaving them queued); the engine's answer for the first.
/// Calling it per buffer costs no more segments than one call: a read only notes that
/// a window update is due, and the socket sends it once, when it is unlocked.
fn recv_vectored(
    conn: &mut DetachedConn,
    bufs: &mut [&mut [u8]],
    peek: Option<usize>,
) -> core::result::Result<usize, TcpError> {
    let mut got = 0;
    for buf in bufs.iter_mut() {
        let r = match peek {
            Some(skip) => conn.peek(skip + got, buf),
            None => conn.recv(buf),
        };
        match r {
            Ok(n) => {
                got += n;
                if n < buf.len() {
                    break;
                }
            }
            Err(_) if got > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Queues `bufs` in order, one engine call per buffer, as far as the send buffer takes
/// them (`WouldBlock` when it takes nothing); output goes when the socket is unlocked.
fn send_vectored(conn: &mut DetachedConn, bufs: &[&[u8]]) -> core::result::Result<usize, TcpError> {
    let mut sent = 0;
    for buf in bufs {
        match conn.send(buf) {
            Ok(n) => {
                sent += n;
                if n < buf.len() {
                    break;
                }
            }
            Err(_) if sent > 0 => break,
            Err(e) => return Err(e),
        }
    }
    if sent == 0 {
        return Err(TcpError::WouldBlock);
    }
    Ok(sent)
}

/// After [`TcpStream::shutdown_read`], an empty queue is end of stream.
fn end_if_shut(
    r: core::result::Result<usize, TcpError>,
    shut: bool,
) -> core::result::Result<usize, TcpError> {
    match r {
        Err(TcpError::WouldBlock) if shut => Ok(0),
        r => r,
    }
}

/// Linux's `sk_stream_is_writeable`: free send space of at least half of what is queued
/// (a third of the buffer once it is full), not merely a byte. A writer that filled the
/// buffer is then woken, and `poll` reports `POLLOUT`, when a useful amount fits, not for
/// every acknowledged segment.
fn writable(conn: &DetachedConn) -> bool {
    let space = conn.send_space();
    space > 0 && space >= conn.send_queue() / 2
}

/// What is ready on a connection now.
fn readiness(conn: &DetachedConn) -> Interest {
    let info = conn.info();
    let mut r = Interest::NONE;
    let peer_done = matches!(
        info.state,
        State::CloseWait | State::LastAck | State::Closing | State::TimeWait | State::Closed
    );
    if peer_done || conn.recv_queue() > 0 {
        r = r | Interest::READABLE;
    }
    if peer_done {
        r = r | Interest::PEER_CLOSED;
    }
    if matches!(info.state, State::Established | State::CloseWait) && writable(conn) {
        r = r | Interest::WRITABLE;
    }
    if matches!(info.state, State::TimeWait | State::Closed) {
        r = r | Interest::HANGUP;
    }
    if info.error.is_some() {
        r = r | Interest::ERROR;
    }
    r
}

impl Drop for TcpStream {
    /// Gives the connection back to the engine. Without linger it finishes gracefully
    /// in the background (or is reset if unread data would be lost); with linger see
    /// [`TcpStream::set_linger`].
    fn drop(&mut self) {
        let abort = match self.linger.load(Ordering::Relaxed) {
            NO_LINGER => false,
            0 => true,
            ns => !self.linger_close(time::now_ns().saturating_add(ns)),
        };
        self.on(|s| {
            s.pollers.clear();
            s.ready = None;
            s.notify = None;
            if abort {
                s.conn.abort();
            }
            s.conn.release();
        });
    }
}
