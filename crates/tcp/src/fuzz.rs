//! Fuzz entry point: feeds arbitrary bytes, as segments and as a script of operations,
//! into a listening endpoint and an established connection.
//!
//! [`fuzz_segments`] never panics on any input (that is the property a fuzzer checks);
//! it is deterministic, so a crashing input reproduces. A libFuzzer harness only has to
//! call it; `tests/fuzz.rs` hammers it with seeded random and mutated inputs in
//! `cargo test`.
//!
//! Input format, consumed byte by byte: an opcode, then its operands.
//! - `0 len bytes…`: hand `len` raw bytes to the server as a segment (mostly fails
//!   parsing: exercises the wire-format checks and their counters);
//! - `1 sel len bytes…`: the same bytes with ports, sequence numbers and checksum made
//!   plausible (`sel` picks the listener or the connection, and whether SEQ/ACK are
//!   placed near the connection's real window), so they reach the state machine; with
//!   `sel` bit 6 the checksum is left as fuzzed and the segment handed in as one the
//!   device vouched for ([`RxHints`](crate::RxHints)), bit 7 adding a GSO size;
//! - `2 ms`: advance time and fire timers;
//! - `3`: exchange pending segments between the client and the server;
//! - `4 n`: the client sends `n` bytes; `5`: the server reads; `6`: either side
//!   closes; `7`: the server aborts.

use alloc::vec;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use crate::endpoint::MAX_HEADER;
use crate::seq::Seq;
use crate::time::Instant;
use crate::wire::{fill_checksum, Segment, HEADER_LEN};
use crate::{Config, ConnId, Endpoint, RxHints};

const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const SERVER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const PORT: u16 = 80;

struct Rig {
    client: Endpoint,
    server: Endpoint,
    now: Instant,
    conn: Option<ConnId>,
    accepted: Option<ConnId>,
    listener: crate::ListenerId,
    client_port: u16,
    /// SEQ and ACK of the last segment the client sent (to aim crafted segments).
    last_seq: Seq,
    last_ack: Seq,
    buf: Vec<u8>,
}

impl Rig {
    fn new() -> Rig {
        let cfg = Config {
            syn_backlog: 4,
            accept_backlog: 4,
            max_ooo_ranges: 4,
            ..Config::default()
        };
        let mut server = Endpoint::new(cfg.clone(), [7; 16]);
        let listener = server
            .listen(SocketAddrV4::new(SERVER_IP, PORT))
            .unwrap_or_else(|_| unreachable!());
        let mut r = Rig {
            client: Endpoint::new(cfg, [8; 16]),
            server,
            now: Instant::from_millis(1000),
            conn: None,
            accepted: None,
            listener,
            client_port: 0,
            last_seq: Seq(0),
            last_ack: Seq(0),
            buf: vec![0; MAX_HEADER + 2048],
        };
        if let Ok(c) = r
            .client
            .connect(r.now, CLIENT_IP, SocketAddrV4::new(SERVER_IP, PORT))
        {
            r.conn = Some(c);
            r.client_port = r.client.info(c).map(|i| i.local.port()).unwrap_or(1);
        }
        r.exchange();
        r
    }

    /// Moves segments both ways until quiet (bounded).
    fn exchange(&mut self) {
        for _ in 0..64 {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit(self.now, &mut self.buf) {
                moved = true;
                if let Ok(s) = Segment::parse(&self.buf[..t.len], t.src, t.dst) {
                    self.last_seq = s.header.seq + s.seq_len();
                    self.last_ack = s.header.ack;
                }
                self.server
                    .receive(self.now, t.src, t.dst, &self.buf[..t.len]);
            }
            while let Some(t) = self.server.poll_transmit(self.now, &mut self.buf) {
                moved = true;
                self.client
                    .receive(self.now, t.src, t.dst, &self.buf[..t.len]);
            }
            if self.accepted.is_none() {
                self.accepted = self.server.accept(self.listener);
            }
            if !moved {
                break;
            }
        }
        while self.server.poll_event().is_some() {}
        while self.client.poll_event().is_some() {}
    }

