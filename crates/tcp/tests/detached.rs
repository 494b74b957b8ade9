//! Connections handed out of the endpoint (`Endpoint::detach`) and driven on their own,
//! against an endpoint whose connections stay inside: data both ways, close and
//! TIME-WAIT, `forget`, TIME-WAIT reuse, aborts, and malformed input.

use core::net::{Ipv4Addr, SocketAddrV4};

use halyard_tcp::seq::Seq;
use halyard_tcp::wire::{Flags, Options, SegmentHeader};
use halyard_tcp::{
    Config, ConnId, DetachedConn, Endpoint, Error, Instant, ListenerId, Outcome, Readiness, State,
    MAX_HEADER,
};

const A_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PORT: u16 = 80;

/// Host A detaches its connections (as the kernel does); host B is a plain endpoint.
struct Net {
    a: Endpoint,
    detached: Vec<DetachedConn>,
    b: Endpoint,
    now: Instant,
    buf: Vec<u8>,
}

fn ports(bytes: &[u8]) -> (u16, u16) {
    (
        u16::from_be_bytes([bytes[0], bytes[1]]),
        u16::from_be_bytes([bytes[2], bytes[3]]),
    )
}

impl Net {
    fn new() -> Net {
        Net {
            a: Endpoint::new(Config::default(), [1; 16]),
            detached: Vec::new(),
            b: Endpoint::new(Config::default(), [2; 16]),
            now: Instant::from_millis(1_000),
            buf: vec![0; MAX_HEADER + 1460],
        }
    }

    /// Routes a segment for host A: to the detached connection with its 4-tuple, else to
    /// the endpoint (and on `Outcome::Reuse`, forgets the old one and re-feeds it).
    fn deliver_to_a(&mut self, src: Ipv4Addr, dst: Ipv4Addr, bytes: &[u8]) {
        let (sp, dp) = ports(bytes);
        let (local, remote) = (SocketAddrV4::new(dst, dp), SocketAddrV4::new(src, sp));
        match self
            .detached
            .iter()
            .position(|d| d.local() == local && d.remote() == remote)
        {
            Some(i) => {
                if self.detached[i].receive(self.now, src, dst, bytes) == Outcome::Reuse {
                    let d = self.detached.remove(i);
                    assert_eq!(d.state(), State::Closed);
                    self.a.forget(d.id()).unwrap();
                    self.a.receive(self.now, src, dst, bytes);
                }
            }
            None => self.a.receive(self.now, src, dst, bytes),
        }
    }

    fn flush(&mut self) {
        for _ in 0..100_000 {
            let mut moved = false;
            let mut out = Vec::new();
            while let Some(t) = self.a.poll_transmit(self.now, &mut self.buf) {
                out.push((t.src, t.dst, self.buf[..t.len].to_vec()));
            }
            for d in &mut self.detached {
                while let Some(t) = d.poll_transmit(self.now, &mut self.buf) {
                    out.push((t.src, t.dst, self.buf[..t.len].to_vec()));
                }
            }
            for (s, d, bytes) in out {
                moved = true;
                self.b.receive(self.now, s, d, &bytes);
            }
            while let Some(t) = self.b.poll_transmit(self.now, &mut self.buf) {
                moved = true;
                let bytes = self.buf[..t.len].to_vec();
                self.deliver_to_a(t.src, t.dst, &bytes);
            }
            if !moved {
                return;
            }
        }
        panic!("segments kept flowing");
    }

    fn advance(&mut self, ms: u64) {
        self.now = Instant::from_micros(self.now.micros() + ms * 1000);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        for d in &mut self.detached {
            d.handle_timeout(self.now);
        }
        self.flush();
    }

    /// B listens; A connects out to it and detaches at once (before its SYN is even
    /// sent); returns (index in `detached`, B's connection).
    fn connect_detached(&mut self, from_port: u16) -> (usize, ConnId, ListenerId) {
        let l = self.b.listen(SocketAddrV4::new(B_IP, PORT)).unwrap();
        let id = self
            .a
            .connect_from(
                self.now,
                SocketAddrV4::new(A_IP, from_port),
                SocketAddrV4::new(B_IP, PORT),
            )
            .unwrap();
        self.detached.push(self.a.detach(id).unwrap());
        self.flush();
        let s = self.b.accept(l).expect("B accepted");
        (self.detached.len() - 1, s, l)
    }

