//! Fuzzing entry points and the fixtures they share with the tests.
//!
//! [`receive_frame`] and [`receive_sequence`] take arbitrary bytes, push them through a
//! configured [`Interface`] and panic only if an invariant breaks — never because the input
//! is malformed — so any fuzzer (cargo-fuzz, AFL, the seeded loop in the test suite) can
//! drive them. [`seed_frames`] gives valid frames of every kind as a starting corpus.

use crate::config::IfaceConfig;
use crate::event::Rx;
use crate::iface::{Interface, InterfaceOptions};
use crate::time::Instant;
use crate::wire::ethernet::EthernetAddress;
use crate::wire::ipv4::protocol;
use crate::{Counters, Delivery, DropReason};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

/// MAC and address of the interface under test ("us").
pub const OUR_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
pub const OUR_ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// MAC and address of its peer, also the default gateway.
pub const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
pub const PEER_ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// UDP port bound on the interface under test.
pub const BOUND_PORT: u16 = 7;

/// A configured interface (10.0.0.2/24 via 10.0.0.1) with [`BOUND_PORT`] bound and its
/// transmit queue empty.
pub fn interface() -> Interface {
    interface_with(OUR_MAC, "ip=10.0.0.2/24 gw=10.0.0.1")
}

fn interface_with(mac: EthernetAddress, cfg: &str) -> Interface {
    let mut i = Interface::new(mac, InterfaceOptions::default());
    if let Ok(cfg) = IfaceConfig::parse(cfg) {
        i.configure(cfg);
    }
    // BOUND_PORT is free on a new interface, so this cannot fail.
    let _ = i.udp_bind(BOUND_PORT);
    while i.dequeue_tx().is_some() {}
    i
}

/// Moves frames between `a` and `b` until both transmit queues are empty (bounded).
pub fn exchange(a: &mut Interface, b: &mut Interface, now: Instant) {
    for _ in 0..64 {
        let mut moved = false;
        while let Some(f) = a.dequeue_tx() {
            b.receive(&f, now);
            moved = true;
        }
        while let Some(f) = b.dequeue_tx() {
            a.receive(&f, now);
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

/// The interface under test and its peer, with each other's MAC already resolved.
pub fn connected_pair(now: Instant) -> (Interface, Interface) {
    let mut us = interface();
    let mut peer = interface_with(PEER_MAC, "ip=10.0.0.1/24");
    // A ping each way makes both sides resolve the other.
    let _ = peer.ping(OUR_ADDR, 0, 0, &[], now);
    exchange(&mut peer, &mut us, now);
    let _ = us.ping(PEER_ADDR, 0, 0, &[], now);
    exchange(&mut us, &mut peer, now);
    while peer.next_event().is_some() {}
    while us.next_event().is_some() {}
    (us, peer)
}

/// Valid frames of every kind the interface under test handles, sent by its peer.
pub fn seed_frames() -> Vec<Vec<u8>> {
    let now = Instant::ZERO;
    let mut frames = Vec::new();
    let take = |peer: &mut Interface, frames: &mut Vec<Vec<u8>>| {
        frames.extend(core::iter::from_fn(|| peer.dequeue_tx()))
    };
    // A peer that does not know us yet: its gratuitous ARP, then an ARP request for us.
    let mut fresh = Interface::new(PEER_MAC, InterfaceOptions::default());
    fresh.configure(IfaceConfig {
        addr: PEER_ADDR,
        prefix_len: 24,
        gateway: None,
        dns: Vec::new(),
    });
    let _ = fresh.ping(OUR_ADDR, 1, 1, &[], now);
    take(&mut fresh, &mut frames);
    let (mut us, mut peer) = connected_pair(now);
    // Port unreachable from the peer about a datagram of ours.
    let _ = us.udp_send_to(BOUND_PORT, PEER_ADDR, 9, b"to the peer's closed port", now);
    while let Some(f) = us.dequeue_tx() {
        peer.receive(&f, now);
    }
    take(&mut peer, &mut frames);
    // Short, truncated or odd transport payloads are useful seeds too.
    let sends: [(u8, &[u8]); 5] = [
        (protocol::TCP, b"tcp segment"),
        (99, b"unknown protocol"),
        (protocol::UDP, &[0; 8]),
        (protocol::ICMP, &[3, 3, 0, 0]),
        (protocol::TCP, &[0x5a; 3000]),
    ];
    for (proto, payload) in sends {
        let _ = peer.send_ipv4(OUR_ADDR, proto, payload, now);
        take(&mut peer, &mut frames);
    }
    let _ = peer.ping(OUR_ADDR, 0x4242, 1, b"ping payload", now);
    let _ = peer.udp_send_to(BOUND_PORT, OUR_ADDR, BOUND_PORT, b"to a bound port", now);
    let _ = peer.udp_send_to(BOUND_PORT, OUR_ADDR, 9, b"to a closed port", now);
    let _ = peer.udp_send_to(
        BOUND_PORT,
        Ipv4Addr::BROADCAST,
        BOUND_PORT,
        b"broadcast",
        now,
    );
    let _ = peer.udp_send_to(BOUND_PORT, OUR_ADDR, BOUND_PORT, &[0x33; 4000], now);
    take(&mut peer, &mut frames);
    frames
}

/// The receive-outcome counters, for before/after comparison.
fn outcomes(c: &Counters) -> Vec<u64> {
    let drops = DropReason::ALL
        .iter()
        .filter(|r| r.is_receive_outcome())
        .map(|r| c.dropped(*r));
    drops
        .chain(Delivery::ALL.iter().map(|d| c.delivered(*d)))
        .collect()
}

/// Feeds one frame and checks that exactly one outcome counter moved, by one, and that it
/// is the outcome returned. Returns that outcome's name.
pub fn receive_checked(iface: &mut Interface, frame: &[u8], now: Instant) -> &'static str {
    receive_checked_offloaded(iface, frame, now, false)
}

/// [`receive_checked`] through [`Interface::receive_offloaded`]: with `checksum_trusted`
/// the transport checksums go unverified, as for a frame the device vouched for.
pub fn receive_checked_offloaded(
    iface: &mut Interface,
    frame: &[u8],
    now: Instant,
    checksum_trusted: bool,
) -> &'static str {
    let before = outcomes(iface.counters());
    let rx = iface.receive_offloaded(frame, now, checksum_trusted);
    let after = outcomes(iface.counters());
    let changed: Vec<usize> = (0..before.len())
        .filter(|i| before[*i] != after[*i])
        .collect();
    let name = match &rx {
        Rx::Dropped(r) => r.name(),
        Rx::Delivered(d) => d.name(),
        Rx::Tcp(_) => Delivery::Tcp.name(),
        Rx::Udp(_) => Delivery::Udp.name(),
    };
    assert!(
        changed.len() == 1 && after[changed[0]] == before[changed[0]] + 1,
        "outcome counters moved {changed:?}"
    );
    let value = iface
        .counters()
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v);
    assert_eq!(
        value,
        Some(after[changed[0]]),
        "returned outcome {name} is not the one counted"
    );
    name
}

