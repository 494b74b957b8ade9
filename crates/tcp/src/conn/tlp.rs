//! Tail loss probe (RFC 8985 section 7).
//!
//! Fast recovery needs ACKs for data sent after a loss. When the last segments of a
//! flight are lost (or the whole of a small flight), no such ACK comes and only the
//! retransmission timeout is left: at least 200 ms of silence and a window of one
//! segment. A tail loss probe sends one segment after about two round trips without an
//! ACK instead — new data if there is some, otherwise the last segment again — so the
//! ACK it draws reports the loss through SACK and ordinary fast recovery repairs it.
//!
//! A probe is scheduled only when SACK is on, nothing is SACKed and no recovery is
//! running (section 7.2), and at most one probe is outstanding per episode. When a
//! retransmitted probe turns out to have repaired a loss (its episode ends without a
//! DSACK saying the original arrived too), the sender reduces its window as for any
//! other loss (section 7.4.2).

use core::time::Duration;

use super::{Connection, Fin};
use crate::seq::Seq;
use crate::stats::Stats;
use crate::time::Instant;
use crate::wire::SegmentHeader;

/// RFC 8985 section 7.2 WCDelAckT: the worst-case delayed-ACK time of the peer, added
/// to the PTO when only one segment is in flight (the peer may be holding its ACK).
const WORST_CASE_DELACK: Duration = Duration::from_millis(200);
/// PTO before any RTT sample (RFC 8985 section 7.2).
const PTO_WITHOUT_SRTT: Duration = Duration::from_secs(1);

/// One outstanding probe (RFC 8985 TLP.end_seq and TLP.is_retrans).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Probe {
    /// SND.NXT right after the probe went out; the episode ends when it is ACKed.
    pub end: Seq,
    /// The probe resent the last segment `[start, end)` instead of sending new data.
    pub resent: Option<(Seq, Seq)>,
    /// FlightSize when the probe was sent, for the window reduction if it repaired a loss.
    pub flight: u32,
}

impl Connection {
    /// Schedules the probe timeout if the conditions of RFC 8985 section 7.2 hold,
    /// otherwise cancels it. Called after new data was sent and after an ACK.
    pub(super) fn schedule_pto(&mut self, now: Instant) {
        self.pto_at = None;
        if !self.sack_ok
            || self.snd_nxt == self.snd_una
            || self.recovery.is_some()
            || self.tlp.is_some()
            || self.scoreboard.sacked_bytes() > 0
        {
            return;
        }
        let pto = match self.rtt.srtt() {
            Some(srtt) if self.snd_nxt.since(self.snd_una) <= self.send_mss => {
                2 * srtt + WORST_CASE_DELACK
            }
            Some(srtt) => 2 * srtt,
            None => PTO_WITHOUT_SRTT,
        };
        let at = now + pto;
        // The probe takes the place of the RTO if that would fire first.
        self.pto_at = Some(self.rto_at.map_or(at, |rto| rto.min(at)));
    }

    /// The probe timeout fired (RFC 8985 section 7.3): send one new segment if the peer's
    /// window allows, otherwise the last segment again, regardless of the congestion
    /// window; then wait for the RTO.
    pub(super) fn on_pto(&mut self, now: Instant, stats: &mut Stats) {
        self.pto_at = None;
        if self.snd_nxt == self.snd_una
            || self.recovery.is_some()
            || self.tlp.is_some()
            || !self.state.is_synchronized()
        {
            return;
        }
        stats.tail_loss_probes += 1;
        let unsent = self.data_end() > self.snd_nxt && self.fin != Fin::Sent;
        let wnd_edge = self.snd_una + self.snd_wnd;
        let resent = if unsent && wnd_edge > self.snd_nxt {
            self.tlp_new_data = true;
            None
        } else {
            let start = self.snd_nxt - self.snd_nxt.since(self.snd_una).min(self.send_mss);
            self.rtx_ptr = start;
            self.rtx_end = self.snd_nxt;
            self.force_rtx = true;
            Some((start, self.snd_nxt))
        };
        // For new data, `end` moves past the probe once it is out.
        self.tlp = Some(Probe {
            end: self.snd_nxt,
            resent,
            flight: self.snd_nxt.since(self.snd_una),
        });
        self.rto_at = Some(now + self.rtt.rto());
    }

    /// Records where a new-data probe ended once it was sent.
    pub(super) fn tlp_sent_new_data(&mut self) {
        self.tlp_new_data = false;
        if let Some(p) = self.tlp.as_mut() {
            p.end = self.snd_nxt;
        }
    }

    /// Ends the probe episode when the ACK covers the probe (RFC 8985 section 7.4). A
    /// resent segment that was needed means a loss: the window is reduced once, unless
    /// the ACK carries a DSACK (RFC 2883) for the probe, which shows the original had
    /// arrived and the probe was redundant.
    pub(super) fn check_probe(&mut self, h: &SegmentHeader, stats: &mut Stats) {
        let Some(p) = self.tlp else { return };
        if h.ack < p.end {
            return;
        }
        self.tlp = None;
        let Some((start, end)) = p.resent else { return };
        if super::undo::dsack_block(h).is_some_and(|(l, r)| l <= start && r >= end) {
            stats.tail_loss_probes_redundant += 1;
        } else {
            stats.tail_loss_probe_recoveries += 1;
            let pipe = self.pipe();
            self.cc.on_congestion(p.flight, pipe);
        }
    }

    /// Loss recovery or a timeout took over: the probe episode is moot.
    pub(super) fn cancel_probe(&mut self) {
        self.pto_at = None;
        self.tlp = None;
        self.tlp_new_data = false;
    }
}
