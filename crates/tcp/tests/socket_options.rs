//! Per-socket options: listener-inherited configuration, buffer limits, keepalive set
//! on a live connection, accept-queue length and port-in-use for address reuse.

mod common;

use common::{Dir, Pair, A_IP, B_IP, PORT};
use core::net::SocketAddrV4;
use core::time::Duration;
use halyard_tcp::{Config, Error, Keepalive, State};

#[test]
fn listener_config_is_inherited_by_accepted_connections() {
    let mut p = Pair::default_pair();
    let small = Config {
        recv_buffer: 8 * 1024,
        send_buffer: 4 * 1024,
        ..Config::default()
    };
    let l =
        p.b.listen_with(SocketAddrV4::new(B_IP, PORT), small)
            .unwrap();
    let c =
        p.a.connect(p.now, A_IP, SocketAddrV4::new(B_IP, PORT))
            .unwrap();
    p.flush();
    assert_eq!(p.b.accept_pending(l), Ok(1));
    let s = p.b.accept(l).unwrap();
    assert_eq!(p.b.accept_pending(l), Ok(0));
    assert_eq!(p.b.buffer_limits(s), Ok((4 * 1024, 8 * 1024)));
    // The client may send no more than the 8 KiB window the server offers.
    let data = vec![7u8; 64 * 1024];
    let queued = p.a.send(p.now, c, &data).unwrap();
    p.flush();
    assert_eq!(
        queued,
        64 * 1024,
        "the client's default send buffer takes it all"
    );
    let held = p.b.recv_queue(s).unwrap();
    assert!(held <= 8 * 1024 && held > 4 * 1024, "{held} bytes held");
}

#[test]
fn connect_with_uses_the_given_config() {
    let mut p = Pair::default_pair();
    p.b.listen(SocketAddrV4::new(B_IP, PORT)).unwrap();
    let cfg = Config {
        send_buffer: 2000,
        ..Config::default()
    };
    let c =
        p.a.connect_with(p.now, A_IP, SocketAddrV4::new(B_IP, PORT), &cfg)
            .unwrap();
    p.flush();
    assert_eq!(p.a.send(p.now, c, &[1; 5000]), Ok(2000));
    assert_eq!(p.a.send_space(c), Ok(0));
}

#[test]
fn send_buffer_limit_applies_now_and_never_drops_queued_bytes() {
    let mut p = Pair::default_pair();
    let (c, _l, s) = p.connect();
    p.a.set_send_buffer(p.now, c, 1000).unwrap();
    assert_eq!(p.a.send(p.now, c, &[3; 4000]), Ok(1000));
    // Shrinking below what is queued keeps the queued bytes.
    p.a.set_send_buffer(p.now, c, 10).unwrap();
    assert_eq!(p.a.buffer_limits(c).unwrap().0, 1000);
    p.flush();
    let (got, _) = p.read_all(false, s);
    assert_eq!(got, vec![3; 1000]);
    p.advance(100); // the delayed ACK
    p.a.set_send_buffer(p.now, c, 10).unwrap();
    assert_eq!(
        p.a.buffer_limits(c).unwrap().0,
        10,
        "applies once the queue allows it"
    );
}

/// RFC 9293 3.8.6.2.2: the receiver must not shrink the window it offered.
#[test]
fn receive_buffer_never_shrinks_the_offered_window() {
    let mut p = Pair::default_pair();
    let (c, _l, s) = p.connect();
    let before = p.b.buffer_limits(s).unwrap().1;
    p.b.set_recv_buffer(p.now, s, 1024).unwrap();
    // The SYN-ACK offered an unscaled 65,535 bytes: the limit stops there.
    let offered = p.b.buffer_limits(s).unwrap().1;
    assert_eq!(
        offered, 65_535,
        "clamped to the offered window (was {before})"
    );
    // Growing works at once.
    p.b.set_recv_buffer(p.now, s, offered * 2).unwrap();
    assert_eq!(p.b.buffer_limits(s).unwrap().1, offered * 2);
    let data = vec![9u8; 100_000];
    let mut sent = 0;
    while sent < data.len() {
        sent += p.a.send(p.now, c, &data[sent..]).unwrap();
        p.flush();
        p.read_all(false, s);
    }
}

