//! Transmit offloads: segments with only the pseudo-header checksum, and TSO
//! super-segments of several MSS that a device cuts at MSS boundaries
//! (`Config::checksum_offload`, `Config::tso_max_bytes`). The harness cuts them as a
//! device would (`common::device_segments`), so losses hit single segments.

mod common;

use common::*;
use halyard_tcp::seq::Seq;
use halyard_tcp::wire::Segment;
use halyard_tcp::{Config, ConnId};

/// Payload per segment: the MSS less the timestamp option.
const SEG: usize = 1448;
/// Largest TCP segment a 64 KB IPv4 datagram holds.
const TSO_MAX: usize = 65_535 - 20;

fn tso() -> Config {
    Config {
        checksum_offload: true,
        tso_max_bytes: TSO_MAX,
        send_buffer: 1 << 20,
        ..Config::default()
    }
}

fn big_receiver() -> Config {
    Config {
        recv_buffer: 1 << 20,
        ..Config::default()
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A's data transmits: (transmit, sequence number, payload length).
fn data_transmits(p: &Pair) -> Vec<(halyard_tcp::Transmit, Seq, usize)> {
    p.transmits
        .iter()
        .filter(|(d, _, _, len)| *d == Dir::AtoB && *len > 0)
        .map(|&(_, t, seq, len)| (t, seq, len))
        .collect()
}

/// A bulk transfer leaves in super-segments of whole segments (the short tail of the data
/// excepted) no larger than the device takes, each with a partial checksum; the first
/// flight is the initial window in one super-segment; the data arrives intact.
#[test]
fn tso_super_segments_are_cut_at_mss_boundaries() {
    let mut p = Pair::new(tso(), big_receiver());
    let (c, _, s) = p.connect();
    let data = pattern(3_000_000 + 1000);
    let (mut sent, mut got) = (0, Vec::new());
    for _ in 0..20_000 {
        if sent < data.len() {
            sent += p.a.send(p.now, c, &data[sent..]).unwrap_or(0);
        }
        p.advance(1);
        got.extend(p.read_all(false, s).0);
        if got.len() == data.len() {
            break;
        }
    }
    assert!(
        got == data,
        "data intact ({} of {} bytes)",
        got.len(),
        data.len()
    );
    let tx = data_transmits(&p);
    let end = tx
        .iter()
        .map(|(_, seq, len)| *seq + *len as u32)
        .max()
        .unwrap();
    let supers = tx.iter().filter(|(t, _, _)| t.gso_size.is_some()).count();
    assert!(
        supers * 2 > tx.len(),
        "{supers} of {} were super-segments",
        tx.len()
    );
    for (t, seq, len) in &tx {
        assert!(t.checksum_partial);
        assert!(t.len <= TSO_MAX);
        match t.gso_size {
            Some(g) => {
                assert_eq!(usize::from(g), SEG);
                assert!(*len > SEG);
                assert!(len % SEG == 0 || *seq + *len as u32 == end, "cut at {len}");
            }
            None => assert!(*len <= SEG),
        }
    }
    assert_eq!(tx[0].2, 10 * SEG, "the initial window in one super-segment");
    let largest = tx.iter().map(|(_, _, len)| *len).max().unwrap();
    assert!(
        largest > 40 * SEG,
        "64 KB super-segments once the window allows: {largest}"
    );
    // What the device put on the wire: segments of at most one MSS.
    assert!(p
        .segs(Dir::AtoB)
        .iter()
        .all(|(_, s)| s.payload.len() <= SEG));
}

/// Without `checksum_offload` the TSO setting is not taken (as HOST_TSO4 needs CSUM),
/// and without either the checksums are complete.
#[test]
fn tso_needs_checksum_offload() {
    for cfg in [
        Config {
            checksum_offload: false,
            ..tso()
        },
        Config::default(),
    ] {
        let mut p = Pair::new(cfg, big_receiver());
        let (c, _, s) = p.connect();
        p.a.send(p.now, c, &pattern(100_000)).unwrap();
        p.advance(1);
        assert_eq!(p.read_all(false, s).0.len(), 100_000);
        for (t, _, len) in data_transmits(&p) {
            assert!(!t.checksum_partial && t.gso_size.is_none() && len <= SEG);
        }
    }
    // With checksum offload alone: partial checksums, one segment each.
    let mut p = Pair::new(
        Config {
            tso_max_bytes: 0,
            ..tso()
        },
        big_receiver(),
    );
    let (c, _, s) = p.connect();
    p.a.send(p.now, c, &pattern(100_000)).unwrap();
    p.advance(1);
    assert_eq!(p.read_all(false, s).0.len(), 100_000);
    for (t, _, len) in data_transmits(&p) {
        assert!(t.checksum_partial && t.gso_size.is_none() && len <= SEG);
    }
}

/// Ten segments sent as one super-segment, the device's segment `index` lost once: the
/// data arrives without an RTO, and the repair is that one segment.
fn one_segment_lost(index: usize) -> (Pair, ConnId) {
    let mut p = Pair::new(tso(), big_receiver());
    let (c, _, s) = p.connect();
    let data = pattern(10 * SEG);
    assert_eq!(p.a.send(p.now, c, &data).unwrap(), data.len());
    let mut seen = 0;
    let mut lost: Option<Seq> = None;
    let mut keep = |d: Dir, seg: &Segment<'_>| {
        if d != Dir::AtoB || seg.payload.is_empty() || lost.is_some_and(|l| seg.header.seq == l) {
            return true;
        }
        seen += 1;
        if seen == index + 1 {
            lost = Some(seg.header.seq);
            return false;
        }
        true
    };
    let mut got = Vec::new();
    for _ in 0..20 {
        p.step_timers(50, &mut keep);
        got.extend(p.read_all(false, s).0);
    }
    assert!(got == data, "data intact ({} bytes)", got.len());
    assert_eq!(p.a.stats().timeouts, 0, "no RTO needed");
    let tx = data_transmits(&p);
    assert_eq!(
        (tx[0].0.gso_size, tx[0].2),
        (Some(SEG as u16), 10 * SEG),
        "the ten segments left as one"
    );
    let lost = lost.expect("a segment was dropped");
    let repairs: Vec<_> = tx.iter().skip(1).collect();
    assert_eq!(repairs.len(), 1, "one retransmission: {repairs:?}");
    let (t, seq, len) = repairs[0];
    assert_eq!((*seq, *len, t.gso_size), (lost, SEG, None));
    assert_eq!(p.a.stats().retransmits, 1);
    (p, c)
}

/// Six segments SACKed above the hole: SACK-based fast recovery (RFC 6675).
#[test]
fn loss_inside_a_super_segment_is_repaired_by_sack() {
    let (p, _) = one_segment_lost(3);
    let st = p.a.stats();
    assert_eq!((st.fast_recoveries, st.reorder_window_recoveries), (1, 0));
}

/// One segment SACKed above the hole: RACK's reordering window marks it lost
/// (RFC 8985 6.3).
#[test]
fn loss_near_the_end_of_a_super_segment_is_repaired_by_rack() {
    let (p, _) = one_segment_lost(8);
    let st = p.a.stats();
    assert_eq!((st.fast_recoveries, st.reorder_window_recoveries), (1, 1));
}

/// The last segment of the super-segment: the tail loss probe resends it (RFC 8985 7).
#[test]
fn loss_of_the_last_segment_is_repaired_by_the_tail_loss_probe() {
    let (p, _) = one_segment_lost(9);
    let st = p.a.stats();
    assert_eq!((st.tail_loss_probes, st.tail_loss_probe_recoveries), (1, 1));
}
