//! Listening sockets.
use alloc::sync::Arc;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicBool, Ordering};

use halyard_tcp::{Error as TcpError, ListenerId};

use super::{now, with_tcp, Result, SocketError, SocketOptions, TcpStream, Timeout, Waiter};
use crate::net::sock::Notify;
use crate::sched::WaitQueue;

/// A listening socket.
pub struct TcpListener {
    pub(super) id: ListenerId,
    pub(super) queue: Arc<WaitQueue>,
    nonblocking: AtomicBool,
    timeout: Timeout,
}

impl TcpListener {
    /// Listens on `port` on every local address; accepted connections inherit `options`.
    /// Fails with `AddrInUse` if another listener has the port, or, without
    /// `reuse_address`, if any connection (TIME-WAIT included) still uses it.
    pub fn bind_with(port: u16, options: &SocketOptions) -> Result<TcpListener> {
        Self::bind_at(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port), options)
    }

    /// [`TcpListener::bind_with`] on one local address (`0.0.0.0`: every one); the
    /// caller checked that the address is local.
    pub fn bind_at(addr: SocketAddrV4, options: &SocketOptions) -> Result<TcpListener> {
        let port = addr.port();
        let queue = Arc::new(WaitQueue::new());
        let id = with_tcp(|s| {
            if !options.reuse_address && s.tcp.endpoint.local_port_in_use(port) {
                return Err(TcpError::AddrInUse);
            }
            let cfg = options.config(s.tcp.endpoint.config());
            let id = s.tcp.endpoint.listen_with(addr, cfg)?;
            s.tcp.register(id, queue.clone());
            Ok(id)
        })?
        .map_err(SocketError::Tcp)?;
        Ok(TcpListener {
            id,
            queue,
            nonblocking: AtomicBool::new(false),
            timeout: Timeout::none(),
        })
    }

    /// Takes the next connection, waiting for one (unless non-blocking, or until the
    /// accept timeout).
    pub fn accept(&self) -> Result<TcpStream> {
        self.accept_with(self.nonblocking.load(Ordering::Relaxed))
    }

    /// [`TcpListener::accept`], non-blocking for this call if `nonblocking`.
    pub fn accept_with(&self, nonblocking: bool) -> Result<TcpStream> {
        let waiter = Waiter {
            queue: &self.queue,
            nonblocking,
            deadline: self.timeout.deadline(),
        };
        let sock = waiter.run(|| {
            with_tcp(|s| {
                let id = s.tcp.endpoint.accept(self.id).ok_or(TcpError::WouldBlock)?;
                s.tcp.adopt(id)
            })
        })?;
        Ok(TcpStream::adopt(sock))
    }

    /// Non-blocking mode: `accept` returns `WouldBlock` instead of waiting.
    pub fn set_nonblocking(&self, on: bool) {
        self.nonblocking.store(on, Ordering::Relaxed);
    }

    /// How long `accept` waits (`None`: as long as it takes).
    pub fn set_timeout(&self, ns: Option<u64>) {
        self.timeout.set(ns);
    }

    /// Calls `hook` whenever connections become ready to accept (from NET_RX; it must
    /// only wake).
    pub fn set_notify(&self, hook: Notify) {
        let _ = with_tcp(|s| s.tcp.set_hook(self.id, hook));
    }
}

impl Drop for TcpListener {
    /// Stops listening; connections not yet accepted are reset.
    fn drop(&mut self) {
        let _ = with_tcp(|s| {
            s.tcp.unregister(self.id);
            s.tcp.endpoint.unlisten(now(), self.id)
        });
    }
}
