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
//!
//! Once a recovery proved spurious (`undo.rs`), the path reorders: from then on every
//! loss, even one with DupThresh segments SACKed above it, waits for the window, and the
//! window grows by min_rtt / 4 per spurious recovery up to SRTT, back to min_rtt / 4
//! after 16 recoveries without one (RFC 8985 section 6.2, RACK.reord and
//! RACK.reo_wnd_mult).

use core::time::Duration;

use super::Connection;
use crate::stats::Stats;
use crate::time::Instant;

/// Floor of the reordering window: the engine's timer granularity.
const MIN_REO_WND: Duration = Duration::from_millis(1);
/// Largest multiple of min_rtt / 4 the window grows to (it is also capped at SRTT).
const MAX_REO_WND_MULT: u8 = 4;
/// Recoveries after which a grown window returns to min_rtt / 4 (RFC 8985 6.2).
const REO_WND_PERSIST: u8 = 16;

/// RACK's reordering state.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reordering {
    /// RACK.reord: a recovery on this path was spurious.
    pub seen: bool,
    /// RACK.reo_wnd_mult.
    mult: u8,
    /// RACK.reo_wnd_persist: recoveries left before `mult` returns to 1.
    persist: u8,
}

impl Default for Reordering {
    fn default() -> Reordering {
        Reordering {
            seen: false,
            mult: 1,
            persist: 0,
        }
    }
}

impl Connection {
    /// SACK shows data above a hole, but less than DupThresh: start the reordering
    /// window unless it is already running.
    pub(super) fn arm_reorder_timer(&mut self, now: Instant) {
        if self.reo_at.is_some() || self.scoreboard.sacked_bytes() == 0 {
            return;
        }
        if let (Some(min_rtt), Some(srtt)) = (self.rtt.min_rtt(), self.rtt.srtt()) {
            let wnd = (min_rtt / 4 * u32::from(self.reordering.mult)).min(srtt);
            self.reo_at = Some(now + wnd.max(MIN_REO_WND));
        }
    }

    /// A recovery was spurious: the path reorders; widen the window.
    pub(super) fn reordering_detected(&mut self) {
        let r = &mut self.reordering;
        r.seen = true;
        r.mult = (r.mult + 1).min(MAX_REO_WND_MULT);
        r.persist = REO_WND_PERSIST;
    }

    /// A recovery began: count down to narrowing the window again.
    pub(super) fn reordering_on_recovery(&mut self) {
        let r = &mut self.reordering;
        if r.persist > 0 {
            r.persist -= 1;
            if r.persist == 0 {
                r.mult = 1;
            }
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
