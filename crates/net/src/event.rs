//! What the interface reports to the kernel: the outcome of each received frame ([`Rx`]) and
//! asynchronous [`Event`]s drained with [`Interface::next_event`](crate::Interface::next_event).

use crate::config::IfaceConfig;
use crate::{Delivery, DropReason};
use alloc::borrow::Cow;
use core::net::Ipv4Addr;
use core::time::Duration;

/// A TCP segment for the TCP engine: the IPv4 payload with its addresses. The payload
/// borrows the received frame unless it had to be reassembled from fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub payload: Cow<'a, [u8]>,
    /// The device vouched for the TCP checksum ([`Interface::receive_offloaded`]): the
    /// engine need not verify it.
    ///
    /// [`Interface::receive_offloaded`]: crate::Interface::receive_offloaded
    pub checksum_trusted: bool,
    /// The IPv4 header's fields that receive offload ([`crate::gro`]) compares.
    pub ip: Ipv4Fields,
}

/// The IPv4 header fields of a received TCP segment that decide whether it may be joined
/// with its neighbours (Linux's `inet_gro_receive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ipv4Fields {
    pub tos: u8,
    pub ttl: u8,
    pub ident: u16,
    pub dont_frag: bool,
    /// The header carried options.
    pub options: bool,
    /// Reassembled from fragments.
    pub fragmented: bool,
}

/// The outcome of [`Interface::receive`](crate::Interface::receive); each outcome is
/// counted exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rx<'a> {
    /// Discarded, for this reason.
    Dropped(DropReason),
    /// Consumed inside the stack.
    Delivered(Delivery),
    /// A TCP segment to hand to the TCP engine (counted as [`Delivery::Tcp`]).
    Tcp(TcpSegment<'a>),
    /// A UDP datagram for a claimed port (`UdpSockets::claim`), to hand to the kernel's
    /// sockets (counted as [`Delivery::Udp`]).
    Udp(UdpRx),
}

/// A UDP datagram for a socket the kernel keeps: its addresses and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpRx {
    pub src: Ipv4Addr,
    pub src_port: u16,
    pub dst: Ipv4Addr,
    pub dst_port: u16,
    pub data: alloc::vec::Vec<u8>,
}

/// Something the kernel may want to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// DHCP configured (or reconfigured) the interface.
    Configured(IfaceConfig),
    /// The DHCP lease was lost; the interface has no address.
    Deconfigured,
    /// An answer to [`Interface::ping`](crate::Interface::ping).
    EchoReply {
        from: Ipv4Addr,
        ident: u16,
        seq_no: u16,
        rtt: Duration,
        len: usize,
    },
    /// No answer to a ping within the ping timeout.
    PingTimeout {
        dst: Ipv4Addr,
        ident: u16,
        seq_no: u16,
    },
    /// Locally generated traffic to `dst` was dropped: its next hop did not answer ARP.
    HostUnreachable { dst: Ipv4Addr, protocol: u8 },
    /// An ICMP destination-unreachable from `reporter` about our datagram to `dst`;
    /// `ports`: the quoted (source, destination) ports of a TCP or UDP datagram.
    DestinationUnreachable {
        reporter: Ipv4Addr,
        code: u8,
        dst: Ipv4Addr,
        protocol: u8,
        ports: Option<(u16, u16)>,
    },
    /// The receive queue of the UDP socket on `port` became non-empty.
    UdpReadable { port: u16 },
}
