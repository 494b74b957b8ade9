//! The kernel's UDP socket table: one receive queue per bound port.
//!
//! Each queue has a fixed maximum length; a datagram arriving at a full queue is dropped and
//! counted (UDP promises nothing more). The table reports when a queue goes from empty to
//! non-empty so the kernel can wake readers exactly once per batch.
//!
//! Ports can also be *claimed* by sockets the kernel keeps elsewhere (user programs'
//! UDP sockets, with their own addresses, options and queues): a claimed port is in use
//! for [`UdpSockets::bind`], and datagrams to it are handed to the kernel
//! ([`crate::Rx::Udp`]) instead of being queued here. Claims are counted, as several
//! sockets may share a port (different addresses, `SO_REUSEADDR`).

use crate::DropReason;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

/// First port handed out when binding to port 0 (IANA dynamic range).
pub const EPHEMERAL_START: u16 = 49152;

/// A received UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram {
    pub src: Ipv4Addr,
    pub src_port: u16,
    pub dst: Ipv4Addr,
    pub data: Vec<u8>,
}

/// Why a bind failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindError {
    /// Another socket holds the port.
    InUse,
    /// The table holds its maximum number of sockets (or no ephemeral port is free).
    TableFull,
}

/// The UDP socket table.
#[derive(Debug)]
pub struct UdpSockets {
    queues: BTreeMap<u16, VecDeque<UdpDatagram>>,
    /// Claimed ports and the number of claims on each.
    claims: BTreeMap<u16, usize>,
    queue_len: usize,
    max_sockets: usize,
}

impl UdpSockets {
    /// A table of at most `max_sockets` sockets, each queueing at most `queue_len` datagrams.
    pub fn new(max_sockets: usize, queue_len: usize) -> UdpSockets {
        UdpSockets {
            queues: BTreeMap::new(),
            claims: BTreeMap::new(),
            queue_len,
            max_sockets,
        }
    }

    /// Binds `port` (0 picks a free ephemeral port) and returns the bound port.
    pub fn bind(&mut self, port: u16) -> Result<u16, BindError> {
        if self.queues.len() >= self.max_sockets {
            return Err(BindError::TableFull);
        }
        let port = match port {
            0 => (EPHEMERAL_START..=u16::MAX)
                .find(|p| !self.in_use(*p))
                .ok_or(BindError::TableFull)?,
            p if self.in_use(p) => return Err(BindError::InUse),
            p => p,
        };
        self.queues.insert(port, VecDeque::new());
        Ok(port)
    }

    /// Closes the socket on `port`, discarding queued datagrams. False if none was bound.
    pub fn unbind(&mut self, port: u16) -> bool {
        self.queues.remove(&port).is_some()
    }

    pub fn is_bound(&self, port: u16) -> bool {
        self.queues.contains_key(&port)
    }

    /// Bound here or claimed.
    fn in_use(&self, port: u16) -> bool {
        self.is_bound(port) || self.is_claimed(port)
    }

    /// Claims `port` for a socket kept outside the table: [`BindError::InUse`] if a
    /// socket of the table holds it; claims on a claimed port add up.
    pub fn claim(&mut self, port: u16) -> Result<(), BindError> {
        if self.is_bound(port) {
            return Err(BindError::InUse);
        }
        *self.claims.entry(port).or_insert(0) += 1;
        Ok(())
    }

    /// Gives back one claim on `port`.
    pub fn release(&mut self, port: u16) {
        if let Some(n) = self.claims.get_mut(&port) {
            *n -= 1;
            if *n == 0 {
                self.claims.remove(&port);
            }
        }
    }

    pub fn is_claimed(&self, port: u16) -> bool {
        self.claims.contains_key(&port)
    }

    /// Queues `d` on `port`. `Ok(true)` when the queue was empty before (wake readers).
    pub fn deliver(&mut self, port: u16, d: UdpDatagram) -> Result<bool, DropReason> {
        let q = self.queues.get_mut(&port).ok_or(DropReason::UdpNoSocket)?;
        if q.len() >= self.queue_len {
            return Err(DropReason::UdpQueueFull);
        }
        q.push_back(d);
        Ok(q.len() == 1)
    }

    /// Every bound port and the payload bytes queued on it.
    pub fn ports(&self) -> impl Iterator<Item = (u16, usize)> + '_ {
        self.queues
            .iter()
            .map(|(p, q)| (*p, q.iter().map(|d| d.data.len()).sum()))
    }

    /// Takes the oldest datagram queued on `port`.
    pub fn recv(&mut self, port: u16) -> Option<UdpDatagram> {
        self.queues.get_mut(&port)?.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dgram(tag: u8) -> UdpDatagram {
        UdpDatagram {
            src: Ipv4Addr::new(1, 2, 3, 4),
            src_port: 9,
            dst: Ipv4Addr::new(5, 6, 7, 8),
            data: vec![tag],
        }
    }

    #[test]
    fn bind_deliver_recv() {
        let mut t = UdpSockets::new(4, 2);
        assert_eq!(t.bind(53), Ok(53));
        assert_eq!(t.bind(53), Err(BindError::InUse));
        assert_eq!(t.bind(0), Ok(EPHEMERAL_START));
        assert_eq!(t.bind(0), Ok(EPHEMERAL_START + 1));
        assert_eq!(t.bind(7), Ok(7));
        assert_eq!(t.bind(8), Err(BindError::TableFull));
        assert_eq!(t.deliver(53, dgram(1)), Ok(true));
        assert_eq!(t.deliver(53, dgram(2)), Ok(false));
        assert_eq!(t.deliver(53, dgram(3)), Err(DropReason::UdpQueueFull));
        assert_eq!(t.deliver(54, dgram(3)), Err(DropReason::UdpNoSocket));
        assert_eq!(t.recv(53).map(|d| d.data[0]), Some(1));
        assert_eq!(t.recv(53).map(|d| d.data[0]), Some(2));
        assert_eq!(t.recv(53), None);
        assert!(t.unbind(53));
        assert!(!t.unbind(53));
        assert!(!t.is_bound(53));
        assert_eq!(t.deliver(53, dgram(4)), Err(DropReason::UdpNoSocket));
    }

    #[test]
    fn claims_count_and_exclude_binds() {
        let mut t = UdpSockets::new(4, 2);
        t.bind(53).unwrap();
        assert_eq!(t.claim(53), Err(BindError::InUse));
        assert_eq!(t.claim(EPHEMERAL_START), Ok(()));
        assert_eq!(t.claim(EPHEMERAL_START), Ok(()));
        assert_eq!(t.bind(EPHEMERAL_START), Err(BindError::InUse));
        assert_eq!(t.bind(0), Ok(EPHEMERAL_START + 1));
        t.release(EPHEMERAL_START);
        assert!(t.is_claimed(EPHEMERAL_START));
        t.release(EPHEMERAL_START);
        assert!(!t.is_claimed(EPHEMERAL_START));
        assert_eq!(t.bind(EPHEMERAL_START), Ok(EPHEMERAL_START));
    }

    #[test]
    fn ports_lists_bound_ports_with_queued_bytes() {
        let mut t = UdpSockets::new(4, 4);
        t.bind(68).unwrap();
        t.bind(7).unwrap();
        t.deliver(7, dgram(1)).unwrap();
        t.deliver(7, dgram(2)).unwrap();
        assert_eq!(t.ports().collect::<Vec<_>>(), [(7, 2), (68, 0)]);
    }
}
