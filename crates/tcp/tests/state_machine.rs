//! State-machine tests over a direct two-endpoint harness. Each test names the RFC
//! section it checks.

mod common;

use core::net::SocketAddrV4;
use std::time::Duration;

use common::*;
use halyard_tcp::seq::Seq;
use halyard_tcp::wire::{Flags, Options};
use halyard_tcp::{Config, Error, Keepalive, State, MAX_HEADER};

fn port_of(p: &Pair, c: halyard_tcp::ConnId) -> u16 {
    p.a.info(c).unwrap().local.port()
}

/// An established pair with the client's port and its next SEQ and ACK.
fn established() -> (Pair, halyard_tcp::ConnId, u16, Seq, Seq) {
    let mut p = Pair::default_pair();
    let (c, _l, s) = p.connect();
    let port = port_of(&p, c);
    let (nxt, ack) = p.last_seq_ack(Dir::AtoB);
    (p, s, port, nxt, ack)
}

/// RFC 9293 3.5 (three-way handshake) and 3.10.7: data both ways.
#[test]
fn rfc9293_3_5_handshake_and_data() {
    let mut p = Pair::default_pair();
    let (c, _l, s) = p.connect();
    assert_eq!(p.a.state(c).unwrap(), State::Established);
    assert_eq!(p.b.state(s).unwrap(), State::Established);
    p.a.send(p.now, c, b"hello").unwrap();
    p.flush();
    assert_eq!(p.read_all(false, s).0, b"hello");
    p.b.send(p.now, s, b"world").unwrap();
    p.flush();
    assert_eq!(p.read_all(true, c).0, b"world");
}

/// RFC 9293 3.5 figure 8: simultaneous open (SYNs cross, then SYN-ACKs cross).
#[test]
fn simultaneous_open() {
    let mut p = Pair::default_pair();
    let (pa, pb) = (SocketAddrV4::new(A_IP, 1000), SocketAddrV4::new(B_IP, PORT));
    let ca = p.a.connect_from(p.now, pa, pb).unwrap();
    let cb = p.b.connect_from(p.now, pb, pa).unwrap();
    let mut buf = vec![0u8; MAX_HEADER + 1500];
    for _ in 0..2 {
        let ta = p.a.poll_transmit(p.now, &mut buf).unwrap();
        let syn_a = buf[..ta.len].to_vec();
        let tb = p.b.poll_transmit(p.now, &mut buf).unwrap();
        let syn_b = buf[..tb.len].to_vec();
        p.b.receive(p.now, A_IP, B_IP, &syn_a);
        p.a.receive(p.now, B_IP, A_IP, &syn_b);
        assert_eq!(
            p.a.state(ca).unwrap() == State::SynReceived,
            p.b.state(cb).unwrap() == State::SynReceived
        );
    }
    p.flush();
    assert_eq!(p.a.state(ca).unwrap(), State::Established);
    assert_eq!(p.b.state(cb).unwrap(), State::Established);
    p.a.send(p.now, ca, b"x").unwrap();
    p.flush();
    assert_eq!(p.read_all(false, cb).0, b"x");
}

/// RFC 9293 3.6 figure 13: simultaneous close goes through CLOSING to TIME-WAIT on both
/// sides, and TIME-WAIT lasts 2·MSL (section 3.4.2).
#[test]
fn simultaneous_close_and_time_wait() {
    let mut p = Pair::default_pair();
    let (c, _l, s) = p.connect();
    p.a.close(p.now, c).unwrap();
    p.b.close(p.now, s).unwrap();
    let mut buf = vec![0u8; MAX_HEADER + 1500];
    let ta = p.a.poll_transmit(p.now, &mut buf).unwrap();
    let fin_a = buf[..ta.len].to_vec();
    let tb = p.b.poll_transmit(p.now, &mut buf).unwrap();
    let fin_b = buf[..tb.len].to_vec();
    p.b.receive(p.now, A_IP, B_IP, &fin_a);
    p.a.receive(p.now, B_IP, A_IP, &fin_b);
    assert_eq!(p.a.state(c).unwrap(), State::Closing);
    assert_eq!(p.b.state(s).unwrap(), State::Closing);
    p.flush();
    assert_eq!(p.a.state(c).unwrap(), State::TimeWait);
    assert_eq!(p.b.state(s).unwrap(), State::TimeWait);
    p.advance(59_999);
    assert_eq!(p.a.state(c).unwrap(), State::TimeWait);
    p.advance(2);
    assert_eq!(p.a.state(c).unwrap(), State::Closed);
    assert_eq!(p.a.info(c).unwrap().error, None);
}

/// RFC 9293 3.6 (half-close): after A closes, B keeps sending and A keeps receiving;
/// A ends in TIME-WAIT, B (LAST-ACK) in CLOSED.
#[test]
fn half_close() {
    let mut p = Pair::default_pair();
    let (c, _l, s) = p.connect();
    p.a.close(p.now, c).unwrap();
    p.flush();
    assert_eq!(p.a.state(c).unwrap(), State::FinWait2);
    assert_eq!(p.b.state(s).unwrap(), State::CloseWait);
    assert_eq!(p.read_all(false, s), (vec![], true), "B sees end of stream");
    let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let mut off = 0;
    let mut got = Vec::new();
    while got.len() < data.len() {
        off += p.b.send(p.now, s, &data[off..]).unwrap_or(0);
        p.advance(1);
        got.extend(p.read_all(true, c).0);
    }
    assert_eq!(got, data);
    p.b.close(p.now, s).unwrap();
    p.flush();
    assert_eq!(p.a.state(c).unwrap(), State::TimeWait);
    assert_eq!(p.b.state(s).unwrap(), State::Closed);
    assert_eq!(p.a.send(p.now, c, b"late"), Err(Error::InvalidState));
    // No data can flow any more: buffer memory is given back.
    assert_eq!(p.a.info(c).unwrap().buffer_bytes, 0);
    assert_eq!(p.b.info(s).unwrap().buffer_bytes, 0);
}

