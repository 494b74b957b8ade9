//! A two-endpoint harness with direct delivery through a filter, for state-machine tests.
#![allow(dead_code)]

use core::net::{Ipv4Addr, SocketAddrV4};
use halyard_tcp::seq::Seq;
use halyard_tcp::wire::{fill_checksum, Flags, Options, Segment, SegmentHeader};
use halyard_tcp::{Config, ConnId, Endpoint, Instant, ListenerId, RxHints, Transmit, MAX_HEADER};

pub const A_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const B_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const PORT: u16 = 80;

/// Which way a segment travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    AtoB,
    BtoA,
}

pub struct Pair {
    pub a: Endpoint,
    pub b: Endpoint,
    pub now: Instant,
    /// Every segment sent, with its direction (raw bytes).
    pub log: Vec<(Dir, Instant, Vec<u8>)>,
    /// Every segment as the engine emitted it (a TSO super-segment once), with its
    /// sequence number and payload length.
    pub transmits: Vec<(Dir, Transmit, Seq, usize)>,
    buf: Vec<u8>,
}

/// What a device with checksum and segmentation offload puts on the wire for a segment
/// the engine emitted: a super-segment (`gso_size`) cut into segments with a copy of the
/// header each (sequence numbers advanced, FIN and PSH only on the last), and every
/// checksum completed (Linux's `tcp_gso_segment` and `skb_checksum_help`).
pub fn device_segments(seg: &[u8], t: &Transmit) -> Vec<Vec<u8>> {
    let hl = usize::from(seg[12] >> 4) * 4;
    let (header, payload) = seg.split_at(hl);
    let step = t.gso_size.map_or(payload.len().max(1), usize::from);
    let seq = u32::from_be_bytes([seg[4], seg[5], seg[6], seg[7]]);
    let pieces: Vec<&[u8]> = if payload.is_empty() {
        vec![payload]
    } else {
        payload.chunks(step).collect()
    };
    let last = pieces.len() - 1;
    pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let mut out = header.to_vec();
            out.extend_from_slice(piece);
            let at = seq.wrapping_add((i * step) as u32);
            out[4..8].copy_from_slice(&at.to_be_bytes());
            if i != last {
                out[13] &= !(Flags::FIN.0 | Flags::PSH.0);
            }
            fill_checksum(&mut out, t.src, t.dst);
            out
        })
        .collect()
}

impl Pair {
    pub fn new(cfg_a: Config, cfg_b: Config) -> Pair {
        Pair {
            a: Endpoint::new(cfg_a, [1; 16]),
            b: Endpoint::new(cfg_b, [2; 16]),
            now: Instant::from_millis(1_000),
            log: Vec::new(),
            transmits: Vec::new(),
            buf: vec![0; MAX_HEADER + 65536],
        }
    }

    pub fn default_pair() -> Pair {
        Pair::new(Config::default(), Config::default())
    }

