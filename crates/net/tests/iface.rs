//! Interface behaviour end to end: ARP, ICMP, UDP, TCP hand-off, fragmentation, drops.

mod common;

use common::*;
use halyard_net::fuzz::{
    connected_pair, exchange, interface, BOUND_PORT, OUR_ADDR, OUR_MAC, PEER_ADDR, PEER_MAC,
};
use halyard_net::wire::{arp, ethernet, icmp, ipv4};
use halyard_net::{
    Delivery, DropReason, EthernetAddress, Event, IfaceConfig, Instant, Interface,
    InterfaceOptions, Rx,
};
use std::borrow::Cow;
use std::net::Ipv4Addr;
use std::time::Duration;

const T0: Instant = Instant::ZERO;
const STRANGER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 77);
const STRANGER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x77]);

fn arp_frame(
    op: arp::Operation,
    src_mac: EthernetAddress,
    src: Ipv4Addr,
    dst_mac: EthernetAddress,
    target: Ipv4Addr,
) -> Vec<u8> {
    let mut f = vec![0u8; ethernet::HEADER_LEN + arp::PACKET_LEN];
    ethernet::Repr {
        src: src_mac,
        dst: dst_mac,
        ethertype: ethernet::ethertype::ARP,
    }
    .emit(&mut f);
    let tha = if op == arp::Operation::Reply {
        dst_mac
    } else {
        EthernetAddress::default()
    };
    arp::Repr {
        operation: op,
        source_hardware_addr: src_mac,
        source_protocol_addr: src,
        target_hardware_addr: tha,
        target_protocol_addr: target,
    }
    .emit(&mut f[ethernet::HEADER_LEN..]);
    f
}

fn assert_held(us: &mut Interface, fragment: &[u8]) {
    assert_eq!(
        us.receive(fragment, T0),
        Rx::Delivered(Delivery::FragmentHeld)
    );
}

fn arp_of(frame: &[u8]) -> arp::Repr {
    arp::Repr::parse(&arp::Packet::new_checked(&frame[ethernet::HEADER_LEN..]).unwrap())
}

#[test]
fn gratuitous_arp_on_configuration() {
    let mut i = Interface::new(OUR_MAC, InterfaceOptions::default());
    i.configure(IfaceConfig::parse("ip=10.0.0.2/24").unwrap());
    let tx = drain_tx(&mut i);
    assert_eq!(tx.len(), 1);
    assert_eq!(&tx[0][..6], &[0xff; 6]);
    let a = arp_of(&tx[0]);
    assert_eq!(a.operation, arp::Operation::Request);
    assert_eq!(
        (a.source_protocol_addr, a.target_protocol_addr),
        (OUR_ADDR, OUR_ADDR)
    );
    assert_eq!(a.source_hardware_addr, OUR_MAC);
}

#[test]
fn arp_request_answered_and_sender_learned() {
    let mut us = interface();
    let req = arp_frame(
        arp::Operation::Request,
        STRANGER_MAC,
        STRANGER,
        EthernetAddress::BROADCAST,
        OUR_ADDR,
    );
    assert_eq!(us.receive(&req, T0), Rx::Delivered(Delivery::Arp));
    let tx = drain_tx(&mut us);
    assert_eq!(tx.len(), 1);
    let reply = arp_of(&tx[0]);
    assert_eq!(reply.operation, arp::Operation::Reply);
    assert_eq!(
        (reply.source_hardware_addr, reply.source_protocol_addr),
        (OUR_MAC, OUR_ADDR)
    );
    assert_eq!(
        (reply.target_hardware_addr, reply.target_protocol_addr),
        (STRANGER_MAC, STRANGER)
    );
    assert_eq!(&tx[0][..6], &STRANGER_MAC.0);
    // The sender was learned: traffic to it goes straight out.
    us.send_ipv4(STRANGER, 6, b"x", T0).unwrap();
    let tx = drain_tx(&mut us);
    assert_eq!(tx.len(), 1);
    assert_eq!(&tx[0][..6], &STRANGER_MAC.0);
    // A request for someone else is not answered.
    let other = arp_frame(
        arp::Operation::Request,
        STRANGER_MAC,
        STRANGER,
        EthernetAddress::BROADCAST,
        PEER_ADDR,
    );
    assert_eq!(us.receive(&other, T0), Rx::Dropped(DropReason::ArpNotForUs));
    assert!(drain_tx(&mut us).is_empty());
    // Claiming our own address is refused.
    let spoof = arp_frame(
        arp::Operation::Reply,
        STRANGER_MAC,
        OUR_ADDR,
        OUR_MAC,
        OUR_ADDR,
    );
    assert_eq!(
        us.receive(&spoof, T0),
        Rx::Dropped(DropReason::BadSourceAddress)
    );
}

