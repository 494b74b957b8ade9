//! DHCP through a whole Interface against a scripted server.

mod common;

use common::*;
use halyard_net::wire::dhcp::{self, MessageType, Repr};
use halyard_net::wire::{arp, ethernet, ipv4, udp};
use halyard_net::{
    Delivery, DropReason, EthernetAddress, Event, IfaceConfig, Instant, Interface,
    InterfaceOptions, Rx,
};
use std::net::Ipv4Addr;

const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
const SERVER_MAC: EthernetAddress = EthernetAddress([0x52, 0x55, 0x0a, 0, 2, 2]);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
const LEASED: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);

/// The scripted server's reply frame carrying `msg`, from SERVER to `dst`.
fn server_frame(msg: &Repr, dst: Ipv4Addr, dst_mac: EthernetAddress) -> Vec<u8> {
    let body = msg.to_bytes();
    let udp_len = udp::HEADER_LEN + body.len();
    let mut f = vec![0u8; ethernet::HEADER_LEN + ipv4::HEADER_LEN + udp_len];
    ethernet::Repr {
        src: SERVER_MAC,
        dst: dst_mac,
        ethertype: ethernet::ethertype::IPV4,
    }
    .emit(&mut f);
    let ip = ipv4::Repr {
        src: SERVER,
        dst,
        protocol: ipv4::protocol::UDP,
        ttl: 64,
        ident: 1,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        payload_len: udp_len,
    };
    ip.emit(&mut f[14..]);
    udp::Repr {
        src_port: dhcp::SERVER_PORT,
        dst_port: dhcp::CLIENT_PORT,
    }
    .emit(&mut f[34..], SERVER, dst, &body);
    f
}

/// The DHCP message in a client frame, with the frame's IPv4 destination.
fn client_message(frame: &[u8]) -> (Repr, Ipv4Addr, Ipv4Addr) {
    let ip = ip_of(frame);
    let (u, body) = udp_payload_of(frame);
    assert_eq!(
        (u.src_port, u.dst_port),
        (dhcp::CLIENT_PORT, dhcp::SERVER_PORT)
    );
    (
        Repr::parse(&dhcp::Packet::new_checked(&body[..]).unwrap()).unwrap(),
        ip.src(),
        ip.dst(),
    )
}

fn answer(req: &Repr, ty: MessageType, lease: u32) -> Repr {
    let mut r = Repr::new(ty, req.xid, req.client_hardware_addr);
    if ty != MessageType::Nak {
        r.your_ip = LEASED;
        r.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
        r.router = Some(SERVER);
        r.dns_servers = vec![Ipv4Addr::new(10, 0, 2, 3)];
        r.lease_time = Some(lease);
    }
    r.server_id = Some(SERVER);
    r
}

/// Full DORA; returns the bound interface.
fn dora() -> Interface {
    let t0 = Instant::ZERO;
    let mut i = Interface::new(MAC, InterfaceOptions::default());
    i.start_dhcp(0xdead_beef, t0);
    let tx = drain_tx(&mut i);
    assert_eq!(tx.len(), 1);
    assert_eq!(&tx[0][..6], &[0xff; 6]);
    let (discover, src, dst) = client_message(&tx[0]);
    assert_eq!(
        (discover.message_type, src, dst),
        (
            MessageType::Discover,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST
        )
    );
    // Offer unicast to the offered address (some servers ignore the broadcast flag).
    let offer = server_frame(&answer(&discover, MessageType::Offer, 3600), LEASED, MAC);
    assert_eq!(i.receive(&offer, t0), Rx::Delivered(Delivery::Dhcp));
    let tx = drain_tx(&mut i);
    let (request, _, dst) = client_message(&tx[0]);
    assert_eq!(
        (request.message_type, dst),
        (MessageType::Request, Ipv4Addr::BROADCAST)
    );
    assert_eq!(
        (request.requested_ip, request.server_id),
        (Some(LEASED), Some(SERVER))
    );
    let ack = server_frame(
        &answer(&request, MessageType::Ack, 3600),
        Ipv4Addr::BROADCAST,
        EthernetAddress::BROADCAST,
    );
    assert_eq!(i.receive(&ack, t0), Rx::Delivered(Delivery::Dhcp));
    let expected = IfaceConfig::parse("ip=10.0.2.15/24 gw=10.0.2.2 dns=10.0.2.3").unwrap();
    assert_eq!(
        drain_events(&mut i),
        vec![Event::Configured(expected.clone())]
    );
    assert_eq!(i.config(), Some(&expected));
    // Configuration is announced by gratuitous ARP.
    let garp = drain_tx(&mut i);
    assert_eq!(garp.len(), 1);
    assert_eq!(
        ethernet::Frame::new_checked(&garp[0][..])
            .unwrap()
            .ethertype(),
        ethernet::ethertype::ARP
    );
    i
}

