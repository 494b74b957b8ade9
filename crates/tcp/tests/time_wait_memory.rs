//! Memory: connections that closed hold nothing but their TIME-WAIT records, which fit in
//! the tables `Endpoint::preallocate` sized: once a few hundred connections that moved
//! data both ways are closed and released, the heap is back where it was before they
//! were opened (a full connection in TIME-WAIT held about 1.6 KB: its 1.4 KB state and
//! its reassembly and SACK ranges).

mod common;

use common::*;
use core::net::SocketAddrV4;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};

/// Counts the bytes allocated and not yet freed.
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: forwards to the system allocator, only counting bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as i64 - l.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const N: u16 = 300;

#[test]
fn closed_connections_keep_only_their_records() {
    let mut p = Pair::default_pair();
    p.a.preallocate();
    p.b.preallocate();
    let l = p.b.listen(SocketAddrV4::new(B_IP, PORT)).unwrap();
    // The harness's segment log grows with traffic; it is not the endpoints' memory.
    p.log.reserve(100 * usize::from(N));
    p.transmits.reserve(100 * usize::from(N));
    let mut conns = Vec::with_capacity(usize::from(N));
    let base = LIVE.load(Ordering::Relaxed);
    for i in 0..N {
        let pa = SocketAddrV4::new(A_IP, 2000 + i);
        let c =
            p.a.connect_from(p.now, pa, SocketAddrV4::new(B_IP, PORT))
                .unwrap();
        p.flush();
        let s = p.b.accept(l).unwrap();
        p.a.send(p.now, c, &[7; 3000]).unwrap();
        p.flush();
        p.read_all(false, s);
        p.b.send(p.now, s, &[8; 3000]).unwrap();
        p.flush();
        p.read_all(true, c);
        conns.push((c, s));
    }
    p.log.clear();
    p.transmits.clear();
    let open = LIVE.load(Ordering::Relaxed) - base;
    assert!(
        open > i64::from(N) * 2 * 1_000,
        "open connections hold state and buffers ({open} bytes)"
    );
    for &(c, s) in &conns {
        p.a.close(p.now, c).unwrap();
        p.a.release(p.now, c).unwrap();
        p.flush();
        p.b.release(p.now, s).unwrap();
        p.flush();
    }
    assert_eq!(p.a.time_wait_count(), usize::from(N));
    assert_eq!(p.a.connection_count() + p.b.connection_count(), 0);
    p.log.clear();
    p.transmits.clear();
    let closed = LIVE.load(Ordering::Relaxed) - base;
    assert!(
        closed <= 4096,
        "{N} connections in TIME-WAIT hold {closed} bytes beyond the preallocated tables"
    );
}
