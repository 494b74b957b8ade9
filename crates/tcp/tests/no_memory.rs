//! Memory pressure: when the allocator refuses to grow a connection's buffers, the
//! engine neither panics nor loses data. A send takes nothing (`WouldBlock`), a received
//! segment that cannot be stored is dropped and counted (`drop_no_memory`), and once
//! memory is back the peer's retransmission delivers everything intact.

use core::net::{Ipv4Addr, SocketAddrV4};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

use halyard_tcp::{Config, Endpoint, Error, Instant, MAX_HEADER};

/// Refuses buffer storage (powers of two from the ring's smallest storage on) while
/// `REFUSE` is set; the test's own allocations are of other sizes.
struct Refusing;

static REFUSE: AtomicBool = AtomicBool::new(false);

fn refused(l: &Layout) -> bool {
    l.size() >= 512 && l.size().is_power_of_two() && REFUSE.load(Ordering::Relaxed)
}

// SAFETY: forwards to the system allocator, or returns null (a refusal the `GlobalAlloc`
// contract allows).
unsafe impl GlobalAlloc for Refusing {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if refused(&l) {
            return core::ptr::null_mut();
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if refused(&Layout::from_size_align(n, l.align()).unwrap()) {
            return core::ptr::null_mut();
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Refusing = Refusing;

/// Moves segments both ways at `now` until quiet.
fn exchange(a: &mut Endpoint, b: &mut Endpoint, now: Instant) {
    let mut buf = vec![0u8; MAX_HEADER + 1500];
    for _ in 0..100 {
        a.handle_timeout(now);
        b.handle_timeout(now);
        let mut moved = false;
        while let Some(t) = a.poll_transmit(now, &mut buf) {
            b.receive(now, t.src, t.dst, &buf[..t.len]);
            moved = true;
        }
        while let Some(t) = b.poll_transmit(now, &mut buf) {
            a.receive(now, t.src, t.dst, &buf[..t.len]);
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

#[test]
fn refused_buffer_growth_drops_and_recovers() {
    let (a_ip, b_ip) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let mut a = Endpoint::new(Config::default(), [1; 16]);
    let mut b = Endpoint::new(Config::default(), [2; 16]);
    let l = b.listen(SocketAddrV4::new(b_ip, 80)).unwrap();
    let mut now = Instant::from_millis(1);
    let c = a.connect(now, a_ip, SocketAddrV4::new(b_ip, 80)).unwrap();
    exchange(&mut a, &mut b, now);
    let s = b.accept(l).expect("accepted");

    // No storage for the send buffer: nothing is taken.
    // (Refusal is switched off before asserting: a failing assertion must be able to
    // allocate its report.)
    REFUSE.store(true, Ordering::Relaxed);
    let refused_send = a.send(now, c, b"refused");
    REFUSE.store(false, Ordering::Relaxed);
    assert_eq!(refused_send, Err(Error::WouldBlock));

    // A stores the data; B cannot: the segment is dropped and counted.
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    assert_eq!(a.send(now, c, &data), Ok(data.len()));
    REFUSE.store(true, Ordering::Relaxed);
    exchange(&mut a, &mut b, now);
    REFUSE.store(false, Ordering::Relaxed);
    assert!(b.stats().drop_no_memory > 0);
    let mut got = vec![0u8; 8000];
    assert_eq!(b.recv(now, s, &mut got), Err(Error::WouldBlock));

    // Memory is back: A's retransmission timeout resends, B stores everything.
    let mut received = Vec::new();
    for _ in 0..20 {
        now = Instant::from_millis(now.millis() + 1000);
        exchange(&mut a, &mut b, now);
        while let Ok(n) = b.recv(now, s, &mut got) {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&got[..n]);
        }
        if received.len() == data.len() {
            break;
        }
    }
    assert_eq!(received, data);
    assert_eq!(a.send_queue(c), Ok(0));
}
