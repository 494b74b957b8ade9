//! TIME-WAIT after the application let go: the endpoint keeps a compact record
//! (`time_wait.rs`) instead of the connection, and the record behaves as the connection
//! did: it acknowledges a retransmitted FIN and restarts the 2·MSL wait, takes only an
//! exact RST, challenges the rest, lets a provably newer SYN take the tuple over
//! (RFC 6191), keeps the tuple and port in use, and shows in the connection listing.

mod common;

use common::*;
use core::net::SocketAddrV4;
use halyard_tcp::seq::Seq;
use halyard_tcp::wire::{Flags, Options, Segment, SegmentHeader};
use halyard_tcp::{ConnId, Error, State};

const A_PORT: u16 = 1234;

/// A connection from A:`A_PORT` to B:PORT where A closed first and released its handle:
/// A holds a TIME-WAIT record, B's connection is closed. Returns A's old handle and B's
/// listener.
fn released_time_wait(p: &mut Pair) -> (ConnId, halyard_tcp::ListenerId) {
    let (pa, pb) = (
        SocketAddrV4::new(A_IP, A_PORT),
        SocketAddrV4::new(B_IP, PORT),
    );
    let l = p.b.listen(pb).unwrap();
    let c = p.a.connect_from(p.now, pa, pb).unwrap();
    p.flush();
    let s = p.b.accept(l).unwrap();
    p.a.send(p.now, c, b"request").unwrap();
    p.flush();
    p.read_all(false, s);
    p.a.close(p.now, c).unwrap();
    p.flush();
    p.b.close(p.now, s).unwrap();
    p.flush();
    assert_eq!(p.a.state(c), Ok(State::TimeWait));
    p.a.release(p.now, c).unwrap();
    p.b.release(p.now, s).unwrap();
    p.flush();
    (c, l)
}

/// B's FIN as B sent it (the last segment from B that carried FIN).
fn b_fin(p: &Pair) -> SegmentHeader {
    p.segs(Dir::BtoA)
        .into_iter()
        .rev()
        .find(|(_, s)| s.header.flags.contains(Flags::FIN))
        .map(|(_, s)| s.header)
        .expect("B sent its FIN")
}

/// Delivers A's segments but not B's answers: B no longer knows the connection and
/// would answer A's ACKs with an RST at A's RCV.NXT, which ends TIME-WAIT.
fn flush_a(p: &mut Pair) {
    p.flush_with(&mut |d, _| d == Dir::AtoB);
}

