//! Receive offload (`halyard_net::gro`): every merge and flush rule, order, a property that
//! joining changes no flow's byte stream as a TCP receiver sees it, and random input.

use halyard_net::gro::{Gro, GroSegment, MAX_FLOWS, MAX_SEGMENT};
use halyard_net::wire::ipv4::{protocol, pseudo_header};
use halyard_net::wire::tcp::flags::{ACK, CWR, ECE, FIN, PSH, RST, SYN, URG};
use halyard_net::{Ipv4Fields, TcpSegment};
use proptest::prelude::*;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use test_rng::TestRng;

const MSS: usize = 1000;
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
const US: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
/// A timestamps option (NOP, NOP, kind 8) with TSval 7, TSecr 9.
const TS: [u8; 12] = [1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9];

/// One segment to build.
#[derive(Clone)]
struct Spec {
    src_port: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    options: Vec<u8>,
    len: usize,
    ip: Ipv4Fields,
    trusted: bool,
    bad_checksum: bool,
}

impl Spec {
    /// The `n`th full segment of flow `src_port` from sequence number 1000.
    fn nth(src_port: u16, n: u32) -> Spec {
        Spec {
            src_port,
            seq: 1000 + n * MSS as u32,
            ack: 5000,
            flags: ACK,
            window: 500,
            options: TS.to_vec(),
            len: MSS,
            ip: Ipv4Fields {
                tos: 0,
                ttl: 64,
                ident: 100 + n as u16,
                dont_frag: true,
                options: false,
                fragmented: false,
            },
            trusted: false,
            bad_checksum: false,
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Spec)) -> Spec {
        f(&mut self);
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let header_len = 20 + self.options.len();
        let mut b = vec![0u8; header_len];
        b[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        b[2..4].copy_from_slice(&80u16.to_be_bytes());
        b[4..8].copy_from_slice(&self.seq.to_be_bytes());
        b[8..12].copy_from_slice(&self.ack.to_be_bytes());
        b[12] = (header_len as u8 / 4) << 4;
        b[13] = self.flags;
        b[14..16].copy_from_slice(&self.window.to_be_bytes());
        b[20..].copy_from_slice(&self.options);
        b.extend((0..self.len).map(|i| payload_byte(self.seq.wrapping_add(i as u32))));
        let mut c = pseudo_header(PEER, US, protocol::TCP, b.len());
        c.add_bytes(&b);
        let sum = c.finish() ^ u16::from(self.bad_checksum);
        b[16..18].copy_from_slice(&sum.to_be_bytes());
        b
    }

    fn segment(&self) -> TcpSegment<'static> {
        TcpSegment {
            src: PEER,
            dst: US,
            payload: Cow::Owned(self.bytes()),
            checksum_trusted: self.trusted,
            ip: self.ip,
        }
    }
}

/// The byte at sequence number `seq` of every flow's stream.
fn payload_byte(seq: u32) -> u8 {
    (seq % 251) as u8
}

fn owned(s: GroSegment<'_>) -> GroSegment<'static> {
    GroSegment {
        bytes: Cow::Owned(s.bytes.into_owned()),
        ..s
    }
}

/// Feeds `specs` as one poll (with a flush at the end) and returns what came out.
fn poll(gro: &mut Gro, specs: &[Spec]) -> Vec<GroSegment<'static>> {
    let mut out = Vec::new();
    for s in specs {
        gro.receive(s.segment(), None, &mut |g| out.push(owned(g)));
    }
    gro.flush(&mut |g| out.push(owned(g)));
    assert!(gro.is_empty());
    out
}

fn seq(g: &GroSegment<'_>) -> u32 {
    u32::from_be_bytes(g.bytes[4..8].try_into().unwrap())
}

fn header_len(g: &GroSegment<'_>) -> usize {
    usize::from(g.bytes[12] >> 4) * 4
}

fn payload_len(g: &GroSegment<'_>) -> usize {
    g.bytes.len() - header_len(g)
}

