//! A seeded, deterministic fuzz run inside `cargo test`: 100,000 random and mutated-valid
//! frames through the fuzz entry points. Fails on any panic or broken counting invariant,
//! and checks that the mutations reach deep into the stack (many different outcomes).

mod common;

use halyard_net::fuzz::{
    connected_pair, receive_checked, receive_frame, receive_sequence, seed_frames, OUR_MAC,
};
use halyard_net::Instant;
use std::collections::BTreeMap;
use test_rng::TestRng;

const FRAMES: usize = 100_000;

fn mutate(rng: &mut TestRng, frame: &mut Vec<u8>) {
    for _ in 0..1 + rng.index(4) {
        match rng.index(6) {
            0 if !frame.is_empty() => {
                let at = rng.index(frame.len());
                frame[at] ^= 1 << rng.below(8);
            }
            1 if !frame.is_empty() => {
                let at = rng.index(frame.len());
                frame[at] = rng.byte();
            }
            2 => frame.truncate(rng.index(frame.len() + 1)),
            3 => frame.extend(rng.bytes_in(0..64)),
            4 if frame.len() > 20 => {
                // Interesting values in IPv4 header fields (length, flags, TTL, protocol).
                let at = 14 + [2, 3, 6, 7, 8, 9, 0][rng.index(7)];
                if at < frame.len() {
                    frame[at] = [0, 1, 0x20, 0x40, 0x45, 0xff, 6, 17][rng.index(8)];
                }
            }
            _ => {}
        }
    }
}

#[test]
fn hundred_thousand_frames() {
    let mut rng = TestRng::new(0x4841_4c59_4152_4421);
    let seeds = seed_frames();
    let (mut us, _) = connected_pair(Instant::ZERO);
    let mut outcomes: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut now = Instant::ZERO;
    for n in 0..FRAMES {
        let frame = if n % 2 == 0 {
            let mut f = seeds[rng.index(seeds.len())].clone();
            mutate(&mut rng, &mut f);
            f
        } else {
            let mut f = rng.bytes_in(0..1600);
            // Half the random frames are addressed to us as IPv4 or ARP, to get past Ethernet.
            if f.len() >= 14 && rng.index(2) == 0 {
                f[..6].copy_from_slice(&OUR_MAC.0);
                f[12..14].copy_from_slice(&[0x08, [0x00, 0x06][rng.index(2)]]);
            }
            f
        };
        *outcomes
            .entry(receive_checked(&mut us, &frame, now))
            .or_default() += 1;
        if n % 1000 == 0 {
            receive_frame(&frame);
            receive_sequence(&frame);
            now = Instant::from_millis(now.as_nanos() / 1_000_000 + 700);
            us.poll(now);
        }
        while us.dequeue_tx().is_some() {}
        while us.next_event().is_some() {}
    }
    assert_eq!(outcomes.values().sum::<usize>(), FRAMES);
    let c = us.counters();
    // Every frame ever received (those of the pair's handshake included) has one outcome.
    let received = c.layer(halyard_net::Layer::Ethernet).rx_packets;
    assert_eq!(
        c.total_delivered() + c.total_dropped() - secondary(c),
        received
    );
    for deep in [
        "rx_tcp_handed_up",
        "rx_udp_delivered",
        "rx_icmp_echo_request",
        "rx_fragment_held",
        "drop_bad_checksum",
        "drop_udp_no_socket",
    ] {
        assert!(
            outcomes.get(deep).copied().unwrap_or(0) > 10,
            "{deep} rarely reached: {outcomes:?}"
        );
    }
    assert!(
        outcomes.len() >= 20,
        "only {} outcomes: {outcomes:?}",
        outcomes.len()
    );
}

fn secondary(c: &halyard_net::Counters) -> u64 {
    halyard_net::DropReason::ALL
        .iter()
        .filter(|r| !r.is_receive_outcome())
        .map(|r| c.dropped(*r))
        .sum()
}