/// RFC 9293 3.10.7.1: a SYN to a port nobody listens on is answered with RST, and the
/// connecting side reports the refusal.
#[test]
fn rst_from_closed_port_refuses() {
    let mut p = Pair::default_pair();
    let c =
        p.a.connect(p.now, A_IP, SocketAddrV4::new(B_IP, 9))
            .unwrap();
    p.flush();
    assert_eq!(p.a.info(c).unwrap().error, Some(Error::Refused));
    assert_eq!(p.b.stats().drop_no_connection, 1);
}

/// RFC 5961 section 3.2: a RST inside the window but not at RCV.NXT only draws a
/// (challenge) ACK; a RST exactly at RCV.NXT resets.
#[test]
fn rfc5961_3_2_rst_must_be_exact() {
    let (mut p, s, port, nxt, ack) = established();
    let before = p.log.len();
    p.inject(
        Dir::AtoB,
        Pair::header(Dir::AtoB, port, nxt + 100, ack, Flags::RST),
        b"",
    );
    p.flush();
    assert_eq!(p.b.state(s).unwrap(), State::Established);
    assert_eq!(p.b.stats().drop_rst_not_exact, 1);
    assert_eq!(p.b.stats().challenge_acks, 1);
    assert!(
        p.log[before..].iter().any(|(d, _, _)| *d == Dir::BtoA),
        "challenge ACK sent"
    );
    p.inject(
        Dir::AtoB,
        Pair::header(Dir::AtoB, port, nxt, ack, Flags::RST),
        b"",
    );
    assert_eq!(p.b.info(s).unwrap().error, Some(Error::Reset));
    assert_eq!(p.b.state(s).unwrap(), State::Closed);
}

/// RFC 5961 section 4.2: a SYN on an established connection draws a challenge ACK and
/// changes nothing.
#[test]
fn rfc5961_4_2_syn_in_window_challenged() {
    let (mut p, s, port, nxt, _) = established();
    p.inject(
        Dir::AtoB,
        Pair::header(
            Dir::AtoB,
            port,
            nxt + 5,
            halyard_tcp::seq::Seq(0),
            Flags::SYN,
        ),
        b"",
    );
    assert_eq!(p.b.state(s).unwrap(), State::Established);
    assert_eq!(p.b.stats().drop_syn_in_window, 1);
    assert_eq!(p.b.stats().challenge_acks, 1);
}

/// RFC 5961 section 5.2: an ACK for data never sent is dropped (with an ACK) and its
/// payload is not accepted.
#[test]
fn rfc5961_5_2_ack_of_unsent_data_dropped() {
    let (mut p, s, port, nxt, ack) = established();
    p.inject(
        Dir::AtoB,
        Pair::header(Dir::AtoB, port, nxt, ack + 100_000, Flags::ACK),
        b"evil",
    );
    assert_eq!(p.b.stats().drop_bad_ack, 1);
    assert_eq!(p.b.recv_queue(s).unwrap(), 0);
}

/// Injects a bare SYN to B from each of `ports`.
fn syn_from_ports(p: &mut Pair, ports: core::ops::Range<u16>) {
    for port in ports {
        p.inject(
            Dir::AtoB,
            Pair::header(Dir::AtoB, port, Seq(7), Seq(0), Flags::SYN),
            b"",
        );
    }
}

/// Bounded SYN queue: a flood of SYNs from many ports never holds more half-open
/// connections than the backlog, and they expire after the SYN-ACK retries.
#[test]
fn syn_flood_is_bounded() {
    let cfg = Config {
        syn_backlog: 8,
        syn_retries: 2,
        ..Config::default()
    };
    let mut p = Pair::new(Config::default(), cfg);
    let l = p.b.listen(SocketAddrV4::new(B_IP, PORT)).unwrap();
    syn_from_ports(&mut p, 1000..2000);
    assert_eq!(p.b.connection_count(), 8);
    assert_eq!(p.b.stats().drop_syn_queue_full, 992);
    // SYN-ACKs go to A, which has no such connections and answers RST: B frees them.
    p.flush();
    assert_eq!(p.b.connection_count(), 0);
    // Without anyone answering, half-open entries expire after the retries.
    syn_from_ports(&mut p, 3000..3008);
    let mut drop_all = |_: Dir, _: &halyard_tcp::wire::Segment<'_>| false;
    for _ in 0..50 {
        p.step_timers(10_000, &mut drop_all);
    }
    assert_eq!(p.b.connection_count(), 0);
    assert!(p.b.accept(l).is_none());
    // A real client still gets in afterwards.
    let c =
        p.a.connect(p.now, A_IP, SocketAddrV4::new(B_IP, PORT))
            .unwrap();
    p.flush();
    assert_eq!(p.a.state(c).unwrap(), State::Established);
    assert!(p.b.accept(l).is_some());
}

/// RFC 7323 section 5.3: a segment with an older timestamp (an old duplicate) is dropped
/// by PAWS and answered with an ACK.
#[test]
fn rfc7323_5_3_paws_drops_old_duplicate() {
    let mut p = Pair::default_pair();
    let (c, _l, s) = p.connect();
    p.a.send(p.now, c, b"first").unwrap();
    p.flush();
    let old = p
        .log
        .iter()
        .rev()
        .find(|(d, _, b)| *d == Dir::AtoB && b.len() > 32)
        .unwrap()
        .2
        .clone();
    p.advance(1000);
    p.a.send(p.now, c, b"second").unwrap();
    p.flush();
    assert_eq!(p.read_all(false, s).0, b"firstsecond");
    p.b.receive(p.now, A_IP, B_IP, &old);
    assert_eq!(p.b.stats().drop_paws, 1);
    assert_eq!(p.b.recv_queue(s).unwrap(), 0);
}