/// (first sequence number, payload length, segments joined per the gso_size) of each
/// output.
fn shape(out: &[GroSegment<'_>]) -> Vec<(u32, usize)> {
    out.iter().map(|g| (seq(g), payload_len(g))).collect()
}

fn full(n: u32) -> Vec<Spec> {
    (0..n).map(|i| Spec::nth(1, i)).collect()
}

#[test]
fn consecutive_segments_join_into_one() {
    let mut gro = Gro::new(true);
    let out = poll(&mut gro, &full(4));
    assert_eq!(shape(&out), [(1000, 4 * MSS)]);
    let g = &out[0];
    assert_eq!(g.gso_size, Some(MSS as u16));
    assert!(g.checksum_trusted);
    assert_eq!(&g.bytes[..4], &Spec::nth(1, 0).bytes()[..4]);
    assert_eq!(&g.bytes[20..32], &TS);
    let expected: Vec<u8> = (0..4 * MSS as u32)
        .map(|i| payload_byte(1000 + i))
        .collect();
    assert_eq!(&g.bytes[32..], &expected[..]);
    let c = gro.take_counters();
    assert_eq!((c.merged, c.flushed), (3, 1));
    assert_eq!(gro.take_counters(), Default::default());
}

#[test]
fn a_lone_segment_goes_on_verified_without_gso_size() {
    let mut gro = Gro::new(true);
    let out = poll(&mut gro, &full(1));
    assert_eq!(shape(&out), [(1000, MSS)]);
    assert_eq!((out[0].gso_size, out[0].checksum_trusted), (None, true));
    assert_eq!(out[0].bytes, Spec::nth(1, 0).bytes());
    assert_eq!(gro.take_counters(), Default::default());
}

#[test]
fn syn_rst_urg_cwr_are_never_joined_and_flush_the_flow_first() {
    for flag in [SYN, RST, URG, CWR] {
        let mut specs = full(4);
        specs[2].flags |= flag;
        let mut gro = Gro::new(true);
        let out = poll(&mut gro, &specs);
        assert_eq!(
            shape(&out),
            [(1000, 2 * MSS), (3000, MSS), (4000, MSS)],
            "flag {flag:#x}"
        );
        // Passed on as it came: unverified, unchanged.
        assert_eq!(out[1].bytes, specs[2].bytes());
        assert!(!out[1].checksum_trusted);
    }
}

#[test]
fn ece_must_match_the_held_segment() {
    let mut specs = full(3);
    specs[1].flags |= ECE;
    let out = poll(&mut Gro::new(true), &specs);
    assert_eq!(shape(&out), [(1000, MSS), (2000, MSS), (3000, MSS)]);
    let all_ece: Vec<Spec> = full(3)
        .into_iter()
        .map(|s| s.with(|s| s.flags |= ECE))
        .collect();
    assert_eq!(
        shape(&poll(&mut Gro::new(true), &all_ece)),
        [(1000, 3 * MSS)]
    );
}

#[test]
fn psh_and_fin_are_joined_then_end_the_merge() {
    for flag in [PSH, FIN, PSH | FIN] {
        let mut specs = full(5);
        specs[2].flags |= flag;
        let out = poll(&mut Gro::new(true), &specs);
        assert_eq!(shape(&out), [(1000, 3 * MSS), (4000, 2 * MSS)]);
        assert_eq!(out[0].bytes[13], ACK | flag);
        assert_eq!(out[1].bytes[13], ACK);
    }
}

#[test]
fn psh_or_fin_without_a_held_segment_passes_on() {
    let specs = [Spec::nth(1, 0).with(|s| s.flags |= PSH), Spec::nth(1, 1)];
    let out = poll(&mut Gro::new(true), &specs);
    assert_eq!(shape(&out), [(1000, MSS), (2000, MSS)]);
    assert!(out[0].checksum_trusted, "verified on the way");
}

#[test]
fn header_differences_start_a_new_merge() {
    type Change = fn(&mut Spec);
    let changes: [(&str, Change); 9] = [
        ("ack", |s| s.ack += 1),
        ("window", |s| s.window += 1),
        ("timestamp value", |s| s.options[7] += 1),
        ("options length", |s| s.options.truncate(0)),
        ("tos", |s| s.ip.tos = 4),
        ("ttl", |s| s.ip.ttl = 63),
        ("df", |s| s.ip.dont_frag = false),
        ("ip id", |s| s.ip.ident += 7),
        ("data offset", |s| s.options.extend([1, 1, 1, 1])),
    ];
    for (what, change) in changes {
        let mut specs = full(4);
        for s in &mut specs[2..] {
            change(s);
        }
        let out = poll(&mut Gro::new(true), &specs);
        assert_eq!(shape(&out), [(1000, 2 * MSS), (3000, 2 * MSS)], "{what}");
    }
}

#[test]
fn ip_options_and_fragments_pass_on() {
    for change in [
        |s: &mut Spec| s.ip.options = true,
        |s: &mut Spec| s.ip.fragmented = true,
    ] {
        let mut specs = full(3);
        change(&mut specs[1]);
        let out = poll(&mut Gro::new(true), &specs);
        assert_eq!(shape(&out), [(1000, MSS), (2000, MSS), (3000, MSS)]);
        assert!(!out[1].checksum_trusted);
    }
}

#[test]
fn ip_identification_fixed_or_incrementing_but_not_both() {
    let fixed: Vec<Spec> = full(3)
        .into_iter()
        .map(|s| s.with(|s| s.ip.ident = 9))
        .collect();
    assert_eq!(shape(&poll(&mut Gro::new(true), &fixed)), [(1000, 3 * MSS)]);
    // Fixed identification needs DF.
    let no_df: Vec<Spec> = fixed
        .iter()
        .cloned()
        .map(|s| s.with(|s| s.ip.dont_frag = false))
        .collect();
    assert_eq!(shape(&poll(&mut Gro::new(true), &no_df)).len(), 3);
    // Incrementing, then fixed: the third starts anew.
    let mut mixed = full(3);
    mixed[2].ip.ident = mixed[1].ip.ident;
    let out = poll(&mut Gro::new(true), &mixed);
    assert_eq!(shape(&out), [(1000, 2 * MSS), (3000, MSS)]);
}

#[test]
fn gaps_and_retransmissions_are_not_joined() {
    // A gap (segment 1 lost).
    let specs = [Spec::nth(1, 0), Spec::nth(1, 2), Spec::nth(1, 3)];
    let out = poll(&mut Gro::new(true), &specs);
    assert_eq!(shape(&out), [(1000, MSS), (3000, 2 * MSS)]);
    // A retransmission of segment 0 after 0 and 1.
    let specs = [Spec::nth(1, 0), Spec::nth(1, 1), Spec::nth(1, 0)];
    let out = poll(&mut Gro::new(true), &specs);
    assert_eq!(shape(&out), [(1000, 2 * MSS), (1000, MSS)]);
}

#[test]
fn a_short_segment_ends_the_merge_and_a_longer_one_is_not_joined() {
    let mut specs = full(3);
    specs[1].len = MSS / 2;
    specs[2].seq = specs[1].seq + (MSS / 2) as u32;
    let out = poll(&mut Gro::new(true), &specs);
    assert_eq!(shape(&out), [(1000, MSS + MSS / 2), (2500, MSS)]);
    assert_eq!(out[0].gso_size, Some(MSS as u16));

    let mut specs = full(2);
    specs[1].len = MSS + 1;
    let out = poll(&mut Gro::new(true), &specs);
    assert_eq!(shape(&out), [(1000, MSS), (2000, MSS + 1)]);
}

#[test]
fn a_joined_segment_stays_within_64_kb() {
    let n = 140;
    let out = poll(&mut Gro::new(true), &full(n));
    let header = 20 + TS.len();
    let per = (MAX_SEGMENT - header) / MSS;
    assert!(out.iter().all(|g| g.bytes.len() <= MAX_SEGMENT));
    assert_eq!(
        shape(&out),
        [
            (1000, per * MSS),
            (1000 + (per * MSS) as u32, per * MSS),
            (1000 + (2 * per * MSS) as u32, (n as usize - 2 * per) * MSS)
        ]
    );
}

#[test]
fn pure_acks_pass_on_after_their_flow() {
    let specs = [
        Spec::nth(1, 0),
        Spec::nth(1, 1),
        Spec::nth(1, 2).with(|s| s.len = 0),
        Spec::nth(1, 2),
    ];
    let out = poll(&mut Gro::new(true), &specs);
    assert_eq!(shape(&out), [(1000, 2 * MSS), (3000, 0), (3000, MSS)]);
}

#[test]
fn bad_checksums_are_never_joined() {
    let mut specs = full(4);
    specs[2].bad_checksum = true;
    let out = poll(&mut Gro::new(true), &specs);
    assert_eq!(shape(&out), [(1000, 2 * MSS), (3000, MSS), (4000, MSS)]);
    assert!(!out[1].checksum_trusted);
    assert_eq!(out[1].bytes, specs[2].bytes());
    // A checksum the device vouched for is not looked at.
    let trusted: Vec<Spec> = full(3)
        .into_iter()
        .map(|s| s.with(|s| (s.trusted, s.bad_checksum) = (true, true)))
        .collect();
    assert_eq!(
        shape(&poll(&mut Gro::new(true), &trusted)),
        [(1000, 3 * MSS)]
    );
}

#[test]
fn interleaved_flows_are_joined_separately_in_order() {
    let specs = [
        Spec::nth(1, 0),
        Spec::nth(2, 0),
        Spec::nth(1, 1),
        Spec::nth(2, 1),
        Spec::nth(1, 2),
    ];
    let mut gro = Gro::new(true);
    let out = poll(&mut gro, &specs);
    let ports: Vec<u8> = out.iter().map(|g| g.bytes[1]).collect();
    assert_eq!(ports, [1, 2]);
    assert_eq!(shape(&out), [(1000, 3 * MSS), (1000, 2 * MSS)]);
    assert_eq!(gro.take_counters().merged, 3);
}

#[test]
fn a_flow_beyond_the_limit_flushes_the_oldest() {
    let mut gro = Gro::new(true);
    let mut out = Vec::new();
    for port in 1..=MAX_FLOWS as u16 + 1 {
        gro.receive(Spec::nth(port, 0).segment(), None, &mut |g| {
            out.push(owned(g))
        });
    }
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].bytes[1], 1);
    gro.flush(&mut |g| out.push(owned(g)));
    assert_eq!(out.len(), MAX_FLOWS + 1);
}

