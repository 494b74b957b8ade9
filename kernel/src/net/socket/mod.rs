//! TCP sockets for kernel threads: bind/listen/accept, connect, read/write, shutdown,
//! close with linger, non-blocking mode, per-call timeouts, options, and [`poll`] over
//! many sockets. The future system-call layer sits on this API.
//!
//! A call on a stream locks only that stream's socket (`net::sock`, bottom halves off),
//! so calls on different connections do not contend; listener calls, connect and accept
//! lock the stack briefly. A call that cannot complete yet sleeps on the socket's own
//! wait queue, which readiness events wake from NET_RX (or from the thread whose call
//! changed the state).
//! Readiness is re-checked after every wake, so spurious wakes are harmless, and every
//! blocking call can end at a deadline (the socket's timeout), so a thread blocked in
//! any call can be interrupted by time. A user thread's blocking call also ends when a
//! signal is pending for it ([`SocketError::Interrupted`]: the sender wakes the thread,
//! which re-checks); kernel threads have no signals. A socket in non-blocking mode never
//! sleeps: a call that would block returns [`SocketError::WouldBlock`]. Process context
//! only. Each call can also be made non-blocking on its own (`MSG_DONTWAIT`, a file's
//! `O_NONBLOCK`), whatever the socket's mode.
//!
//! A socket can carry a hook ([`TcpStream::set_notify`], [`TcpListener::set_notify`])
//! called on each of its readiness events, from NET_RX or the thread that changed its
//! state: the system-call layer uses it to wake the socket file's readiness queue
//! (`fs::poll`).
//!
//! Options follow BSD sockets: those given at creation ([`SocketOptions`]) are
//! inherited by the connections a listener accepts; no-delay, keepalive and the buffer
//! limits can also be changed on a live connection.
//!
//! [`poll`] over many sockets has one caller, the `sockcheck` test command (the services
//! use [`ReadyList`], user programs the file layer's `poll`), so it is compiled only with
//! the `test-commands` feature (a release kernel carries no dead code). The setters and
//! queries are the system-call layer's (`setsockopt`, `getsockopt`, `fs/inet.rs`).
mod listener;
#[cfg(feature = "test-commands")]
mod poll;
mod ready;
mod stream;

use alloc::sync::Arc;
use core::ops::BitOr;

use halyard_tcp::{Config, Error as TcpError, Keepalive};

pub use listener::TcpListener;
#[cfg(feature = "test-commands")]
pub use poll::{poll, PollEntry, Pollable};
pub use ready::ReadyList;
pub use stream::{RecvBuf, SendBuf, TcpStream};

use super::NetStack;
use crate::sched::WaitQueue;
use crate::time;

/// Why a socket call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketError {
    /// No network interface, or it has no address yet.
    NoNetwork,
    /// The deadline (the call's or the socket's timeout) passed first.
    TimedOut,
    /// Non-blocking mode: the call would have had to wait.
    WouldBlock,
    /// The engine refused (reset, refused, address in use, invalid state, ...).
    Tcp(TcpError),
    /// A signal is pending for the calling thread (user threads only).
    Interrupted,
    /// The caller's buffer cannot be reached (a bad address: `EFAULT`).
    Fault,
}

impl core::fmt::Display for SocketError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SocketError::NoNetwork => write!(f, "network is not configured"),
            SocketError::TimedOut => write!(f, "timed out"),
            SocketError::WouldBlock => write!(f, "operation would block"),
            SocketError::Tcp(e) => write!(f, "{e:?}"),
            SocketError::Interrupted => write!(f, "interrupted by a signal"),
            SocketError::Fault => write!(f, "bad buffer address"),
        }
    }
}

type Result<T> = core::result::Result<T, SocketError>;

/// A set of readiness conditions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interest(u8);

impl Interest {
    pub const NONE: Interest = Interest(0);
    /// Data or end of stream to read.
    pub const READABLE: Interest = Interest(1);
    /// Room to write (the connection is established and its send buffer has space).
    pub const WRITABLE: Interest = Interest(2);
    /// No more data will flow either way (closed or in TIME-WAIT). Always reported.
    pub const HANGUP: Interest = Interest(4);
    /// The connection failed (`take_error` says why). Always reported.
    pub const ERROR: Interest = Interest(8);
    /// The peer sent its FIN: it sends no more (`EPOLLRDHUP`).
    pub const PEER_CLOSED: Interest = Interest(16);

    pub const fn contains(self, other: Interest) -> bool {
        self.0 & other.0 == other.0
    }

    #[cfg(feature = "test-commands")]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        Interest(self.0 | rhs.0)
    }
}

/// Options fixed when a socket is created; a listener's are inherited by the
/// connections it accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketOptions {
    /// SO_REUSEADDR: bind a port that connections (e.g. in TIME-WAIT) still use. Without
    /// it, [`TcpListener::bind_with`] fails with `AddrInUse` while any connection or
    /// listener holds the port.
    pub reuse_address: bool,
    /// TCP_NODELAY: send small segments at once instead of coalescing them (Nagle).
    pub nodelay: bool,
    /// SO_KEEPALIVE with its idle time, probe interval and probe count.
    pub keepalive: Option<Keepalive>,
    /// SO_SNDBUF in bytes (the engine's default when `None`).
    pub send_buffer: Option<usize>,
    /// SO_RCVBUF in bytes: also the largest window offered (the default when `None`).
    pub recv_buffer: Option<usize>,
}

