//! Pacing through the public API: with BBR, `poll_transmit` stops once the burst
//! allowance is used and `poll_timeout` reports when the next segment is due; CUBIC
//! sends the whole window at once.

mod common;

use common::Pair;
use halyard_tcp::congestion::Algorithm;
use halyard_tcp::{Config, Instant, MAX_HEADER};

/// Segments A sends at `now` without any ACK coming back.
fn burst(p: &mut Pair, now: Instant) -> usize {
    let mut buf = vec![0u8; MAX_HEADER + 2048];
    let mut n = 0;
    while p.a.poll_transmit(now, &mut buf).is_some() {
        n += 1;
    }
    n
}

fn pair(congestion: Algorithm) -> (Pair, halyard_tcp::ConnId) {
    let cfg = Config {
        congestion,
        initial_window_segments: 100,
        ..Config::default()
    };
    let mut p = Pair::new(cfg, Config::default());
    let (c, _, s) = p.connect();
    let now = p.now;
    // A segment from B carries its scaled window (the SYN-ACK's is capped at 64 KiB).
    assert_eq!(p.b.send(now, s, b"x"), Ok(1));
    p.flush();
    assert_eq!(p.a.send(now, c, &[7u8; 200_000]), Ok(200_000));
    (p, c)
}

#[test]
fn bbr_paces_the_initial_window_and_wakes_for_the_rest() {
    let (mut p, _) = pair(Algorithm::Cubic);
    let now = p.now;
    assert_eq!(burst(&mut p, now), 100, "CUBIC: the initial window at once");

    let (mut p, _) = pair(Algorithm::Bbr);
    let now = p.now;
    let first = burst(&mut p, now);
    // Startup paces at 2.89 · IW / 1 ms (no RTT sample yet) = 418 MB/s: the burst
    // allowance is capped at 64 KiB, 45 full segments, plus the one due now.
    assert!((40..=50).contains(&first), "{first} segments at once");
    // The rest follows as the pacing timer fires (other timers may wake the
    // connection in between: the harness's zero RTT makes the probe timeout tiny).
    let mut sent = first;
    let mut t = now;
    while sent < 100 {
        let due = p.a.poll_timeout().expect("pacing timer armed");
        assert!(due > t, "the next wake-up is later");
        assert!(
            due.micros() - now.micros() < 1_000,
            "at 418 MB/s within 1 ms"
        );
        t = due;
        p.a.handle_timeout(t);
        let n = burst(&mut p, t);
        assert!(n <= 2, "{n} segments: no second burst");
        sent += n;
    }
    // 54 more segments of 1448 bytes at 418 MB/s take 187 µs.
    let elapsed = t.micros() - now.micros();
    assert!((180..=200).contains(&elapsed), "{elapsed} µs");
}