#[test]
fn device_gso_frames_and_disabled_gro_pass_on_unchanged() {
    let mut gro = Gro::new(true);
    let mut out = Vec::new();
    gro.receive(Spec::nth(1, 0).segment(), None, &mut |g| out.push(owned(g)));
    let big = Spec::nth(1, 1).with(|s| (s.len, s.trusted) = (4 * MSS, true));
    gro.receive(big.segment(), Some(MSS as u16), &mut |g| out.push(owned(g)));
    assert_eq!(shape(&out), [(1000, MSS), (2000, 4 * MSS)]);
    assert_eq!(
        (out[1].gso_size, out[1].checksum_trusted),
        (Some(MSS as u16), true)
    );

    let specs = full(3);
    let out = poll(&mut Gro::new(false), &specs);
    assert_eq!(shape(&out), [(1000, MSS), (2000, MSS), (3000, MSS)]);
    assert!(out
        .iter()
        .all(|g| !g.checksum_trusted && g.gso_size.is_none()));
}

/// A TCP receiver's view of one flow: the in-order byte stream from sequence number 1000
/// on, and the data received beyond it, kept until the gap before it fills (what the
/// engine delivers to the application, whatever the segments' boundaries).
#[derive(Default)]
struct Receiver {
    stream: Vec<u8>,
    /// (offset from sequence number 1000, data), in arrival order.
    ahead: Vec<(i64, Vec<u8>)>,
}

