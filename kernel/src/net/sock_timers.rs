//! The deadlines of every [`Sock`]: one ordered map ("heap") of (deadline, weak socket
//! reference), fired from NET_RX.
//!
//! Entries are never updated or removed in place (lazy deletion): a socket pushes an
//! entry only when its next deadline is earlier than the earliest one it already has in
//! the heap (a retransmission timer pushed back by every ACK pushes nothing), and an entry
//! that fires early, or for a socket that is gone, costs one look at the socket. So the
//! heap holds about one entry per socket with a timer. An entry of a socket that is gone
//! would keep the socket's memory (a weak reference does) until its deadline, so once the
//! sockets gone since the last purge reach half the heap (or a handful) such entries are
//! dropped: amortized O(1) per socket, and little memory held after a connection closes.
//! Firing never spins on a socket lock ([`Sock::timer_fired`]). The heap has its own
//! lock (`net.sock.timers`), taken under a socket lock or alone, never around one.
use alloc::collections::BTreeMap;
use alloc::sync::Weak;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use halyard_tcp::Instant;

use super::sock::Sock;
use crate::sync::{BhLock, LockClass};

/// Entries ordered by deadline; the sequence number makes equal deadlines distinct keys.
struct Timers {
    entries: BTreeMap<(Instant, u64), Weak<Sock>>,
    next_seq: u64,
}

/// Sockets gone since the last purge that always justify one.
const MIN_PURGE: usize = 4;

static TIMERS_CLASS: LockClass = LockClass::new("net.sock.timers");
static TIMERS: BhLock<Timers> = BhLock::new(
    Timers {
        entries: BTreeMap::new(),
        next_seq: 0,
    },
    &TIMERS_CLASS,
);
/// Sockets dropped since the last purge.
static GONE: AtomicUsize = AtomicUsize::new(0);
/// The earliest deadline in the heap (ns; u64::MAX = none), read by the tick.
static NEXT_NS: AtomicU64 = AtomicU64::new(u64::MAX);

fn ns(at: Instant) -> u64 {
    at.micros().saturating_mul(1000)
}

/// Adds `sock`'s deadline `at`.
pub fn push(at: Instant, sock: Weak<Sock>) {
    let mut t = TIMERS.lock();
    let seq = t.next_seq;
    t.next_seq += 1;
    t.entries.insert((at, seq), sock);
    NEXT_NS.fetch_min(ns(at), Ordering::AcqRel);
}

/// A socket was dropped (its entries, if any, are now dead weight).
pub fn socket_gone() {
    GONE.fetch_add(1, Ordering::Relaxed);
}

/// Drops the entries of sockets that are gone, if enough are.
fn maybe_purge(entries: &mut BTreeMap<(Instant, u64), Weak<Sock>>) {
    let gone = GONE.load(Ordering::Relaxed);
    if gone >= (entries.len() / 2).max(MIN_PURGE) {
        GONE.fetch_sub(gone, Ordering::Relaxed);
        entries.retain(|_, sock| sock.strong_count() > 0);
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
        let mut t = TIMERS.lock();
        maybe_purge(&mut t.entries);
        while let Some(entry) = t.entries.first_entry() {
            if entry.key().0 > now {
                break;
            }
            fired.push(entry.remove());
        }
        NEXT_NS.store(
            t.entries
                .first_key_value()
                .map_or(u64::MAX, |((at, _), _)| ns(*at)),
            Ordering::Release,
        );
    }
    for sock in fired.iter().filter_map(Weak::upgrade) {
        sock.timer_fired();
    }
}