/// RFC 7323 sections 2.2-2.3: window scaling is negotiated on SYN, the SYN's window is
/// unscaled, and later windows beyond 64 KiB are expressed with the shift.
#[test]
fn rfc7323_2_window_scaling() {
    let cfg = Config {
        recv_buffer: 1 << 20,
        ..Config::default()
    };
    let mut p = Pair::new(cfg.clone(), cfg);
    let (c, _l, _s) = p.connect();
    p.a.send(p.now, c, &[5u8; 3000]).unwrap();
    p.flush();
    let segs = p.segs(Dir::BtoA);
    let synack = &segs[0].1.header;
    assert!(synack.flags.contains(Flags::SYN | Flags::ACK));
    let ws = synack.options.wscale.expect("window scale echoed");
    assert_eq!(ws, 5, "1 MiB needs a shift of 5");
    assert_eq!(synack.window, 0xffff);
    let later = &segs.last().unwrap().1.header;
    assert!(!later.flags.contains(Flags::SYN));
    assert!(u32::from(later.window) << ws > 65535 * 8);
}

/// RFC 6298 sections 5.5-5.6: each unanswered retransmission doubles the RTO, and the
/// connection fails after the retry limit. The first expiry is a tail loss probe (RFC
/// 8985 section 7.2: the PTO is capped at the RTO deadline), which rearms the RTO
/// without backing it off.
#[test]
fn rfc6298_rto_backoff() {
    let cfg = Config {
        max_retransmits: 5,
        ..Config::default()
    };
    let mut p = Pair::new(cfg, Config::default());
    let (c, _l, _s) = p.connect();
    p.a.send(p.now, c, b"lost forever").unwrap();
    let mut drop_data =
        |d: Dir, s: &halyard_tcp::wire::Segment<'_>| d != Dir::AtoB || s.payload.is_empty();
    p.flush_with(&mut drop_data);
    for _ in 0..20 {
        p.step_timers(200_000, &mut drop_data);
    }
    let times: Vec<u64> = p
        .segs(Dir::AtoB)
        .iter()
        .filter(|(_, s)| !s.payload.is_empty())
        .map(|(t, _)| t.micros())
        .collect();
    assert_eq!(times.len(), 7, "original, probe, 5 retransmissions");
    assert_eq!(p.a.stats().tail_loss_probes, 1);
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps[0], gaps[1], "the probe does not back off: {gaps:?}");
    for w in gaps[1..].windows(2) {
        assert_eq!(w[1], 2 * w[0], "backoff doubles: {gaps:?}");
    }
    assert_eq!(p.a.info(c).unwrap().error, Some(Error::TimedOut));
}

/// RFC 5681 section 3.2 / RFC 6675: one lost segment in a window is repaired by fast
/// retransmit after duplicate ACKs (SACK), well before any RTO.
#[test]
fn rfc5681_3_2_fast_retransmit() {
    for sack in [true, false] {
        let cfg = Config {
            sack,
            ..Config::default()
        };
        let mut p = Pair::new(cfg.clone(), cfg);
        let (c, _l, s) = p.connect();
        let data = vec![7u8; 20 * 1448];
        p.a.send(p.now, c, &data).unwrap();
        let mut n = 0;
        let mut drop_second = |d: Dir, seg: &halyard_tcp::wire::Segment<'_>| {
            if d == Dir::AtoB && !seg.payload.is_empty() {
                n += 1;
                return n != 2;
            }
            true
        };
        p.flush_with(&mut drop_second);
        for _ in 0..10 {
            p.step_timers(5, &mut drop_second);
        }
        assert_eq!(p.read_all(false, s).0.len(), data.len(), "sack={sack}");
        assert_eq!(p.a.stats().fast_recoveries, 1, "sack={sack}");
        assert_eq!(p.a.stats().timeouts, 0, "sack={sack}");
    }
}

/// RFC 5681 section 4.2 / RFC 9293 3.8.6.3: the receiver ACKs at least every second
/// full-sized segment at once, and a lone segment after the delayed-ACK timeout.
#[test]
fn rfc5681_4_2_delayed_ack() {
    let mut p = Pair::default_pair();
    let (c, _l, _s) = p.connect();
    p.a.send(p.now, c, &vec![1u8; 10 * 1448]).unwrap();
    // Deliver one segment at a time and see which ones B acknowledges at once.
    let mut buf = vec![0u8; MAX_HEADER + 1500];
    let mut acks = 0;
    for _ in 0..10 {
        let t = p.a.poll_transmit(p.now, &mut buf).unwrap();
        let seg = buf[..t.len].to_vec();
        p.b.receive(p.now, A_IP, B_IP, &seg);
        while let Some(t) = p.b.poll_transmit(p.now, &mut buf) {
            acks += 1;
            let ack = buf[..t.len].to_vec();
            p.a.receive(p.now, B_IP, A_IP, &ack);
        }
    }
    assert_eq!(acks, 5, "one ACK per two full segments");
    p.flush();
    let mark = p.log.len();
    p.a.send(p.now, c, b"tiny").unwrap();
    p.flush();
    assert_eq!(
        p.log[mark..]
            .iter()
            .filter(|(d, _, _)| *d == Dir::BtoA)
            .count(),
        0,
        "ACK delayed"
    );
    p.advance(39);
    assert_eq!(
        p.log[mark..]
            .iter()
            .filter(|(d, _, _)| *d == Dir::BtoA)
            .count(),
        0
    );
    p.advance(1);
    assert_eq!(
        p.log[mark..]
            .iter()
            .filter(|(d, _, _)| *d == Dir::BtoA)
            .count(),
        1,
        "ACK at 40 ms"
    );
}

