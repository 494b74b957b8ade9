//! The TCP engine in the kernel: the host-tested `halyard-tcp` endpoint, fed by NET_RX and
//! driven by the same timer as the interface, plus the routing of segments to the
//! connections threads hold.
//!
//! The endpoint lives under the stack lock (`net.stack`, taken with bottom halves off,
//! see the module docs of `net`) and keeps what is shared between connections:
//! listeners, handshakes in SYN-RECEIVED, accept queues, ephemeral ports and the 4-tuple
//! table. A connection a thread holds (connected or accepted) is detached from it at once
//! into a [`Sock`] with a lock of its own ([`super::sock`]); the stack keeps only a map
//! from 4-tuple to socket, through which NET_RX routes each segment: to the endpoint
//! under the stack lock, or onto its socket's backlog, processed after the device and
//! stack locks are released. Readiness events of listeners wake the wait queues
//! registered for them here; those of connections wake their socket's queues.
use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use halyard_net::tx_offload::TCP_CSUM_OFFSET;
use halyard_net::{Instant as NetInstant, TxCaps, TxOffload, TX_HEADROOM};
use halyard_tcp::{
    ConnId, DetachedConn, Endpoint, Event, ListenerId, RxHints, Stats, Transmit, MAX_HEADER,
};

use super::sock::{Arrival, Notify, Sock};
use crate::drivers::virtio_net::VirtioNet;
use crate::sched::WaitQueue;

/// Largest TCP segment the endpoint writes (headers plus one MSS of payload: it holds
/// only listeners and handshakes, whose segments carry no data).
pub const SEGMENT_BUF: usize = MAX_HEADER + 1460;

/// Largest TCP segment a TSO super-segment may be: what one IPv4 datagram holds.
pub const TSO_MAX_BYTES: usize = 65_535 - halyard_net::wire::ipv4::HEADER_LEN;

/// IPv4's protocol number of TCP.
pub const PROTOCOL: u8 = halyard_net::wire::ipv4::protocol::TCP;

/// (local, remote): the key of the socket map.
type Tuple = (SocketAddrV4, SocketAddrV4);

/// The endpoint, the sockets detached from it, and the wait queues of listeners.
pub struct Tcp {
    pub endpoint: Endpoint,
    listener_waiters: BTreeMap<ListenerId, Vec<Arc<WaitQueue>>>,
    /// Hooks called when a listener has connections to accept (`TcpListener::set_notify`).
    listener_hooks: BTreeMap<ListenerId, Notify>,
    socks: BTreeMap<Tuple, Arc<Sock>>,
    /// Counters of the sockets that closed (and left `socks`).
    closed_stats: Stats,
    /// Where the endpoint writes segments (after room for the Ethernet and IPv4 headers).
    segment: Vec<u8>,
}

/// Passively opened connections one remote address may hold (docs/network.md, "Limits"),
/// TIME-WAIT records aside: `net-tap-httpd` serves twice as many from one host.
pub const MAX_CONNECTIONS_PER_PEER: usize = 1024;
/// Half-open connections per listener (Linux: `tcp_max_syn_backlog`, 1024 or more).
const SYN_BACKLOG: usize = 1024;
/// Established connections waiting for `accept` per listener (Linux caps `listen`'s
/// backlog at `somaxconn`, 4096). Under a connection flood NET_RX completes handshakes
/// faster than a service thread may get the CPU to accept them; beyond this the
/// completing handshake is reset (counted in `TCP_ACCEPT_QUEUE_OVERFLOWS`).
const ACCEPT_BACKLOG: usize = 4096;

/// Memory that one connection of the engine's limit stands for: the limit is the RAM
/// divided by this (at most the engine's default, 16,384: 256 MiB and more). An idle
/// connection costs about 3 KB; the rest is room for its buffers.
const RAM_PER_CONNECTION: u64 = 16 * 1024;

/// Send-buffer limit of the sockets that set none (user programs' among them), as the
/// source service's: what is sent stays there until acknowledged, so the buffer bounds
/// the data in flight, and 256 KiB (the engine's default) capped a bulk sender over the
/// NIC below what the path takes. Linux's autotuning goes up to `tcp_wmem`'s 4 MiB. A
/// limit, not an allocation: the ring grows only as data is queued.
const SEND_BUFFER: usize = 1024 * 1024;