impl Receiver {
    fn take(&mut self, g: &GroSegment<'_>) {
        if !g.checksum_trusted && !verifies(g) {
            return;
        }
        let at = i64::from(seq(g).wrapping_sub(1000) as i32);
        self.ahead.push((at, g.bytes[header_len(g)..].to_vec()));
        // Deliver whatever starts at or before the stream's end, trimmed to what is new.
        while let Some(i) = self
            .ahead
            .iter()
            .position(|(at, _)| *at <= self.stream.len() as i64)
        {
            let (at, data) = self.ahead.swap_remove(i);
            let skip = (self.stream.len() as i64 - at) as usize;
            if skip < data.len() {
                self.stream.extend(&data[skip..]);
            }
        }
    }
}

fn verifies(g: &GroSegment<'_>) -> bool {
    let mut c = pseudo_header(g.src, g.dst, protocol::TCP, g.bytes.len());
    c.add_bytes(&g.bytes);
    c.sum16() == 0xffff
}

/// What each flow's receiver ends with.
fn streams(out: &[GroSegment<'_>]) -> BTreeMap<u8, Vec<u8>> {
    let mut r: BTreeMap<u8, Receiver> = BTreeMap::new();
    for g in out {
        r.entry(g.bytes[1]).or_default().take(g);
    }
    r.into_iter().map(|(k, v)| (k, v.stream)).collect()
}

/// Per flow, every payload byte in the order it was handed on.
fn payloads(out: &[GroSegment<'_>]) -> BTreeMap<u8, Vec<u8>> {
    let mut r: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    for g in out {
        r.entry(g.bytes[1])
            .or_default()
            .extend(&g.bytes[header_len(g)..]);
    }
    r
}

/// Up to three flows' segments in random polls, with loss, reordering, duplicates,
/// short segments, PSH, ACK and window changes and bad checksums.
fn traffic(seed: u64) -> Vec<Vec<Spec>> {
    let mut rng = TestRng::new(seed);
    let mut next = [1000u32; 3];
    let mut ident = [0u16; 3];
    let mut polls = Vec::new();
    for _ in 0..1 + rng.index(8) {
        let mut poll = Vec::new();
        for _ in 0..rng.index(40) {
            let flow = rng.index(3);
            let len = if rng.chance(0.2) {
                rng.index(MSS + 1)
            } else {
                MSS
            };
            let mut s = Spec::nth(flow as u16 + 1, 0).with(|s| (s.seq, s.len) = (next[flow], len));
            ident[flow] = ident[flow].wrapping_add(1);
            s.ip.ident = if rng.chance(0.05) {
                rng.byte().into()
            } else {
                ident[flow]
            };
            s.ip.dont_frag = !rng.chance(0.05);
            s.flags |= if rng.chance(0.1) { PSH } else { 0 };
            s.ack += u32::from(rng.chance(0.05));
            s.window += u16::from(rng.chance(0.05));
            s.bad_checksum = rng.chance(0.05);
            s.trusted = rng.chance(0.3) && !s.bad_checksum;
            if rng.chance(0.05) {
                s.seq = s.seq.wrapping_sub(rng.below(3 * MSS as u64) as u32);
            }
            if !rng.chance(0.05) {
                next[flow] = s.seq.wrapping_add(len as u32).max(next[flow]);
            }
            poll.push(s);
        }
        if rng.chance(0.3) && poll.len() > 1 {
            let (a, b) = (rng.index(poll.len()), rng.index(poll.len()));
            poll.swap(a, b);
        }
        polls.push(poll);
    }
    polls
}

proptest! {
    /// Joining hands on the same bytes in the same order per flow, and a TCP receiver ends
    /// with the same stream, whatever the traffic.
    #[test]
    fn joining_changes_no_stream(seed in any::<u64>()) {
        let polls = traffic(seed);
        let (mut on, mut off) = (Gro::new(true), Gro::new(false));
        let (mut joined, mut plain) = (Vec::new(), Vec::new());
        for p in &polls {
            joined.extend(poll(&mut on, p));
            plain.extend(poll(&mut off, p));
        }
        prop_assert_eq!(payloads(&joined), payloads(&plain));
        prop_assert_eq!(streams(&joined), streams(&plain));
        for g in &joined {
            prop_assert!(g.bytes.len() <= MAX_SEGMENT);
            if let Some(mss) = g.gso_size {
                prop_assert!(payload_len(g) > usize::from(mss));
            }
        }
        let c = on.take_counters();
        prop_assert_eq!(plain.len() as u64 - joined.len() as u64, c.merged);
    }
}

/// The property above is not vacuous: its traffic does get joined.
#[test]
fn the_random_traffic_is_joined() {
    let mut gro = Gro::new(true);
    for seed in 0..64 {
        for p in traffic(seed) {
            poll(&mut gro, &p);
        }
    }
    let c = gro.take_counters();
    assert!(c.merged > 1000 && c.flushed > 100, "{c:?}");
}

/// Random and mutated segments never panic, and everything received is handed on.
#[test]
fn random_segments_never_panic() {
    let mut rng = TestRng::new(15);
    let mut gro = Gro::new(true);
    for round in 0..20_000 {
        let mut bytes = if rng.chance(0.5) {
            Spec::nth(rng.index(12) as u16, rng.index(4) as u32).bytes()
        } else {
            rng.bytes_in(0..80)
        };
        for _ in 0..rng.index(4) {
            if !bytes.is_empty() {
                let at = rng.index(bytes.len());
                bytes[at] = rng.byte();
            }
        }
        let seg = TcpSegment {
            src: PEER,
            dst: US,
            payload: Cow::Owned(bytes),
            checksum_trusted: rng.chance(0.5),
            ip: Ipv4Fields {
                ident: rng.byte().into(),
                dont_frag: rng.chance(0.5),
                ttl: 64,
                ..Default::default()
            },
        };
        let gso = rng.chance(0.1).then(|| rng.byte().into());
        gro.receive(seg, gso, &mut |g| {
            assert!(g.bytes.len() <= MAX_SEGMENT.max(80))
        });
        if round % 17 == 0 {
            gro.flush(&mut |_| {});
            assert!(gro.is_empty());
        }
    }
}
