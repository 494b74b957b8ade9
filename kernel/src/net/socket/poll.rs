//! Readiness polling over many sockets (`poll(2)` for kernel threads).
//!
//! The caller's own wait queue is registered on every socket it polls, so a readiness
//! event on any of them wakes it; readiness itself is always computed from the engine's
//! current state (level-triggered), never from the events, so no wake can be lost or
//! misread. Each stream is checked under its own socket lock. A server with many
//! connections (and its listener) uses a [`ReadyList`](super::ReadyList) instead, which
//! costs per event, not per socket.
use alloc::sync::Arc;

use super::{Interest, Result, TcpStream};
use crate::sched::WaitQueue;
use crate::time;

/// A socket to poll.
#[derive(Clone, Copy)]
pub enum Pollable<'a> {
    Stream(&'a TcpStream),
}

/// One socket of a [`poll`] call: what the caller is interested in, and (after the
/// call) what is ready.
pub struct PollEntry<'a> {
    pub socket: Pollable<'a>,
    pub interest: Interest,
    pub ready: Interest,
}

impl<'a> PollEntry<'a> {
    pub fn new(socket: Pollable<'a>, interest: Interest) -> PollEntry<'a> {
        PollEntry {
            socket,
            interest,
            ready: Interest::NONE,
        }
    }
}

/// Fills every entry's `ready` (its interest plus HANGUP and ERROR); returns how many
/// entries have something ready.
fn check(entries: &mut [PollEntry<'_>]) -> usize {
    let always = Interest::HANGUP | Interest::ERROR;
    let mut n = 0;
    for e in entries.iter_mut() {
        let Pollable::Stream(s) = e.socket;
        let ready = s.readiness();
        e.ready = Interest(ready.0 & (e.interest | always).0);
        n += usize::from(!e.ready.is_empty());
    }
    n
}

/// Adds (or removes) `queue` as a poller of every entry's socket.
fn set_poller(entries: &[PollEntry<'_>], queue: &Arc<WaitQueue>, add: bool) {
    for e in entries {
        let Pollable::Stream(s) = e.socket;
        s.sock.with(|st| {
            st.pollers.retain(|q| !Arc::ptr_eq(q, queue));
            if add {
                st.pollers.push(queue.clone());
            }
        });
    }
}

/// Waits until at least one entry is ready or `timeout_ns` passes (`Some(0)`: just
/// check; `None`: no limit). Returns the number of ready entries (0 on timeout); each
/// entry's `ready` says what. Process context; may sleep.
pub fn poll(entries: &mut [PollEntry<'_>], timeout_ns: Option<u64>) -> Result<usize> {
    let queue = Arc::new(WaitQueue::new());
    set_poller(entries, &queue, true);
    let deadline = timeout_ns.map(|t| time::now_ns().saturating_add(t));
    let mut ready = 0;
    queue.wait_until_deadline(deadline, || {
        ready = check(entries);
        ready > 0
    });
    set_poller(entries, &queue, false);
    Ok(ready)
}