/// The engine's configuration: the defaults, with the limits above, the send buffer, and the transmit
/// offloads of `caps`: partial checksums and TSO super-segments when every way out takes
/// them. `lo` does (it trusts partial checksums and receives super-segments whole, as
/// Linux's `lo` with its 64 KB MTU does); the NIC when it negotiated `CSUM` and
/// `HOST_TSO4`. So without a NIC both are on, and `offload=off` turns them off with the
/// NIC's.
fn config(caps: TxCaps) -> halyard_tcp::Config {
    let base = halyard_tcp::Config::default();
    let ram = crate::mm::frame_stats().total * crate::mm::PAGE_SIZE;
    let max_connections = ((ram / RAM_PER_CONNECTION) as usize).clamp(1024, base.max_connections);
    halyard_tcp::Config {
        max_connections,
        // A record is a few dozen bytes (about 100 with its table and heap entries).
        max_time_wait: max_connections,
        send_buffer: SEND_BUFFER,
        max_connections_per_peer: MAX_CONNECTIONS_PER_PEER,
        syn_backlog: SYN_BACKLOG,
        accept_backlog: ACCEPT_BACKLOG,
        checksum_offload: caps.checksum,
        tso_max_bytes: if caps.checksum && caps.tso {
            TSO_MAX_BYTES
        } else {
            0
        },
        ..base
    }
}

/// What a segment the engine wrote leaves to the device.
pub fn offload_of(t: &Transmit) -> TxOffload {
    TxOffload {
        csum_offset: t.checksum_partial.then_some(TCP_CSUM_OFFSET),
        gso_size: t.gso_size,
    }
}

/// The engine's clock from the kernel's monotonic nanoseconds.
pub fn tcp_now(ns: u64) -> halyard_tcp::Instant {
    halyard_tcp::Instant::from_micros(ns / 1000)
}

impl Tcp {
    /// An endpoint keyed with `secret` (ISNs and the connection table's hash), using the
    /// transmit offloads `caps` (see [`config`]).
    /// Its tables are sized for the connection limit at once (`Endpoint::preallocate`):
    /// a flood must never make the kernel grow a large table under memory pressure.
    pub fn new(secret: [u8; 16], caps: TxCaps) -> Tcp {
        let mut endpoint = Endpoint::new(config(caps), secret);
        endpoint.preallocate();
        Tcp {
            endpoint,
            listener_waiters: BTreeMap::new(),
            listener_hooks: BTreeMap::new(),
            socks: BTreeMap::new(),
            closed_stats: Stats::default(),
            segment: alloc::vec![0; TX_HEADROOM + SEGMENT_BUF],
        }
    }

    /// Adds a wait queue woken when listener `id` has connections to accept.
    pub fn register(&mut self, id: ListenerId, queue: Arc<WaitQueue>) {
        self.listener_waiters.entry(id).or_default().push(queue);
    }

    /// Sets the hook called when listener `id` has connections to accept.
    pub fn set_hook(&mut self, id: ListenerId, hook: Notify) {
        self.listener_hooks.insert(id, hook);
    }

    /// Forgets listener `id`'s wait queues and hook (the listener is gone).
    pub fn unregister(&mut self, id: ListenerId) {
        self.listener_waiters.remove(&id);
        self.listener_hooks.remove(&id);
    }

    /// Takes connection `id` out of the endpoint into a new socket that NET_RX routes
    /// its segments to. The caller then services the socket once (`Sock::with`) outside
    /// the stack lock, which sends what the connection has pending and arms its timer.
    pub fn adopt(&mut self, id: ConnId) -> Result<Arc<Sock>, halyard_tcp::Error> {
        let sock = Sock::new(self.endpoint.detach(id)?);
        self.socks.insert((sock.local, sock.remote), sock.clone());
        Ok(sock)
    }