/// Fuzz entry: one frame into a fresh configured interface, then its timers far ahead.
pub fn receive_frame(data: &[u8]) {
    let mut iface = interface();
    receive_checked(&mut iface, data, Instant::ZERO);
    iface.poll(Instant::from_secs(3600));
    drain(&mut iface);
}

/// Fuzz entry: `data` as a sequence of frames, each prefixed by a 2-byte big-endian length,
/// into one interface whose clock advances by the first byte of each frame (in 100 ms), so
/// state (ARP, fragments, timers) carries over between frames. A frame whose last byte is
/// odd is received as if the device vouched for its transport checksum.
pub fn receive_sequence(mut data: &[u8]) {
    let mut iface = interface();
    let mut now = Instant::ZERO;
    while data.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([data[0], data[1]])).min(data.len() - 2);
        let frame = &data[2..2 + len];
        data = &data[2 + len..];
        let step = frame.first().map_or(0, |b| u64::from(*b));
        now = Instant::from_nanos(now.as_nanos() + step * 100_000_000);
        let trusted = frame.last().is_some_and(|b| b & 1 == 1);
        receive_checked_offloaded(&mut iface, frame, now, trusted);
        iface.poll(now);
        drain(&mut iface);
    }
}

fn drain(iface: &mut Interface) {
    while iface.dequeue_tx().is_some() {}
    while iface.next_event().is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_cover_many_outcomes() {
        let mut names = std::collections::BTreeSet::new();
        for f in seed_frames() {
            let (mut us, _) = connected_pair(Instant::ZERO);
            names.insert(receive_checked(&mut us, &f, Instant::ZERO));
        }
        for expected in [
            "rx_arp_handled",
            "rx_tcp_handed_up",
            "drop_unknown_protocol",
            "rx_udp_delivered",
            "drop_udp_no_socket",
            "rx_icmp_echo_request",
            "rx_fragment_held",
            "rx_icmp_unreachable",
        ] {
            assert!(
                names.contains(expected),
                "{expected} missing from {names:?}"
            );
        }
    }
}