#[test]
fn arp_retries_then_reports_host_unreachable() {
    let mut us = interface();
    us.send_ipv4(STRANGER, 6, b"segment", T0).unwrap();
    let requests_at = |us: &mut Interface| {
        drain_tx(us)
            .iter()
            .filter(|f| arp_of(f).target_protocol_addr == STRANGER)
            .count()
    };
    assert_eq!(requests_at(&mut us), 1);
    assert_eq!(us.poll_at(), Some(Instant::from_secs(1)));
    us.poll(Instant::from_millis(999));
    assert_eq!(requests_at(&mut us), 0);
    for s in 1..=2 {
        us.poll(Instant::from_secs(s));
        assert_eq!(requests_at(&mut us), 1, "retry at {s} s");
    }
    assert!(drain_events(&mut us).is_empty());
    us.poll(Instant::from_secs(3));
    assert_eq!(requests_at(&mut us), 0);
    assert_eq!(
        drain_events(&mut us),
        vec![Event::HostUnreachable {
            dst: STRANGER,
            protocol: 6
        }]
    );
    assert_eq!(us.counters().dropped(DropReason::ArpUnresolved), 1);
    // Off-subnet traffic resolves the gateway instead.
    us.send_ipv4(Ipv4Addr::new(8, 8, 8, 8), 17, b"", Instant::from_secs(4))
        .unwrap();
    assert_eq!(
        arp_of(&drain_tx(&mut us)[0]).target_protocol_addr,
        PEER_ADDR
    );
}

#[test]
fn pending_queue_drops_oldest_and_flushes_on_reply() {
    let mut us = interface();
    for n in 0..20u8 {
        us.send_ipv4(STRANGER, 6, &[n], T0).unwrap();
    }
    assert_eq!(
        drain_tx(&mut us).len(),
        1,
        "one ARP request for all of them"
    );
    assert_eq!(us.counters().dropped(DropReason::ArpPendingOverflow), 4);
    let reply = arp_frame(
        arp::Operation::Reply,
        STRANGER_MAC,
        STRANGER,
        OUR_MAC,
        OUR_ADDR,
    );
    assert_eq!(us.receive(&reply, T0), Rx::Delivered(Delivery::Arp));
    let sent: Vec<u8> = drain_tx(&mut us)
        .iter()
        .map(|f| ip_of(f).payload()[0])
        .collect();
    assert_eq!(sent, (4..20).collect::<Vec<u8>>());
    us.poll(Instant::from_secs(10));
    assert!(
        drain_events(&mut us).is_empty(),
        "resolved: no unreachable report"
    );
}

#[test]
fn ping_round_trip_between_two_interfaces() {
    let (mut us, mut peer) = connected_pair(T0);
    let t1 = Instant::from_secs(5);
    us.ping(PEER_ADDR, 0x77, 3, b"0123456789", t1).unwrap();
    let request = drain_tx(&mut us);
    assert_eq!(
        peer.receive(&request[0], t1),
        Rx::Delivered(Delivery::IcmpEchoRequest)
    );
    let reply = drain_tx(&mut peer);
    let (ty, code, msg) = icmp_of(&reply[0]);
    assert_eq!((ty, code), (0, 0));
    assert_eq!(&msg[4..8], &[0, 0x77, 0, 3]);
    assert_eq!(&msg[8..], b"0123456789");
    let t2 = Instant::from_nanos(t1.as_nanos() + 2_345_000);
    assert_eq!(
        us.receive(&reply[0], t2),
        Rx::Delivered(Delivery::IcmpEchoReply)
    );
    assert_eq!(
        drain_events(&mut us),
        vec![Event::EchoReply {
            from: PEER_ADDR,
            ident: 0x77,
            seq_no: 3,
            rtt: Duration::from_nanos(2_345_000),
            len: 10
        }]
    );
    // The same reply again matches nothing.
    assert_eq!(
        us.receive(&reply[0], t2),
        Rx::Dropped(DropReason::IcmpUnmatchedReply)
    );
}

