//! `Endpoint::preallocate`: once the tables are sized for `max_connections`, filling the
//! endpoint with connections makes no large allocation (a table doubling is the kind of
//! allocation a kernel under memory pressure cannot refuse gracefully). Without it, the
//! same connections do make them.

use core::net::{Ipv4Addr, SocketAddrV4};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use halyard_tcp::seq::Seq;
use halyard_tcp::wire::{Flags, Options, SegmentHeader};
use halyard_tcp::{Config, Endpoint, Instant, MAX_HEADER};

/// Counts allocations of 16 KiB or more (table growth; a connection's own allocations
/// are smaller).
struct CountingLarge;

static LARGE: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for CountingLarge {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if l.size() >= 16 * 1024 {
            LARGE.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if n >= 16 * 1024 {
            LARGE.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: CountingLarge = CountingLarge;

const MAX: usize = 2048;

/// Large allocations made while `MAX` SYNs from distinct peers fill the endpoint.
fn large_allocations_filling(preallocate: bool) -> u64 {
    let b_ip = Ipv4Addr::new(10, 0, 0, 2);
    let cfg = Config {
        max_connections: MAX,
        syn_backlog: MAX,
        ..Config::default()
    };
    let mut b = Endpoint::new(cfg, [2; 16]);
    if preallocate {
        b.preallocate();
    }
    b.listen(SocketAddrV4::new(b_ip, 80)).unwrap();
    let now = Instant::from_millis(1);
    let mut seg = vec![0u8; MAX_HEADER];
    let before = LARGE.load(Ordering::Relaxed);
    for i in 0..MAX as u32 {
        let src = Ipv4Addr::from(0x0a01_0000 + i);
        let header = SegmentHeader {
            src_port: 40000,
            dst_port: 80,
            seq: Seq(7),
            ack: Seq(0),
            flags: Flags::SYN,
            window: 65535,
            urgent: 0,
            options: Options::default(),
        };
        let len = header.emit(&mut seg, 0, src, b_ip);
        b.receive(now, src, b_ip, &seg[..len]);
    }
    let large = LARGE.load(Ordering::Relaxed) - before;
    assert_eq!(b.connection_count(), MAX);
    large
}

#[test]
fn preallocated_tables_never_grow() {
    assert!(large_allocations_filling(false) > 0);
    assert_eq!(large_allocations_filling(true), 0);
}
