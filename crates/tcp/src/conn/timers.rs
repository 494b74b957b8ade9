//! The connection's timers: retransmission (RFC 6298), delayed ACK (RFC 9293 3.8.6.3),
//! RACK reordering window and tail loss probe (RFC 8985 sections 6.3 and 7), pacing,
//! persist / zero-window probe (RFC 9293 3.8.6.1), keepalive (RFC 9293 3.8.4), TIME-WAIT
//! (2·MSL) and the FIN-WAIT-2 timeout for orphaned connections.

use super::Connection;
use crate::error::Error;
use crate::state::State;
use crate::stats::Stats;
use crate::time::Instant;

impl Connection {
    /// The earliest pending deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        // Asked after every segment: a branch-free minimum with "never" as u64::MAX.
        let at = |t: Option<Instant>| t.map_or(u64::MAX, Instant::micros);
        let m = at(self.rto_at)
            .min(at(self.pto_at))
            .min(at(self.reo_at))
            .min(at(self.pace_at))
            .min(at(self.delack_at))
            .min(at(self.persist_at))
            .min(at(self.keepalive_at))
            .min(at(self.close_at));
        (m != u64::MAX).then(|| Instant::from_micros(m))
    }

    /// Fires every timer due at `now`.
    pub(crate) fn on_timer(&mut self, now: Instant, stats: &mut Stats) {
        if self.close_at.is_some_and(|t| t <= now) {
            // TIME-WAIT ends normally; FIN-WAIT-2 for an orphan ends by timeout.
            let err = if self.state == State::TimeWait {
                None
            } else {
                Some(Error::TimedOut)
            };
            self.terminate(err);
            return;
        }
        if self.reo_at.is_some_and(|t| t <= now) {
            self.on_reorder_timeout(stats);
        }
        // A probe due at the same instant as the RTO goes first (it rearms the RTO).
        if self.pto_at.is_some_and(|t| t <= now) {
            self.on_pto(now, stats);
        }
        if self.rto_at.is_some_and(|t| t <= now) {
            self.on_rto(stats);
            if self.is_closed() {
                return;
            }
        }
        if self.pace_at.is_some_and(|t| t <= now) {
            // Paced data is due; the endpoint asks for output after every timer.
            self.pace_at = None;
        }
        if self.delack_at.is_some_and(|t| t <= now) {
            self.delack_at = None;
            self.ack_now = true;
        }
        if self.persist_at.is_some_and(|t| t <= now) {
            self.probe_now = true;
            self.persist_backoff += 1;
            let d = self.rtt.rto() * (1u32 << self.persist_backoff.min(6));
            self.persist_at = Some(now + d.min(self.cfg.max_rto));
        }
        if let (Some(t), Some(k)) = (self.keepalive_at, self.cfg.keepalive) {
            if t <= now {
                if self.keepalive_sent >= k.probes {
                    self.terminate(Some(Error::TimedOut));
                    return;
                }
                self.keepalive_sent += 1;
                stats.keepalive_probes += 1;
                self.probe_now = true;
                self.keepalive_at = Some(now + k.interval);
            }
        }
    }
}