    /// Everything readable on detached connection `i`: (bytes, end of stream seen).
    fn read_detached(&mut self, i: usize) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match self.detached[i].recv(&mut chunk) {
                Ok(0) => return (out, true),
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(_) => return (out, false),
            }
        }
    }

    fn read_b(&mut self, id: ConnId) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match self.b.recv(self.now, id, &mut chunk) {
                Ok(0) => return (out, true),
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(_) => return (out, false),
            }
        }
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// A detached connection (active open) and an endpoint connection move 300 KB each way
/// and close; the detached side ends in TIME-WAIT (it closed first), then CLOSED, and
/// `forget` frees its tuple and slot.
#[test]
fn detached_transfer_both_ways_and_close() {
    let mut n = Net::new();
    let (i, s, _l) = n.connect_detached(40_000);
    assert_eq!(n.detached[i].state(), State::Established);
    assert!(n.detached[i].take_events().contains(Readiness::CONNECTED));
    assert_eq!(n.detached[i].take_events(), Readiness::empty());
    let (to_b, to_a) = (pattern(300_000, 1), pattern(300_000, 7));
    let (mut sent_a, mut sent_b) = (0, 0);
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    for _ in 0..10_000 {
        if sent_a < to_b.len() {
            sent_a += n.detached[i].send(&to_b[sent_a..]).unwrap_or(0);
        }
        if sent_b < to_a.len() {
            sent_b += n.b.send(n.now, s, &to_a[sent_b..]).unwrap_or(0);
        }
        n.advance(1);
        got_a.extend(n.read_detached(i).0);
        got_b.extend(n.read_b(s).0);
        if got_a.len() == to_a.len() && got_b.len() == to_b.len() {
            break;
        }
    }
    assert!(got_a == to_a && got_b == to_b, "data intact both ways");
    assert!(n.detached[i].stats().segments_out > 200 && n.detached[i].stats().segments_in > 200);
    assert_eq!(n.a.stats().segments_in, 0, "nothing reached the endpoint");

    n.detached[i].close();
    n.flush();
    n.b.close(n.now, s).unwrap();
    n.flush();
    assert_eq!(n.read_detached(i), (Vec::new(), true));
    assert_eq!(n.detached[i].state(), State::TimeWait);
    assert_eq!(
        n.a.connection_count(),
        1,
        "a detached connection still counts"
    );
    assert!(n.a.local_port_in_use(40_000));
    n.advance(61_000);
    assert_eq!(n.detached[i].state(), State::Closed);
    assert_eq!(n.detached[i].poll_timeout(), None);
    let d = n.detached.remove(i);
    n.a.forget(d.id()).unwrap();
    assert_eq!(n.a.connection_count(), 0);
    assert!(!n.a.local_port_in_use(40_000));
    assert_eq!(n.a.forget(d.id()), Err(Error::InvalidHandle));
}

/// An accepted connection detaches too; the endpoint no longer answers for it (calls on
/// the old handle fail, a stray segment that reaches the endpoint is counted and
/// dropped), and the tuple blocks a colliding `connect_from` until forgotten.
#[test]
fn accepted_connection_detaches_and_endpoint_keeps_tuple() {
    let mut n = Net::new();
    let l = n.a.listen(SocketAddrV4::new(A_IP, PORT)).unwrap();
    let c =
        n.b.connect(n.now, B_IP, SocketAddrV4::new(A_IP, PORT))
            .unwrap();
    n.flush();
    let id = n.a.accept(l).unwrap();
    n.b.send(n.now, c, b"before").unwrap();
    n.flush();
    n.detached.push(n.a.detach(id).unwrap());
    assert_eq!(n.a.state(id), Err(Error::InvalidHandle));
    assert_eq!(n.a.detach(id).err(), Some(Error::InvalidHandle));
    n.b.send(n.now, c, b" after").unwrap();
    // Nagle holds it until the detached side's delayed ACK fires: its timers run.
    n.flush();
    assert_eq!(n.read_detached(0).0, b"before");
    n.advance(500);
    assert_eq!(n.read_detached(0).0, b" after");
    n.detached[0].send(b"reply").unwrap();
    n.flush();
    assert_eq!(n.read_b(c).0, b"reply");

    // A segment for the detached tuple that reaches the endpoint anyway.
    let info = n.detached[0].info();
    let stray = segment(info.remote, info.local, Flags::ACK, &[]);
    n.a.receive(n.now, *info.remote.ip(), *info.local.ip(), &stray);
    assert_eq!(n.a.stats().drop_detached, 1);
    assert_eq!(
        n.a.connect_from(n.now, info.local, info.remote).err(),
        Some(Error::AddrInUse)
    );

    // Abort: the RST goes out first and the peer sees the reset.
    n.detached[0].abort();
    assert_eq!(n.detached[0].state(), State::Closed);
    n.flush();
    assert_eq!(n.detached[0].stats().resets_sent, 1);
    assert_eq!(n.b.info(c).unwrap().error, Some(Error::Reset));
    let d = n.detached.pop().unwrap();
    n.a.forget(d.id()).unwrap();
    assert_eq!(n.a.connection_count(), 0);
}