/// RFC 1122 4.2.3.6: keepalive switched on for an existing connection probes after the
/// idle time and ends a connection whose peer stopped answering.
#[test]
fn keepalive_set_on_a_live_connection() {
    let mut p = Pair::default_pair();
    let (c, _l, _s) = p.connect();
    p.step_timers(1_000_000, &mut |_, _| true);
    assert_eq!(
        p.a.state(c),
        Ok(State::Established),
        "no keepalive by default"
    );
    let k = Keepalive {
        idle: Duration::from_secs(5),
        interval: Duration::from_secs(1),
        probes: 2,
    };
    p.a.set_keepalive(p.now, c, Some(k)).unwrap();
    let mut drop_b_to_a = |d: Dir, _: &halyard_tcp::wire::Segment<'_>| d == Dir::AtoB;
    for _ in 0..10 {
        p.step_timers(100_000, &mut drop_b_to_a);
    }
    assert_eq!(p.a.info(c).unwrap().error, Some(Error::TimedOut));
}

#[test]
fn port_in_use_sees_listeners_and_time_wait() {
    let mut p = Pair::default_pair();
    assert!(!p.b.local_port_in_use(PORT));
    let (c, l, s) = p.connect();
    let client_port = p.a.info(c).unwrap().local.port();
    assert!(p.b.local_port_in_use(PORT));
    assert!(p.a.local_port_in_use(client_port));
    // The client closes first and ends in TIME-WAIT.
    p.a.close(p.now, c).unwrap();
    p.flush();
    p.b.close(p.now, s).unwrap();
    p.flush();
    assert_eq!(p.a.state(c), Ok(State::TimeWait));
    p.a.release(p.now, c).unwrap();
    assert!(
        p.a.local_port_in_use(client_port),
        "TIME-WAIT still holds the port"
    );
    p.b.unlisten(p.now, l).unwrap();
    p.b.release(p.now, s).unwrap();
    p.advance(1);
    assert!(!p.b.local_port_in_use(PORT));
}

/// Linux's `sk_stream_write_space`: a writer whose send buffer filled up is told it may
/// write again only once a third of the buffer is free, not on every ACK.
#[test]
fn writable_once_a_third_of_the_send_buffer_is_free() {
    const SEND: usize = 30_000;
    let a = Config {
        send_buffer: SEND,
        ..Config::default()
    };
    let b = Config {
        recv_buffer: 4_000,
        ..Config::default()
    };
    let mut p = Pair::new(a, b);
    let (c, _l, s) = p.connect();
    while p.a.poll_event().is_some() {}
    assert_eq!(p.a.send(p.now, c, &[7; SEND]), Ok(SEND));
    let writable = |p: &mut Pair| {
        let mut seen = false;
        while let Some(e) = p.a.poll_event() {
            if let halyard_tcp::Event::Conn(id, r) = e {
                seen |= id == c && r.contains(halyard_tcp::Readiness::WRITABLE);
            }
        }
        seen
    };
    let mut quiet_acks = 0;
    loop {
        p.flush();
        let space = p.a.send_space(c).unwrap();
        if writable(&mut p) {
            assert!(space >= SEND / 3, "told writable with {space} bytes free");
            break;
        }
        assert!(space < SEND / 3, "{space} bytes free and not told");
        if space > 0 {
            quiet_acks += 1;
        }
        // B's small buffer lets a few KB through per read.
        assert!(!p.read_all(false, s).0.is_empty(), "the transfer stalled");
        p.advance(1);
    }
    assert!(
        quiet_acks > 0,
        "ACKs that freed less than a third woke nobody"
    );
}
