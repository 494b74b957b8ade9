//! TCP sockets for kernel threads: listen, accept, connect, read, write, shutdown, close.
//!
//! Every call locks the stack briefly (bottom halves off) to ask the engine; a call that
//! cannot complete yet sleeps on the socket's own wait queue, which the engine's
//! readiness events wake from NET_RX. Each blocking call can take a deadline; readiness
//! is re-checked after every wake, so spurious wakes are harmless. Process context only.
use alloc::sync::Arc;
use core::net::{Ipv4Addr, SocketAddrV4};

use halyard_tcp::{ConnId, ConnInfo, Error as TcpError, ListenerId};

use super::tcp::{tcp_now, Handle};
use crate::sched::WaitQueue;
use crate::time;

/// Why a socket call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketError {
    /// No network interface, or it has no address yet.
    NoNetwork,
    /// The deadline passed first.
    TimedOut,
    /// The engine refused (reset, refused, invalid state, ...).
    Tcp(TcpError),
}

impl core::fmt::Display for SocketError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SocketError::NoNetwork => write!(f, "network is not configured"),
            SocketError::TimedOut => write!(f, "timed out"),
            SocketError::Tcp(e) => write!(f, "{e:?}"),
        }
    }
}

type Result<T> = core::result::Result<T, SocketError>;

fn now_ns() -> u64 {
    time::now_ns()
}

/// Runs `f` on the engine; `NoNetwork` if there is none.
fn with_tcp<R>(f: impl FnOnce(&mut super::NetStack) -> R) -> Result<R> {
    super::with_net(|_, s| f(s)).ok_or(SocketError::NoNetwork)
}

/// Retries `op` until it stops saying `WouldBlock`, sleeping on `queue` in between.
fn blocking<T>(queue: &WaitQueue, deadline: Option<u64>, mut op: impl FnMut(&mut super::NetStack) -> core::result::Result<T, TcpError>) -> Result<T> {
    let mut outcome = None;
    let done = queue.wait_until_deadline(deadline, || {
        match with_tcp(|s| op(s)) {
            Ok(Err(TcpError::WouldBlock)) => false,
            Ok(Ok(v)) => {
                outcome = Some(Ok(v));
                true
            }
            Ok(Err(e)) => {
                outcome = Some(Err(SocketError::Tcp(e)));
                true
            }
            Err(e) => {
                outcome = Some(Err(e));
                true
            }
        }
    });
    if !done {
        return Err(SocketError::TimedOut);
    }
    outcome.expect("a true condition recorded its outcome")
}

/// A listening socket.
pub struct TcpListener {
    id: ListenerId,
    queue: Arc<WaitQueue>,
}

impl TcpListener {
    /// Listens on `port` on every local address.
    pub fn bind(port: u16) -> Result<TcpListener> {
        let queue = Arc::new(WaitQueue::new());
        let id = with_tcp(|s| {
            let id = s.tcp.endpoint.listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))?;
            s.tcp.register(Handle::Listener(id), queue.clone());
            Ok(id)
        })?
        .map_err(SocketError::Tcp)?;
        Ok(TcpListener { id, queue })
    }

    /// Waits for the next connection.
    pub fn accept(&self) -> Result<TcpStream> {
        let queue = Arc::new(WaitQueue::new());
        let id = blocking(&self.queue, None, |s| {
            let id = s.tcp.endpoint.accept(self.id).ok_or(TcpError::WouldBlock)?;
            s.tcp.register(Handle::Conn(id), queue.clone());
            Ok(id)
        })?;
        Ok(TcpStream { id, queue })
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let _ = with_tcp(|s| {
            s.tcp.unregister(Handle::Listener(self.id));
            s.tcp.endpoint.unlisten(tcp_now(now_ns()), self.id)
        });
    }
}

/// A TCP connection.
pub struct TcpStream {
    id: ConnId,
    queue: Arc<WaitQueue>,
}

impl TcpStream {
    /// Connects to `remote`, waiting at most `timeout_ns`.
    pub fn connect(remote: SocketAddrV4, timeout_ns: u64) -> Result<TcpStream> {
        let queue = Arc::new(WaitQueue::new());
        let id = with_tcp(|s| {
            let local = s.iface.config().map(|c| c.addr).ok_or(TcpError::InvalidState)?;
            let id = s.tcp.endpoint.connect(tcp_now(now_ns()), local, remote)?;
            s.tcp.register(Handle::Conn(id), queue.clone());
            Ok(id)
        })?
        .map_err(|e| if e == TcpError::InvalidState { SocketError::NoNetwork } else { SocketError::Tcp(e) })?;
        let stream = TcpStream { id, queue };
        blocking(&stream.queue, Some(now_ns() + timeout_ns), |s| match s.tcp.endpoint.info(id) {
            Ok(ConnInfo { state: halyard_tcp::State::Established | halyard_tcp::State::CloseWait, .. }) => Ok(()),
            Ok(ConnInfo { error: Some(e), .. }) => Err(e),
            Ok(ConnInfo { state: halyard_tcp::State::Closed, .. }) => Err(TcpError::Refused),
            Ok(_) => Err(TcpError::WouldBlock),
            Err(e) => Err(e),
        })?;
        Ok(stream)
    }

    /// Reads into `buf`; `Ok(0)` is end of stream. Waits for data until `deadline_ns`.
    pub fn read_until(&self, buf: &mut [u8], deadline_ns: Option<u64>) -> Result<usize> {
        blocking(&self.queue, deadline_ns, |s| s.tcp.endpoint.recv(tcp_now(now_ns()), self.id, buf))
    }

    /// Reads into `buf`, waiting as long as it takes; `Ok(0)` is end of stream.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        self.read_until(buf, None)
    }

    /// Writes all of `data`, waiting for send-buffer space as needed.
    pub fn write_all(&self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let n = blocking(&self.queue, None, |s| match s.tcp.endpoint.send(tcp_now(now_ns()), self.id, data) {
                Ok(0) => Err(TcpError::WouldBlock),
                other => other,
            })?;
            data = &data[n..];
        }
        Ok(())
    }

    /// Closes our direction (the peer reads end of stream); reading goes on.
    pub fn shutdown(&self) -> Result<()> {
        with_tcp(|s| s.tcp.endpoint.close(tcp_now(now_ns()), self.id))?.map_err(SocketError::Tcp)
    }

    /// Disables (or re-enables) Nagle's algorithm.
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        with_tcp(|s| s.tcp.endpoint.set_nodelay(self.id, on))?.map_err(SocketError::Tcp)
    }
}

impl Drop for TcpStream {
    /// Gives the connection back to the engine, which finishes it gracefully (or resets
    /// it if unread data would be lost).
    fn drop(&mut self) {
        let _ = with_tcp(|s| {
            s.tcp.unregister(Handle::Conn(self.id));
            s.tcp.endpoint.release(tcp_now(now_ns()), self.id)
        });
    }
}
