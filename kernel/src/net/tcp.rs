//! The TCP engine in the kernel: the host-tested `halyard-tcp` endpoint, fed by NET_RX and
//! driven by the same timer as the interface.
//!
//! Segments arrive in NET_RX (softirq) through the interface; socket calls come from
//! threads. Both run with the stack's bottom-half lock held (see the module docs of
//! `net`), so the connection table is never touched by a softirq while a thread holds
//! it on the same CPU — the seed's bug cannot happen, and the lock validator checks it.
//! Readiness events wake the wait queues registered for the socket they concern: its
//! own, and those of threads `poll`ing it.
//!
//! Decision: one lock for the interface and every TCP connection. Sockets on different
//! connections therefore contend on it; the critical sections are short (no copying
//! beyond the socket call itself). Per-connection locks with an owned-by-user backlog are
//! the next step when a benchmark shows the contention.
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use halyard_net::Instant as NetInstant;
use halyard_tcp::{ConnId, Endpoint, Event, ListenerId, MAX_HEADER};

use crate::sched::WaitQueue;

/// Largest TCP segment the engine writes (headers plus one MSS of payload).
const SEGMENT_BUF: usize = MAX_HEADER + 1460;

/// A socket handle: a connection or a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Handle {
    Conn(ConnId),
    Listener(ListenerId),
}

/// The endpoint and the wait queues of the sockets that use it.
pub struct Tcp {
    pub endpoint: Endpoint,
    waiters: BTreeMap<Handle, Vec<Arc<WaitQueue>>>,
    segment: Vec<u8>,
}

/// The engine's clock from the kernel's monotonic nanoseconds.
pub fn tcp_now(ns: u64) -> halyard_tcp::Instant {
    halyard_tcp::Instant::from_micros(ns / 1000)
}

impl Tcp {
    /// An endpoint keyed with `secret` (ISNs and the connection table's hash).
    pub fn new(secret: [u8; 16]) -> Tcp {
        Tcp { endpoint: Endpoint::new(halyard_tcp::Config::default(), secret), waiters: BTreeMap::new(), segment: alloc::vec![0; SEGMENT_BUF] }
    }

    /// Adds a wait queue woken on `handle`'s events (the socket's own, or a poller's).
    pub fn register(&mut self, handle: Handle, queue: Arc<WaitQueue>) {
        self.waiters.entry(handle).or_default().push(queue);
    }

    /// Removes one wait queue of `handle` (a poller is done with it).
    pub fn remove_waiter(&mut self, handle: Handle, queue: &Arc<WaitQueue>) {
        if let Some(qs) = self.waiters.get_mut(&handle) {
            qs.retain(|q| !Arc::ptr_eq(q, queue));
        }
    }

    /// Forgets `handle` (its socket is gone).
    pub fn unregister(&mut self, handle: Handle) {
        self.waiters.remove(&handle);
    }

    /// Sockets known to the kernel (for `netstat`).
    pub fn handles(&self) -> impl Iterator<Item = Handle> + '_ {
        self.waiters.keys().copied()
    }

    /// Runs the engine's timers, sends what it queued through `iface`, and wakes the
    /// sockets its events concern. Called with the stack locked, after any input.
    pub fn drive(&mut self, iface: &mut halyard_net::Interface, now_ns: u64) {
        let now = tcp_now(now_ns);
        if self.endpoint.poll_timeout().is_some_and(|t| t <= now) {
            self.endpoint.handle_timeout(now);
        }
        while let Some(t) = self.endpoint.poll_transmit(now, &mut self.segment) {
            // A refusal (no route, ARP queue full) is a lost segment: TCP retransmits.
            let _ = iface.send_ipv4(t.dst, 6, &self.segment[..t.len], NetInstant::from_nanos(now_ns));
        }
        while let Some(event) = self.endpoint.poll_event() {
            let handle = match event {
                Event::Conn(id, _) => Handle::Conn(id),
                Event::Acceptable(id) => Handle::Listener(id),
            };
            for q in self.waiters.get(&handle).into_iter().flatten() {
                q.wake_all();
            }
        }
    }

    /// When the engine next needs `drive` (ns).
    pub fn next_timeout_ns(&mut self) -> Option<u64> {
        self.endpoint.poll_timeout().map(|t| t.micros() * 1000)
    }
}