/// RFC 9293 3.7.4 (Nagle): small writes are held while data is unacknowledged; with
/// no-delay they go out at once.
#[test]
fn rfc9293_3_7_4_nagle_and_nodelay() {
    for nodelay in [false, true] {
        let mut p = Pair::default_pair();
        let (c, _l, _s) = p.connect();
        p.a.set_nodelay(c, nodelay).unwrap();
        let mut buf = vec![0u8; MAX_HEADER + 1500];
        let mut sent = 0;
        for _ in 0..3 {
            p.a.send(p.now, c, b"x").unwrap();
            while p.a.poll_transmit(p.now, &mut buf).is_some() {
                sent += 1;
            }
        }
        assert_eq!(sent, if nodelay { 3 } else { 1 }, "nodelay={nodelay}");
    }
}

/// RFC 9293 3.8.6.2.2 (receiver SWS avoidance) and the "window update that matters":
/// a full receiver does not reopen its window for a small read, but does at once (not
/// on a timer) when the application frees a useful amount.
#[test]
fn rfc9293_3_8_6_receiver_sws_and_window_update() {
    let cfg = Config {
        recv_buffer: 16 * 1024,
        ..Config::default()
    };
    let mut p = Pair::new(Config::default(), cfg);
    let (c, _l, s) = p.connect();
    p.a.send(p.now, c, &vec![3u8; 64 * 1024]).unwrap();
    p.flush();
    // Sender SWS avoidance holds back the 456-byte tail that would fit (16384 = 11·1448
    // + 456) until the window opens usefully or the override timer fires.
    let q0 = p.b.recv_queue(s).unwrap();
    assert_eq!(q0, 11 * 1448);
    let mark = p.log.len();
    let mut small = [0u8; 100];
    p.b.recv(p.now, s, &mut small).unwrap();
    p.flush();
    assert!(p
        .segs(Dir::BtoA)
        .iter()
        .skip(mark)
        .all(|(_, s)| s.header.window == 0));
    assert_eq!(p.log.len(), mark, "no update for 100 bytes");
    let mut big = vec![0u8; 8 * 1024];
    p.b.recv(p.now, s, &mut big).unwrap();
    p.flush();
    assert!(p.log.len() > mark, "window update sent at once");
    assert!(
        p.b.recv_queue(s).unwrap() > q0 - 100 - 8 * 1024,
        "data flows again without a timer"
    );
}

/// RFC 9293 3.8.6.1: with a zero window the sender probes (persist timer, backing off)
/// and resumes when the window opens.
#[test]
fn zero_window_probe() {
    let cfg = Config {
        recv_buffer: 4096,
        ..Config::default()
    };
    let mut p = Pair::new(Config::default(), cfg);
    let (c, _l, s) = p.connect();
    let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7) as u8).collect();
    let n = p.a.send(p.now, c, &data).unwrap();
    assert_eq!(n, data.len());
    p.flush();
    let mark = p.log.len();
    for _ in 0..8 {
        p.step_timers(120_000, &mut |_, _| true);
    }
    let probe_times: Vec<u64> = p
        .segs(Dir::AtoB)
        .iter()
        .skip(mark)
        .filter(|(_, s)| s.payload.is_empty())
        .map(|(t, _)| t.micros())
        .collect();
    assert!(
        probe_times.len() >= 3,
        "persist probes sent: {probe_times:?}"
    );
    let gaps: Vec<u64> = probe_times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.windows(2).all(|g| g[1] >= g[0]),
        "probe interval backs off: {gaps:?}"
    );
    assert_eq!(
        p.a.state(c).unwrap(),
        State::Established,
        "probing never times out"
    );
    let mut got = Vec::new();
    for _ in 0..100 {
        got.extend(p.read_all(false, s).0);
        p.advance(1);
    }
    assert_eq!(got, data);
}

/// RFC 9293 3.8.4 / RFC 1122 4.2.3.6: keepalive probes keep a live idle connection up
/// and kill one whose peer vanished.
#[test]
fn keepalive_detects_dead_peer() {
    let ka = Keepalive {
        idle: Duration::from_secs(10),
        interval: Duration::from_secs(1),
        probes: 3,
    };
    let cfg = Config {
        keepalive: Some(ka),
        ..Config::default()
    };
    let mut p = Pair::new(cfg, Config::default());
    let (c, _l, _s) = p.connect();
    for _ in 0..10 {
        p.step_timers(100_000, &mut |_, _| true);
    }
    assert_eq!(
        p.a.state(c).unwrap(),
        State::Established,
        "answered probes keep it alive"
    );
    assert!(p.now.millis() > 30_000);
    let mut drop_b = |d: Dir, _: &halyard_tcp::wire::Segment<'_>| d == Dir::AtoB;
    for _ in 0..10 {
        p.step_timers(100_000, &mut drop_b);
    }
    assert_eq!(p.a.info(c).unwrap().error, Some(Error::TimedOut));
}

/// RFC 9293 3.10.7.4 / RFC 6191: a new SYN with a newer timestamp may take over a
/// TIME-WAIT tuple.
#[test]
fn time_wait_safe_reuse() {
    let mut p = Pair::default_pair();
    let (pa, pb) = (SocketAddrV4::new(A_IP, 1234), SocketAddrV4::new(B_IP, PORT));
    let l = p.b.listen(pb).unwrap();
    let c = p.a.connect_from(p.now, pa, pb).unwrap();
    p.flush();
    let s = p.b.accept(l).unwrap();
    // The server closes first and holds TIME-WAIT.
    p.b.close(p.now, s).unwrap();
    p.flush();
    p.a.close(p.now, c).unwrap();
    p.flush();
    assert_eq!(p.b.state(s).unwrap(), State::TimeWait);
    p.a.release(p.now, c).unwrap();
    p.advance(1000);
    let c2 = p.a.connect_from(p.now, pa, pb).unwrap();
    p.flush();
    assert_eq!(p.a.state(c2).unwrap(), State::Established);
    assert!(p.b.accept(l).is_some());
    assert_eq!(p.b.state(s).unwrap(), State::Closed);
}

