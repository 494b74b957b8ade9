//! `lo`, the loopback interface (Linux's `drivers/net/loopback.c`), and the routing
//! decision between it and the NIC.
//!
//! Every address of 127.0.0.0/8 is local, as is the NIC's own address (Linux routes
//! both through `lo`: its `local` routing table). An IPv4 datagram for a local address
//! is never handed back to the protocols from the sender's context: [`send_ipv4`]
//! queues it on the loopback's receive queue (under the stack lock) and raises NET_RX,
//! which takes it off like a frame from the NIC's ring ([`Loopback::poll`], within the
//! same budget) and routes it to the TCP engine or a socket's backlog. The sender
//! usually holds its socket's lock (a socket sends from `Sock::service`), so a direct
//! call would re-enter that socket (or another) from inside a socket call: the seed's
//! deadlock class. Raised with bottom halves off, NET_RX runs once the sender's last
//! `BhLock` is released (`local_bh_enable`), or on another CPU, where it finds the
//! sender's socket held and leaves the segment on its backlog (`net::sock`).
//!
//! The queue is bounded (Linux's `txqueuelen` of `lo`, 1000, and 8 MiB of payload):
//! beyond, a datagram is dropped and counted, and TCP retransmits. Loopback works without a NIC: the stack then
//! has an unconfigured Ethernet interface that never sends.
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use halyard_net::{Instant, Interface, SendError, TxOffload, TX_HEADROOM};
use preempt::Softirq;

use crate::irq::softirq;

/// Datagrams waiting in `lo`'s receive queue at most (Linux's `txqueuelen` for `lo`).
const QUEUE_LIMIT: usize = 1000;
/// Payload bytes waiting at most: UDP datagrams of up to 64 KiB have no window to
/// bound them (Linux's send buffer accounting would make their sender wait).
const QUEUE_BYTES_LIMIT: usize = 8 << 20;
/// Bytes of the IPv4 header a datagram is counted with (no options).
const IPV4_HEADER: u64 = 20;
/// Linux's `lo` address, the source of datagrams to 127.0.0.0/8.
pub const ADDRESS: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// The prefix length of `lo`'s network.
pub const PREFIX_LEN: u8 = 8;

/// One IPv4 datagram in flight through `lo` (there is no wire, so no header bytes).
pub struct Datagram {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub payload: Vec<u8>,
    /// What the sender left undone: a partial checksum is trusted on receipt and a TCP
    /// super-segment is received whole (Linux's `lo` passes `CHECKSUM_PARTIAL` and GSO
    /// packets of up to its 64 KB MTU the same way).
    pub offload: TxOffload,
}

/// Packet and byte counters of an interface direction (`/proc/net/dev`'s columns).
#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub packets: u64,
    pub bytes: u64,
    pub dropped: u64,
}

impl Counts {
    fn count(&mut self, payload: usize) {
        self.packets += 1;
        self.bytes += IPV4_HEADER + payload as u64;
    }
}

/// The loopback interface: its receive queue and counters, under the stack lock.
#[derive(Default)]
pub struct Loopback {
    queue: VecDeque<Datagram>,
    /// Payload bytes in `queue`.
    queued_bytes: usize,
    pub rx: Counts,
    pub tx: Counts,
}

impl Loopback {
    /// Sends `d` through `lo`: queued for NET_RX (raised here), or dropped when full.
    fn transmit(&mut self, d: Datagram) -> Result<(), SendError> {
        if self.queue.len() >= QUEUE_LIMIT || self.queued_bytes >= QUEUE_BYTES_LIMIT {
            self.tx.dropped += 1;
            return Err(SendError::QueueFull);
        }
        self.queued_bytes += d.payload.len();
        self.tx.count(d.payload.len());
        self.queue.push_back(d);
        softirq::raise(Softirq::NetRx);
        Ok(())
    }

    /// NET_RX: takes the next received datagram (counted).
    pub fn poll(&mut self) -> Option<Datagram> {
        let d = self.queue.pop_front()?;
        self.queued_bytes -= d.payload.len();
        self.rx.count(d.payload.len());
        Some(d)
    }

    /// `LO_*` lines of `counters` (the driver's `NET_RX_PACKETS`... are `eth0`'s).
    pub fn counters(&self) -> [(&'static str, u64); 6] {
        [
            ("LO_RX_PACKETS", self.rx.packets),
            ("LO_RX_BYTES", self.rx.bytes),
            ("LO_RX_DROPPED", self.rx.dropped),
            ("LO_TX_PACKETS", self.tx.packets),
            ("LO_TX_BYTES", self.tx.bytes),
            ("LO_TX_DROPPED", self.tx.dropped),
        ]
    }

    /// The receive and transmit counters.
    pub fn rx_tx(&self) -> (Counts, Counts) {
        (self.rx, self.tx)
    }

    /// True when datagrams wait for NET_RX.
    pub fn pending(&self) -> bool {
        !self.queue.is_empty()
    }
}

/// True when `ip` is one of ours: 127.0.0.0/8 or the NIC's address.
pub fn is_local(iface: &Interface, ip: Ipv4Addr) -> bool {
    ip.is_loopback() || iface.config().is_some_and(|c| c.addr == ip)
}

/// The source address of a connection to `dst` (Linux's `src` of the route): 127.0.0.1
/// to 127.0.0.0/8, else the NIC's address; `None` without one.
pub fn source_for(iface: &Interface, dst: Ipv4Addr) -> Option<Ipv4Addr> {
    if dst.is_loopback() {
        return Some(ADDRESS);
    }
    iface.config().map(|c| c.addr)
}

/// Sends the IPv4 datagram whose payload is `frame[TX_HEADROOM..]` from `src` to `dst`,
/// leaving `offload` undone: through `lo` when `dst` is local, else out of the NIC (from
/// its address). `Some` means the frame was finished in place and is for the caller to
/// hand to the device with those offloads, as it is; otherwise it was queued (or
/// refused) (`Interface::send_ipv4_in_place`). The TCP engine's and sockets' way out; the
/// stack is locked (both live in [`super::NetStack`]).
#[allow(clippy::too_many_arguments)]
pub fn send_ipv4(
    iface: &mut Interface,
    lo: &mut Loopback,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    frame: &mut [u8],
    offload: TxOffload,
    now: Instant,
) -> Result<Option<TxOffload>, SendError> {
    if is_local(iface, dst) {
        return lo
            .transmit(Datagram {
                src,
                dst,
                protocol,
                payload: frame.get(TX_HEADROOM..).unwrap_or_default().to_vec(),
                offload,
            })
            .map(|()| None);
    }
    iface.send_ipv4_in_place(dst, protocol, frame, offload, now)
}