#[test]
fn ping_timeout_reported() {
    let (mut us, _) = connected_pair(T0);
    us.ping(PEER_ADDR, 1, 9, b"", T0).unwrap();
    assert_eq!(us.poll_at(), Some(Instant::from_secs(10)));
    us.poll(Instant::from_secs(10));
    assert_eq!(
        drain_events(&mut us),
        vec![Event::PingTimeout {
            dst: PEER_ADDR,
            ident: 1,
            seq_no: 9
        }]
    );
}

#[test]
fn broadcast_echo_is_not_answered() {
    let (mut us, mut peer) = connected_pair(T0);
    peer.ping(Ipv4Addr::new(10, 0, 0, 255), 1, 1, b"", T0)
        .unwrap();
    let f = drain_tx(&mut peer);
    assert_eq!(&f[0][..6], &[0xff; 6]);
    assert_eq!(
        us.receive(&f[0], T0),
        Rx::Dropped(DropReason::IcmpBroadcastEcho)
    );
    assert!(drain_tx(&mut us).is_empty());
}

#[test]
fn udp_delivery_queue_limit_and_port_unreachable() {
    let (mut us, mut peer) = connected_pair(T0);
    peer.udp_send_to(BOUND_PORT, OUR_ADDR, BOUND_PORT, b"hello", T0)
        .unwrap();
    exchange(&mut peer, &mut us, T0);
    assert_eq!(
        drain_events(&mut us),
        vec![Event::UdpReadable { port: BOUND_PORT }]
    );
    let d = us.udp_recv(BOUND_PORT).unwrap();
    assert_eq!(
        (d.src, d.src_port, d.dst, d.data.as_slice()),
        (PEER_ADDR, BOUND_PORT, OUR_ADDR, &b"hello"[..])
    );
    for _ in 0..40 {
        peer.udp_send_to(BOUND_PORT, OUR_ADDR, BOUND_PORT, b"flood", T0)
            .unwrap();
    }
    exchange(&mut peer, &mut us, T0);
    assert_eq!(us.counters().delivered(Delivery::Udp), 33);
    assert_eq!(us.counters().dropped(DropReason::UdpQueueFull), 8);
    assert_eq!(std::iter::from_fn(|| us.udp_recv(BOUND_PORT)).count(), 32);
    // A closed port: dropped, and the sender hears port unreachable.
    peer.udp_send_to(BOUND_PORT, OUR_ADDR, 9999, b"anyone?", T0)
        .unwrap();
    let f = drain_tx(&mut peer);
    assert_eq!(us.receive(&f[0], T0), Rx::Dropped(DropReason::UdpNoSocket));
    let err = drain_tx(&mut us);
    let (ty, code, msg) = icmp_of(&err[0]);
    assert_eq!((ty, code), (3, icmp::unreachable::PORT));
    // The quote is the original IPv4 header plus the 8-byte UDP header.
    assert_eq!(msg.len(), 8 + 20 + 8);
    assert_eq!(&msg[8 + 12..8 + 20], &[10, 0, 0, 1, 10, 0, 0, 2]);
    assert_eq!(&msg[8 + 22..8 + 24], &9999u16.to_be_bytes());
    assert_eq!(
        peer.receive(&err[0], T0),
        Rx::Delivered(Delivery::IcmpUnreachable)
    );
    assert_eq!(
        drain_events(&mut peer),
        vec![Event::DestinationUnreachable {
            reporter: OUR_ADDR,
            code: 3,
            dst: OUR_ADDR,
            protocol: 17,
            ports: Some((BOUND_PORT, 9999)),
        }]
    );
}

#[test]
fn datagrams_to_claimed_ports_go_to_the_kernel() {
    let (mut us, mut peer) = connected_pair(T0);
    assert_eq!(
        us.udp_claim(BOUND_PORT),
        Err(halyard_net::udp_socket::BindError::InUse)
    );
    us.udp_claim(5000).unwrap();
    us.udp_claim(5000).unwrap();
    assert_eq!(
        us.udp_bind(5000),
        Err(halyard_net::udp_socket::BindError::InUse)
    );
    peer.udp_send_to(BOUND_PORT, OUR_ADDR, 5000, b"mine", T0)
        .unwrap();
    let f = drain_tx(&mut peer);
    assert_eq!(
        us.receive(&f[0], T0),
        Rx::Udp(halyard_net::event::UdpRx {
            src: PEER_ADDR,
            src_port: BOUND_PORT,
            dst: OUR_ADDR,
            dst_port: 5000,
            data: b"mine".to_vec(),
        })
    );
    assert_eq!(us.counters().delivered(Delivery::Udp), 1);
    assert!(
        drain_tx(&mut us).is_empty(),
        "no ICMP error for a claimed port"
    );
    us.udp_release(5000);
    us.udp_release(5000);
    peer.udp_send_to(BOUND_PORT, OUR_ADDR, 5000, b"gone", T0)
        .unwrap();
    let f = drain_tx(&mut peer);
    assert_eq!(us.receive(&f[0], T0), Rx::Dropped(DropReason::UdpNoSocket));
}

