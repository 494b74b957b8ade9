//! Socket options changed on a live connection: keepalive (SO_KEEPALIVE and its
//! parameters) and the buffer limits (SO_SNDBUF, SO_RCVBUF). TCP_NODELAY is a single
//! flag and lives with the other send-side state in the parent module.
//!
//! Why the receive buffer never shrinks below what was offered: RFC 9293 section
//! 3.8.6.2.2 tells a receiver not to shrink the window (move its right edge left); the
//! peer may already be sending into it. A smaller limit therefore takes effect only as
//! far as the bytes held plus the window already advertised allow. The window-scale
//! factor was fixed by the handshake (RFC 7323 section 2.2), so a larger receive buffer
//! is only advertised up to `0xffff << scale`.

use super::Connection;
use crate::config::Keepalive;
use crate::state::State;
use crate::time::Instant;

impl Connection {
    /// Turns keepalive on with `k`'s idle time, probe interval and probe count, or off.
    /// The idle period starts now.
    pub(crate) fn set_keepalive(&mut self, now: Instant, k: Option<Keepalive>) {
        self.cfg.keepalive = k;
        self.keepalive_sent = 0;
        let live = self.state.is_synchronized() && self.state != State::TimeWait;
        self.keepalive_at = k.filter(|_| live).map(|k| now + k.idle);
    }

    /// Sets the send-buffer limit; never below the bytes already queued.
    pub(crate) fn set_send_buffer(&mut self, bytes: usize) {
        let cap = bytes.max(self.sendbuf.len()).max(1);
        self.sendbuf.set_capacity(cap);
        self.cfg.send_buffer = cap;
        if self.sendbuf.free() > 0 {
            self.events |= crate::event::Readiness::WRITABLE;
        }
    }

    /// Sets the receive-buffer limit; never below the bytes held plus the window
    /// already offered (no window shrinking).
    pub(crate) fn set_recv_buffer(&mut self, bytes: usize) {
        let offered = if self.rcv_adv > self.rcv_nxt {
            self.rcv_adv.since(self.rcv_nxt) as usize
        } else {
            0
        };
        let cap = bytes.max(self.recvbuf.len() + offered).max(1);
        self.recvbuf.set_capacity(cap);
        self.cfg.recv_buffer = cap;
        self.maybe_window_update();
    }

    /// The limits in force (send, receive).
    pub(crate) fn buffer_limits(&self) -> (usize, usize) {
        (self.sendbuf.capacity(), self.recvbuf.capacity())
    }
}
