//! The deadlines of every [`Sock`]: one min-heap of (deadline, weak socket reference),
//! fired from NET_RX.
//!
//! Entries are never updated or removed in place (lazy deletion): a socket pushes an
//! entry only when its next deadline is earlier than the earliest one it already has in
//! the heap (a retransmission timer pushed back by every ACK pushes nothing), and an entry
//! that fires early, or for a socket that is gone, costs one look at the socket. So the
//! heap holds about one entry per socket with a timer. An entry of a socket that is gone
//! would keep the socket's memory (a weak reference does) until its deadline, so once the
//! sockets gone since the last purge reach half the heap (or a handful) such entries are
//! dropped: amortized O(1) per socket, and little memory held after a connection closes.
//! Firing never spins on a socket lock ([`Sock::timer_fired`]). The heap has its own lock (`net.sock.timers`), taken
//! under a socket lock or alone, never around one.
use alloc::collections::BinaryHeap;
use alloc::sync::Weak;
use alloc::vec::Vec;
use core::cmp::Ordering as CmpOrdering;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use halyard_tcp::Instant;

use super::sock::Sock;
use crate::sync::{BhLock, LockClass};

struct Entry {
    at: Instant,
    sock: Weak<Sock>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed: the earliest deadline is the heap's maximum.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        other.at.cmp(&self.at)
    }
}

/// Sockets gone since the last purge that always justify one.
const MIN_PURGE: usize = 4;

static TIMERS_CLASS: LockClass = LockClass::new("net.sock.timers");
static TIMERS: BhLock<BinaryHeap<Entry>> = BhLock::new(BinaryHeap::new(), &TIMERS_CLASS);
/// Sockets dropped since the last purge.
static GONE: AtomicUsize = AtomicUsize::new(0);
/// The earliest deadline in the heap (ns; u64::MAX = none), read by the tick.
static NEXT_NS: AtomicU64 = AtomicU64::new(u64::MAX);

fn ns(at: Instant) -> u64 {
    at.micros().saturating_mul(1000)
}

/// Adds `sock`'s deadline `at`.
pub fn push(at: Instant, sock: Weak<Sock>) {
    let mut heap = TIMERS.lock();
    heap.push(Entry { at, sock });
    NEXT_NS.fetch_min(ns(at), Ordering::AcqRel);
}

/// A socket was dropped (its entries, if any, are now dead weight).
pub fn socket_gone() {
    GONE.fetch_add(1, Ordering::Relaxed);
}

/// Drops the entries of sockets that are gone, if enough are.
fn maybe_purge(heap: &mut BinaryHeap<Entry>) {
    let gone = GONE.load(Ordering::Relaxed);
    if gone >= (heap.len() / 2).max(MIN_PURGE) {
        GONE.fetch_sub(gone, Ordering::Relaxed);
        heap.retain(|e| e.sock.strong_count() > 0);
    }
}

/// True when the earliest deadline has passed (the tick then raises NET_RX). Lock-free.
pub fn due(now_ns: u64) -> bool {
    NEXT_NS.load(Ordering::Acquire) <= now_ns
}

/// Fires every deadline passed at `now` (NET_RX).
pub fn run(now: Instant) {
    let mut fired = Vec::new();
    {
        let mut heap = TIMERS.lock();
        maybe_purge(&mut heap);
        while heap.peek().is_some_and(|e| e.at <= now) {
            if let Some(e) = heap.pop() {
                fired.push(e.sock);
            }
        }
        NEXT_NS.store(heap.peek().map_or(u64::MAX, |e| ns(e.at)), Ordering::Release);
    }
    for sock in fired.iter().filter_map(Weak::upgrade) {
        sock.timer_fired();
    }
}
