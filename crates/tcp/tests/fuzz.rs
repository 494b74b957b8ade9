//! Seeded, stable randomized hammering of the fuzz entry point: random scripts, and
//! scripts built from mutated real segments, must never panic. Also checks that every
//! malformed segment is counted.

use halyard_tcp::fuzz::fuzz_segments;
use test_rng::TestRng;

#[test]
fn random_scripts_never_panic() {
    let mut r = TestRng::new(1);
    for _ in 0..3000 {
        let len = r.index(600);
        let input: Vec<u8> = (0..len).map(|_| r.byte()).collect();
        fuzz_segments(&input);
    }
}

/// Scripts of crafted segments with realistic flags, options and window positions.
#[test]
fn crafted_segment_scripts_never_panic() {
    let mut r = TestRng::new(2);
    for _ in 0..3000 {
        let mut input = Vec::new();
        for _ in 0..r.below(30) {
            match r.below(5) {
                0 | 1 => {
                    // op 1: crafted segment; header bytes with interesting flags/options.
                    let opt_len = r.index(11) * 4;
                    let payload = r.index(64);
                    let mut seg = vec![0u8; 20 + opt_len + payload];
                    for b in seg.iter_mut() {
                        *b = r.byte();
                    }
                    seg[12] = (((20 + opt_len) / 4) as u8) << 4;
                    let flags = [0x10, 0x18, 0x11, 0x04, 0x14, 0x02, 0x12, 0x01, 0x19, 0x3f];
                    seg[13] = flags[r.index(flags.len())];
                    // Options drawn from real kinds with sometimes-bad lengths.
                    let mut o = 20;
                    while o + 2 <= 20 + opt_len {
                        let kinds = [1, 2, 3, 4, 5, 8, 0, 99];
                        seg[o] = kinds[r.index(8)];
                        seg[o + 1] = r.below(12) as u8;
                        o += 2 + r.index(8);
                    }
                    input.push(1);
                    input.push(r.byte() | 2);
                    input.push(seg.len().min(255) as u8);
                    input.extend_from_slice(&seg[..seg.len().min(255)]);
                }
                2 => input.extend_from_slice(&[2, r.byte() % 40]),
                3 => input.extend_from_slice(&[3, 4, r.byte(), 5]),
                _ => input.push(r.byte() % 8),
            }
        }
        fuzz_segments(&input);
    }
}

/// Every malformed segment is counted under exactly one wire-error reason.
#[test]
fn malformed_segments_are_all_counted() {
    use core::net::Ipv4Addr;
    use halyard_tcp::wire::Segment;
    use halyard_tcp::{Config, Endpoint, Instant};
    let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let mut ep = Endpoint::new(Config::default(), [3; 16]);
    let mut r = TestRng::new(3);
    let mut bad = 0;
    for i in 0..5000u64 {
        let len = r.index(80);
        let mut seg: Vec<u8> = (0..len).map(|_| r.byte()).collect();
        if i % 2 == 0 && len >= 20 {
            // Valid checksum half of the time, so the later checks are reached too.
            halyard_tcp::wire::fill_checksum(&mut seg, a, b);
        }
        if Segment::parse(&seg, a, b).is_err() {
            bad += 1;
        }
        ep.receive(Instant::from_millis(i), a, b, &seg);
    }
    let s = ep.stats();
    assert_eq!(s.segments_in, 5000);
    let wire = s.drop_truncated
        + s.drop_bad_offset
        + s.drop_bad_checksum
        + s.drop_bad_option
        + s.drop_bad_flags;
    assert_eq!(wire, bad);
    assert!(bad > 2000 && bad < 5000);
    // The rest were well-formed segments for no connection: counted too.
    assert_eq!(s.drop_no_connection, 5000 - bad);
}