#[test]
fn udp_bind_rules() {
    let mut us = interface();
    assert_eq!(
        us.udp_bind(BOUND_PORT),
        Err(halyard_net::udp_socket::BindError::InUse)
    );
    let port = us.udp_bind(0).unwrap();
    assert!(port >= 49152);
    assert_eq!(
        us.udp_send_to(1234, PEER_ADDR, 7, b"", T0),
        Err(halyard_net::SendError::NotBound)
    );
    assert!(us.udp_unbind(port));
    let mut bare = Interface::new(OUR_MAC, InterfaceOptions::default());
    assert_eq!(
        bare.send_ipv4(PEER_ADDR, 6, b"", T0),
        Err(halyard_net::SendError::NotConfigured)
    );
    let mut no_gw = Interface::new(OUR_MAC, InterfaceOptions::default());
    no_gw.configure(IfaceConfig::parse("ip=10.0.0.2/24").unwrap());
    assert_eq!(
        no_gw.send_ipv4(Ipv4Addr::new(1, 1, 1, 1), 6, b"", T0),
        Err(halyard_net::SendError::NoRoute)
    );
    assert_eq!(
        no_gw.send_ipv4(PEER_ADDR, 6, &vec![0; 70000], T0),
        Err(halyard_net::SendError::TooLarge)
    );
}

#[test]
fn no_icmp_error_to_an_unspecified_source() {
    let (mut us, mut peer) = connected_pair(T0);
    peer.udp_send_to(BOUND_PORT, OUR_ADDR, 9, b"", T0).unwrap();
    let mut f = drain_tx(&mut peer).remove(0);
    f[26..30].copy_from_slice(&[0, 0, 0, 0]);
    f[40..42].copy_from_slice(&[0, 0]); // no UDP checksum
    reseal_ip(&mut f);
    assert_eq!(us.receive(&f, T0), Rx::Dropped(DropReason::UdpNoSocket));
    assert!(drain_tx(&mut us).is_empty());
}

#[test]
fn protocol_unreachable_for_unknown_protocols() {
    let (mut us, mut peer) = connected_pair(T0);
    peer.send_ipv4(OUR_ADDR, 132, b"sctp?", T0).unwrap();
    let f = drain_tx(&mut peer);
    assert_eq!(
        us.receive(&f[0], T0),
        Rx::Dropped(DropReason::UnknownProtocol)
    );
    let (ty, code, _) = icmp_of(&drain_tx(&mut us)[0]);
    assert_eq!((ty, code), (3, icmp::unreachable::PROTOCOL));
}

#[test]
fn icmp_errors_are_rate_limited() {
    let (mut us, mut peer) = connected_pair(T0);
    let mut send_closed = |n: usize, now: Instant, us: &mut Interface| {
        for _ in 0..n {
            peer.udp_send_to(BOUND_PORT, OUR_ADDR, 9, b"", now).unwrap();
        }
        for f in drain_tx(&mut peer) {
            us.receive(&f, now);
        }
        drain_tx(us).len()
    };
    // (Within the 60 s ARP lifetime of the pair's entries.)
    let t = Instant::from_secs(50);
    assert_eq!(send_closed(50, t, &mut us), 10, "burst");
    assert_eq!(us.counters().icmp_errors_rate_limited, 40);
    assert_eq!(
        send_closed(5, Instant::from_millis(50_200), &mut us),
        2,
        "10 per second refill"
    );
}