#[test]
fn full_exchange_configures_the_interface() {
    let i = dora();
    assert_eq!(i.dhcp_lease().unwrap().t1, Instant::from_secs(1800));
}

#[test]
fn renewal_is_unicast_to_the_server() {
    let mut i = dora();
    let t1 = Instant::from_secs(1800);
    assert_eq!(i.poll_at(), Some(t1));
    i.poll(t1);
    // The server's MAC is not known yet: the REQUEST waits behind ARP.
    let tx = drain_tx(&mut i);
    assert_eq!(tx.len(), 1);
    assert_eq!(
        i.receive(&arp_reply_from_server(&tx[0]), t1),
        Rx::Delivered(Delivery::Arp)
    );
    let tx = drain_tx(&mut i);
    assert_eq!(&tx[0][..6], &SERVER_MAC.0);
    let (req, src, dst) = client_message(&tx[0]);
    assert_eq!(
        (req.message_type, req.client_ip, src, dst),
        (MessageType::Request, LEASED, LEASED, SERVER)
    );
    let ack = server_frame(&answer(&req, MessageType::Ack, 3600), LEASED, MAC);
    assert_eq!(i.receive(&ack, t1), Rx::Delivered(Delivery::Dhcp));
    assert!(
        drain_events(&mut i).is_empty(),
        "same configuration: no event"
    );
    assert_eq!(
        i.dhcp_lease().unwrap().expires,
        Instant::from_secs(1800 + 3600)
    );
}

#[test]
fn discover_is_retransmitted_with_backoff() {
    let mut i = Interface::new(MAC, InterfaceOptions::default());
    i.start_dhcp(1, Instant::ZERO);
    let first = client_message(&drain_tx(&mut i)[0]).0;
    let mut times = vec![];
    while let Some(t) = i.poll_at().filter(|t| *t < Instant::from_secs(60)) {
        i.poll(t);
        for f in drain_tx(&mut i) {
            let (m, _, _) = client_message(&f);
            assert_eq!((m.message_type, m.xid), (MessageType::Discover, first.xid));
            times.push(t.as_nanos() / 1_000_000_000);
        }
    }
    assert_eq!(times, vec![4, 12, 28]);
}

#[test]
fn nak_during_renewal_deconfigures() {
    let mut i = dora();
    let t1 = Instant::from_secs(1800);
    i.poll(t1);
    let arp_req = drain_tx(&mut i);
    let reply = arp_reply_from_server(&arp_req[0]);
    i.receive(&reply, t1);
    let (request, _, _) = client_message(&drain_tx(&mut i)[0]);
    let nak = server_frame(&answer(&request, MessageType::Nak, 0), LEASED, MAC);
    assert_eq!(i.receive(&nak, t1), Rx::Delivered(Delivery::Dhcp));
    assert_eq!(drain_events(&mut i), vec![Event::Deconfigured]);
    assert_eq!(i.config(), None);
    let (again, src, _) = client_message(&drain_tx(&mut i)[0]);
    assert_eq!(
        (again.message_type, src),
        (MessageType::Discover, Ipv4Addr::UNSPECIFIED)
    );
}

#[test]
fn stray_dhcp_is_ignored() {
    let mut i = dora();
    let mut foreign = Repr::new(MessageType::Ack, 12345, MAC);
    foreign.lease_time = Some(10);
    let f = server_frame(&foreign, Ipv4Addr::BROADCAST, EthernetAddress::BROADCAST);
    assert_eq!(
        i.receive(&f, Instant::from_secs(1)),
        Rx::Dropped(DropReason::DhcpIgnored)
    );
    assert!(i.config().is_some());
}

/// The server's answer to the client's ARP request for it.
fn arp_reply_from_server(request: &[u8]) -> Vec<u8> {
    let q = arp::Repr::parse(&arp::Packet::new_checked(&request[14..]).unwrap());
    assert_eq!(q.target_protocol_addr, SERVER);
    let mut f = vec![0u8; 42];
    ethernet::Repr {
        src: SERVER_MAC,
        dst: MAC,
        ethertype: ethernet::ethertype::ARP,
    }
    .emit(&mut f);
    arp::Repr {
        operation: arp::Operation::Reply,
        source_hardware_addr: SERVER_MAC,
        source_protocol_addr: SERVER,
        target_hardware_addr: MAC,
        target_protocol_addr: q.source_protocol_addr,
    }
    .emit(&mut f[14..]);
    f
}
