//! Kernel UDP sockets for threads, and the UDP echo service (port 7).
//!
//! A socket is a bound port of the interface's UDP table. `recv_from` sleeps on the
//! network's event wait queue, which `with_net` wakes when a port's queue becomes
//! non-empty; it re-checks its own port, so a wake for another port costs one check.
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use halyard_net::{Instant, SendError};

use crate::{sched, time};

/// A bound UDP port. Process context.
pub struct UdpSocket {
    port: u16,
}

/// Why a socket call failed.
#[derive(Debug)]
pub enum UdpError {
    NoNetwork,
    Bind(halyard_net::udp_socket::BindError),
    Send(SendError),
}

impl core::fmt::Display for UdpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            UdpError::NoNetwork => write!(f, "no network interface"),
            UdpError::Bind(e) => write!(f, "bind failed: {e:?}"),
            UdpError::Send(e) => write!(f, "send failed: {e:?}"),
        }
    }
}

impl UdpSocket {
    /// Binds `port` (0 = an ephemeral port).
    pub fn bind(port: u16) -> Result<UdpSocket, UdpError> {
        let port = super::with_net(|_, s| s.iface.udp_bind(port))
            .ok_or(UdpError::NoNetwork)?
            .map_err(UdpError::Bind)?;
        Ok(UdpSocket { port })
    }

    /// Sends `data` from this socket's port to `dst:dst_port`.
    pub fn send_to(&self, data: &[u8], dst: Ipv4Addr, dst_port: u16) -> Result<(), UdpError> {
        let now = Instant::from_nanos(time::now_ns());
        super::with_net(|_, s| s.iface.udp_send_to(self.port, dst, dst_port, data, now))
            .ok_or(UdpError::NoNetwork)?
            .map_err(UdpError::Send)
    }

    /// Waits for the next datagram: (payload, source address, source port).
    pub fn recv_from(&self) -> (Vec<u8>, Ipv4Addr, u16) {
        let mut got = None;
        super::EVENT_WAITERS.wait_until(|| {
            got = super::with_net(|_, s| s.iface.udp_recv(self.port)).flatten();
            got.is_some()
        });
        let d = got.expect("wait_until returned with a datagram");
        (d.data, d.src, d.src_port)
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        super::with_net(|_, s| s.iface.udp_unbind(self.port));
    }
}

/// Starts the UDP echo service on port 7 (RFC 862) as a kernel thread.
pub fn start_echo_service() {
    let socket = match UdpSocket::bind(7) {
        Ok(s) => s,
        Err(e) => {
            crate::warn!("udp echo: cannot bind port 7: {e}");
            return;
        }
    };
    sched::spawn("udp-echo", move || loop {
        let (data, src, port) = socket.recv_from();
        if let Err(e) = socket.send_to(&data, src, port) {
            crate::debug!("udp echo to {src}:{port}: {e}");
        }
    });
}