/// Segments A sent from `from` on.
fn a_sent_since(p: &Pair, from: usize) -> Vec<SegmentHeader> {
    p.segs(Dir::AtoB)
        .into_iter()
        .skip(from)
        .map(|(_, s): (_, Segment<'_>)| s.header)
        .collect()
}

#[test]
fn released_connection_becomes_a_record_until_2msl() {
    let mut p = Pair::default_pair();
    let (c, _l) = released_time_wait(&mut p);
    assert_eq!(p.a.connection_count(), 0, "the connection itself is freed");
    assert_eq!(p.a.time_wait_count(), 1);
    assert_eq!(p.a.state(c), Err(Error::InvalidHandle));
    let rows: Vec<_> = p.a.connection_details().collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, State::TimeWait);
    assert_eq!(rows[0].local, SocketAddrV4::new(A_IP, A_PORT));
    assert_eq!(rows[0].remote, SocketAddrV4::new(B_IP, PORT));
    assert!(rows[0].timestamps);
    p.advance(59_000);
    assert_eq!(p.a.time_wait_count(), 1);
    p.advance(1_100);
    assert_eq!(p.a.time_wait_count(), 0);
    assert_eq!(p.a.poll_timeout(), None);
}

/// RFC 9293 3.10.7.4: a retransmitted FIN is acknowledged and restarts the 2·MSL wait.
#[test]
fn record_reacks_a_retransmitted_fin_and_restarts_the_wait() {
    let mut p = Pair::default_pair();
    released_time_wait(&mut p);
    let fin = b_fin(&p);
    let (a_next, _) = p.last_seq_ack(Dir::AtoB);
    p.advance(30_000);
    let before = p.segs(Dir::AtoB).len();
    let mut again = fin;
    if let Some((v, e)) = again.options.timestamp {
        again.options.timestamp = Some((v.wrapping_add(30_000), e));
    }
    p.inject(Dir::BtoA, again, &[]);
    let mut buf = vec![0u8; 100];
    let t =
        p.a.poll_transmit(p.now, &mut buf)
            .expect("the record answers");
    let ack = Segment::parse(&buf[..t.len], t.src, t.dst).unwrap().header;
    assert_eq!(ack.flags, Flags::ACK);
    assert_eq!(ack.seq, a_next, "SND.NXT: after our FIN");
    assert_eq!(ack.ack, fin.seq + 1, "RCV.NXT: after the peer's FIN");
    let (tsval, tsecr) = ack.options.timestamp.expect("timestamps kept");
    // An unacceptable segment does not update TS.Recent (RFC 7323 section 4.3).
    assert_eq!(tsecr, fin.options.timestamp.unwrap().0);
    assert_ne!(tsval, 0);
    assert!(p.a.poll_transmit(p.now, &mut buf).is_none(), "one ACK");
    assert_eq!(p.segs(Dir::AtoB).len(), before);
    assert_eq!(p.a.stats().drop_out_of_window, 1);
    // 2·MSL from the retransmission, not from the first FIN.
    p.advance(59_000);
    assert_eq!(p.a.time_wait_count(), 1, "the wait was restarted");
    p.advance(1_100);
    assert_eq!(p.a.time_wait_count(), 0);
}

/// RFC 9293 3.10.7.4 with RFC 5961 3.2: an RST exactly at RCV.NXT ends TIME-WAIT; one
/// elsewhere in the window gets a challenge ACK and changes nothing.
#[test]
fn record_takes_only_an_exact_rst() {
    let mut p = Pair::default_pair();
    released_time_wait(&mut p);
    let rcv_nxt = b_fin(&p).seq + 1;
    let before = p.segs(Dir::AtoB).len();
    p.inject(
        Dir::BtoA,
        Pair::header(Dir::BtoA, A_PORT, rcv_nxt + 10, Seq(0), Flags::RST),
        &[],
    );
    flush_a(&mut p);
    let sent = a_sent_since(&p, before);
    assert_eq!(sent.len(), 1, "a challenge ACK");
    assert_eq!(sent[0].ack, rcv_nxt);
    assert_eq!(p.a.stats().drop_rst_not_exact, 1);
    assert_eq!(p.a.stats().challenge_acks, 1);
    assert_eq!(p.a.time_wait_count(), 1);
    p.inject(
        Dir::BtoA,
        Pair::header(Dir::BtoA, A_PORT, rcv_nxt, Seq(0), Flags::RST),
        &[],
    );
    flush_a(&mut p);
    assert_eq!(p.a.time_wait_count(), 0);
    assert_eq!(p.a.stats().resets_received, 1);
    assert_eq!(a_sent_since(&p, before).len(), 1, "nothing answers the RST");
}

/// RFC 5961 4.2 and 5.2: a SYN-ACK or an ACK of data never sent gets a challenge ACK.
#[test]
fn record_challenges_syns_and_bad_acks() {
    let mut p = Pair::default_pair();
    released_time_wait(&mut p);
    let rcv_nxt = b_fin(&p).seq + 1;
    let (a_next, _) = p.last_seq_ack(Dir::AtoB);
    let fin_ts = b_fin(&p).options.timestamp.unwrap().0;
    let ts = |_: &Pair| Options {
        timestamp: Some((fin_ts.wrapping_add(10), 0)),
        ..Options::default()
    };
    let mut syn_ack = Pair::header(Dir::BtoA, A_PORT, rcv_nxt, a_next, Flags::SYN | Flags::ACK);
    syn_ack.options = ts(&p);
    p.inject(Dir::BtoA, syn_ack, &[]);
    let mut bad_ack = Pair::header(Dir::BtoA, A_PORT, rcv_nxt, a_next + 5000, Flags::ACK);
    bad_ack.options = ts(&p);
    p.inject(Dir::BtoA, bad_ack, &[]);
    let before = p.segs(Dir::AtoB).len();
    flush_a(&mut p);
    assert_eq!(a_sent_since(&p, before).len(), 1, "one ACK owed, sent once");
    assert_eq!(p.a.stats().drop_syn_in_window, 1);
    assert_eq!(p.a.stats().drop_bad_ack, 1);
    assert_eq!(p.a.stats().challenge_acks, 2);
    assert_eq!(p.a.time_wait_count(), 1);
}

/// RFC 6191: a new SYN with a newer timestamp takes the tuple over; one with an older
/// timestamp is refused by PAWS (answered with an ACK) and leaves the record.
#[test]
fn record_allows_only_safe_reuse() {
    let mut p = Pair::default_pair();
    let (pa, pb) = (
        SocketAddrV4::new(B_IP, PORT),
        SocketAddrV4::new(A_IP, A_PORT),
    );
    // Here the client (A) holds TIME-WAIT and B reconnects to it from the same port:
    // let A listen on its port once the old connection is a record.
    released_time_wait(&mut p);
    let l = p.a.listen(pb).unwrap();
    let mut old_syn = Pair::header(Dir::BtoA, A_PORT, Seq(7), Seq(0), Flags::SYN);
    let fin_ts = b_fin(&p).options.timestamp.unwrap().0;
    old_syn.options.timestamp = Some((fin_ts.wrapping_sub(1_000), 0));
    let before = p.segs(Dir::AtoB).len();
    p.inject(Dir::BtoA, old_syn, &[]);
    flush_a(&mut p);
    assert!(p.a.accept(l).is_none());
    assert_eq!(p.a.time_wait_count(), 1);
    assert_eq!(p.a.stats().drop_paws, 1);
    assert_eq!(a_sent_since(&p, before)[0].flags, Flags::ACK);
    p.advance(1_000);
    let c2 = p.b.connect_from(p.now, pa, pb).unwrap();
    p.flush();
    assert_eq!(p.b.state(c2), Ok(State::Established));
    assert_eq!(
        p.a.time_wait_count(),
        0,
        "the new incarnation took the tuple"
    );
    let s2 = p.a.accept(l).expect("the listener took the new SYN");
    assert_eq!(p.a.state(s2), Ok(State::Established));
}

/// The tuple stays taken: `connect_from` refuses it and the port is in use.
#[test]
fn record_keeps_the_tuple_and_port() {
    let mut p = Pair::default_pair();
    released_time_wait(&mut p);
    let (pa, pb) = (
        SocketAddrV4::new(A_IP, A_PORT),
        SocketAddrV4::new(B_IP, PORT),
    );
    assert_eq!(p.a.connect_from(p.now, pa, pb), Err(Error::AddrInUse));
    assert!(p.a.local_port_in_use(A_PORT));
    p.advance(61_000);
    assert!(!p.a.local_port_in_use(A_PORT));
    assert!(p.a.connect_from(p.now, pa, pb).is_ok());
}

/// Beyond `Config::max_time_wait` a connection ends without TIME-WAIT (Linux's
/// `tcp_max_tw_buckets`), counted.
#[test]
fn full_table_ends_connections_without_time_wait() {
    let cfg = halyard_tcp::Config {
        max_time_wait: 2,
        ..halyard_tcp::Config::default()
    };
    let mut p = Pair::new(cfg, halyard_tcp::Config::default());
    let l = p.b.listen(SocketAddrV4::new(B_IP, PORT)).unwrap();
    for port in 0..3 {
        let pa = SocketAddrV4::new(A_IP, 2000 + port);
        let c =
            p.a.connect_from(p.now, pa, SocketAddrV4::new(B_IP, PORT))
                .unwrap();
        p.flush();
        let s = p.b.accept(l).unwrap();
        p.a.release(p.now, c).unwrap();
        p.flush();
        p.b.release(p.now, s).unwrap();
        p.flush();
    }
    assert_eq!(p.a.time_wait_count(), 2);
    assert_eq!(p.a.connection_count(), 0);
    assert_eq!(p.a.stats().time_wait_overflows, 1);
}

/// A server that answers and closes first (busybox `httpd`: a child per connection
/// writes the answer, shuts down, exits) keeps a TIME-WAIT record of every connection
/// it served, and the records do not count against the per-peer limit of passively
/// opened connections: one client makes many times the limit of connections within
/// 2·MSL and none is refused. (Before the records, a TIME-WAIT connection kept its slot
/// and its peer count for 2·MSL, and the bench's busybox httpd row was answered with RSTs
/// after `MAX_CONNECTIONS_PER_PEER` requests: `net-tap-httpd`.)
#[test]
fn a_server_closing_first_is_not_limited_by_its_time_wait_records() {
    const LIMIT: usize = 2;
    const CONNECTIONS: usize = 5 * LIMIT;
    let b_cfg = halyard_tcp::Config {
        max_connections_per_peer: LIMIT,
        ..halyard_tcp::Config::default()
    };
    let mut p = Pair::new(halyard_tcp::Config::default(), b_cfg);
    let server = SocketAddrV4::new(B_IP, PORT);
    let l = p.b.listen(server).unwrap();
    for i in 0..CONNECTIONS {
        let c = p.a.connect(p.now, A_IP, server).unwrap();
        p.flush();
        assert_eq!(p.a.state(c), Ok(State::Established), "connection {i}");
        let s = p.b.accept(l).unwrap();
        p.a.send(p.now, c, b"GET / HTTP/1.0\r\n\r\n").unwrap();
        p.flush();
        p.read_all(false, s);
        // The server answers, closes and lets go before the client's FIN comes.
        p.b.send(p.now, s, b"HTTP/1.0 200 OK\r\n\r\n").unwrap();
        p.b.close(p.now, s).unwrap();
        p.b.release(p.now, s).unwrap();
        p.flush();
        assert_eq!(
            p.read_all(true, c),
            (b"HTTP/1.0 200 OK\r\n\r\n".to_vec(), true)
        );
        p.a.close(p.now, c).unwrap();
        p.a.release(p.now, c).unwrap();
        p.flush();
        assert_eq!(p.b.peer_connections(A_IP), 0, "connection {i}");
    }
    assert_eq!(p.b.time_wait_count(), CONNECTIONS);
    assert_eq!(p.b.stats().drop_peer_limit, 0);
}