/// An orphaned connection (handle released) stuck in FIN-WAIT-2 because the peer never
/// closes is freed after the FIN-WAIT-2 timeout.
#[test]
fn fin_wait_2_timeout() {
    let mut p = Pair::default_pair();
    let (c, _l, _s) = p.connect();
    p.a.release(p.now, c).unwrap();
    p.flush();
    assert_eq!(p.a.connection_count(), 1);
    p.advance(59_000);
    assert_eq!(p.a.connection_count(), 1);
    p.advance(2_000);
    assert_eq!(p.a.connection_count(), 0);
    assert_eq!(p.a.state(c), Err(Error::InvalidHandle));
}

/// RFC 2018 sections 3-4: out-of-order data is reported in SACK blocks, most recent
/// first.
#[test]
fn rfc2018_sack_blocks_reported() {
    let mut p = Pair::default_pair();
    let (c, _l, _s) = p.connect();
    p.a.set_nodelay(c, true).unwrap();
    p.a.send(p.now, c, &vec![9u8; 6 * 1448]).unwrap();
    let mut n = 0;
    let mut drop_1_and_3 = |d: Dir, s: &halyard_tcp::wire::Segment<'_>| {
        if d == Dir::AtoB && !s.payload.is_empty() {
            n += 1;
            return n != 1 && n != 3;
        }
        true
    };
    p.flush_with(&mut drop_1_and_3);
    let sacks: Vec<Options> = p
        .segs(Dir::BtoA)
        .iter()
        .map(|(_, s)| s.header.options)
        .filter(|o| !o.sack.is_empty())
        .collect();
    assert!(!sacks.is_empty());
    // Segments 2 and 4-6 arrived: two blocks, the one holding the latest segment first.
    let blocks = sacks[0].sack.as_slice();
    assert_eq!(blocks.len(), 2, "two holes, two blocks");
    assert_eq!(blocks[0].1.since(blocks[0].0), 3 * 1448);
    assert_eq!(blocks[1].1.since(blocks[1].0), 1448);
    assert!(blocks[1].1 < blocks[0].0);
}

/// RFC 9293 section 3.4: sequence numbers wrap modulo 2^32 in the middle of a transfer.
/// The ISN follows a 4 µs clock (RFC 6528), so connecting at a chosen time places it just
/// below the wrap point.
#[test]
fn rfc9293_3_4_transfer_across_sequence_wraparound() {
    let pa = SocketAddrV4::new(A_IP, 4321);
    let pb = SocketAddrV4::new(B_IP, PORT);
    let isn_at = |now: halyard_tcp::Instant| {
        let mut p = Pair::default_pair();
        p.now = now;
        p.a.connect_from(p.now, pa, pb).unwrap();
        let mut buf = vec![0u8; MAX_HEADER + 100];
        let t = p.a.poll_transmit(p.now, &mut buf).unwrap();
        halyard_tcp::wire::Segment::parse(&buf[..t.len], t.src, t.dst)
            .unwrap()
            .header
            .seq
            .0
    };
    let t0 = halyard_tcp::Instant::from_millis(1000);
    let isn0 = isn_at(t0);
    let target = u32::MAX - 20_000;
    let t1 =
        halyard_tcp::Instant::from_micros(t0.micros() + 4 * u64::from(target.wrapping_sub(isn0)));
    assert_eq!(isn_at(t1), target);

    let mut p = Pair::default_pair();
    p.now = t1;
    let l = p.b.listen(pb).unwrap();
    let c = p.a.connect_from(p.now, pa, pb).unwrap();
    p.flush();
    let s = p.b.accept(l).unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut off = 0;
    let mut got = Vec::new();
    for _ in 0..1000 {
        if off < data.len() {
            off += p.a.send(p.now, c, &data[off..]).unwrap_or(0);
        }
        p.advance(1);
        got.extend(p.read_all(false, s).0);
        if got.len() == data.len() {
            break;
        }
    }
    assert_eq!(got, data);
    let last = p.segs(Dir::AtoB).last().unwrap().1.header.seq.0;
    assert!(last < 1_000_000, "sequence space wrapped: {last}");
}

/// Connects and queues `segments` full segments on the client; returns the server's
/// connection and the bytes queued.
fn connect_and_queue(p: &mut Pair, segments: usize) -> (halyard_tcp::ConnId, usize) {
    let (c, _l, s) = p.connect();
    let data = vec![4u8; segments * 1448];
    (s, p.a.send(p.now, c, &data).unwrap())
}

/// RFC 6675 with lost-retransmission detection: when the retransmission of a hole is
/// lost too, SACKs for later data reveal it and it is resent without waiting for the RTO.
#[test]
fn rfc6675_lost_retransmission_resent_before_rto() {
    let mut p = Pair::default_pair();
    let (s, sent) = connect_and_queue(&mut p, 60);
    let mut first: Option<Seq> = None;
    let mut drops = 0;
    let mut keep = |d: Dir, seg: &halyard_tcp::wire::Segment<'_>| {
        if d != Dir::AtoB || seg.payload.is_empty() {
            return true;
        }
        let f = *first.get_or_insert(seg.header.seq);
        if seg.header.seq == f + 1448 && drops < 2 {
            drops += 1;
            return false;
        }
        true
    };
    let got = run_reading(&mut p, s, 40, 5, &mut keep);
    assert_eq!(got.len(), sent);
    assert_eq!(p.a.stats().lost_retransmits, 1);
    assert_eq!(p.a.stats().timeouts, 0, "no RTO needed");
}