#[test]
fn tcp_segments_handed_up_borrowed_or_reassembled() {
    let (mut us, mut peer) = connected_pair(T0);
    peer.send_ipv4(OUR_ADDR, 6, b"SYN-ish segment", T0).unwrap();
    let f = drain_tx(&mut peer);
    match us.receive(&f[0], T0) {
        Rx::Tcp(seg) => {
            assert_eq!((seg.src, seg.dst), (PEER_ADDR, OUR_ADDR));
            assert!(matches!(seg.payload, Cow::Borrowed(b"SYN-ish segment")));
        }
        other => panic!("{other:?}"),
    }
    let big: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    peer.send_ipv4(OUR_ADDR, 6, &big, T0).unwrap();
    let frags = drain_tx(&mut peer);
    assert_eq!(frags.len(), 3);
    assert!(frags.iter().all(|f| f.len() <= 1514));
    assert_held(&mut us, &frags[2]);
    assert_held(&mut us, &frags[0]);
    match us.receive(&frags[1], T0) {
        Rx::Tcp(seg) => assert!(matches!(seg.payload, Cow::Owned(ref v) if *v == big)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        us.counters().layer(halyard_net::Layer::Tcp).rx_bytes,
        15 + 3000
    );
}

#[test]
fn fragmented_udp_and_reassembly_timeout() {
    let (mut us, mut peer) = connected_pair(T0);
    let big = vec![0xab; 4000];
    peer.udp_send_to(BOUND_PORT, OUR_ADDR, BOUND_PORT, &big, T0)
        .unwrap();
    exchange(&mut peer, &mut us, T0);
    assert_eq!(us.udp_recv(BOUND_PORT).unwrap().data, big);
    // Only the first fragment of the next one arrives.
    peer.udp_send_to(BOUND_PORT, OUR_ADDR, BOUND_PORT, &big, T0)
        .unwrap();
    let frags = drain_tx(&mut peer);
    us.receive(&frags[0], T0);
    assert_eq!(us.poll_at(), Some(Instant::from_secs(30)));
    us.poll(Instant::from_secs(30));
    assert_eq!(us.counters().dropped(DropReason::ReassemblyTimeout), 1);
    assert!(
        us.poll_at() > Some(Instant::from_secs(30)),
        "only the ARP entry's expiry is left"
    );
}

#[test]
fn overlapping_fragments_drop_the_datagram() {
    let (mut us, mut peer) = connected_pair(T0);
    peer.send_ipv4(OUR_ADDR, 6, &[1; 3000], T0).unwrap();
    let frags = drain_tx(&mut peer);
    us.receive(&frags[0], T0);
    // The second fragment moved back by 8 bytes overlaps the first.
    let mut evil = frags[1].clone();
    let off = u16::from_be_bytes([evil[20], evil[21]]);
    evil[20..22].copy_from_slice(&(off - 1).to_be_bytes());
    reseal_ip(&mut evil);
    assert_eq!(
        us.receive(&evil, T0),
        Rx::Dropped(DropReason::ReassemblyOverlap)
    );
    // The rest cannot complete anything now.
    assert_held(&mut us, &frags[2]);
    assert_held(&mut us, &frags[1]);
}

#[test]
fn malformed_and_foreign_frames_dropped_with_reason() {
    let (mut us, mut peer) = connected_pair(T0);
    peer.send_ipv4(OUR_ADDR, 6, b"payload", T0).unwrap();
    let good = drain_tx(&mut peer).remove(0);
    let case = |f: &dyn Fn(&mut Vec<u8>), us: &mut Interface| {
        let mut frame = good.clone();
        f(&mut frame);
        match us.receive(&frame, T0) {
            Rx::Dropped(r) => r,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(case(&|f| f.truncate(10), &mut us), DropReason::TooShort);
    assert_eq!(
        case(&|f| f[12..14].copy_from_slice(&[0x81, 0]), &mut us),
        DropReason::VlanTagged
    );
    assert_eq!(
        case(&|f| f[12..14].copy_from_slice(&[0x86, 0xdd]), &mut us),
        DropReason::UnknownEthertype
    );
    assert_eq!(case(&|f| f[0] = 0x04, &mut us), DropReason::NotForUs);
    assert_eq!(
        case(&|f| f[6] = 0x01, &mut us),
        DropReason::BadSourceAddress
    );
    assert_eq!(case(&|f| f[14 + 8] ^= 1, &mut us), DropReason::BadChecksum);
    assert_eq!(
        case(&|f| f.truncate(14 + 19), &mut us),
        DropReason::TooShort
    );
    assert_eq!(
        case(
            &|f| {
                f[14] = 0x55;
                reseal_ip(f)
            },
            &mut us
        ),
        DropReason::BadVersion
    );
    assert_eq!(
        case(
            &|f| {
                f[14 + 8] = 0;
                reseal_ip(f)
            },
            &mut us
        ),
        DropReason::TtlExpired
    );
    assert_eq!(
        case(
            &|f| {
                f[14 + 19] = 99;
                reseal_ip(f)
            },
            &mut us
        ),
        DropReason::NotForUs
    );
    assert_eq!(
        case(
            &|f| {
                f[14 + 15] = 2;
                reseal_ip(f)
            },
            &mut us
        ),
        DropReason::BadSourceAddress
    );
    assert_eq!(
        case(
            &|f| {
                f[14 + 3] += 1;
                reseal_ip(f)
            },
            &mut us
        ),
        DropReason::BadLength
    );
    assert_eq!(
        case(
            &|f| {
                f[14 + 6] = 0x80;
                reseal_ip(f)
            },
            &mut us
        ),
        DropReason::BadFragment
    );
    // Ethernet padding after the datagram is fine.
    let mut padded = good.clone();
    padded.extend_from_slice(&[0; 20]);
    assert!(matches!(us.receive(&padded, T0), Rx::Tcp(ref s) if *s.payload == *b"payload"));
    assert_eq!(us.counters().total_dropped(), 13);
}

#[test]
fn unconfigured_interface_drops_everything_but_dhcp() {
    let (_, mut peer) = connected_pair(T0);
    peer.send_ipv4(OUR_ADDR, 6, b"x", T0).unwrap();
    let f = drain_tx(&mut peer).remove(0);
    let mut bare = Interface::new(OUR_MAC, InterfaceOptions::default());
    assert_eq!(bare.receive(&f, T0), Rx::Dropped(DropReason::NotConfigured));
    let req = arp_frame(
        arp::Operation::Request,
        PEER_MAC,
        PEER_ADDR,
        EthernetAddress::BROADCAST,
        OUR_ADDR,
    );
    assert_eq!(
        bare.receive(&req, T0),
        Rx::Dropped(DropReason::NotConfigured)
    );
    assert_eq!(
        bare.counters()
            .layer(halyard_net::Layer::Ethernet)
            .rx_packets,
        2
    );
    let _ = ipv4::HEADER_LEN;
}

#[test]
fn counters_listing_reflects_traffic() {
    let (mut us, mut peer) = connected_pair(T0);
    us.ping(PEER_ADDR, 5, 5, b"abc", T0).unwrap();
    exchange(&mut us, &mut peer, T0);
    let listing: Vec<String> = us
        .counters()
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    assert!(
        listing.contains(&"rx_icmp_echo_reply=2".to_string()),
        "{listing:?}"
    );
    assert!(listing.iter().any(|l| l == "drop_bad_checksum=0"));
    assert!(us.counters().layer(halyard_net::Layer::Icmp).tx_packets >= 2);
}

#[test]
fn arp_entry_expires_and_is_resolved_again() {
    let (mut us, _) = connected_pair(T0);
    us.send_ipv4(PEER_ADDR, 6, b"fresh", Instant::from_secs(59))
        .unwrap();
    let tx = drain_tx(&mut us);
    assert_eq!(&tx[0][..6], &PEER_MAC.0, "entry still valid at 59 s");
    us.poll(Instant::from_secs(60));
    us.send_ipv4(PEER_ADDR, 6, b"stale", Instant::from_secs(60))
        .unwrap();
    let tx = drain_tx(&mut us);
    assert_eq!(tx.len(), 1);
    assert_eq!(
        arp_of(&tx[0]).target_protocol_addr,
        PEER_ADDR,
        "expired: asks again"
    );
}

#[test]
fn offloaded_checksums_are_not_verified_again() {
    let (mut us, mut peer) = connected_pair(T0);
    // A UDP datagram and an ICMP echo request with a wrong transport checksum (what a
    // NEEDS_CSUM frame carries: only the pseudo-header sum).
    peer.udp_send_to(BOUND_PORT, OUR_ADDR, BOUND_PORT, b"partial", T0)
        .unwrap();
    let mut udp = drain_tx(&mut peer).remove(0);
    udp[14 + 20 + 6] ^= 0x55;
    assert_eq!(us.receive(&udp, T0), Rx::Dropped(DropReason::BadChecksum));
    assert!(matches!(
        us.receive_offloaded(&udp, T0, true),
        Rx::Delivered(_)
    ));
    assert_eq!(us.udp_recv(BOUND_PORT).unwrap().data, b"partial");
    peer.ping(OUR_ADDR, 1, 1, b"hi", T0).unwrap();
    let mut echo = drain_tx(&mut peer).remove(0);
    echo[14 + 20 + 2] ^= 0x55;
    assert_eq!(us.receive(&echo, T0), Rx::Dropped(DropReason::BadChecksum));
    assert_eq!(
        us.receive_offloaded(&echo, T0, true),
        Rx::Delivered(Delivery::IcmpEchoRequest)
    );
    // The IPv4 header checksum is still verified.
    let mut bad_ip = udp.clone();
    bad_ip[14 + 8] ^= 1;
    assert_eq!(
        us.receive_offloaded(&bad_ip, T0, true),
        Rx::Dropped(DropReason::BadChecksum)
    );
    // TCP hears whether it may skip its own check; a reassembled datagram never may.
    peer.send_ipv4(OUR_ADDR, 6, b"segment", T0).unwrap();
    let f = drain_tx(&mut peer).remove(0);
    for trusted in [false, true] {
        match us.receive_offloaded(&f, T0, trusted) {
            Rx::Tcp(seg) => assert_eq!(seg.checksum_trusted, trusted),
            other => panic!("{other:?}"),
        }
    }
    let big = vec![7u8; 3000];
    peer.send_ipv4(OUR_ADDR, 6, &big, T0).unwrap();
    let frags = drain_tx(&mut peer);
    assert_eq!(
        us.receive_offloaded(&frags[0], T0, true),
        Rx::Delivered(Delivery::FragmentHeld)
    );
    assert_eq!(
        us.receive_offloaded(&frags[1], T0, true),
        Rx::Delivered(Delivery::FragmentHeld)
    );
    match us.receive_offloaded(&frags[2], T0, true) {
        Rx::Tcp(seg) => assert!(!seg.checksum_trusted && *seg.payload == *big),
        other => panic!("{other:?}"),
    }
}

/// An interface whose device does `caps` (configured as `interface()`), resolved with its
/// peer; the peer's side.
fn offloading(caps: halyard_net::TxCaps) -> (Interface, Interface) {
    let opts = InterfaceOptions {
        tx_offload: caps,
        ..InterfaceOptions::default()
    };
    let mut us = Interface::new(OUR_MAC, opts);
    us.configure(IfaceConfig::parse("ip=10.0.0.2/24 gw=10.0.0.1").unwrap());
    let (_, mut peer) = connected_pair(T0);
    let _ = us.ping(PEER_ADDR, 0, 0, &[], T0);
    exchange(&mut us, &mut peer, T0);
    while us.next_event().is_some() {}
    (us, peer)
}

/// A TCP segment of `len` bytes from us to the peer with only the pseudo-header sum in
/// its checksum field.
fn partial_segment(len: usize) -> Vec<u8> {
    let mut seg: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    seg[12] = 0x50;
    let sum = ipv4::pseudo_header(OUR_ADDR, PEER_ADDR, 6, len).sum16();
    seg[16..18].copy_from_slice(&sum.to_be_bytes());
    seg
}

const PARTIAL_TSO: halyard_net::TxOffload = halyard_net::TxOffload {
    csum_offset: Some(16),
    gso_size: Some(1460),
};

/// A device with checksum offload and TSO gets a super-segment as one frame, its
/// checksum and segmentation left to it.
#[test]
fn super_segment_goes_whole_to_a_tso_device() {
    let caps = halyard_net::TxCaps {
        checksum: true,
        tso: true,
    };
    let (mut us, _) = offloading(caps);
    let seg = partial_segment(20_000);
    us.send_ipv4_offloaded(PEER_ADDR, 6, &seg, PARTIAL_TSO, T0)
        .unwrap();
    let (frame, offload) = us.dequeue_tx_offloaded().unwrap();
    assert!(us.dequeue_tx().is_none());
    assert_eq!(offload, PARTIAL_TSO);
    assert_eq!(frame.len(), 14 + 20 + 20_000);
    assert_eq!(ip_of(&frame).total_len(), 20 + 20_000);
    assert_eq!(&frame[34..], &seg[..], "checksum field untouched");
    assert_eq!(us.counters().tx_checksums_completed, 0);
    // UDP that fits in a frame leaves its checksum to the device too.
    us.udp_bind(BOUND_PORT).unwrap();
    us.udp_send_to(BOUND_PORT, PEER_ADDR, 9, b"datagram", T0)
        .unwrap();
    let (frame, offload) = us.dequeue_tx_offloaded().unwrap();
    assert_eq!(offload.csum_offset, Some(6));
    let sum = ipv4::pseudo_header(OUR_ADDR, PEER_ADDR, 17, 16).sum16();
    assert_eq!(frame[34 + 6..34 + 8], sum.to_be_bytes());
}

/// What the device cannot do is done here: without checksum offload the checksum is
/// completed; without TSO (or when a datagram must be fragmented) the super-segment is
/// fragmented with a completed checksum, and the peer reassembles a valid segment.
#[test]
fn offloads_the_device_lacks_are_done_in_software() {
    for caps in [
        halyard_net::TxCaps::default(),
        halyard_net::TxCaps {
            checksum: true,
            tso: false,
        },
    ] {
        let (mut us, mut peer) = offloading(caps);
        let seg = partial_segment(3000);
        us.send_ipv4_offloaded(PEER_ADDR, 6, &seg, PARTIAL_TSO, T0)
            .unwrap();
        let mut frames = Vec::new();
        while let Some((f, offload)) = us.dequeue_tx_offloaded() {
            assert_eq!(offload, halyard_net::TxOffload::default());
            frames.push(f);
        }
        assert_eq!(frames.len(), 3, "{caps:?}");
        assert_eq!(us.counters().tx_checksums_completed, 1);
        let mut got = None;
        for f in &frames {
            if let Rx::Tcp(s) = peer.receive(f, T0) {
                got = Some(s.payload.into_owned());
            }
        }
        let got = got.expect("reassembled");
        let mut check = ipv4::pseudo_header(OUR_ADDR, PEER_ADDR, 6, got.len());
        check.add_bytes(&got);
        assert_eq!(check.finish(), 0, "the completed checksum verifies");
        assert_eq!(got[18..], seg[18..]);
        // A plain-sized segment without checksum offload: completed, one frame.
        us.send_ipv4_offloaded(PEER_ADDR, 6, &partial_segment(100), PARTIAL_TSO, T0)
            .unwrap();
        let (f, offload) = us.dequeue_tx_offloaded().unwrap();
        let expect = if caps.checksum {
            halyard_net::TxOffload {
                csum_offset: Some(16),
                gso_size: None,
            }
        } else {
            halyard_net::TxOffload::default()
        };
        assert_eq!((f.len(), offload), (14 + 20 + 100, expect));
    }
}

/// The in-place path writes the headers in front of the payload and leaves the frame to
/// the caller's device: the same bytes the queued path builds (but for the IP ident), no
/// copy; it queues instead when the next hop is unknown or something is queued already.
#[test]
fn in_place_sends_go_straight_to_the_device() {
    let caps = halyard_net::TxCaps {
        checksum: true,
        tso: true,
    };
    let (mut us, _) = offloading(caps);
    let seg = partial_segment(20_000);
    us.send_ipv4_offloaded(PEER_ADDR, 6, &seg, PARTIAL_TSO, T0)
        .unwrap();
    let (queued, _) = us.dequeue_tx_offloaded().unwrap();
    let mut frame = vec![0u8; halyard_net::TX_HEADROOM];
    frame.extend_from_slice(&seg);
    let ready = us.send_ipv4_in_place(PEER_ADDR, 6, &mut frame, PARTIAL_TSO, T0);
    assert_eq!(ready, Ok(Some(PARTIAL_TSO)));
    assert!(us.dequeue_tx().is_none());
    let ident = |f: &[u8]| [f[18], f[19]];
    assert_ne!(ident(&frame), ident(&queued));
    let (mut a, mut b) = (frame.clone(), queued.clone());
    for x in [&mut a, &mut b] {
        x[18..20].fill(0);
        x[24..26].fill(0);
    }
    assert_eq!(a, b);
    assert_eq!(
        inet_checksum::checksum(ip_of(&frame).header()),
        0,
        "IPv4 header checksum"
    );
    // Behind a queued frame, or to a next hop not resolved: queued.
    us.ping(PEER_ADDR, 1, 1, b"", T0).unwrap();
    let mut frame = vec![0u8; halyard_net::TX_HEADROOM];
    frame.extend_from_slice(&seg);
    let again = frame.clone();
    assert_eq!(
        us.send_ipv4_in_place(PEER_ADDR, 6, &mut frame, PARTIAL_TSO, T0),
        Ok(None)
    );
    assert_eq!(frame, again, "left alone");
    assert_eq!(
        us.send_ipv4_in_place(STRANGER, 6, &mut frame, PARTIAL_TSO, T0),
        Ok(None)
    );
    assert_eq!(drain_tx(&mut us).len(), 3, "ping, segment, ARP request");
}
