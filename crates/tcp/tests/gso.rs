//! Receive offloads: segments the device coalesced (GSO/GRO, up to 64 KB, `gso_size` the
//! sender's MSS) and checksums it vouched for ([`RxHints`]).

mod common;

use common::*;
use halyard_tcp::seq::Seq;
use halyard_tcp::wire::{Flags, SegmentHeader};
use halyard_tcp::{Config, ConnId, RxHints};

/// Payload of one coalesced frame: 44 segments of 1,448 bytes (what a 64 KB GSO frame of
/// a Linux sender with timestamps holds).
const FRAME: usize = 44 * 1448;

const GSO: RxHints = RxHints {
    checksum_trusted: true,
    gso_size: Some(1448),
};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A pair whose B takes four frames of window, connected; returns the client's port,
/// A's and B's next sequence numbers, and B's connection.
fn setup() -> (Pair, u16, Seq, Seq, ConnId) {
    let big = Config {
        recv_buffer: 1 << 20,
        ..Config::default()
    };
    let mut p = Pair::new(Config::default(), big);
    let (_, _, server) = p.connect();
    let a_port = p.segs(Dir::AtoB)[0].1.header.src_port;
    let (snd, ack) = p.last_seq_ack(Dir::AtoB);
    p.log.clear();
    (p, a_port, snd, ack, server)
}

fn data_header(a_port: u16, seq: Seq, ack: Seq) -> SegmentHeader {
    let mut h = Pair::header(Dir::AtoB, a_port, seq, ack, Flags::ACK);
    h.window = 0xffff;
    h
}

/// B's segments sent since the last call: (ack, SACK blocks as offsets from `base`).
fn acks(p: &mut Pair, base: Seq) -> Vec<(u32, Vec<(u32, u32)>)> {
    p.flush_with(&mut |d, _| d == Dir::BtoA);
    let out = p
        .segs(Dir::BtoA)
        .iter()
        .map(|(_, s)| {
            let blocks = s.header.options.sack.as_slice();
            let blocks = blocks
                .iter()
                .map(|&(l, r)| (l.since(base), r.since(base)))
                .collect();
            (s.header.ack.since(base), blocks)
        })
        .collect();
    p.log.clear();
    out
}

/// Four 64 KB frames, the second held back: the first is acknowledged at once, the two
/// after the hole each draw a duplicate ACK whose SACK block grows by a whole frame, and
/// the repair acknowledges everything; the data arrives intact and in order.
#[test]
fn gso_segments_with_holes_are_reassembled_and_sacked() {
    let (mut p, a_port, snd, ack, server) = setup();
    let data = pattern(4 * FRAME);
    let frame = |k: usize| &data[k * FRAME..(k + 1) * FRAME];
    let seq = |k: usize| snd + (k * FRAME) as u32;
    let f = FRAME as u32;
    let send = |p: &mut Pair, k: usize| {
        p.inject_with(
            Dir::AtoB,
            data_header(a_port, seq(k), ack),
            frame(k),
            GSO,
            false,
        );
    };
    send(&mut p, 0);
    assert_eq!(acks(&mut p, snd), [(f, vec![])], "one ACK for 44 segments");
    send(&mut p, 2);
    assert_eq!(acks(&mut p, snd), [(f, vec![(2 * f, 3 * f)])]);
    send(&mut p, 3);
    assert_eq!(acks(&mut p, snd), [(f, vec![(2 * f, 4 * f)])]);
    // A retransmission of part of the hole in ordinary segments, then the rest as GSO.
    p.inject(
        Dir::AtoB,
        data_header(a_port, seq(1), ack),
        &frame(1)[..1448],
    );
    assert_eq!(acks(&mut p, snd), [(f + 1448, vec![(2 * f, 4 * f)])]);
    p.inject_with(
        Dir::AtoB,
        data_header(a_port, seq(1) + 1448, ack),
        &frame(1)[1448..],
        GSO,
        false,
    );
    assert_eq!(acks(&mut p, snd), [(4 * f, vec![])]);
    let (got, _) = p.read_all(false, server);
    assert_eq!(got.len(), data.len());
    assert!(got == data, "data intact and in order");
}

/// The receive MSS comes from `gso_size`: after 64 KB frames of 536-byte segments, two
/// ordinary 536-byte segments are two full segments and draw an ACK at once; with the
/// frame length as the estimate (capped at our MSS) they would wait for the delayed ACK.
#[test]
fn gso_size_sets_the_receive_mss() {
    for (gso_size, immediate) in [(536u16, true), (1460, false)] {
        let (mut p, a_port, snd, ack, _) = setup();
        let hints = RxHints {
            checksum_trusted: true,
            gso_size: Some(gso_size),
        };
        let big = pattern(120 * 536);
        p.inject_with(Dir::AtoB, data_header(a_port, snd, ack), &big, hints, false);
        assert_eq!(acks(&mut p, snd).len(), 1);
        let mut seq = snd + big.len() as u32;
        for _ in 0..2 {
            p.inject(Dir::AtoB, data_header(a_port, seq, ack), &big[..536]);
            seq += 536;
        }
        assert_eq!(
            !acks(&mut p, snd).is_empty(),
            immediate,
            "gso_size {gso_size}"
        );
    }
}

/// A checksum the device vouched for is not verified; without the hint the same segment
/// is dropped as corrupt.
#[test]
fn trusted_checksums_are_not_verified() {
    let (mut p, a_port, snd, ack, server) = setup();
    let before = p.b.stats().drop_bad_checksum;
    let h = data_header(a_port, snd, ack);
    p.inject_with(Dir::AtoB, h, b"partial", RxHints::default(), true);
    assert_eq!(p.b.stats().drop_bad_checksum, before + 1);
    let trusted = RxHints {
        checksum_trusted: true,
        gso_size: None,
    };
    p.inject_with(Dir::AtoB, h, b"partial", trusted, true);
    assert_eq!(p.b.stats().drop_bad_checksum, before + 1);
    assert_eq!(p.read_all(false, server).0, b"partial");
}
