//! Efficiency: once a transfer is in steady state, moving segments allocates nothing
//! (buffers are fixed rings, reassembly and SACK state are bounded and pre-reserved,
//! segments are parsed in place and emitted into the caller's buffer).

use core::net::{Ipv4Addr, SocketAddrV4};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use halyard_tcp::congestion::Algorithm;
use halyard_tcp::{Config, Endpoint, Instant, RxHints, MAX_HEADER};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// With the default CUBIC and with BBR (whose per-segment send notes live in a ring
/// sized when the connection is set up). One test, so the global allocation counter
/// sees one transfer at a time.
/// CUBIC also with the receiver's segments coalesced as a device's GSO would hand them up,
/// and with the sender's TSO super-segments handed over whole (as through `lo`), for CUBIC
/// and for BBR (whose rate sampler notes each segment of a super-segment).
#[test]
fn steady_state_transfer_does_not_allocate() {
    let bbr = Config {
        congestion: Algorithm::Bbr,
        ..Config::default()
    };
    let tso = |cfg: Config| Config {
        checksum_offload: true,
        tso_max_bytes: 65_515,
        ..cfg
    };
    check_no_alloc(Config::default(), Mode::Plain);
    check_no_alloc(bbr.clone(), Mode::Plain);
    check_no_alloc(Config::default(), Mode::Gro);
    check_no_alloc(tso(Config::default()), Mode::Tso);
    check_no_alloc(tso(bbr), Mode::Tso);
}

/// How the sender's segments reach the receiver.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One by one.
    Plain,
    /// Coalesced by a GRO-like [`Coalescer`].
    Gro,
    /// As the sender emitted them, super-segments whole.
    Tso,
}

/// Joins consecutive segments of one flow with the same ACK and options into one of up to
/// 64 KB (what GRO in the host and `GUEST_TSO4` hand the guest), in a buffer reserved once.
struct Coalescer {
    frame: Vec<u8>,
    next_seq: u32,
    /// Segments added and frames started.
    segments: u64,
    frames: u64,
}

impl Coalescer {
    /// Adds `seg`; returns false when it does not continue the frame (flush, then add again).
    fn add(&mut self, seg: &[u8]) -> bool {
        let hlen = usize::from(seg[12] >> 4) * 4;
        let seq = u32::from_be_bytes([seg[4], seg[5], seg[6], seg[7]]);
        let payload = &seg[hlen..];
        if self.frame.is_empty() {
            self.frame.extend_from_slice(seg);
            self.frames += 1;
        } else {
            let same = self.frame.len() >= hlen
                && self.frame[12] == seg[12]
                && self.frame[8..12] == seg[8..12]
                && self.frame[20..hlen] == seg[20..hlen];
            if !same || seq != self.next_seq || self.frame.len() + payload.len() > 65_515 {
                return false;
            }
            self.frame.extend_from_slice(payload);
        }
        self.next_seq = seq.wrapping_add(payload.len() as u32);
        self.segments += 1;
        true
    }
}

fn check_no_alloc(cfg: Config, mode: Mode) {
    let (a_ip, b_ip) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let mut a = Endpoint::new(cfg.clone(), [1; 16]);
    let mut b = Endpoint::new(cfg, [2; 16]);
    let l = b.listen(SocketAddrV4::new(b_ip, 80)).unwrap();
    let mut now = Instant::from_millis(1);
    let c = a.connect(now, a_ip, SocketAddrV4::new(b_ip, 80)).unwrap();
    let mut buf = vec![0u8; MAX_HEADER + 65_536];
    let mut super_segments = 0u64;
    let data = vec![0xabu8; 64 * 1024];
    let mut sink = vec![0u8; 64 * 1024];
    let mut s = None;
    let mut moved = 0usize;
    let mut coalescer = Coalescer {
        frame: Vec::with_capacity(65_536),
        next_seq: 0,
        segments: 0,
        frames: 0,
    };
    let mut round =
        |a: &mut Endpoint, b: &mut Endpoint, now: Instant, s: &mut Option<_>, moved: &mut usize| {
            a.handle_timeout(now);
            b.handle_timeout(now);
            let _ = a.send(now, c, &data);
            let hints = RxHints {
                checksum_trusted: true,
                gso_size: Some(1448),
            };
            while let Some(t) = a.poll_transmit(now, &mut buf) {
                if mode == Mode::Tso {
                    let hints = RxHints {
                        checksum_trusted: t.checksum_partial,
                        gso_size: t.gso_size,
                    };
                    super_segments += u64::from(t.gso_size.is_some());
                    b.receive_with(now, t.src, t.dst, &buf[..t.len], hints);
                } else if mode == Mode::Plain {
                    b.receive(now, t.src, t.dst, &buf[..t.len]);
                } else if !coalescer.add(&buf[..t.len]) {
                    b.receive_with(now, t.src, t.dst, &coalescer.frame, hints);
                    coalescer.frame.clear();
                    assert!(coalescer.add(&buf[..t.len]));
                }
            }
            if !coalescer.frame.is_empty() {
                b.receive_with(now, a_ip, b_ip, &coalescer.frame, hints);
                coalescer.frame.clear();
            }
            if s.is_none() {
                *s = b.accept(l);
            }
            if let Some(s) = *s {
                while let Ok(n) = b.recv(now, s, &mut sink) {
                    if n == 0 {
                        break;
                    }
                    *moved += n;
                }
            }
            while let Some(t) = b.poll_transmit(now, &mut buf) {
                let hints = RxHints {
                    checksum_trusted: t.checksum_partial,
                    gso_size: None,
                };
                a.receive_with(now, t.src, t.dst, &buf[..t.len], hints);
            }
            while a.poll_event().is_some() {}
            while b.poll_event().is_some() {}
        };
    for _ in 0..2000 {
        now = Instant::from_micros(now.micros() + 500);
        round(&mut a, &mut b, now, &mut s, &mut moved);
    }
    let warm = moved;
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..2000 {
        now = Instant::from_micros(now.micros() + 500);
        round(&mut a, &mut b, now, &mut s, &mut moved);
    }
    let allocs = ALLOCS.load(Ordering::Relaxed) - before;
    assert!(
        moved - warm > 50_000_000,
        "steady state moved data: {}",
        moved - warm
    );
    assert_eq!(allocs, 0, "allocations during steady-state transfer");
    if mode == Mode::Tso {
        assert!(
            super_segments > 1000,
            "super-segments sent: {super_segments}"
        );
    }
    if mode == Mode::Gro {
        assert!(
            coalescer.segments > 8 * coalescer.frames,
            "segments coalesced: {} in {} frames",
            coalescer.segments,
            coalescer.frames
        );
    }
}