/// Transmission is shared round-robin between connections: a bulk sender does not hold
/// back another connection's segment until it has drained.
#[test]
fn connections_share_transmission_round_robin() {
    let mut p = Pair::default_pair();
    let (bulk, l, _s1) = p.connect();
    let small =
        p.a.connect(p.now, A_IP, SocketAddrV4::new(B_IP, PORT))
            .unwrap();
    p.flush();
    let _s2 = p.b.accept(l).unwrap();
    p.a.send(p.now, bulk, &vec![1u8; 10 * 1448]).unwrap();
    p.a.send(p.now, small, b"ping").unwrap();
    let mut buf = vec![0u8; MAX_HEADER + 1500];
    let small_port = p.a.info(small).unwrap().local.port();
    let mut order = Vec::new();
    while let Some(t) = p.a.poll_transmit(p.now, &mut buf) {
        let seg = halyard_tcp::wire::Segment::parse(&buf[..t.len], t.src, t.dst).unwrap();
        order.push(seg.header.src_port == small_port);
    }
    let pos = order.iter().position(|&is_small| is_small).unwrap();
    assert!(
        pos <= 1,
        "small connection's segment went out at position {pos} of {}",
        order.len()
    );
}

/// RFC 6582 section 3.2 step 2: a new fast recovery may start once the cumulative ACK
/// covers `recover` (the highest sequence number sent when the previous one began). Here
/// the segment right at that point is lost too: the full ACK ending the first recovery
/// stops exactly below it, and the duplicate ACKs that follow must start a second fast
/// recovery instead of waiting for the RTO.
#[test]
fn rfc6582_3_2_loss_at_recovery_point_starts_new_recovery() {
    let mut p = Pair::default_pair();
    let (s, sent) = connect_and_queue(&mut p, 120);
    let mut first: Option<Seq> = None;
    let mut highest = Seq(0);
    let mut recover: Option<Seq> = None;
    let mut dropped = Vec::new();
    let mut keep = |d: Dir, seg: &halyard_tcp::wire::Segment<'_>| {
        if d != Dir::AtoB || seg.payload.is_empty() {
            return true;
        }
        let seq = seg.header.seq;
        let f = *first.get_or_insert(seq);
        let resent = seq < highest;
        if resent && recover.is_none() {
            recover = Some(highest);
        }
        highest = highest.max(seq + seg.payload.len() as u32);
        let lose = (seq == f + 2 * 1448 || Some(seq) == recover) && !resent;
        if lose && !dropped.contains(&seq) {
            dropped.push(seq);
            return false;
        }
        true
    };
    let got = run_reading(&mut p, s, 60, 5, &mut keep);
    assert_eq!(got.len(), sent);
    assert_eq!(dropped.len(), 2, "both losses happened");
    assert_eq!(p.a.stats().fast_recoveries, 2);
    assert_eq!(p.a.stats().timeouts, 0, "no RTO needed");
}

/// Sends ten full segments (the initial window) from A and runs the pair for `steps`
/// timer steps with `keep`; returns the client and the bytes B received.
fn ten_segments(
    p: &mut Pair,
    steps: usize,
    keep: &mut dyn FnMut(Dir, &halyard_tcp::wire::Segment<'_>) -> bool,
) -> (halyard_tcp::ConnId, Vec<u8>) {
    let (c, _l, s) = p.connect();
    // Full segments: the MSS less the timestamp option when it is on.
    let segment = if p.a.config().timestamps { 1448 } else { 1460 };
    let data = vec![6u8; 10 * segment];
    assert_eq!(p.a.send(p.now, c, &data).unwrap(), data.len());
    (c, run_reading(p, s, steps, 50, keep))
}

/// Runs `steps` timer steps of at most `max_ms` through `keep`, reading what B's
/// connection `s` received after each.
fn run_reading(
    p: &mut Pair,
    s: halyard_tcp::ConnId,
    steps: usize,
    max_ms: u64,
    keep: &mut dyn FnMut(Dir, &halyard_tcp::wire::Segment<'_>) -> bool,
) -> Vec<u8> {
    let mut got = Vec::new();
    for _ in 0..steps {
        p.step_timers(max_ms, keep);
        got.extend(p.read_all(false, s).0);
    }
    got
}

/// Ten segments with segment `index` lost once: everything arrives, without an RTO.
fn repaired_without_rto(index: usize) -> (Pair, halyard_tcp::ConnId) {
    let mut p = Pair::default_pair();
    let (c, got) = ten_segments(&mut p, 20, &mut drop_once(index));
    assert_eq!(got.len(), 10 * 1448);
    assert_eq!(p.a.stats().timeouts, 0, "no RTO needed");
    (p, c)
}

/// RFC 8985 section 7: when the last segment of a flight is lost, no duplicate ACK can
/// trigger fast retransmit. The tail loss probe resends it instead of an RTO (with one
/// segment in flight the PTO is capped at the RTO deadline, section 7.2), so the window
/// does not collapse to one segment; since the probe repaired a loss the window is
/// reduced once, as for fast recovery (section 7.4.2).
#[test]
fn rfc8985_7_tail_loss_probe_repairs_last_segment() {
    let (p, c) = repaired_without_rto(9);
    let st = p.a.stats();
    assert_eq!((st.tail_loss_probes, st.tail_loss_probe_recoveries), (1, 1));
    let cwnd = p.a.info(c).unwrap().cwnd;
    // 12 segments before the loss (10 plus 2 from the stretch ACK, RFC 3465 L = 2).
    assert!(
        (8 * 1448..12 * 1448).contains(&cwnd),
        "reduced from 12 segments by beta, not to one: {cwnd}"
    );
}

/// RFC 8985 section 7.4.1 with RFC 2883: when only the ACK was lost, the probe is a
/// duplicate and the receiver reports it with a DSACK block below the cumulative ACK;
/// the window is then left alone.
#[test]
fn rfc8985_7_4_dsack_shows_probe_was_redundant() {
    let mut p = Pair::default_pair();
    let end = std::cell::Cell::new(None::<Seq>);
    // Drop every ACK that covers the tenth segment: the probe's ACK is injected below.
    let mut keep = |d: Dir, seg: &halyard_tcp::wire::Segment<'_>| match (d, end.get()) {
        (Dir::AtoB, None) if !seg.payload.is_empty() => {
            end.set(Some(seg.header.seq + 10 * 1448));
            true
        }
        (Dir::BtoA, Some(e)) => seg.header.ack < e,
        _ => true,
    };
    // Step 1 sends the data, step 2 fires the probe timeout.
    let (c, got) = ten_segments(&mut p, 2, &mut keep);
    assert_eq!(got.len(), 10 * 1448);
    assert_eq!(p.a.stats().tail_loss_probes, 1);
    let cwnd = p.a.info(c).unwrap().cwnd;
    let port = port_of(&p, c);
    let end = end.get().unwrap();
    let (b_nxt, _) = p.last_seq_ack(Dir::BtoA);
    let mut h = Pair::header(Dir::BtoA, port, b_nxt, end, Flags::ACK);
    h.window = 0xffff;
    h.options.sack.push(end - 1448, end);
    p.inject(Dir::BtoA, h, &[]);
    let st = p.a.stats();
    assert_eq!(st.tail_loss_probes_redundant, 1);
    assert_eq!(st.tail_loss_probe_recoveries, 0);
    assert!(p.a.info(c).unwrap().cwnd >= cwnd, "no reduction");
}

/// Drops the first transmission of A's data segment number `index` (from 0).
fn drop_once(index: usize) -> impl FnMut(Dir, &halyard_tcp::wire::Segment<'_>) -> bool {
    let mut new_segments = 0;
    let mut sent_end: Option<Seq> = None;
    move |d: Dir, seg: &halyard_tcp::wire::Segment<'_>| {
        if d != Dir::AtoB || seg.payload.is_empty() {
            return true;
        }
        let end = seg.header.seq + seg.payload.len() as u32;
        if sent_end.is_some_and(|e| end <= e) {
            return true; // a retransmission
        }
        sent_end = Some(end);
        new_segments += 1;
        new_segments != index + 1
    }
}

