//! User programs' UDP sockets inside the stack: which socket a datagram is for (Linux's
//! `udp_table` and `__udp4_lib_lookup`) and each socket's receive queue
//! (`sk_receive_queue`), filled from NET_RX.
//!
//! The table lives in [`super::NetStack`], under the stack lock: `bind`, `connect`,
//! `close` and NET_RX's delivery all change or read it there. Each binding's port is
//! claimed on the interface (`Interface::udp_claim`), which then hands datagrams for it
//! up as `Rx::Udp` instead of queueing them for the kernel's own UDP sockets (DHCP, the
//! echo service), so the two kinds share one port space.
//!
//! A datagram goes to the binding of its port that matches best, as Linux scores them
//! (`halyard_net::udp_bindings`, host-tested): a socket bound to the destination
//! address before one bound to the wildcard, then a connected socket whose peer is the
//! source before an unconnected one, then the most recently bound. A broadcast goes to
//! every matching socket. The receive queue
//! ([`Endpoint`]) is a leaf lock (`net.udp.rx`, bottom halves off) taken briefly by
//! NET_RX and by the socket's own calls, never while waiting; a datagram arriving when
//! the bytes charged to the queue exceed `SO_RCVBUF` is dropped and counted (Linux's
//! `__udp_enqueue_schedule_skb`), each datagram charged its length plus
//! [`OVERHEAD`] as Linux charges an `sk_buff`'s `truesize`. Readers are woken through
//! the wait queue's lock-free wake and pollers through the socket file's readiness hook,
//! after the queue's lock is released.
//!
//! A datagram through `lo` to a port nobody holds is answered as Linux's ICMP port
//! unreachable would be, directly from NET_RX: the connected socket that sent it (its
//! peer is that address and port) gets `ECONNREFUSED` for its next call (Linux's
//! `__udp4_lib_err`: only a connected socket hears about it without `IP_RECVERR`). An
//! ICMP port unreachable from the network (`Event::DestinationUnreachable`) does the
//! same. A datagram from the NIC for a claimed port that no binding matches (bound to
//! another local address, or connected elsewhere) is dropped without an ICMP message.
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicU64, Ordering};

use halyard_net::udp_bindings::{
    BindConflict, BindRequest, UdpBindings, EPHEMERAL_FIRST, EPHEMERAL_LAST,
};
use halyard_net::wire::ipv4::protocol::UDP;
use halyard_net::wire::udp;
use halyard_net::{Interface, SendError, TxOffload, UdpRx, TX_HEADROOM};
use linux_raw_sys::general::{POLLERR, POLLIN, POLLRDNORM};

use crate::drivers::virtio_net::VirtioNet;
use crate::sched::WaitQueue;
use crate::sync::{BhLock, LockClass};
use crate::syscall::Errno;

/// Bytes charged to a receive queue per datagram besides its payload (Linux charges an
/// `sk_buff`'s `truesize`, a few hundred bytes more than the data).
pub const OVERHEAD: usize = 256;
/// Linux's `rmem_default`: a socket's receive buffer until `SO_RCVBUF`.
pub const DEFAULT_RCVBUF: usize = 212_992;

static RX_CLASS: LockClass = LockClass::new("net.udp.rx");

/// One received datagram.
pub struct Datagram {
    pub from: SocketAddrV4,
    pub data: Vec<u8>,
}

/// What NET_RX and the socket's calls share: the receive queue and the socket's error
/// and shutdown state (Linux's `sk_receive_queue`, `sk_err`, `sk_shutdown`).
pub struct RxState {
    pub queue: VecDeque<Datagram>,
    /// Bytes charged to the queue (payloads plus [`OVERHEAD`] each).
    pub charged: usize,
    /// `SO_RCVBUF` (already doubled, as Linux stores it).
    pub rcvbuf: usize,
    /// Datagrams dropped for want of room.
    pub drops: u64,
    /// An error for the next call (`ECONNREFUSED` after a port unreachable).
    pub error: Option<Errno>,
    pub shut_rd: bool,
    pub shut_wr: bool,
}