    /// A closed socket gives its tuple back (`conn` is its connection, under its lock);
    /// one in TIME-WAIT that its application closed gives the endpoint its connection,
    /// which keeps a compact record of it for the rest of the wait (`halyard_tcp`'s
    /// `time_wait.rs`), so the socket and the connection's state are freed at once.
    pub fn retire(&mut self, sock: &Sock, conn: &mut DetachedConn) {
        let key = (sock.local, sock.remote);
        if self
            .socks
            .get(&key)
            .is_some_and(|s| core::ptr::eq(Arc::as_ptr(s), sock))
        {
            self.socks.remove(&key);
        }
        if conn.is_orphaned_time_wait() {
            let _ = self.endpoint.adopt_time_wait(conn);
        } else {
            let _ = self.endpoint.forget(conn.id());
        }
        self.closed_stats += conn.stats();
    }

    /// NET_RX: one received TCP segment. A segment for a socket is queued on its backlog
    /// (taking `payload` when it is owned, copying it otherwise) and the socket noted in
    /// `to_process` (processed once the stack is unlocked); anything else goes to the
    /// endpoint.
    pub fn route(
        &mut self,
        now_ns: u64,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: Cow<'_, [u8]>,
        hints: RxHints,
        to_process: &mut Vec<Arc<Sock>>,
    ) {
        if let [sp0, sp1, dp0, dp1, ..] = *payload {
            let key = (
                SocketAddrV4::new(dst, u16::from_be_bytes([dp0, dp1])),
                SocketAddrV4::new(src, u16::from_be_bytes([sp0, sp1])),
            );
            if let Some(sock) = self.socks.get(&key) {
                let queued = sock.enqueue(Arrival {
                    src,
                    dst,
                    bytes: payload.into_owned(),
                    hints,
                });
                if queued && !to_process.iter().any(|s| Arc::ptr_eq(s, sock)) {
                    to_process.push(sock.clone());
                }
                return;
            }
        }
        self.endpoint
            .receive_with(tcp_now(now_ns), src, dst, &payload, hints);
    }

    /// Every socket (for `netstat` and `counters`, which look at each outside the stack
    /// lock), and the counters of those already closed.
    pub fn snapshot(&self) -> (Vec<Arc<Sock>>, Stats) {
        (
            self.socks.values().cloned().collect(),
            self.closed_stats.clone(),
        )
    }

    /// Runs the endpoint's timers, sends what it queued (through `lo`, or `iface` and the
    /// device `dev`), and wakes the listeners its events concern. Called with the stack
    /// locked, after any input.
    pub fn drive(
        &mut self,
        mut dev: Option<&mut VirtioNet>,
        iface: &mut halyard_net::Interface,
        lo: &mut super::loopback::Loopback,
        now_ns: u64,
    ) {
        let now = tcp_now(now_ns);
        if self.endpoint.poll_timeout().is_some_and(|t| t <= now) {
            self.endpoint.handle_timeout(now);
        }
        while let Some(t) = self
            .endpoint
            .poll_transmit(now, &mut self.segment[TX_HEADROOM..])
        {
            // A refusal (no route, ARP queue full, ring full) is a lost segment: TCP
            // retransmits.
            let frame = &mut self.segment[..TX_HEADROOM + t.len];
            let at = NetInstant::from_nanos(now_ns);
            let sent = super::loopback::send_ipv4(
                iface,
                lo,
                t.src,
                t.dst,
                PROTOCOL,
                frame,
                offload_of(&t),
                at,
            );
            if let (Ok(Some(offload)), Some(dev)) = (sent, dev.as_deref_mut()) {
                let _ = dev.transmit(frame, offload, None);
            }
        }
        while let Some(event) = self.endpoint.poll_event() {
            // Connections are detached as soon as a thread holds them, so only listeners
            // have events here.
            if let Event::Acceptable(id) = event {
                for q in self.listener_waiters.get(&id).into_iter().flatten() {
                    q.wake_all();
                }
                if let Some(hook) = self.listener_hooks.get(&id) {
                    hook();
                }
            }
        }
    }

    /// When the engine next needs `drive` (ns).
    pub fn next_timeout_ns(&mut self) -> Option<u64> {
        self.endpoint.poll_timeout().map(|t| t.micros() * 1000)
    }
}
