//! One thread serves every connection of a service: the listener and the connections are
//! non-blocking, registered once with a [`ReadyList`], and the thread serves only the
//! sockets that had events. A connection costs its socket and the protocol's small
//! per-connection state, not a thread and its 64 KiB stack, and an event costs work on
//! that connection alone, however many others are open.
//!
//! Admission, per service (docs/network.md, "Limits"): a new connection is refused (reset
//! at once, counted) when the service already holds [`MAX_OPEN`] connections, when free
//! memory is below the kernel's reserve (`mm::heap::low_memory`), or when the table of
//! connections cannot grow. Per peer, the TCP engine refuses SYNs beyond its limit before
//! any of this.
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::net::socket::{ReadyList, TcpListener, TcpStream};

/// Connections one service holds at most.
pub const MAX_OPEN: usize = 4096;
/// Connections accepted per round before the ready ones are served again, so a burst
/// of new connections cannot starve the open ones.
const ACCEPT_BATCH: usize = 256;

/// A protocol served by the loop: per-connection state and how to make progress.
pub trait Protocol {
    /// What the protocol keeps per connection (kept small: idle connections hold it);
    /// a new connection starts with the default.
    type Conn: Default;
    /// Send small segments at once (TCP_NODELAY): request/response protocols.
    const NODELAY: bool;
    /// Does what it can on `stream` without blocking: reads, writes, until it would
    /// block. False once the connection is finished with (it is then closed).
    fn progress(&mut self, conn: &mut Self::Conn, stream: &TcpStream) -> bool;
}

/// A service's counters (for `counters` and `/status`).
pub struct ServiceStats {
    pub name: &'static str,
    /// Connections taken into service.
    pub accepted: AtomicU64,
    /// Connections reset at once: the service was full.
    pub refused_full: AtomicU64,
    /// Connections reset at once: memory was low.
    pub refused_memory: AtomicU64,
    /// Connections held now.
    pub open: AtomicU64,
}

impl ServiceStats {
    pub const fn new(name: &'static str) -> ServiceStats {
        ServiceStats {
            name,
            accepted: AtomicU64::new(0),
            refused_full: AtomicU64::new(0),
            refused_memory: AtomicU64::new(0),
            open: AtomicU64::new(0),
        }
    }
}

/// Connections by token (their index), with a free list of tokens.
struct Slab<C> {
    entries: Vec<Option<(TcpStream, C)>>,
    free: Vec<usize>,
    len: usize,
}

impl<C> Slab<C> {
    fn new() -> Slab<C> {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// A token for a new entry, if the table can take one (growing it may fail).
    fn vacant(&mut self) -> Option<usize> {
        if let Some(t) = self.free.pop() {
            return Some(t);
        }
        // Room for the token on the free list too, so `remove` never allocates.
        self.entries.try_reserve(1).ok()?;
        self.free.try_reserve(self.entries.len() + 1).ok()?;
        self.entries.push(None);
        Some(self.entries.len() - 1)
    }

    fn remove(&mut self, token: usize) {
        if self.entries[token].take().is_some() {
            self.len -= 1;
            self.free.push(token);
        }
    }
}

/// Resets `stream` at once (SO_LINGER 0 on close).
fn refuse(stream: TcpStream, counter: &AtomicU64) {
    stream.set_linger(Some(0));
    drop(stream);
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Serves `listener` with `proto` forever.
pub fn serve<P: Protocol>(listener: TcpListener, mut proto: P, stats: &ServiceStats) -> ! {
    listener.set_nonblocking(true);
    let list = ReadyList::new(MAX_OPEN);
    listener.watch(&list);
    let mut conns: Slab<P::Conn> = Slab::new();
    let mut ready = Vec::with_capacity(MAX_OPEN);
    loop {
        if list.wait(&listener, &mut ready) {
            ready.clear();
            ready.extend((0..conns.entries.len()).filter(|&t| conns.entries[t].is_some()));
        }
        for &token in &ready {
            let Some(Some((stream, conn))) = conns.entries.get_mut(token) else {
                continue;
            };
            stream.ready_taken();
            if !proto.progress(conn, stream) {
                conns.remove(token);
                stats.open.fetch_sub(1, Ordering::Relaxed);
            }
        }
        if conns.len == 0 && !conns.entries.is_empty() {
            // The last connection went: give back the table sized for the peak.
            conns = Slab::new();
        }
        for _ in 0..ACCEPT_BATCH {
            let Ok(stream) = listener.accept() else {
                break;
            };
            if conns.len >= MAX_OPEN {
                refuse(stream, &stats.refused_full);
                continue;
            }
            let token = match conns.vacant() {
                Some(t) if !crate::mm::heap::low_memory() => t,
                other => {
                    if let Some(t) = other {
                        conns.free.push(t);
                    }
                    refuse(stream, &stats.refused_memory);
                    continue;
                }
            };
            stats.accepted.fetch_add(1, Ordering::Relaxed);
            stats.open.fetch_add(1, Ordering::Relaxed);
            stream.set_nonblocking(true);
            if P::NODELAY {
                let _ = stream.set_nodelay(true);
            }
            // Its token is queued once: the next round serves it.
            stream.watch(&list, token);
            conns.entries[token] = Some((stream, P::Conn::default()));
            conns.len += 1;
        }
    }
}