/// RFC 8985 section 6.3: with only one segment SACKed above a hole, DupThresh never
/// fires; RACK's reordering window (min_rtt / 4) marks the hole lost and fast recovery
/// repairs it instead of the RTO.
#[test]
fn rfc8985_6_3_reordering_window_marks_hole_lost() {
    let (p, _c) = repaired_without_rto(8);
    let st = p.a.stats();
    assert_eq!((st.fast_recoveries, st.reorder_window_recoveries), (1, 1));
}

/// RFC 8985 section 6.2: a hole filled within the reordering window (reordering, not
/// loss) starts no recovery.
#[test]
fn rfc8985_6_2_reordered_segment_within_window_is_not_lost() {
    let mut p = Pair::default_pair();
    // Step 1 sends the data; B reports the hole with a SACK for the tenth segment.
    let (c, got) = ten_segments(&mut p, 1, &mut drop_once(8));
    assert_eq!(got.len(), 8 * 1448, "the ninth segment is missing");
    // The "late" ninth segment arrives before the window (at least 1 ms) ends.
    let port = port_of(&p, c);
    let first = p
        .segs(Dir::AtoB)
        .iter()
        .find(|(_, s)| !s.payload.is_empty())
        .map(|(_, s)| (s.header.seq, s.header.ack))
        .unwrap();
    let h = Pair::header(Dir::AtoB, port, first.0 + 8 * 1448, first.1, Flags::ACK);
    p.inject(Dir::AtoB, h, &[6u8; 1448]);
    p.flush();
    for _ in 0..10 {
        p.step_timers(50, &mut |_, _| true);
    }
    let st = p.a.stats();
    assert_eq!(st.fast_recoveries, 0);
    assert_eq!(st.retransmits, 0);
    assert_eq!(st.timeouts, 0);
}

/// RFC 2883 section 4.1: a segment that arrives twice is reported in the first SACK
/// block of the next ACK (below the cumulative ACK). End to end with RFC 8985 7.4.1: the
/// ACK for ten segments is lost, the tail loss probe resends the last one, the receiver
/// reports it as a duplicate, and the sender keeps its window.
#[test]
fn rfc2883_4_1_duplicate_reported_by_dsack() {
    let mut p = Pair::default_pair();
    let mut first: Option<Seq> = None;
    let mut ack_dropped = false;
    let mut keep = |d: Dir, seg: &halyard_tcp::wire::Segment<'_>| {
        if d == Dir::AtoB && !seg.payload.is_empty() {
            first.get_or_insert(seg.header.seq);
        }
        let all_acked = first.is_some_and(|f| seg.header.ack == f + 10 * 1448);
        if d == Dir::BtoA && all_acked && !ack_dropped {
            ack_dropped = true;
            return false;
        }
        true
    };
    let (_c, got) = ten_segments(&mut p, 3, &mut keep);
    assert_eq!(got.len(), 10 * 1448);
    let end = first.unwrap() + 10 * 1448;
    let dsacks: Vec<(Seq, Seq)> = p
        .segs(Dir::BtoA)
        .iter()
        .filter_map(|(_, s)| s.header.options.sack.as_slice().first().copied())
        .collect();
    assert_eq!(dsacks, vec![(end - 1448, end)], "one DSACK for the probe");
    let st = p.a.stats();
    assert_eq!((st.tail_loss_probes, st.tail_loss_probes_redundant), (1, 1));
    assert_eq!(st.tail_loss_probe_recoveries, 0);
}