/// RFC 9293 3.10.7.4: a new SYN with a higher sequence number takes over a TIME-WAIT
/// tuple held by a detached connection: `receive` says `Reuse`, the owner forgets it and
/// re-feeds the SYN, and the endpoint's listener accepts the new incarnation.
#[test]
fn time_wait_reuse_outcome() {
    let mut n = Net::new();
    let l = n.a.listen(SocketAddrV4::new(A_IP, PORT)).unwrap();
    let (pb, pa) = (SocketAddrV4::new(B_IP, 1234), SocketAddrV4::new(A_IP, PORT));
    let c = n.b.connect_from(n.now, pb, pa).unwrap();
    n.flush();
    let id = n.a.accept(l).unwrap();
    n.detached.push(n.a.detach(id).unwrap());
    // The detached (server) side closes first and holds TIME-WAIT.
    n.detached[0].close();
    n.flush();
    n.b.close(n.now, c).unwrap();
    n.flush();
    assert_eq!(n.detached[0].state(), State::TimeWait);
    n.b.release(n.now, c).unwrap();
    n.advance(1000);
    let c2 = n.b.connect_from(n.now, pb, pa).unwrap();
    n.flush();
    assert!(n.detached.is_empty(), "the old incarnation was forgotten");
    assert_eq!(n.b.state(c2).unwrap(), State::Established);
    let again = n.a.accept(l).expect("the listener took the new SYN");
    assert_eq!(n.a.info(again).unwrap().remote, pb);
}

/// A detached connection in TIME-WAIT whose owner released it is handed back to the
/// endpoint (`adopt_time_wait`, what the kernel does when the descriptor is closed): the
/// endpoint keeps a record, frees the slot, answers for the tuple, and lets a new SYN take
/// it over (RFC 6191).
#[test]
fn orphaned_time_wait_is_adopted() {
    let mut n = Net::new();
    let l = n.a.listen(SocketAddrV4::new(A_IP, PORT)).unwrap();
    let (pb, pa) = (SocketAddrV4::new(B_IP, 1234), SocketAddrV4::new(A_IP, PORT));
    let c = n.b.connect_from(n.now, pb, pa).unwrap();
    n.flush();
    let id = n.a.accept(l).unwrap();
    let mut d = n.a.detach(id).unwrap();
    assert_eq!(n.a.adopt_time_wait(&mut d), Err(Error::InvalidState));
    n.detached.push(d);
    n.detached[0].close();
    n.flush();
    n.b.close(n.now, c).unwrap();
    n.flush();
    assert_eq!(n.detached[0].state(), State::TimeWait);
    assert!(!n.detached[0].is_orphaned_time_wait(), "still owned");
    n.detached[0].release();
    assert!(n.detached[0].is_orphaned_time_wait());
    let mut d = n.detached.pop().unwrap();
    n.a.adopt_time_wait(&mut d).unwrap();
    assert_eq!(d.state(), State::Closed);
    assert_eq!(
        n.a.forget(d.id()),
        Err(Error::InvalidHandle),
        "the slot is free"
    );
    assert_eq!((n.a.connection_count(), n.a.time_wait_count()), (0, 1));
    n.b.release(n.now, c).unwrap();
    n.advance(1000);
    let c2 = n.b.connect_from(n.now, pb, pa).unwrap();
    n.flush();
    assert_eq!(n.b.state(c2).unwrap(), State::Established);
    assert_eq!(
        n.a.time_wait_count(),
        0,
        "the new incarnation took the tuple"
    );
    assert!(n.a.accept(l).is_some());
}

