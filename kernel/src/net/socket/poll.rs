//! Readiness polling over many sockets (`poll(2)` for kernel threads).
//!
//! The caller's own wait queue is registered on every socket it polls, so a readiness
//! event on any of them wakes it; readiness itself is always computed from the engine's
//! current state (level-triggered), never from the events, so no wake can be lost or
//! misread. Each stream is checked under its own socket lock. A server with many
//! connections (and its listener) uses a [`ReadyList`](super::ReadyList) instead, which
//! costs per event, not per socket.
use alloc::sync::Arc;
use core::ops::BitOr;

use halyard_tcp::{DetachedConn, State};

use super::{Result, TcpStream};
use crate::sched::WaitQueue;
use crate::time;

/// A set of readiness conditions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interest(u8);

impl Interest {
    pub const NONE: Interest = Interest(0);
    /// Data or end of stream to read.
    pub const READABLE: Interest = Interest(1);
    /// Room to write (the connection is established and its send buffer has space).
    pub const WRITABLE: Interest = Interest(2);
    /// No more data will flow either way (closed or in TIME-WAIT). Always reported.
    pub const HANGUP: Interest = Interest(4);
    /// The connection failed (`take_error` says why). Always reported.
    pub const ERROR: Interest = Interest(8);

    pub const fn contains(self, other: Interest) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        Interest(self.0 | rhs.0)
    }
}

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

/// What is ready on a connection now.
fn stream_readiness(conn: &DetachedConn) -> Interest {
    let info = conn.info();
    let mut r = Interest::NONE;
    let peer_done = matches!(
        info.state,
        State::CloseWait | State::LastAck | State::Closing | State::TimeWait | State::Closed
    );
    if peer_done || conn.recv_queue() > 0 {
        r = r | Interest::READABLE;
    }
    if matches!(info.state, State::Established | State::CloseWait) && conn.send_space() > 0 {
        r = r | Interest::WRITABLE;
    }
    if matches!(info.state, State::TimeWait | State::Closed) {
        r = r | Interest::HANGUP;
    }
    if info.error.is_some() {
        r = r | Interest::ERROR;
    }
    r
}

/// Fills every entry's `ready` (its interest plus HANGUP and ERROR); returns how many
/// entries have something ready.
fn check(entries: &mut [PollEntry<'_>]) -> usize {
    let always = Interest::HANGUP | Interest::ERROR;
    let mut n = 0;
    for e in entries.iter_mut() {
        let Pollable::Stream(s) = e.socket;
        let ready = s.sock.with(|st| stream_readiness(&st.conn));
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
