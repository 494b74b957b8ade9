//! A connection handed out of the [`Endpoint`](crate::Endpoint) by [`Endpoint::detach`](crate::Endpoint::detach), driven by its
//! owner instead.
//!
//! Why: with every connection inside one endpoint, whoever drives the endpoint (a
//! kernel's NET_RX, every socket call) needs the one lock around it, so calls on
//! different sockets contend. A detached connection carries everything it needs to run
//! on its own — its segments, timers, transmissions, events and counters — so its owner
//! can put it under a lock of its own. The endpoint keeps what is shared: listeners,
//! handshakes in SYN-RECEIVED, accept queues, ports, and the 4-tuple (so a new
//! connection never collides with a detached one) until [`Endpoint::forget`](crate::Endpoint::forget).
//!
//! The per-connection code paths are the endpoint's own (segment parsing and counting,
//! the TIME-WAIT reuse check, input, abort and release, RST emission); only the
//! bookkeeping differs. Two things the endpoint shares across connections are per
//! connection here: the counters ([`DetachedConn::stats`]; the owner adds them up with
//! `+=` for host totals) and the RFC 5961 section 7 challenge-ACK rate limit, which
//! therefore bounds challenge ACKs per connection, not per host (still a fixed rate per
//! connection, so a blind attacker gains no amplification; the connection count is
//! itself bounded).
//!
//! The calling pattern is the endpoint's, for one connection: [`DetachedConn::receive`]
//! for its segments, [`DetachedConn::handle_timeout`] when
//! [`DetachedConn::poll_timeout`] passes, [`DetachedConn::poll_transmit`] until `None`
//! after any call, [`DetachedConn::take_events`] to learn what to wake.

use alloc::boxed::Box;
use core::net::{Ipv4Addr, SocketAddrV4};

use crate::challenge::ChallengeLimiter;
use crate::config::Keepalive;
use crate::conn::{Connection, InputCtx};
use crate::endpoint::{
    abort_conn, deliver, output_counted, parse_counted, release_conn, ConnId, ConnInfo, Delivered,
    Transmit, MAX_HEADER,
};
use crate::error::Error;
use crate::event::Readiness;
use crate::rst::RstReply;
use crate::rx_hints::RxHints;
use crate::state::State;
use crate::stats::Stats;
use crate::table::FourTuple;
use crate::time::Instant;
use crate::time_wait::TimeWait;

/// What [`DetachedConn::receive`] asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing more (the segment was processed, or counted and dropped).
    Done,
    /// A new SYN may take over this connection's TIME-WAIT tuple (RFC 9293 3.10.7.4,
    /// RFC 6191): the connection is now closed. Call [`Endpoint::forget`](crate::Endpoint::forget) on it, then
    /// hand the same segment to [`Endpoint::receive`](crate::Endpoint::receive) so a listener answers it.
    Reuse,
}

/// One connection driven outside the endpoint. See the module docs.
#[derive(Debug)]
pub struct DetachedConn {
    id: ConnId,
    conn: Box<Connection>,
    stats: Stats,
    challenge: ChallengeLimiter,
    /// An RST to send before anything else (an abort, or a reply in SYN-SENT).
    rst: Option<RstReply>,
}

impl DetachedConn {
    pub(crate) fn new(id: ConnId, conn: Box<Connection>, challenge_limit: u32) -> DetachedConn {
        DetachedConn {
            id,
            conn,
            stats: Stats::default(),
            challenge: ChallengeLimiter::new(challenge_limit),
            rst: None,
        }
    }

    /// The handle it had in the endpoint (for [`Endpoint::forget`](crate::Endpoint::forget)).
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// Our address.
    pub fn local(&self) -> SocketAddrV4 {
        self.conn.tuple.local
    }

    /// The peer's address.
    pub fn remote(&self) -> SocketAddrV4 {
        self.conn.tuple.remote
    }

