//! RACK's time-based loss rule for segments sent once (RFC 8985 sections 6.2-6.3), in the
//! form the range-based SACK scoreboard supports.
//!
//! DupThresh (three segments SACKed above a hole, RFC 6675) cannot fire when fewer than
//! three segments follow a loss: at the end of a transfer, in a small window, or when a
//! tail loss probe is SACKed and shows that the segment before it is missing. RACK instead
//! declares a segment lost once a segment sent after it has been delivered and a
//! reordering window has passed. New data leaves in sequence order, so a hole below
//! SACKed data was sent before that data; when the hole is still open `reo_wnd` =
//! min_rtt / 4 (section 6.2) after the SACK that showed it, it is lost, and fast recovery
//! starts without waiting for the RTO.
//!
//! The engine keeps no per-segment send times, so the window is counted from the SACK's
//! arrival rather than from the hole's transmission: never earlier than RACK would mark
//! it, so no more spurious.

use core::time::Duration;

use super::Connection;
use crate::stats::Stats;
use crate::time::Instant;

/// Floor of the reordering window: the engine's timer granularity.
const MIN_REO_WND: Duration = Duration::from_millis(1);

impl Connection {
    /// SACK shows data above a hole, but less than DupThresh: start the reordering
    /// window unless it is already running.
    pub(super) fn arm_reorder_timer(&mut self, now: Instant) {
        if self.reo_at.is_some() || self.scoreboard.sacked_bytes() == 0 {
            return;
        }
        if let Some(min_rtt) = self.rtt.min_rtt() {
            self.reo_at = Some(now + (min_rtt / 4).max(MIN_REO_WND));
        }
    }

    /// The reordering window passed (RFC 8985 section 6.3): every hole below the highest
    /// SACKed range is lost. Starts fast recovery if no recovery is running and the
    /// previous one is over.
    pub(super) fn on_reorder_timeout(&mut self, stats: &mut Stats) {
        self.reo_at = None;
        if self.recovery.is_some() || self.snd_una < self.last_recover {
            return;
        }
        if let Some(lost_until) = self.scoreboard.lost_boundary(1) {
            stats.reorder_window_recoveries += 1;
            self.enter_fast_recovery(lost_until, stats);
        }
    }
}