    /// Sends everything one side has pending, through `keep`; true if anything moved.
    fn move_one_way(&mut self, dir: Dir, keep: &mut dyn FnMut(Dir, &Segment<'_>) -> bool) -> bool {
        let mut moved = false;
        loop {
            let (from, to) = if dir == Dir::AtoB {
                (&mut self.a, &mut self.b)
            } else {
                (&mut self.b, &mut self.a)
            };
            let Some(t) = from.poll_transmit(self.now, &mut self.buf) else {
                return moved;
            };
            moved = true;
            let emitted = &self.buf[..t.len];
            let seq = Seq(u32::from_be_bytes([
                emitted[4], emitted[5], emitted[6], emitted[7],
            ]));
            let payload = t.len - usize::from(emitted[12] >> 4) * 4;
            self.transmits.push((dir, t, seq, payload));
            for bytes in device_segments(emitted, &t) {
                let seg =
                    Segment::parse(&bytes, t.src, t.dst).expect("engine emits valid segments");
                if keep(dir, &seg) {
                    to.receive(self.now, t.src, t.dst, &bytes);
                }
                self.log.push((dir, self.now, bytes));
            }
        }
    }

    /// Moves all pending segments, letting `keep` drop some; repeats until quiet.
    pub fn flush_with(&mut self, keep: &mut dyn FnMut(Dir, &Segment<'_>) -> bool) {
        for _ in 0..10_000 {
            let a = self.move_one_way(Dir::AtoB, keep);
            let b = self.move_one_way(Dir::BtoA, keep);
            if !a && !b {
                return;
            }
        }
        panic!("segments kept flowing");
    }

    pub fn flush(&mut self) {
        self.flush_with(&mut |_, _| true);
    }

    /// Advances time by `ms`, firing timers and flushing.
    pub fn advance(&mut self, ms: u64) {
        self.now = Instant::from_micros(self.now.micros() + ms * 1000);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.flush();
    }

    /// Advances to the next timer of either side (or by `max_ms`).
    pub fn step_timers(&mut self, max_ms: u64, keep: &mut dyn FnMut(Dir, &Segment<'_>) -> bool) {
        let limit = Instant::from_micros(self.now.micros() + max_ms * 1000);
        let next = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        self.now = next.map_or(limit, |t| t.min(limit)).max(self.now);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.flush_with(keep);
    }

    /// Listens on B and connects from A; returns (client, listener, server).
    pub fn connect(&mut self) -> (ConnId, ListenerId, ConnId) {
        let l = self.b.listen(SocketAddrV4::new(B_IP, PORT)).unwrap();
        let c = self
            .a
            .connect(self.now, A_IP, SocketAddrV4::new(B_IP, PORT))
            .unwrap();
        self.flush();
        let s = self.b.accept(l).expect("connection accepted");
        (c, l, s)
    }

    /// Reads everything available on `id` of endpoint B (or A when `on_a`).
    pub fn read_all(&mut self, on_a: bool, id: ConnId) -> (Vec<u8>, bool) {
        let ep = if on_a { &mut self.a } else { &mut self.b };
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match ep.recv(self.now, id, &mut chunk) {
                Ok(0) => return (out, true),
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(_) => return (out, false),
            }
        }
    }

    /// Segments logged in direction `dir`, with their send time.
    pub fn segs(&self, dir: Dir) -> Vec<(Instant, Segment<'_>)> {
        self.log
            .iter()
            .filter(|(d, _, _)| *d == dir)
            .map(|(d, t, b)| {
                let (s, r) = if *d == Dir::AtoB {
                    (A_IP, B_IP)
                } else {
                    (B_IP, A_IP)
                };
                (*t, Segment::parse(b, s, r).unwrap())
            })
            .collect()
    }

    /// (next sequence number, acknowledgement) of the last segment sent in `dir`.
    pub fn last_seq_ack(&self, dir: Dir) -> (Seq, Seq) {
        let segs = self.segs(dir);
        let (_, s) = segs.last().expect("a segment was sent");
        (s.header.seq + s.seq_len(), s.header.ack)
    }

    /// Hands a crafted segment to the receiving endpoint of `dir`.
    pub fn inject(&mut self, dir: Dir, h: SegmentHeader, payload: &[u8]) {
        self.inject_with(dir, h, payload, RxHints::default(), false);
    }

    /// [`Self::inject`] with device hints, and a wrong checksum when `corrupt`.
    pub fn inject_with(
        &mut self,
        dir: Dir,
        h: SegmentHeader,
        payload: &[u8],
        hints: RxHints,
        corrupt: bool,
    ) {
        let (src, dst) = if dir == Dir::AtoB {
            (A_IP, B_IP)
        } else {
            (B_IP, A_IP)
        };
        let mut buf = vec![0u8; MAX_HEADER + payload.len()];
        let hl = h.len();
        buf[hl..hl + payload.len()].copy_from_slice(payload);
        let n = h.emit(&mut buf, payload.len(), src, dst);
        if corrupt {
            buf[16] ^= 0x5a;
        }
        if dir == Dir::AtoB {
            self.b.receive_with(self.now, src, dst, &buf[..n], hints);
        } else {
            self.a.receive_with(self.now, src, dst, &buf[..n], hints);
        }
    }

    /// A header between the ports of the client (A, `a_port`) and server (B, PORT).
    pub fn header(dir: Dir, a_port: u16, seq: Seq, ack: Seq, flags: Flags) -> SegmentHeader {
        let (src_port, dst_port) = if dir == Dir::AtoB {
            (a_port, PORT)
        } else {
            (PORT, a_port)
        };
        SegmentHeader {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            window: 1000,
            urgent: 0,
            options: Options::default(),
        }
    }
}