/// Malformed segments and segments for another 4-tuple are counted and dropped, never a
/// panic; the connection is unaffected.
#[test]
fn malformed_segments_counted() {
    let mut n = Net::new();
    let (i, s, _l) = n.connect_detached(40_001);
    let (local, remote) = (n.detached[i].local(), n.detached[i].remote());
    let d = &mut n.detached[i];
    let before = d.stats().clone();
    assert_eq!(
        d.receive(n.now, *remote.ip(), *local.ip(), &[1, 2, 3]),
        Outcome::Done
    );
    let mut bad_sum = segment(remote, local, Flags::ACK, b"x");
    bad_sum[16] ^= 0xff;
    d.receive(n.now, *remote.ip(), *local.ip(), &bad_sum);
    let other = SocketAddrV4::new(B_IP, 999);
    d.receive(
        n.now,
        *other.ip(),
        *local.ip(),
        &segment(other, local, Flags::ACK, &[]),
    );
    let st = d.stats();
    assert_eq!(st.segments_in, before.segments_in + 3);
    assert_eq!(st.drop_truncated, before.drop_truncated + 1);
    assert_eq!(st.drop_bad_checksum, before.drop_bad_checksum + 1);
    assert_eq!(st.drop_detached, before.drop_detached + 1);
    assert_eq!(d.state(), State::Established);
    n.b.send(n.now, s, b"still fine").unwrap();
    n.flush();
    assert_eq!(n.read_detached(i).0, b"still fine");
}

/// Releasing with unread data resets (data would be lost), as on the endpoint.
#[test]
fn release_with_unread_data_resets() {
    let mut n = Net::new();
    let (i, s, _l) = n.connect_detached(40_002);
    n.b.send(n.now, s, b"unread").unwrap();
    n.flush();
    n.detached[i].release();
    assert!(n.detached[i].is_released());
    n.flush();
    assert_eq!(n.detached[i].state(), State::Closed);
    assert_eq!(n.b.info(s).unwrap().error, Some(Error::Reset));
}

/// A bare segment from `from` to `to` with a valid checksum.
fn segment(from: SocketAddrV4, to: SocketAddrV4, flags: Flags, payload: &[u8]) -> Vec<u8> {
    let h = SegmentHeader {
        src_port: from.port(),
        dst_port: to.port(),
        seq: Seq(12345),
        ack: Seq(678),
        flags,
        window: 1000,
        urgent: 0,
        options: Options::default(),
    };
    let hl = halyard_tcp::wire::HEADER_LEN;
    let mut out = vec![0u8; hl + payload.len()];
    out[hl..].copy_from_slice(payload);
    let len = h.emit(&mut out, payload.len(), *from.ip(), *to.ip());
    out.truncate(len);
    out
}

/// `peek` shows what `recv` will return without consuming it, then end of stream.
#[test]
fn peek_leaves_data_for_recv() {
    let mut n = Net::new();
    let (i, s, _l) = n.connect_detached(40_001);
    let mut buf = [0u8; 16];
    assert_eq!(n.detached[i].peek(0, &mut buf), Err(Error::WouldBlock));
    n.b.send(n.now, s, b"hello").unwrap();
    n.flush();
    assert_eq!(n.detached[i].peek(0, &mut buf[..3]), Ok(3));
    assert_eq!(&buf[..3], b"hel");
    // A peek into a second buffer goes on where the first stopped.
    assert_eq!(n.detached[i].peek(3, &mut buf[3..]), Ok(2));
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(n.detached[i].peek(5, &mut buf), Ok(0));
    assert_eq!(n.detached[i].peek(0, &mut buf), Ok(5));
    assert_eq!(n.detached[i].recv_queue(), 5);
    assert_eq!(n.read_detached(i), (b"hello".to_vec(), false));
    n.b.close(n.now, s).unwrap();
    n.flush();
    assert_eq!(n.detached[i].peek(0, &mut buf), Ok(0));
}

/// `wants_transmit` is the owner's cheap test before taking what sending needs: false on
/// an idle connection, true once there is data (or an ACK, or a FIN) to send, false again
/// when all of it went (output itself checks, in debug builds, that it never sends after
/// a no).
#[test]
fn wants_transmit_says_when_there_is_something_to_send() {
    let mut n = Net::new();
    let (i, s, _l) = n.connect_detached(40_001);
    assert!(!n.detached[i].wants_transmit(), "idle");
    n.detached[i].send(b"ping").unwrap();
    assert!(n.detached[i].wants_transmit(), "data queued");
    while n.detached[i].poll_transmit(n.now, &mut n.buf).is_some() {}
    assert!(!n.detached[i].wants_transmit(), "sent, waiting for the ACK");
    n.flush();
    assert!(!n.detached[i].wants_transmit());
    n.b.send(n.now, s, b"pong").unwrap();
    n.flush();
    assert_eq!(n.read_detached(i).0, b"pong");
    n.detached[i].close();
    assert!(n.detached[i].wants_transmit(), "FIN queued");
    n.flush();
    assert!(!n.detached[i].wants_transmit());
}