    /// This connection's counters since it was detached.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn set_rst(&mut self, r: Option<RstReply>) {
        if let Some(r) = r {
            if self.rst.replace(r).is_some() {
                self.stats.rst_replies_dropped += 1;
            }
        }
    }

    // ----- sans-I/O entry points -------------------------------------------------------

    /// Hands in one received TCP segment (the IPv4 payload) that arrived from `src` to
    /// `dst`. Malformed segments, and segments for another 4-tuple, are counted and
    /// dropped.
    pub fn receive(&mut self, now: Instant, src: Ipv4Addr, dst: Ipv4Addr, data: &[u8]) -> Outcome {
        self.receive_with(now, src, dst, data, RxHints::default())
    }

    /// [`Self::receive`] with what the device said about the segment.
    pub fn receive_with(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        data: &[u8],
        hints: RxHints,
    ) -> Outcome {
        let Some(seg) = parse_counted(&mut self.stats, src, dst, data, hints) else {
            return Outcome::Done;
        };
        let (h, t) = (&seg.header, self.conn.tuple);
        if t.local != SocketAddrV4::new(dst, h.dst_port)
            || t.remote != SocketAddrV4::new(src, h.src_port)
        {
            self.stats.drop_detached += 1;
            return Outcome::Done;
        }
        let mut ctx = InputCtx {
            stats: &mut self.stats,
            challenge: &mut self.challenge,
        };
        match deliver(&mut self.conn, now, &seg, &mut ctx) {
            Delivered::Reuse => Outcome::Reuse,
            Delivered::Done(rst) => {
                self.set_rst(rst);
                Outcome::Done
            }
        }
    }

    /// False only when [`Self::poll_transmit`] would certainly return `None` now (and it
    /// then did what that call would have done): a cheap test, so the owner can skip
    /// taking what sending needs (locks, room in a device's ring) while it is idle.
    pub fn wants_transmit(&mut self) -> bool {
        self.rst.is_some() || self.conn.wants_output()
    }

    /// Writes the next segment to send into `buf` (at least [`MAX_HEADER`] bytes; give
    /// `MAX_HEADER + mss`): a pending RST first, then the connection's output.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        if buf.len() < MAX_HEADER {
            return None;
        }
        match self.rst.take() {
            Some(r) => Some(r.emit(buf, &mut self.stats)),
            None => output_counted(&mut self.conn, now, buf, &mut self.stats),
        }
    }

    /// The connection's next timer deadline, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conn.next_deadline()
    }

    /// Fires the timers due at `now` (nothing if none is).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|d| d <= now) {
            self.conn.on_timer(now, &mut self.stats);
        }
    }

    /// What became true since the last call (connected, readable, writable, closed).
    pub fn take_events(&mut self) -> Readiness {
        core::mem::replace(&mut self.conn.events, Readiness::empty())
    }

    // ----- socket calls ----------------------------------------------------------------

    /// Queues data for sending; returns how many bytes the send buffer took.
    pub fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        self.conn.send(data)
    }

    /// Reads received data. `Ok(0)` is end of stream (the peer closed its direction).
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        self.conn.recv(buf)
    }

    /// Reads received data without consuming it (`MSG_PEEK`), from `skip` bytes in;
    /// answers as `recv` (`Ok(0)` also when `skip` is past the data).
    pub fn peek(&self, skip: usize, buf: &mut [u8]) -> Result<usize, Error> {
        self.conn.peek(skip, buf)
    }

    /// Closes our sending direction (half-close; the peer may keep sending).
    pub fn close(&mut self) {
        self.conn.close();
    }

    /// Resets the connection (RFC 9293 ABORT).
    pub fn abort(&mut self) {
        let rst = abort_conn(&mut self.conn);
        self.set_rst(rst);
    }

    /// The application is done with the connection: it finishes on its own, gracefully
    /// if all received data was read, otherwise with a reset (data would be lost).
    pub fn release(&mut self) {
        let rst = release_conn(&mut self.conn);
        self.set_rst(rst);
    }

    /// True once [`DetachedConn::release`] was called.
    pub fn is_released(&self) -> bool {
        self.conn.orphaned
    }

    /// Released and in TIME-WAIT: hand it to [`Endpoint::adopt_time_wait`](crate::Endpoint::adopt_time_wait),
    /// which keeps a compact record of it, and drop it.
    pub fn is_orphaned_time_wait(&self) -> bool {
        self.conn.orphaned && self.conn.state == State::TimeWait
    }

    /// The TIME-WAIT record that stands for this connection from now on, with its tuple
    /// and whether it owes an ACK; the connection itself is closed. `None` unless
    /// [`Self::is_orphaned_time_wait`].
    pub(crate) fn take_time_wait(&mut self) -> Option<(FourTuple, TimeWait, bool)> {
        let (tw, ack_owed) = self.conn.time_wait_record()?;
        self.conn.terminate(None);
        Some((self.conn.tuple, tw, ack_owed))
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        self.conn.state
    }

    /// Diagnostics.
    pub fn info(&self) -> ConnInfo {
        ConnInfo::of(&self.conn)
    }

    /// State, timers, windows and counters (`TCP_INFO`, `/proc/net/tcp`).
    pub fn details(&self) -> crate::Details {
        self.conn.details()
    }

    /// Bytes waiting to be read.
    pub fn recv_queue(&self) -> usize {
        self.conn.recv_queue()
    }

    /// Free space in the send buffer.
    pub fn send_space(&self) -> usize {
        self.conn.send_space()
    }

    /// Bytes in the send buffer (unsent or unacknowledged).
    pub fn send_queue(&self) -> usize {
        self.conn.send_queue()
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&mut self, on: bool) {
        self.conn.set_nodelay(on);
    }

    /// Keepalive with `k`'s parameters, or off (SO_KEEPALIVE); the idle period starts now.
    pub fn set_keepalive(&mut self, now: Instant, k: Option<Keepalive>) {
        self.conn.set_keepalive(now, k);
    }

    /// Send-buffer limit (SO_SNDBUF); never below the bytes already queued.
    pub fn set_send_buffer(&mut self, bytes: usize) {
        self.conn.set_send_buffer(bytes);
    }

    /// Receive-buffer limit (SO_RCVBUF); never below the bytes held plus the window
    /// already offered.
    pub fn set_recv_buffer(&mut self, bytes: usize) {
        self.conn.set_recv_buffer(bytes);
    }

    /// The buffer limits in force: (send, receive).
    pub fn buffer_limits(&self) -> (usize, usize) {
        self.conn.buffer_limits()
    }
}