    fn drain_server(&mut self) {
        // Whatever the server answers is discarded, but it must be producible.
        for _ in 0..256 {
            if self.server.poll_transmit(self.now, &mut self.buf).is_none() {
                break;
            }
        }
    }

    fn crafted(&mut self, sel: u8, bytes: &[u8]) {
        let mut seg = vec![0u8; bytes.len().max(HEADER_LEN)];
        seg[..bytes.len()].copy_from_slice(bytes);
        let src_port = if sel & 1 == 0 {
            self.client_port
        } else {
            1024 + u16::from(sel)
        };
        seg[0..2].copy_from_slice(&src_port.to_be_bytes());
        seg[2..4].copy_from_slice(&PORT.to_be_bytes());
        if sel & 2 != 0 {
            let delta = u32::from(seg[4]) << 8 | u32::from(seg[5]);
            let seq = if sel & 4 != 0 {
                self.last_seq + delta
            } else {
                self.last_seq - delta
            };
            seg[4..8].copy_from_slice(&seq.0.to_be_bytes());
        }
        if sel & 8 != 0 {
            let delta = u32::from(seg[8]) << 8 | u32::from(seg[9]);
            let ack = if sel & 16 != 0 {
                self.last_ack + delta
            } else {
                self.last_ack - delta
            };
            seg[8..12].copy_from_slice(&ack.0.to_be_bytes());
        }
        if sel & 32 == 0 {
            // A sane data offset, keeping any option bytes the input supplied.
            let words = (seg.len() / 4).clamp(5, 15) as u8;
            seg[12] = (seg[12] & 0x0f) | (words.min(5 + (seg[12] & 0x0f) % 11) << 4);
        }
        if sel & 64 == 0 {
            fill_checksum(&mut seg, CLIENT_IP, SERVER_IP);
            self.server.receive(self.now, CLIENT_IP, SERVER_IP, &seg);
        } else {
            // As from a device with receive offloads: the checksum (as fuzzed) is not
            // verified, and the segment may claim any GSO size, 0 included.
            let hints = RxHints {
                checksum_trusted: true,
                gso_size: (sel & 128 != 0).then(|| u16::from_be_bytes([seg[14], seg[15]])),
            };
            self.server
                .receive_with(self.now, CLIENT_IP, SERVER_IP, &seg, hints);
        }
    }
}

/// Runs one fuzz input. Never panics for any input.
pub fn fuzz_segments(data: &[u8]) {
    let mut r = Rig::new();
    let mut i = 0;
    let mut take = |n: usize| -> &[u8] {
        let s = &data[i.min(data.len())..(i + n).min(data.len())];
        i += n;
        s
    };
    let mut scratch = [0u8; 1024];
    while let Some(&op) = take(1).first() {
        match op % 8 {
            0 => {
                let len = usize::from(take(1).first().copied().unwrap_or(0));
                let bytes = take(len).to_vec();
                r.server.receive(r.now, CLIENT_IP, SERVER_IP, &bytes);
            }
            1 => {
                let sel = take(1).first().copied().unwrap_or(0);
                let len = usize::from(take(1).first().copied().unwrap_or(0));
                let bytes = take(len).to_vec();
                r.crafted(sel, &bytes);
            }
            2 => {
                let ms = u64::from(take(1).first().copied().unwrap_or(0)) * 50;
                r.now = Instant::from_micros(r.now.micros() + ms * 1000);
                r.client.handle_timeout(r.now);
                r.server.handle_timeout(r.now);
            }
            3 => r.exchange(),
            4 => {
                let n = usize::from(take(1).first().copied().unwrap_or(0)) * 64;
                if let Some(c) = r.conn {
                    let payload = vec![0x5a; n];
                    let _ = r.client.send(r.now, c, &payload);
                }
            }
            5 => {
                if let Some(s) = r.accepted {
                    let _ = r.server.recv(r.now, s, &mut scratch);
                }
            }
            6 => {
                if let Some(c) = r.conn {
                    let _ = r.client.close(r.now, c);
                }
                if let Some(s) = r.accepted {
                    let _ = r.server.close(r.now, s);
                }
            }
            _ => {
                if let Some(s) = r.accepted {
                    let _ = r.server.abort(r.now, s);
                }
            }
        }
        r.drain_server();
    }
    r.exchange();
}
