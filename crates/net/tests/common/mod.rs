//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use halyard_net::wire::{ethernet, icmp, ipv4, udp};
use halyard_net::Interface;

/// All frames queued for transmission.
pub fn drain_tx(i: &mut Interface) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| i.dequeue_tx()).collect()
}

/// All pending events.
pub fn drain_events(i: &mut Interface) -> Vec<halyard_net::Event> {
    std::iter::from_fn(|| i.next_event()).collect()
}

/// The IPv4 packet inside an Ethernet frame.
pub fn ip_of(frame: &[u8]) -> ipv4::Packet<&[u8]> {
    let f = ethernet::Frame::new_checked(frame).expect("ethernet");
    assert_eq!(f.ethertype(), ethernet::ethertype::IPV4);
    ipv4::Packet::new_checked(&frame[ethernet::HEADER_LEN..]).expect("ipv4")
}

/// The ICMP message inside an Ethernet frame, owned: (type, code, whole message).
pub fn icmp_of(frame: &[u8]) -> (u8, u8, Vec<u8>) {
    let ip = ip_of(frame);
    assert_eq!(ip.protocol(), ipv4::protocol::ICMP);
    let p = icmp::Packet::new_checked(ip.payload()).expect("icmp checksum");
    (p.msg_type(), p.code(), ip.payload().to_vec())
}

/// The UDP payload inside an Ethernet frame, checksum verified.
pub fn udp_payload_of(frame: &[u8]) -> (udp::Repr, Vec<u8>) {
    let ip = ip_of(frame);
    let p = udp::Packet::new_checked(ip.payload()).expect("udp");
    let r = udp::Repr::parse(&p, ip.src(), ip.dst()).expect("udp checksum");
    (r, p.payload().to_vec())
}

/// Recomputes the IPv4 header checksum of an Ethernet frame after a test edited it.
pub fn reseal_ip(frame: &mut [u8]) {
    let hl = usize::from(frame[14] & 0xf) * 4;
    frame[24] = 0;
    frame[25] = 0;
    let c = inet_checksum::checksum(&frame[14..14 + hl]);
    frame[24..26].copy_from_slice(&c.to_be_bytes());
}