/// A socket's receive side: its queue under a leaf lock, its readers' wait queue and
/// the hook that wakes its pollers.
pub struct Endpoint {
    /// The socket's inode number (its id in the table, `/proc/net/udp`'s inode).
    pub id: u64,
    pub rx: BhLock<RxState>,
    /// Readers blocked in `recvmsg`.
    pub readable: WaitQueue,
    /// Wakes the socket file's readiness queue with an event hint (any context).
    notify: Arc<dyn Fn(u32) + Send + Sync>,
}

impl Endpoint {
    pub fn new(id: u64, notify: Arc<dyn Fn(u32) + Send + Sync>) -> Arc<Endpoint> {
        Arc::new(Endpoint {
            id,
            rx: BhLock::new(
                RxState {
                    queue: VecDeque::new(),
                    charged: 0,
                    rcvbuf: DEFAULT_RCVBUF,
                    drops: 0,
                    error: None,
                    shut_rd: false,
                    shut_wr: false,
                },
                &RX_CLASS,
            ),
            readable: WaitQueue::new(),
            notify,
        })
    }

    /// Wakes readers and pollers (`events`: the `poll` events that may have changed).
    pub fn wake(&self, events: u32) {
        self.readable.wake_all();
        (self.notify)(events);
    }

    /// Queues `d` unless the queue is over its buffer (counted either way).
    fn push(&self, d: Datagram) {
        {
            let mut rx = self.rx.lock();
            if rx.charged > rx.rcvbuf {
                rx.drops += 1;
                COUNTERS.rcvbuf_errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
            rx.charged += d.data.len() + OVERHEAD;
            rx.queue.push_back(d);
        }
        COUNTERS.in_datagrams.fetch_add(1, Ordering::Relaxed);
        self.wake(POLLIN | POLLRDNORM);
    }

    /// Sets the error for the next call (Linux's `sk_err` and `sk_error_report`).
    fn set_error(&self, err: Errno) {
        self.rx.lock().error = Some(err);
        COUNTERS.errors_reported.fetch_add(1, Ordering::Relaxed);
        self.wake(POLLERR);
    }
}

/// The user UDP sockets' bindings (the rules are `halyard_net::udp_bindings`'s).
#[derive(Default)]
pub struct Table {
    bindings: UdpBindings<Arc<Endpoint>>,
}

impl Table {
    /// Binds a socket: port 0 picks a free ephemeral port from a random start; a port
    /// bound on an overlapping address is `EADDRINUSE` (see `UdpBindings`), as is one
    /// the kernel's own UDP sockets hold; no free ephemeral port is `EAGAIN`. Returns
    /// the port, claimed on the interface.
    pub fn bind(
        &mut self,
        iface: &mut Interface,
        req: BindRequest,
        ep: Arc<Endpoint>,
    ) -> Result<u16, Errno> {
        let span = u32::from(EPHEMERAL_LAST - EPHEMERAL_FIRST) + 1;
        let start = EPHEMERAL_FIRST + (crate::random::u32() % span) as u16;
        let port = self
            .bindings
            .choose_port(&req, start, |p| iface.udp_is_bound(p))
            .map_err(|err| match err {
                BindConflict::InUse => Errno(linux_raw_sys::errno::EADDRINUSE),
                BindConflict::NoFreePort => Errno::EAGAIN,
            })?;
        iface
            .udp_claim(port)
            .map_err(|_| Errno(linux_raw_sys::errno::EADDRINUSE))?;
        self.bindings.insert(req, port, ep);
        Ok(port)
    }

    /// Removes socket `id` from `port` (close, or a disconnect that loses the port).
    pub fn unbind(&mut self, iface: &mut Interface, id: u64, port: u16) {
        if self.bindings.remove(id, port).is_some() {
            iface.udp_release(port);
        }
    }

    /// Sets socket `id`'s bound address and peer (`connect`, disconnect).
    pub fn set_addresses(
        &mut self,
        id: u64,
        port: u16,
        addr: Ipv4Addr,
        peer: Option<SocketAddrV4>,
    ) {
        self.bindings.set_addresses(id, port, addr, peer);
    }

