//! Property tests: every builder round-trips through its parser, and arbitrary input never
//! panics and always ends in exactly one counted outcome.

use halyard_net::fuzz::{interface, receive_checked, seed_frames};
use halyard_net::reassembly::{FragmentKey, Reassembled, Reassembler, ReassemblyConfig};
use halyard_net::wire::{arp, dhcp, ethernet, icmp, ipv4, udp};
use halyard_net::{EthernetAddress, Instant};
use proptest::prelude::*;
use std::net::Ipv4Addr;

fn mac() -> impl Strategy<Value = EthernetAddress> {
    any::<[u8; 6]>().prop_map(EthernetAddress)
}

fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

proptest! {
    #[test]
    fn ethernet_round_trip(src in mac(), dst in mac(), ethertype in any::<u16>()) {
        let r = ethernet::Repr { src, dst, ethertype };
        let mut b = [0u8; ethernet::HEADER_LEN];
        r.emit(&mut b);
        prop_assert_eq!(ethernet::Repr::parse(&ethernet::Frame::new_checked(&b[..]).unwrap()), r);
    }

    #[test]
    fn arp_round_trip(req in any::<bool>(), sha in mac(), spa in ip(), tha in mac(), tpa in ip()) {
        let operation = if req { arp::Operation::Request } else { arp::Operation::Reply };
        let r = arp::Repr { operation, source_hardware_addr: sha, source_protocol_addr: spa, target_hardware_addr: tha, target_protocol_addr: tpa };
        let mut b = [0u8; arp::PACKET_LEN];
        r.emit(&mut b);
        prop_assert_eq!(arp::Repr::parse(&arp::Packet::new_checked(&b[..]).unwrap()), r);
    }

    #[test]
    fn ipv4_round_trip(
        src in ip(), dst in ip(), protocol in any::<u8>(), ttl in any::<u8>(), ident in any::<u16>(),
        dont_frag in any::<bool>(), more_frags in any::<bool>(), blocks in 0usize..4000, words in 1usize..100,
        padding in 0usize..40,
    ) {
        let frag_offset = blocks * 8;
        let payload_len = words * 8;
        let r = ipv4::Repr { src, dst, protocol, ttl, ident, dont_frag, more_frags, frag_offset, payload_len };
        let mut b = vec![0u8; ipv4::HEADER_LEN + payload_len + padding];
        r.emit(&mut b);
        let p = ipv4::Packet::new_checked(&b[..]).unwrap();
        prop_assert_eq!(p.payload().len(), payload_len);
        prop_assert_eq!(ipv4::Repr::parse(&p), r);
    }

    #[test]
    fn icmp_echo_round_trip(request in any::<bool>(), ident in any::<u16>(), seq_no in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let r = if request {
            icmp::Repr::EchoRequest { ident, seq_no, data: &data }
        } else {
            icmp::Repr::EchoReply { ident, seq_no, data: &data }
        };
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut b);
        let p = icmp::Packet::new_checked(&b[..]).unwrap();
        prop_assert_eq!(icmp::Repr::parse(&p).unwrap(), r);
    }

    #[test]
    fn udp_round_trip(src in ip(), dst in ip(), sp in any::<u16>(), dp in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let r = udp::Repr { src_port: sp, dst_port: dp };
        let mut b = vec![0u8; udp::HEADER_LEN + data.len()];
        r.emit(&mut b, src, dst, &data);
        let p = udp::Packet::new_checked(&b[..]).unwrap();
        prop_assert_ne!(p.checksum(), 0);
        prop_assert_eq!(udp::Repr::parse(&p, src, dst).unwrap(), r);
        prop_assert_eq!(p.payload(), &data[..]);
    }

    #[test]
    fn dhcp_round_trip(
        kind in 1u8..=8, xid in any::<u32>(), secs in any::<u16>(), broadcast in any::<bool>(), chaddr in mac(),
        ciaddr in ip(), yiaddr in ip(), server in proptest::option::of(ip()), mask in proptest::option::of(ip()),
        router in proptest::option::of(ip()), dns in proptest::collection::vec(ip(), 0..=3),
        lease in proptest::option::of(any::<u32>()), t1 in proptest::option::of(any::<u32>()), params in any::<bool>(),
    ) {
        use dhcp::MessageType::*;
        let ty = [Discover, Offer, Request, Decline, Ack, Nak, Release, Inform][usize::from(kind - 1)];
        let mut r = dhcp::Repr::new(ty, xid, chaddr);
        r.secs = secs;
        r.broadcast = broadcast;
        r.client_ip = ciaddr;
        r.your_ip = yiaddr;
        r.server_id = server;
        r.subnet_mask = mask;
        r.router = router;
        r.dns_servers = dns;
        r.lease_time = lease;
        r.renewal_time = t1;
        r.request_parameters = params;
        let b = r.to_bytes();
        prop_assert_eq!(dhcp::Repr::parse(&dhcp::Packet::new_checked(&b[..]).unwrap()).unwrap(), r);
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = ethernet::Frame::new_checked(&bytes[..]).map(|f| ethernet::Repr::parse(&f));
        let _ = arp::Packet::new_checked(&bytes[..]).map(|p| arp::Repr::parse(&p));
        let _ = ipv4::Packet::new_checked(&bytes[..]).map(|p| (ipv4::Repr::parse(&p), p.payload().len()));
        if let Ok(p) = icmp::Packet::new_checked(&bytes[..]) {
            let _ = icmp::Repr::parse(&p);
        }
        let _ = udp::Packet::new_checked(&bytes[..]).map(|p| udp::Repr::parse(&p, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST));
        let _ = dhcp::Packet::new_checked(&bytes[..]).map(|p| dhcp::Repr::parse(&p));
    }

    #[test]
    fn arbitrary_frames_end_in_exactly_one_outcome(bytes in proptest::collection::vec(any::<u8>(), 0..1600)) {
        let mut i = interface();
        receive_checked(&mut i, &bytes, Instant::ZERO);
    }

    #[test]
    fn mutated_frames_end_in_exactly_one_outcome(which in any::<prop::sample::Index>(), edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>(), truncate in any::<bool>()) {
        let seeds = seed_frames();
        let mut frame = which.get(&seeds).clone();
        for (at, value) in edits {
            let at = at.index(frame.len());
            frame[at] = value;
        }
        if truncate {
            frame.truncate(cut.index(frame.len() + 1));
        }
        let mut i = interface();
        receive_checked(&mut i, &frame, Instant::ZERO);
    }

    #[test]
    fn reassembly_of_any_split_and_order(len in 1usize..5000, size_words in 1usize..200, rotate in any::<prop::sample::Index>(), reverse in any::<bool>()) {
        let payload: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
        let size = size_words * 8;
        let mut frags: Vec<(usize, bool, &[u8])> = payload.chunks(size).enumerate().map(|(i, c)| (i * size, (i + 1) * size < len, c)).collect();
        let n = frags.len();
        frags.rotate_left(rotate.index(n));
        if reverse {
            frags.reverse();
        }
        let mut r = Reassembler::new(ReassemblyConfig { max_bytes: 1 << 20, ..ReassemblyConfig::default() });
        let key = FragmentKey { src: Ipv4Addr::LOCALHOST, dst: Ipv4Addr::LOCALHOST, protocol: 17, ident: 1 };
        let mut done = None;
        for (k, (o, more, data)) in frags.iter().enumerate() {
            match r.add(key, *o, *more, data, Instant::ZERO).unwrap() {
                Reassembled::Held => prop_assert!(k + 1 < n),
                Reassembled::Complete(p) => done = Some(p),
            }
        }
        prop_assert_eq!(done, Some(payload));
        prop_assert_eq!(r.bytes_held(), 0);
    }
}