impl SocketOptions {
    /// The engine configuration for a connection with these options.
    fn config(&self, base: &Config) -> Config {
        let mut c = base.clone();
        c.nodelay = self.nodelay;
        c.keepalive = self.keepalive;
        if let Some(b) = self.send_buffer {
            c.send_buffer = b.max(1);
        }
        if let Some(b) = self.recv_buffer {
            c.recv_buffer = b.max(1);
        }
        c
    }
}

/// A timeout in ns, `None` for "wait as long as it takes" (stored as 0).
struct Timeout(core::sync::atomic::AtomicU64);

impl Timeout {
    const fn none() -> Timeout {
        Timeout(core::sync::atomic::AtomicU64::new(0))
    }

    fn set(&self, ns: Option<u64>) {
        let stored = match ns {
            None => 0,
            Some(n) => n.max(1),
        };
        self.0.store(stored, core::sync::atomic::Ordering::Relaxed);
    }

    /// The timeout, `None` for none.
    fn get(&self) -> Option<u64> {
        match self.0.load(core::sync::atomic::Ordering::Relaxed) {
            0 => None,
            ns => Some(ns),
        }
    }

    /// The deadline for a call starting now.
    fn deadline(&self) -> Option<u64> {
        match self.0.load(core::sync::atomic::Ordering::Relaxed) {
            0 => None,
            ns => Some(time::now_ns().saturating_add(ns)),
        }
    }
}

/// How a socket waits: its wait queue, its mode, and its timeout for this kind of call.
struct Waiter<'a> {
    queue: &'a Arc<WaitQueue>,
    nonblocking: bool,
    deadline: Option<u64>,
}

impl Waiter<'_> {
    /// Runs `attempt` until it stops saying `WouldBlock`: once in non-blocking mode,
    /// else sleeping on the queue in between, until the deadline or a signal.
    fn run<T>(
        &self,
        mut attempt: impl FnMut() -> Result<core::result::Result<T, TcpError>>,
    ) -> Result<T> {
        if self.nonblocking {
            return match attempt()? {
                Err(TcpError::WouldBlock) => Err(SocketError::WouldBlock),
                other => other.map_err(SocketError::Tcp),
            };
        }
        let mut outcome = None;
        let done = self
            .queue
            .wait_until_deadline(self.deadline, || match attempt() {
                Ok(Err(TcpError::WouldBlock)) => {
                    let signal = crate::process::signal_pending();
                    if signal {
                        outcome = Some(Err(SocketError::Interrupted));
                    }
                    signal
                }
                Ok(r) => {
                    outcome = Some(r.map_err(SocketError::Tcp));
                    true
                }
                Err(e) => {
                    outcome = Some(Err(e));
                    true
                }
            });
        if !done {
            return Err(SocketError::TimedOut);
        }
        outcome.expect("a true condition recorded its outcome")
    }
}

/// A free local port for a listener (`bind` or `listen` without a port): Linux's
/// ephemeral range (32768-60999), from a random start. `AddrInUse` when all are taken.
pub fn ephemeral_port() -> Result<u16> {
    const FIRST: u32 = 32768;
    const COUNT: u32 = 60999 - FIRST + 1;
    let start = crate::random::u32() % COUNT;
    with_tcp(|s| {
        (0..COUNT)
            .map(|i| (FIRST + (start + i) % COUNT) as u16)
            .find(|&p| !s.tcp.endpoint.local_port_in_use(p))
    })?
    .ok_or(SocketError::Tcp(TcpError::AddrInUse))
}

/// True when a listener or any connection (TIME-WAIT included) uses local `port`.
pub fn port_in_use(port: u16) -> Result<bool> {
    with_tcp(|s| s.tcp.endpoint.local_port_in_use(port))
}

/// The engine's default buffer limits: (send, receive).
pub fn default_buffers() -> (usize, usize) {
    with_tcp(|s| {
        let c = s.tcp.endpoint.config();
        (c.send_buffer, c.recv_buffer)
    })
    .unwrap_or((0, 0))
}

/// True when `ip` is a local address (127.0.0.0/8, or the NIC's once configured).
pub fn is_local_address(ip: core::net::Ipv4Addr) -> bool {
    super::with_net(|_, s| super::loopback::is_local(&s.iface, ip)).unwrap_or(false)
}

/// The engine's clock now.
fn now() -> halyard_tcp::Instant {
    super::tcp::tcp_now(time::now_ns())
}

/// Runs `f` on the stack; `NoNetwork` if there is none.
fn with_tcp<R>(f: impl FnOnce(&mut NetStack) -> R) -> Result<R> {
    super::with_net(|_, s| f(s)).ok_or(SocketError::NoNetwork)
}
