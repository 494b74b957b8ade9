//! The interface: ties the wire formats and the protocol logic together, sans-I/O.
//!
//! The kernel's NET_RX softirq calls [`Interface::receive`] for each frame the driver
//! returns (within its NAPI budget), hands [`Rx::Tcp`] segments to the TCP engine, calls
//! [`Interface::poll`] when [`Interface::poll_at`] is due, and moves frames from
//! [`Interface::dequeue_tx`] to the device. Every queue inside is bounded and every frame
//! ends in exactly one counted outcome, so a hostile network can neither crash the stack
//! nor grow its memory.

use crate::arp_cache::{ArpCache, ArpConfig, PendingPacket};
use crate::config::IfaceConfig;
use crate::dhcp_client::{DhcpClient, DhcpEvent, Lease, Outgoing};
use crate::event::{Event, Ipv4Fields, Rx, TcpSegment, UdpRx};
use crate::ping::{Outstanding, PingTracker};
use crate::rate_limit::TokenBucket;
use crate::reassembly::{FragmentKey, Reassembled, Reassembler, ReassemblyConfig};
use crate::route::{Route, RouteTable, RouteTableFull};
use crate::time::{earliest, Instant};
use crate::tx_offload::{self, TxCaps, TxOffload};
use crate::udp_socket::{BindError, UdpDatagram, UdpSockets};
use crate::wire::ethernet::{self, ethertype, EthernetAddress};
use crate::wire::ipv4::{self, protocol};
use crate::wire::{addr, arp, dhcp, icmp, udp};
use crate::{Counters, Delivery, DropReason, Layer};
use alloc::borrow::Cow;
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::time::Duration;

/// Tunables of an interface; the defaults suit a small host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceOptions {
    /// Largest IPv4 datagram sent in one frame; bigger ones are fragmented.
    pub mtu: usize,
    /// TTL of datagrams we send.
    pub ttl: u8,
    pub arp: ArpConfig,
    pub reassembly: ReassemblyConfig,
    pub udp_sockets: usize,
    pub udp_queue_len: usize,
    /// ICMP errors per second, and the burst allowed.
    pub icmp_error_rate: u32,
    pub icmp_error_burst: u32,
    /// Frames waiting for the driver, and events waiting for the kernel, at most.
    pub max_tx_queue: usize,
    pub max_events: usize,
    /// Pings remembered at most, and how long each waits for its reply.
    pub max_pings: usize,
    pub ping_timeout: Duration,
    /// What the device does for outgoing frames (checksums, TSO); the rest is done in
    /// software ([`crate::tx_offload`]).
    pub tx_offload: TxCaps,
}

impl Default for InterfaceOptions {
    fn default() -> Self {
        InterfaceOptions {
            mtu: 1500,
            ttl: 64,
            arp: ArpConfig::default(),
            reassembly: ReassemblyConfig::default(),
            udp_sockets: 64,
            udp_queue_len: 32,
            icmp_error_rate: 10,
            icmp_error_burst: 10,
            max_tx_queue: 256,
            max_events: 256,
            max_pings: 64,
            ping_timeout: Duration::from_secs(10),
            tx_offload: TxCaps::default(),
        }
    }
}

/// Why a send was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The interface has no IPv4 address.
    NotConfigured,
    /// No route to the destination.
    NoRoute,
    /// The payload does not fit in an IPv4 datagram.
    TooLarge,
    /// The UDP source port is not bound.
    NotBound,
    /// The transmit queue is full (counted as [`DropReason::TxQueueFull`]).
    QueueFull,
}

/// Largest IPv4 payload.
const MAX_PAYLOAD: usize = u16::MAX as usize - ipv4::HEADER_LEN;
const IP_AT: usize = ethernet::HEADER_LEN;
const PAYLOAD_AT: usize = IP_AT + ipv4::HEADER_LEN;
/// Bytes in front of a payload for [`Interface::send_ipv4_in_place`] to write the
/// Ethernet and IPv4 headers into.
pub const TX_HEADROOM: usize = PAYLOAD_AT;
/// Bytes of the offending datagram's payload quoted in ICMP errors (RFC 792).
const ICMP_QUOTE: usize = 8;

/// One Ethernet interface with its IPv4 stack.
#[derive(Debug)]
pub struct Interface {
    mac: EthernetAddress,
    opts: InterfaceOptions,
    config: Option<IfaceConfig>,
    routes: RouteTable,
    arp: ArpCache,
    frags: Reassembler,
    udp: UdpSockets,
    dhcp: Option<DhcpClient>,
    pings: PingTracker,
    icmp_errors: TokenBucket,
    next_ident: u16,
    tx: VecDeque<(Vec<u8>, TxOffload)>,
    events: VecDeque<Event>,
    counters: Counters,
}