    /// NET_RX: queues a datagram on the socket it is for (every matching socket for a
    /// `broadcast`). False when no socket takes it (counted).
    pub fn deliver(&self, d: UdpRx, broadcast: bool) -> bool {
        let from = SocketAddrV4::new(d.src, d.src_port);
        let mut taken = false;
        if broadcast {
            for ep in self.bindings.lookup_all(from, d.dst, d.dst_port) {
                taken = true;
                ep.push(Datagram {
                    from,
                    data: d.data.clone(),
                });
            }
        } else if let Some(ep) = self.bindings.lookup(from, d.dst, d.dst_port) {
            taken = true;
            ep.push(Datagram { from, data: d.data });
        }
        if !taken {
            COUNTERS.no_ports.fetch_add(1, Ordering::Relaxed);
        }
        taken
    }

    /// A port unreachable about our datagram from local port `port` to `to`: the
    /// socket connected to `to` from that port gets `ECONNREFUSED`.
    pub fn port_unreachable(&self, port: u16, to: SocketAddrV4) {
        for ep in self.bindings.connected_to(port, to) {
            ep.set_error(Errno(linux_raw_sys::errno::ECONNREFUSED));
        }
    }

    /// `/proc/net/udp`'s rows: every binding with its bytes queued and drops.
    pub fn rows(&self) -> Vec<procnet::UdpRow> {
        self.bindings
            .iter()
            .map(|(local, remote, ep)| {
                let rx = ep.rx.lock();
                procnet::UdpRow {
                    local,
                    remote,
                    rx_queue: rx.queue.iter().map(|d| d.data.len() as u32).sum(),
                    inode: ep.id,
                    drops: rx.drops,
                }
            })
            .collect()
    }
}

/// NET_RX: a UDP datagram (header and payload) that came through `lo` from `src` to
/// `dst`. A datagram nobody takes is refused to its sender as a port unreachable would be
/// (unless a kernel socket holds the port: those are not reached through `lo`).
pub fn receive_local(
    table: &Table,
    iface: &Interface,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    payload: &[u8],
) {
    let Ok(packet) = udp::Packet::new_checked(payload) else {
        COUNTERS.no_ports.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let header = udp::Repr::unverified(&packet);
    let d = UdpRx {
        src,
        src_port: header.src_port,
        dst,
        dst_port: header.dst_port,
        data: packet.payload().to_vec(),
    };
    let broadcast = is_broadcast(iface, dst);
    if !table.deliver(d, broadcast) && !broadcast && !iface.udp_is_bound(header.dst_port) {
        table.port_unreachable(header.src_port, SocketAddrV4::new(dst, header.dst_port));
    }
}

/// `lo`'s broadcast address (Linux's `broadcast 127.255.255.255 dev lo table local`).
pub const LO_BROADCAST: Ipv4Addr = Ipv4Addr::new(127, 255, 255, 255);

/// True for a broadcast address: the limited broadcast, `eth0`'s subnet broadcast or
/// `lo`'s.
pub fn is_broadcast(iface: &Interface, ip: Ipv4Addr) -> bool {
    ip.is_broadcast()
        || ip == LO_BROADCAST
        || iface.config().and_then(|c| c.broadcast()) == Some(ip)
}

/// The source address and broadcast flag of a datagram to `dst` (Linux's route
/// lookup): `lo` for 127.0.0.0/8 and the NIC's address, else `eth0` if configured and
/// routed; `ENETUNREACH` otherwise.
pub fn route(iface: &Interface, dst: Ipv4Addr) -> Result<(Ipv4Addr, bool), Errno> {
    if dst == LO_BROADCAST {
        return Ok((super::loopback::ADDRESS, true));
    }
    if super::loopback::is_local(iface, dst) {
        let src = super::loopback::source_for(iface, dst).unwrap_or(super::loopback::ADDRESS);
        return Ok((src, false));
    }
    let unreachable = Errno(linux_raw_sys::errno::ENETUNREACH);
    let ours = iface.config().ok_or(unreachable)?.addr;
    if is_broadcast(iface, dst) {
        return Ok((ours, true));
    }
    if iface.has_route(dst) {
        Ok((ours, false))
    } else {
        Err(unreachable)
    }
}

/// Sends `data` from `from` to `to` (through `lo` for a local address), counted. A
/// datagram the interface cannot queue is dropped and counted, and the send still
/// succeeds (Linux's `udp_send_skb` without `IP_RECVERR`); `ENETUNREACH` without a route.
///
/// The datagram is built behind [`TX_HEADROOM`] bytes, so when the interface can send it
/// at once it writes the Ethernet and IPv4 headers in front and `dev` takes the frame
/// as it is; its checksum is complete (no offload is asked for).
pub fn send(
    dev: Option<&mut VirtioNet>,
    stack: &mut super::NetStack,
    from: SocketAddrV4,
    to: SocketAddrV4,
    data: &[u8],
) -> Result<(), Errno> {
    let mut buf = alloc::vec![0u8; TX_HEADROOM + udp::HEADER_LEN + data.len()];
    let header = udp::Repr {
        src_port: from.port(),
        dst_port: to.port(),
    };
    header.emit(&mut buf[TX_HEADROOM..], *from.ip(), *to.ip(), data);
    let now = halyard_net::Instant::from_nanos(crate::time::now_ns());
    let (iface, lo) = (&mut stack.iface, &mut stack.lo);
    let offload = TxOffload::default();
    let r =
        super::loopback::send_ipv4(iface, lo, *from.ip(), *to.ip(), UDP, &mut buf, offload, now);
    let r = match (r, dev) {
        (Ok(Some(offload)), Some(dev)) => dev
            .transmit(&buf, offload, None)
            .map_err(|_| SendError::QueueFull),
        (Ok(Some(_)), None) => Err(SendError::NotConfigured),
        (Ok(None), _) => Ok(()),
        (Err(e), _) => Err(e),
    };
    match r {
        Ok(()) => {
            COUNTERS.out_datagrams.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Err(SendError::QueueFull) => {
            COUNTERS.sndbuf_errors.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Err(SendError::NoRoute | SendError::NotConfigured) => {
            Err(Errno(linux_raw_sys::errno::ENETUNREACH))
        }
        Err(SendError::TooLarge | SendError::NotBound) => {
            Err(Errno(linux_raw_sys::errno::EMSGSIZE))
        }
    }
}

/// Outcomes of user UDP traffic (Linux's `Udp:` lines of `/proc/net/snmp`).
pub struct Counters {
    /// Datagrams queued on a socket.
    pub in_datagrams: AtomicU64,
    /// Datagrams sent.
    pub out_datagrams: AtomicU64,
    /// Datagrams for a port or address no socket takes.
    pub no_ports: AtomicU64,
    /// Datagrams dropped at a full receive queue.
    pub rcvbuf_errors: AtomicU64,
    /// Datagrams the interface could not queue for sending (a full `lo` or transmit
    /// queue); the send still succeeds, as on Linux.
    pub sndbuf_errors: AtomicU64,
    /// Errors (port unreachable) reported to connected sockets.
    pub errors_reported: AtomicU64,
}

pub static COUNTERS: Counters = Counters {
    in_datagrams: AtomicU64::new(0),
    out_datagrams: AtomicU64::new(0),
    no_ports: AtomicU64::new(0),
    rcvbuf_errors: AtomicU64::new(0),
    sndbuf_errors: AtomicU64::new(0),
    errors_reported: AtomicU64::new(0),
};

/// `(NAME, value)` of the user UDP counters, for `/proc/halyard/counters`.
pub fn counters() -> [(&'static str, u64); 6] {
    let c = &COUNTERS;
    let v = |a: &AtomicU64| a.load(Ordering::Relaxed);
    [
        ("UDP_IN_DATAGRAMS", v(&c.in_datagrams)),
        ("UDP_OUT_DATAGRAMS", v(&c.out_datagrams)),
        ("UDP_NO_PORTS", v(&c.no_ports)),
        ("UDP_RCVBUF_ERRORS", v(&c.rcvbuf_errors)),
        ("UDP_SNDBUF_ERRORS", v(&c.sndbuf_errors)),
        ("UDP_ERRORS_REPORTED", v(&c.errors_reported)),
    ]
}