/// Delays (rather than loses) A's ninth of ten segments: it is dropped, RACK's window
/// (1 ms here) starts fast recovery, and then the original is delivered before the
/// retransmission (which is dropped, or delivered after it when `resend_arrives`).
/// Returns the pair and the client's cwnd just before the recovery.
fn late_original(cfg: Config, resend_arrives: bool) -> (Pair, halyard_tcp::ConnId, u32) {
    let mut p = Pair::new(cfg.clone(), cfg);
    let (c, got) = ten_segments(&mut p, 1, &mut drop_once(8));
    assert!(got.len() < 10 * 1448, "the ninth segment is missing");
    let cwnd = p.a.info(c).unwrap().cwnd;
    let hole = p
        .segs(Dir::AtoB)
        .iter()
        .filter(|(_, s)| !s.payload.is_empty())
        .nth(8)
        .map(|(_, s)| (s.header, s.payload.to_vec()))
        .unwrap();
    let mut resent = None;
    p.step_timers(5, &mut |d, s| {
        let is_resend = d == Dir::AtoB && s.header.seq == hole.0.seq && !s.payload.is_empty();
        if is_resend {
            resent = Some(s.header);
        }
        !is_resend
    });
    let resent = resent.expect("the hole was resent after the reordering window");
    assert_eq!(p.a.stats().fast_recoveries, 1);
    p.inject(Dir::AtoB, hole.0, &hole.1);
    if resend_arrives {
        p.inject(Dir::AtoB, resent, &hole.1);
    }
    p.flush();
    (p, c, cwnd)
}

/// RFC 3522 (Eifel detection) and RFC 9438 section 4.9: the ACK for the late original
/// echoes its timestamp, older than the retransmission's, so the recovery was spurious
/// and the window reduction is undone.
#[test]
fn rfc3522_eifel_undoes_spurious_recovery() {
    let (p, c, cwnd) = late_original(Config::default(), false);
    assert_eq!(p.a.stats().spurious_recoveries_undone, 1);
    assert!(p.a.info(c).unwrap().cwnd >= cwnd, "window restored");
}

/// RFC 3708 (DSACK detection), without timestamps: the receiver reports the
/// retransmission as a duplicate, so the recovery was spurious and is undone.
#[test]
fn rfc3708_dsack_undoes_spurious_recovery() {
    let cfg = Config {
        timestamps: false,
        ..Config::default()
    };
    let (p, c, cwnd) = late_original(cfg, true);
    assert_eq!(p.a.stats().spurious_recoveries_undone, 1);
    assert!(p.a.info(c).unwrap().cwnd >= cwnd, "window restored");
}

/// A real loss is not undone: the retransmission fills the hole, its timestamp is echoed.
#[test]
fn genuine_loss_keeps_the_reduction() {
    let (p, c) = repaired_without_rto(8);
    assert_eq!(p.a.stats().spurious_recoveries_undone, 0);
    assert!(p.a.info(c).unwrap().cwnd < 12 * 1448, "window reduced");
}

/// RFC 6675 section 2: with SACK, a duplicate ACK is one that carries new SACK
/// information. Repeated ACKs without any (the receiver answering duplicates, or
/// reporting a DSACK) must not start fast recovery.
#[test]
fn rfc6675_2_ack_without_new_sack_is_not_a_dupack() {
    let mut p = Pair::default_pair();
    let (c, _) = ten_segments(&mut p, 1, &mut |d, _| d == Dir::AtoB);
    let port = port_of(&p, c);
    let (first, b_nxt) = p
        .segs(Dir::AtoB)
        .iter()
        .find(|(_, s)| !s.payload.is_empty())
        .map(|(_, s)| (s.header.seq, s.header.ack))
        .unwrap();
    for _ in 0..4 {
        let mut h = Pair::header(Dir::BtoA, port, b_nxt, first, Flags::ACK);
        h.window = 0xffff;
        p.inject(Dir::BtoA, h, &[]);
    }
    p.flush();
    assert_eq!(p.a.stats().fast_recoveries, 0);
    assert_eq!(p.a.stats().retransmits, 0);
}

/// A peer holding `max_connections_per_peer` passively opened connections gets a RST for
/// its next SYN (its connect is refused at once); once one of its connections is gone it
/// may connect again, and other peers are not affected.
#[test]
fn per_peer_limit_refuses_with_rst() {
    let cfg = Config {
        max_connections_per_peer: 2,
        ..Config::default()
    };
    let mut p = Pair::new(Config::default(), cfg);
    let l = p.b.listen(SocketAddrV4::new(B_IP, PORT)).unwrap();
    let server = SocketAddrV4::new(B_IP, PORT);
    let first = p.a.connect(p.now, A_IP, server).unwrap();
    let second = p.a.connect(p.now, A_IP, server).unwrap();
    p.flush();
    let accepted = p.b.accept(l).unwrap();
    assert!(p.b.accept(l).is_some());
    assert_eq!(p.b.peer_connections(A_IP), 2);
    let third = p.a.connect(p.now, A_IP, server).unwrap();
    p.flush();
    assert_eq!(p.a.state(third).unwrap(), State::Closed);
    assert_eq!(
        p.a.info(third).unwrap().error,
        Some(halyard_tcp::Error::Refused)
    );
    assert_eq!(p.b.stats().drop_peer_limit, 1);
    assert_eq!(p.b.peer_connections(A_IP), 2);
    // The first connection ends (B aborts it): the peer may connect again.
    p.b.abort(p.now, accepted).unwrap();
    p.b.release(p.now, accepted).unwrap();
    p.flush();
    assert_eq!(p.a.state(first).unwrap(), State::Closed);
    assert_eq!(p.b.peer_connections(A_IP), 1);
    let fourth = p.a.connect(p.now, A_IP, server).unwrap();
    p.flush();
    assert_eq!(p.a.state(fourth).unwrap(), State::Established);
    assert_eq!(p.a.state(second).unwrap(), State::Established);
    assert_eq!(p.b.peer_connections(A_IP), 2);
}