impl Interface {
    /// An unconfigured interface with hardware address `mac`.
    pub fn new(mac: EthernetAddress, opts: InterfaceOptions) -> Interface {
        Interface {
            mac,
            opts,
            config: None,
            routes: RouteTable::default(),
            arp: ArpCache::new(opts.arp),
            frags: Reassembler::new(opts.reassembly),
            udp: UdpSockets::new(opts.udp_sockets, opts.udp_queue_len),
            dhcp: None,
            pings: PingTracker::new(opts.max_pings, opts.ping_timeout),
            icmp_errors: TokenBucket::new(opts.icmp_error_rate, opts.icmp_error_burst),
            next_ident: 1,
            tx: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
        }
    }

    pub fn mac(&self) -> EthernetAddress {
        self.mac
    }

    /// The current IPv4 configuration.
    pub fn config(&self) -> Option<&IfaceConfig> {
        self.config.as_ref()
    }

    /// The route table (`/proc/net/route`).
    pub fn routes(&self) -> &[Route] {
        self.routes.routes()
    }

    /// The largest IPv4 datagram sent in one frame.
    pub fn mtu(&self) -> usize {
        self.opts.mtu
    }

    /// Bound UDP ports and the bytes queued on each (`/proc/net/udp`).
    pub fn udp_ports(&self) -> impl Iterator<Item = (u16, usize)> + '_ {
        self.udp.ports()
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The ARP cache: (address, MAC, expiry) for the `arp` monitor command.
    pub fn arp_entries(&self) -> impl Iterator<Item = (Ipv4Addr, EthernetAddress, Instant)> + '_ {
        self.arp.entries()
    }

    /// The DHCP lease, if DHCP is running and bound.
    pub fn dhcp_lease(&self) -> Option<&Lease> {
        self.dhcp.as_ref().and_then(|d| d.lease())
    }

    /// Sets a static configuration, rebuilds the routes and announces the address with a
    /// gratuitous ARP.
    pub fn configure(&mut self, cfg: IfaceConfig) {
        self.routes = RouteTable::from_config(&cfg);
        let addr = cfg.addr;
        self.config = Some(cfg);
        self.send_arp(
            arp::Operation::Request,
            EthernetAddress::BROADCAST,
            EthernetAddress::default(),
            addr,
        );
    }

    /// Removes the address and all routes.
    pub fn deconfigure(&mut self) {
        self.config = None;
        self.routes = RouteTable::default();
    }

    /// Adds a static route (after [`Interface::configure`], which resets the table).
    pub fn add_route(&mut self, route: Route) -> Result<(), RouteTableFull> {
        self.routes.add(route)
    }

    /// Starts DHCP; the first DISCOVER goes out now. `seed` randomises transaction ids.
    pub fn start_dhcp(&mut self, seed: u32, now: Instant) {
        self.dhcp = Some(DhcpClient::new(self.mac, seed, now));
        self.poll_dhcp(now);
    }

    /// The next frame for the driver.
    pub fn dequeue_tx(&mut self) -> Option<Vec<u8>> {
        self.dequeue_tx_offloaded().map(|(frame, _)| frame)
    }

    /// The next frame for the driver with what it leaves to the device (only what
    /// [`InterfaceOptions::tx_offload`] says the device does).
    pub fn dequeue_tx_offloaded(&mut self) -> Option<(Vec<u8>, TxOffload)> {
        self.tx.pop_front()
    }

    /// Frames waiting for the driver.
    pub fn tx_len(&self) -> usize {
        self.tx.len()
    }

    /// The next event for the kernel.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Interface::poll`] next has timer work (ARP retries and expiry, reassembly and
    /// ping timeouts, DHCP).
    pub fn poll_at(&self) -> Option<Instant> {
        let t = earliest(self.arp.poll_at(), self.frags.poll_at());
        let t = earliest(t, self.pings.poll_at());
        earliest(t, self.dhcp.as_ref().map(|d| d.poll_at()))
    }

    /// Runs due timers.
    pub fn poll(&mut self, now: Instant) {
        let due = self.arp.poll(now);
        for ip in due.requests {
            self.send_arp(
                arp::Operation::Request,
                EthernetAddress::BROADCAST,
                EthernetAddress::default(),
                ip,
            );
        }
        let mut last_report = None;
        for p in due.failed {
            self.counters.drop(DropReason::ArpUnresolved);
            if p.local && last_report != Some((p.dst, p.protocol)) {
                last_report = Some((p.dst, p.protocol));
                self.push_event(Event::HostUnreachable {
                    dst: p.dst,
                    protocol: p.protocol,
                });
            }
        }
        for _ in 0..self.frags.poll(now) {
            self.counters.drop(DropReason::ReassemblyTimeout);
        }
        for o in self.pings.expire(now) {
            self.push_event(Event::PingTimeout {
                dst: o.dst,
                ident: o.ident,
                seq_no: o.seq_no,
            });
        }
        self.poll_dhcp(now);
    }

    // ----- receive path -----

    /// Processes one received Ethernet frame. The outcome is counted before it is returned.
    pub fn receive<'a>(&mut self, frame: &'a [u8], now: Instant) -> Rx<'a> {
        self.receive_offloaded(frame, now, false)
    }

    /// [`Self::receive`] for a frame whose transport checksum (TCP, UDP, ICMP) the device
    /// vouched for when `checksum_trusted`: it verified it, or the frame came from the host's
    /// own stack with only a partial one (virtio-net `DATA_VALID` / `NEEDS_CSUM`, Linux's
    /// `CHECKSUM_UNNECESSARY` / `CHECKSUM_PARTIAL`), so it is not verified again. The IPv4
    /// header checksum is always verified; so is the checksum of a datagram reassembled
    /// from fragments (the device saw only one of them).
    pub fn receive_offloaded<'a>(
        &mut self,
        frame: &'a [u8],
        now: Instant,
        checksum_trusted: bool,
    ) -> Rx<'a> {
        self.counters.layer_mut(Layer::Ethernet).rx(frame.len());
        let rx = self
            .process_frame(frame, now, checksum_trusted)
            .unwrap_or_else(Rx::Dropped);
        match &rx {
            Rx::Dropped(r) => self.counters.drop(*r),
            Rx::Delivered(d) => self.counters.deliver(*d),
            Rx::Tcp(_) => self.counters.deliver(Delivery::Tcp),
            Rx::Udp(_) => self.counters.deliver(Delivery::Udp),
        }
        rx
    }

    fn process_frame<'a>(
        &mut self,
        frame: &'a [u8],
        now: Instant,
        trusted: bool,
    ) -> Result<Rx<'a>, DropReason> {
        let eth = ethernet::Repr::parse(&ethernet::Frame::new_checked(frame)?);
        if eth.src.is_multicast() {
            return Err(DropReason::BadSourceAddress);
        }
        if eth.dst != self.mac && !eth.dst.is_broadcast() {
            return Err(DropReason::NotForUs);
        }
        let payload = &frame[ethernet::HEADER_LEN..];
        match eth.ethertype {
            ethertype::ARP => self.process_arp(payload, now),
            ethertype::IPV4 => self.process_ipv4(payload, now, trusted),
            ethertype::VLAN => Err(DropReason::VlanTagged),
            _ => Err(DropReason::UnknownEthertype),
        }
    }

    fn process_arp<'a>(&mut self, payload: &[u8], now: Instant) -> Result<Rx<'a>, DropReason> {
        let r = arp::Repr::parse(&arp::Packet::new_checked(payload)?);
        self.counters.layer_mut(Layer::Arp).rx(payload.len());
        let ours = self.config.as_ref().ok_or(DropReason::NotConfigured)?.addr;
        let (sha, spa) = (r.source_hardware_addr, r.source_protocol_addr);
        if sha.is_multicast() || spa == ours || spa.is_broadcast() || spa.is_multicast() {
            return Err(DropReason::BadSourceAddress);
        }
        // A probe (sender 0.0.0.0) announces nothing worth caching.
        let learn = !spa.is_unspecified();
        if r.target_protocol_addr != ours {
            if learn && self.arp.knows(spa) {
                self.learn(spa, sha, now);
            }
            return Err(DropReason::ArpNotForUs);
        }
        if learn {
            self.learn(spa, sha, now);
        }
        if r.operation == arp::Operation::Request {
            self.send_arp(arp::Operation::Reply, sha, sha, spa);
        }
        Ok(Rx::Delivered(Delivery::Arp))
    }

    /// Caches a mapping and sends the frames that were waiting for it.
    fn learn(&mut self, ip: Ipv4Addr, mac: EthernetAddress, now: Instant) {
        for mut p in self.arp.insert(ip, mac, now) {
            p.frame[..6].copy_from_slice(&mac.0);
            self.push_frame(p.frame, p.offload);
        }
    }

    fn process_ipv4<'a>(
        &mut self,
        bytes: &'a [u8],
        now: Instant,
        trusted: bool,
    ) -> Result<Rx<'a>, DropReason> {
        let p = ipv4::Packet::new_checked(bytes)?;
        let ip = ipv4::Repr::parse(&p);
        let fields = Ipv4Fields {
            tos: p.tos(),
            ttl: ip.ttl,
            ident: ip.ident,
            dont_frag: ip.dont_frag,
            options: p.header_len() > ipv4::HEADER_LEN,
            fragmented: ip.more_frags || ip.frag_offset != 0,
        };
        self.counters.layer_mut(Layer::Ipv4).rx(p.total_len());
        if ip.src.is_broadcast() || ip.src.is_multicast() {
            return Err(DropReason::BadSourceAddress);
        }
        let to_broadcast = match &self.config {
            Some(c) => {
                if ip.src == c.addr {
                    return Err(DropReason::BadSourceAddress);
                }
                let broadcast = ip.dst.is_broadcast() || Some(ip.dst) == c.broadcast();
                if ip.dst != c.addr && !broadcast {
                    return Err(DropReason::NotForUs);
                }
                broadcast
            }
            // Unconfigured, only DHCP replies (to any address) are of interest.
            None if self.dhcp.is_some() && ip.protocol == protocol::UDP => ip.dst.is_broadcast(),
            None => return Err(DropReason::NotConfigured),
        };
        if ip.ttl == 0 {
            return Err(DropReason::TtlExpired);
        }
        let payload: &'a [u8] = &bytes[p.header_len()..p.total_len()];
        let (payload, trusted) = if ip.more_frags || ip.frag_offset != 0 {
            let key = FragmentKey {
                src: ip.src,
                dst: ip.dst,
                protocol: ip.protocol,
                ident: ip.ident,
            };
            match self
                .frags
                .add(key, ip.frag_offset, ip.more_frags, payload, now)?
            {
                Reassembled::Held => return Ok(Rx::Delivered(Delivery::FragmentHeld)),
                Reassembled::Complete(whole) => (Cow::Owned(whole), false),
            }
        } else {
            (Cow::Borrowed(payload), trusted)
        };
        let ip = ipv4::Repr {
            payload_len: payload.len(),
            ..ip
        };
        match ip.protocol {
            protocol::ICMP => self.process_icmp(&ip, &payload, to_broadcast, trusted, now),
            protocol::UDP => self.process_udp(&ip, &payload, to_broadcast, trusted, now),
            protocol::TCP if to_broadcast => Err(DropReason::NotForUs),
            protocol::TCP => {
                self.counters.layer_mut(Layer::Tcp).rx(payload.len());
                Ok(Rx::Tcp(TcpSegment {
                    src: ip.src,
                    dst: ip.dst,
                    payload,
                    checksum_trusted: trusted,
                    ip: fields,
                }))
            }
            _ => {
                if !to_broadcast {
                    self.send_icmp_error(icmp::unreachable::PROTOCOL, &ip, &payload, now);
                }
                Err(DropReason::UnknownProtocol)
            }
        }
    }

    fn process_icmp<'a>(
        &mut self,
        ip: &ipv4::Repr,
        payload: &[u8],
        to_broadcast: bool,
        trusted: bool,
        now: Instant,
    ) -> Result<Rx<'a>, DropReason> {
        let packet = if trusted {
            icmp::Packet::new_unverified(payload)?
        } else {
            icmp::Packet::new_checked(payload)?
        };
        let msg = icmp::Repr::parse(&packet)?;
        self.counters.layer_mut(Layer::Icmp).rx(payload.len());
        match msg {
            icmp::Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => {
                if to_broadcast {
                    return Err(DropReason::IcmpBroadcastEcho);
                }
                let reply = icmp::Repr::EchoReply {
                    ident,
                    seq_no,
                    data,
                };
                // A reply that cannot be sent is counted where it fails (routing, queues).
                let _ = self.send_icmp(ip.dst, ip.src, &reply, false, now);
                Ok(Rx::Delivered(Delivery::IcmpEchoRequest))
            }
            icmp::Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => {
                let rtt = self
                    .pings
                    .take(ip.src, ident, seq_no, now)
                    .ok_or(DropReason::IcmpUnmatchedReply)?;
                self.push_event(Event::EchoReply {
                    from: ip.src,
                    ident,
                    seq_no,
                    rtt,
                    len: data.len(),
                });
                Ok(Rx::Delivered(Delivery::IcmpEchoReply))
            }
            icmp::Repr::DstUnreachable { code, original } => {
                if original.len() < ipv4::HEADER_LEN {
                    return Err(DropReason::TooShort);
                }
                let (dst, protocol) = (addr(original, 16), original[9]);
                let ihl = usize::from(original[0] & 0xf) * 4;
                let ports = match (protocol, original.get(ihl..ihl + 4)) {
                    (protocol::TCP | protocol::UDP, Some(p)) => Some((
                        u16::from_be_bytes([p[0], p[1]]),
                        u16::from_be_bytes([p[2], p[3]]),
                    )),
                    _ => None,
                };
                self.push_event(Event::DestinationUnreachable {
                    reporter: ip.src,
                    code,
                    dst,
                    protocol,
                    ports,
                });
                Ok(Rx::Delivered(Delivery::IcmpUnreachable))
            }
        }
    }

    fn process_udp<'a>(
        &mut self,
        ip: &ipv4::Repr,
        payload: &[u8],
        to_broadcast: bool,
        trusted: bool,
        now: Instant,
    ) -> Result<Rx<'a>, DropReason> {
        let packet = udp::Packet::new_checked(payload)?;
        let u = if trusted {
            udp::Repr::unverified(&packet)
        } else {
            udp::Repr::parse(&packet, ip.src, ip.dst)?
        };
        self.counters.layer_mut(Layer::Udp).rx(packet.len());
        if u.dst_port == dhcp::CLIENT_PORT && self.dhcp.is_some() {
            return self.process_dhcp(packet.payload(), now);
        }
        if self.config.is_none() {
            return Err(DropReason::NotConfigured);
        }
        if self.udp.is_claimed(u.dst_port) {
            return Ok(Rx::Udp(UdpRx {
                src: ip.src,
                src_port: u.src_port,
                dst: ip.dst,
                dst_port: u.dst_port,
                data: packet.payload().to_vec(),
            }));
        }
        if !self.udp.is_bound(u.dst_port) {
            if !to_broadcast {
                self.send_icmp_error(icmp::unreachable::PORT, ip, payload, now);
            }
            return Err(DropReason::UdpNoSocket);
        }
        let d = UdpDatagram {
            src: ip.src,
            src_port: u.src_port,
            dst: ip.dst,
            data: packet.payload().to_vec(),
        };
        if self.udp.deliver(u.dst_port, d)? {
            self.push_event(Event::UdpReadable { port: u.dst_port });
        }
        Ok(Rx::Delivered(Delivery::Udp))
    }

    fn process_dhcp<'a>(&mut self, bytes: &[u8], now: Instant) -> Result<Rx<'a>, DropReason> {
        let msg = dhcp::Repr::parse(&dhcp::Packet::new_checked(bytes)?)?;
        let client = self.dhcp.as_mut().ok_or(DropReason::DhcpIgnored)?;
        let event = client.handle(&msg, now)?;
        self.apply_dhcp(event);
        // An OFFER is answered by a REQUEST right away.
        self.poll_dhcp(now);
        Ok(Rx::Delivered(Delivery::Dhcp))
    }

    fn poll_dhcp(&mut self, now: Instant) {
        let Some(client) = self.dhcp.as_mut() else {
            return;
        };
        let due = client.poll(now);
        self.apply_dhcp(due.event);
        if let Some(out) = due.send {
            self.send_dhcp(out, now);
        }
    }

    fn apply_dhcp(&mut self, event: Option<DhcpEvent>) {
        match event {
            Some(DhcpEvent::Configured(cfg)) => {
                self.configure(cfg.clone());
                self.push_event(Event::Configured(cfg));
            }
            Some(DhcpEvent::Deconfigured) => {
                self.deconfigure();
                self.push_event(Event::Deconfigured);
            }
            None => {}
        }
    }

    fn send_dhcp(&mut self, out: Outgoing, now: Instant) {
        let src = self
            .config
            .as_ref()
            .map_or(Ipv4Addr::UNSPECIFIED, |c| c.addr);
        let dst = out.server.unwrap_or(Ipv4Addr::BROADCAST);
        let repr = udp::Repr {
            src_port: dhcp::CLIENT_PORT,
            dst_port: dhcp::SERVER_PORT,
        };
        // Failures are counted where they happen; the DHCP timers retransmit.
        let _ = self.send_udp_repr(repr, src, dst, &out.message.to_bytes(), now);
    }

    // ----- send path -----

    /// Sends `payload` as an IPv4 datagram with `protocol` to `dst` from our address,
    /// routing and resolving the next hop (queueing behind ARP if needed) and fragmenting
    /// to the MTU.
    pub fn send_ipv4(
        &mut self,
        dst: Ipv4Addr,
        protocol: u8,
        payload: &[u8],
        now: Instant,
    ) -> Result<(), SendError> {
        self.send_ipv4_offloaded(dst, protocol, payload, TxOffload::default(), now)
    }

    /// [`Self::send_ipv4`] for a payload that leaves its checksum or segmentation to the
    /// device (`offload`; done in software where the device cannot). The TCP engine's
    /// way out.
    pub fn send_ipv4_offloaded(
        &mut self,
        dst: Ipv4Addr,
        protocol: u8,
        payload: &[u8],
        offload: TxOffload,
        now: Instant,
    ) -> Result<(), SendError> {
        let src = self.config.as_ref().ok_or(SendError::NotConfigured)?.addr;
        match protocol {
            protocol::TCP => self.counters.layer_mut(Layer::Tcp).tx(payload.len()),
            protocol::UDP => self.counters.layer_mut(Layer::Udp).tx(payload.len()),
            _ => {}
        }
        self.send_datagram(src, dst, protocol, payload, offload, true, now)
    }

    /// Binds a UDP socket (`port` 0 picks an ephemeral port); returns the port.
    pub fn udp_bind(&mut self, port: u16) -> Result<u16, BindError> {
        self.udp.bind(port)
    }

    /// Claims `port` for a socket the kernel keeps: datagrams to it come back as
    /// [`Rx::Udp`] (`InUse` if a socket of the table holds it).
    pub fn udp_claim(&mut self, port: u16) -> Result<(), BindError> {
        self.udp.claim(port)
    }

    /// Gives back one claim of [`Self::udp_claim`].
    pub fn udp_release(&mut self, port: u16) {
        self.udp.release(port)
    }

    /// True when a socket of the interface's own table holds `port`.
    pub fn udp_is_bound(&self, port: u16) -> bool {
        self.udp.is_bound(port)
    }

    /// True when a route (on-link or through a gateway) leads to `dst`.
    pub fn has_route(&self, dst: Ipv4Addr) -> bool {
        self.routes.lookup(dst).is_some()
    }

    /// Closes the UDP socket on `port`.
    pub fn udp_unbind(&mut self, port: u16) -> bool {
        self.udp.unbind(port)
    }

    /// Takes the oldest datagram received on `port`.
    pub fn udp_recv(&mut self, port: u16) -> Option<UdpDatagram> {
        self.udp.recv(port)
    }

    /// Sends `data` from bound port `src_port` to `dst:dst_port`.
    pub fn udp_send_to(
        &mut self,
        src_port: u16,
        dst: Ipv4Addr,
        dst_port: u16,
        data: &[u8],
        now: Instant,
    ) -> Result<(), SendError> {
        let src = self.config.as_ref().ok_or(SendError::NotConfigured)?.addr;
        if !self.udp.is_bound(src_port) {
            return Err(SendError::NotBound);
        }
        self.send_udp_repr(udp::Repr { src_port, dst_port }, src, dst, data, now)
    }

    fn send_udp_repr(
        &mut self,
        repr: udp::Repr,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        data: &[u8],
        now: Instant,
    ) -> Result<(), SendError> {
        if data.len() > MAX_PAYLOAD - udp::HEADER_LEN {
            return Err(SendError::TooLarge);
        }
        let mut buf = vec![0u8; udp::HEADER_LEN + data.len()];
        // The device completes the checksum of a datagram that fits in one frame.
        let partial = self.opts.tx_offload.checksum && self.fits_one_frame(buf.len());
        repr.emit_with(&mut buf, src, dst, data, partial);
        self.counters.layer_mut(Layer::Udp).tx(buf.len());
        let offload = TxOffload {
            csum_offset: partial.then_some(tx_offload::UDP_CSUM_OFFSET),
            gso_size: None,
        };
        self.send_datagram(src, dst, protocol::UDP, &buf, offload, true, now)
    }

    /// Sends an echo request; the reply arrives as [`Event::EchoReply`] with its RTT, or
    /// [`Event::PingTimeout`] after the ping timeout.
    pub fn ping(
        &mut self,
        dst: Ipv4Addr,
        ident: u16,
        seq_no: u16,
        data: &[u8],
        now: Instant,
    ) -> Result<(), SendError> {
        let src = self.config.as_ref().ok_or(SendError::NotConfigured)?.addr;
        self.send_icmp(
            src,
            dst,
            &icmp::Repr::EchoRequest {
                ident,
                seq_no,
                data,
            },
            true,
            now,
        )?;
        self.pings.record(Outstanding {
            dst,
            ident,
            seq_no,
            sent: now,
        });
        Ok(())
    }

    fn send_icmp(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        msg: &icmp::Repr,
        local: bool,
        now: Instant,
    ) -> Result<(), SendError> {
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.emit(&mut buf);
        self.counters.layer_mut(Layer::Icmp).tx(buf.len());
        self.send_datagram(
            src,
            dst,
            protocol::ICMP,
            &buf,
            TxOffload::default(),
            local,
            now,
        )
    }

    /// Destination unreachable about datagram `ip` (whose payload is `payload`),
    /// subject to the rate limit.
    fn send_icmp_error(&mut self, code: u8, ip: &ipv4::Repr, payload: &[u8], now: Instant) {
        // RFC 1122 3.2.2: never about a datagram whose source does not name one host.
        if ip.src.is_unspecified() {
            return;
        }
        if !self.icmp_errors.try_take(now) {
            self.counters.icmp_errors_rate_limited += 1;
            return;
        }
        let quoted = payload.len().min(ICMP_QUOTE);
        let mut original = [0u8; ipv4::HEADER_LEN + ICMP_QUOTE];
        ipv4::Repr {
            frag_offset: 0,
            more_frags: false,
            ..*ip
        }
        .emit(&mut original);
        original[ipv4::HEADER_LEN..ipv4::HEADER_LEN + quoted].copy_from_slice(&payload[..quoted]);
        let msg = icmp::Repr::DstUnreachable {
            code,
            original: &original[..ipv4::HEADER_LEN + quoted],
        };
        let _ = self.send_icmp(ip.dst, ip.src, &msg, false, now);
    }

    /// Whether an IPv4 payload of `len` bytes goes out in one frame.
    fn fits_one_frame(&self, len: usize) -> bool {
        ipv4::HEADER_LEN + len <= self.opts.mtu
    }

    /// What of `offload` the device takes for a payload of `len` bytes, if it takes all
    /// that must be done (see [`crate::tx_offload`]); `None` when a partial checksum has
    /// to be completed in software.
    fn device_offload(&self, protocol: u8, len: usize, offload: TxOffload) -> Option<TxOffload> {
        let caps = self.opts.tx_offload;
        let gso_size = offload
            .gso_size
            .filter(|_| caps.tso && protocol == protocol::TCP);
        let one_frame = gso_size.is_some() || self.fits_one_frame(len);
        match offload.csum_offset {
            Some(_) if caps.checksum && one_frame => Some(TxOffload {
                csum_offset: offload.csum_offset,
                gso_size,
            }),
            Some(_) => None,
            None => Some(TxOffload::default()),
        }
    }

    /// What of `offload` the device takes for `payload`, completing in software what it
    /// does not: the offloads to pass on, and the payload with its checksum completed
    /// when that was needed.
    fn resolve_offload<'p>(
        &mut self,
        protocol: u8,
        payload: &'p [u8],
        offload: TxOffload,
    ) -> (TxOffload, Cow<'p, [u8]>) {
        match (
            self.device_offload(protocol, payload.len(), offload),
            offload.csum_offset,
        ) {
            (Some(device), _) => (device, Cow::Borrowed(payload)),
            (None, Some(offset)) => {
                let mut done = payload.to_vec();
                if tx_offload::complete_checksum(&mut done, usize::from(offset)) {
                    self.counters.tx_checksums_completed += 1;
                }
                (TxOffload::default(), Cow::Owned(done))
            }
            (None, None) => (TxOffload::default(), Cow::Borrowed(payload)),
        }
    }

    /// Writes the Ethernet and IPv4 headers of a datagram (or fragment) of `len` payload
    /// bytes into `frame[..PAYLOAD_AT]`, and counts it at the IPv4 layer.
    #[allow(clippy::too_many_arguments)]
    fn write_headers(
        &mut self,
        frame: &mut [u8],
        mac: EthernetAddress,
        (src, dst, protocol): (Ipv4Addr, Ipv4Addr, u8),
        ident: u16,
        more_frags: bool,
        frag_offset: usize,
        len: usize,
    ) {
        ethernet::Repr {
            src: self.mac,
            dst: mac,
            ethertype: ethertype::IPV4,
        }
        .emit(frame);
        ipv4::Repr {
            src,
            dst,
            protocol,
            ttl: self.opts.ttl,
            ident,
            dont_frag: false,
            more_frags,
            frag_offset,
            payload_len: len,
        }
        .emit(&mut frame[IP_AT..]);
        self.counters
            .layer_mut(Layer::Ipv4)
            .tx(ipv4::HEADER_LEN + len);
    }

    /// Sends the IPv4 datagram whose payload (with `offload` left undone, as for
    /// [`Self::send_ipv4_offloaded`]) is `frame[TX_HEADROOM..]`. When it can go at once
    /// (next hop resolved, nothing queued before it, one frame, nothing to finish in
    /// software) the Ethernet and IPv4 headers are written in place in front of it and
    /// `Some` says what the device is to do: the caller hands `frame` to the device as it
    /// is, so the payload is not copied on the way (it may already be in the device's
    /// ring). Otherwise it takes the queued path (copied) and the answer is `None`.
    pub fn send_ipv4_in_place(
        &mut self,
        dst: Ipv4Addr,
        protocol: u8,
        frame: &mut [u8],
        offload: TxOffload,
        now: Instant,
    ) -> Result<Option<TxOffload>, SendError> {
        let src = self.config.as_ref().ok_or(SendError::NotConfigured)?.addr;
        let len = frame.len().saturating_sub(TX_HEADROOM);
        let direct = self
            .device_offload(protocol, len, offload)
            .filter(|_| self.tx.is_empty() && len <= MAX_PAYLOAD && frame.len() >= TX_HEADROOM);
        let subnet_broadcast = self.config.as_ref().and_then(|c| c.broadcast());
        let unicast = !dst.is_broadcast() && Some(dst) != subnet_broadcast;
        let mac = match (direct, unicast) {
            (Some(_), true) => self
                .routes
                .lookup(dst)
                .and_then(|hop| self.arp.lookup(hop, now)),
            _ => None,
        };
        let (Some(device), Some(mac)) = (direct, mac) else {
            return self
                .send_ipv4_offloaded(dst, protocol, &frame[TX_HEADROOM..], offload, now)
                .map(|()| None);
        };
        if protocol == protocol::TCP {
            self.counters.layer_mut(Layer::Tcp).tx(len);
        }
        let ident = self.next_ident;
        self.next_ident = self.next_ident.wrapping_add(1);
        self.write_headers(frame, mac, (src, dst, protocol), ident, false, 0, len);
        self.counters.layer_mut(Layer::Ethernet).tx(frame.len());
        Ok(Some(device))
    }

    /// Fragments, frames and sends (or queues behind ARP) one datagram, leaving `offload`
    /// to the device where it can. `local` marks traffic whose loss to ARP failure is
    /// reported as [`Event::HostUnreachable`].
    #[allow(clippy::too_many_arguments)]
    fn send_datagram(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: u8,
        payload: &[u8],
        offload: TxOffload,
        local: bool,
        now: Instant,
    ) -> Result<(), SendError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(SendError::TooLarge);
        }
        let (offload, payload) = self.resolve_offload(protocol, payload, offload);
        let subnet_broadcast = self.config.as_ref().and_then(|c| c.broadcast());
        let (next_hop, mac) = if dst.is_broadcast() || Some(dst) == subnet_broadcast {
            (dst, Some(EthernetAddress::BROADCAST))
        } else {
            let hop = self.routes.lookup(dst).ok_or(SendError::NoRoute)?;
            (hop, self.arp.lookup(hop, now))
        };
        let ident = self.next_ident;
        self.next_ident = self.next_ident.wrapping_add(1);
        let chunk = if offload.gso_size.is_some() {
            payload.len()
        } else {
            (self.opts.mtu.saturating_sub(ipv4::HEADER_LEN) & !7).max(8)
        };
        let mut result = Ok(());
        let mut offset = 0;
        loop {
            let len = (payload.len() - offset).min(chunk);
            let more_frags = offset + len < payload.len();
            let mut frame = vec![0u8; PAYLOAD_AT + len];
            let addrs = (src, dst, protocol);
            let hw = mac.unwrap_or_default();
            self.write_headers(&mut frame, hw, addrs, ident, more_frags, offset, len);
            frame[PAYLOAD_AT..].copy_from_slice(&payload[offset..offset + len]);
            if mac.is_some() {
                if !self.push_frame(frame, offload) {
                    result = Err(SendError::QueueFull);
                }
            } else {
                let queued = self.arp.enqueue(
                    PendingPacket {
                        next_hop,
                        frame,
                        offload,
                        dst,
                        protocol,
                        local,
                    },
                    now,
                );
                if queued.evicted.is_some() {
                    self.counters.drop(DropReason::ArpPendingOverflow);
                }
                if queued.send_request {
                    self.send_arp(
                        arp::Operation::Request,
                        EthernetAddress::BROADCAST,
                        EthernetAddress::default(),
                        next_hop,
                    );
                }
            }
            offset += len;
            if !more_frags {
                return result;
            }
        }
    }

    /// Sends an ARP packet from our address (0.0.0.0 when unconfigured) to `eth_dst`.
    fn send_arp(
        &mut self,
        operation: arp::Operation,
        eth_dst: EthernetAddress,
        target_mac: EthernetAddress,
        target_ip: Ipv4Addr,
    ) {
        let ours = self
            .config
            .as_ref()
            .map_or(Ipv4Addr::UNSPECIFIED, |c| c.addr);
        let mut frame = vec![0u8; ethernet::HEADER_LEN + arp::PACKET_LEN];
        ethernet::Repr {
            src: self.mac,
            dst: eth_dst,
            ethertype: ethertype::ARP,
        }
        .emit(&mut frame);
        let repr = arp::Repr {
            operation,
            source_hardware_addr: self.mac,
            source_protocol_addr: ours,
            target_hardware_addr: target_mac,
            target_protocol_addr: target_ip,
        };
        repr.emit(&mut frame[ethernet::HEADER_LEN..]);
        self.counters.layer_mut(Layer::Arp).tx(arp::PACKET_LEN);
        self.push_frame(frame, TxOffload::default());
    }

    /// Queues a finished frame for the driver; false (and counted) if the queue is full.
    fn push_frame(&mut self, frame: Vec<u8>, offload: TxOffload) -> bool {
        if self.tx.len() >= self.opts.max_tx_queue {
            self.counters.drop(DropReason::TxQueueFull);
            return false;
        }
        self.counters.layer_mut(Layer::Ethernet).tx(frame.len());
        self.tx.push_back((frame, offload));
        true
    }

    fn push_event(&mut self, e: Event) {
        if self.events.len() >= self.opts.max_events {
            self.counters.drop(DropReason::EventQueueFull);
        } else {
            self.events.push_back(e);
        }
    }
}
