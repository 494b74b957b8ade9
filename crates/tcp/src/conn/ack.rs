//! ACK processing: advancing SND.UNA, RTT samples (RFC 6298 / RFC 7323 section 4), the
//! send-window update (RFC 9293 3.10.7.4 "fifth"), duplicate-ACK and SACK loss detection
//! with fast retransmit and recovery (RFC 5681 3.2, RFC 6582, RFC 6675), and the
//! retransmission timeout (RFC 6298 section 5).

use core::time::Duration;

use super::{Connection, Fin, RecoveryKind};
use crate::error::Error;
use crate::seq::Seq;
use crate::state::State;
use crate::stats::Stats;
use crate::time::Instant;
use crate::wire::{Flags, Segment};

/// Duplicate ACKs that signal a loss (RFC 5681 section 3.2: DupThresh = 3).
const DUP_THRESH: u32 = 3;
/// RTT samples above this are treated as bogus (e.g. a corrupted TSecr).
const MAX_RTT_SAMPLE_MS: u32 = 60_000;

impl Connection {
    /// Takes an RTT sample from the echoed timestamp, or from the timed segment, and
    /// returns it.
    pub(super) fn sample_rtt(&mut self, now: Instant, seg: &Segment<'_>) -> Option<Duration> {
        let h = &seg.header;
        let sample = if self.ts.is_some() {
            let (_, ecr) = h.options.timestamp?;
            let ms = self.tsval(now).wrapping_sub(ecr);
            (ecr != 0 && ms <= MAX_RTT_SAMPLE_MS).then(|| Duration::from_millis(u64::from(ms)))
        } else {
            let (seq, at) = self.timed?;
            (h.ack >= seq).then(|| {
                self.timed = None;
                now.saturating_since(at)
            })
        };
        if let Some(d) = sample {
            self.rtt.sample(d);
        }
        sample
    }

    /// Bytes believed to be in the network (RFC 6675 "pipe", approximated: everything
    /// outstanding, less what was SACKed, less what is deemed lost and not yet resent).
    pub(super) fn pipe(&self) -> u32 {
        let outstanding = self.snd_nxt.since(self.snd_una);
        let lost = if self.rtx_ptr < self.rtx_end {
            self.scoreboard
                .unsacked_in(self.rtx_ptr.max(self.snd_una), self.rtx_end)
        } else {
            0
        };
        outstanding
            .saturating_sub(self.scoreboard.sacked_bytes())
            .saturating_sub(lost)
            .saturating_sub(self.dupack_credit)
    }

    /// End of the data (not counting FIN) in sequence space.
    pub(super) fn data_end(&self) -> Seq {
        self.snd_base + self.sendbuf.len() as u32
    }

    /// Processes the ACK field and SACK blocks. Returns true when this ACK covered our FIN.
    pub(super) fn process_ack(
        &mut self,
        now: Instant,
        seg: &Segment<'_>,
        stats: &mut Stats,
    ) -> bool {
        let h = &seg.header;
        let ack = h.ack;
        let mut new_sack = false;
        let sacked_before = self.scoreboard.sacked_bytes();
        // Without SACK, a duplicate ACK stands for one segment delivered (RFC 6937).
        let mut dupack_delivered = 0;
        if self.sack_ok {
            for &(l, r) in h.options.sack.as_slice() {
                if r > self.snd_una && r <= self.snd_nxt && l < r {
                    let before = self.scoreboard.sacked_bytes();
                    self.scoreboard.insert(l.max(self.snd_una), r);
                    new_sack |= self.scoreboard.sacked_bytes() != before;
                }
            }
        }
        let old_una = self.snd_una;
        let wnd = u32::from(h.window) << self.snd_wscale;
        let window_changed = wnd != self.snd_wnd;
        let mut fin_acked = false;

        if ack > self.snd_una {
            let data_end = self.data_end();
            if ack > self.snd_base {
                let data_acked = ack.min(data_end).since(self.snd_base);
                self.sendbuf.consume(data_acked as usize);
                self.snd_base += data_acked;
                if data_acked > 0 {
                    self.note_write_space();
                }
            }
            fin_acked = self.fin == Fin::Sent && ack == data_end + 1;
            let acked = ack.since(self.snd_una);
            self.snd_una = ack;
            if let Some(d) = self.sample_rtt(now, seg) {
                stats.rtt_samples += 1;
                stats.rtt_sample_micros += d.as_micros() as u64;
            }
            self.retries = 0;
            self.rtx_ptr = self.rtx_ptr.max(ack);
            self.scoreboard.prune(ack);
            // The hole that started the reordering window may be filled; loss detection
            // below starts a fresh window for any hole still open.
            self.reo_at = None;
            self.rto_at = if self.snd_una == self.snd_nxt {
                None
            } else {
                Some(now + self.rtt.rto())
            };
            match self.recovery {
                Some((_, recover)) if ack >= recover => {
                    // Full ACK: recovery is over (RFC 6582 3.2 step 3).
                    self.recovery = None;
                    self.prr = None;
                    self.rtx_end = self.rtx_ptr;
                    self.dupack_credit = 0;
                    self.cc.on_recovery_end();
                }
                Some((RecoveryKind::Fast, _)) => {
                    // Partial ACK (RFC 6582 3.2 step 5): without SACK, the next hole starts
                    // at the new SND.UNA; resend it at once.
                    if !self.sack_ok {
                        self.rtx_ptr = self.snd_una;
                        self.rtx_end = self
                            .rtx_end
                            .max(self.snd_una + self.send_mss)
                            .min(self.snd_nxt);
                        self.force_rtx = true;
                    }
                    self.dupack_credit = 0;
                }
                Some((RecoveryKind::Timeout, _)) | None => {
                    self.cc.on_ack(acked, now, self.rtt.srtt());
                }
            }
            self.dupacks = 0;
        } else if ack == self.snd_una
            && seg.payload.is_empty()
            && !h.flags.contains(Flags::SYN)
            && !h.flags.contains(Flags::FIN)
            && self.snd_nxt != self.snd_una
            && if self.sack_ok {
                // RFC 6675 section 2: with SACK, only an ACK carrying new SACK
                // information is a duplicate (not, say, one reporting a DSACK).
                new_sack
            } else {
                !window_changed
            }
        {
            // RFC 5681 section 2 "DUPLICATE ACKNOWLEDGMENT".
            self.dupacks += 1;
            if matches!(self.recovery, Some((RecoveryKind::Fast, _))) && !self.sack_ok {
                self.dupack_credit += self.send_mss;
                dupack_delivered = self.send_mss;
            }
        }

        // Send-window update (RFC 9293 3.10.7.4: only for SND.UNA =< SEG.ACK, and only
        // from a segment not older than the last update, by the SND.WL1/SND.WL2 rule).
        if ack >= self.snd_una
            && (self.snd_wl1 < h.seq || (self.snd_wl1 == h.seq && self.snd_wl2 <= ack))
        {
            self.snd_wnd = wnd;
            self.snd_wl1 = h.seq;
            self.snd_wl2 = ack;
            self.max_snd_wnd = self.max_snd_wnd.max(wnd);
            if wnd > 0 {
                self.persist_at = None;
                self.persist_backoff = 0;
            }
        }

        if let Some(prr) = self.prr.as_mut() {
            // RFC 6937 DeliveredData: change in SND.UNA plus change in SACKed bytes.
            let delivered = u64::from(self.snd_una.since(old_una))
                + u64::from(self.scoreboard.sacked_bytes())
                + u64::from(dupack_delivered);
            prr.on_ack(delivered.saturating_sub(u64::from(sacked_before)) as u32);
        }
        self.check_spurious(h, old_una, stats);
        self.detect_loss(now, stats);
        if ack > old_una {
            self.check_probe(h, stats);
            self.schedule_pto(now);
        } else if new_sack {
            // SACK information means fast recovery, not a probe, handles what is missing.
            self.pto_at = None;
        }
        self.update_model(now, h);
        fin_acked
    }

    /// Enters fast recovery on DupThresh duplicate ACKs or when SACK shows a loss (or
    /// starts the reordering window when SACK shows less), and extends the retransmission
    /// range as SACK information arrives.
    fn detect_loss(&mut self, now: Instant, stats: &mut Stats) {
        if self.snd_nxt == self.snd_una {
            return;
        }
        let threshold = DUP_THRESH * self.send_mss;
        let sack_lost = if self.sack_ok {
            self.scoreboard.lost_boundary(threshold)
        } else {
            None
        };
        match self.recovery {
            None if self.snd_una >= self.last_recover => {
                let lost = self.dupacks >= DUP_THRESH || sack_lost.is_some();
                if lost && self.reordering.seen && self.sack_ok {
                    // A reordering path: give late segments the window first.
                    self.arm_reorder_timer(now);
                } else if lost {
                    self.enter_fast_recovery(sack_lost.unwrap_or(self.snd_una), stats);
                } else if self.sack_ok {
                    self.arm_reorder_timer(now);
                }
            }
            Some((RecoveryKind::Fast, _)) => {
                if let Some(b) = sack_lost {
                    self.rtx_end = self.rtx_end.max(b).min(self.snd_nxt);
                    // Lost retransmission: DupThresh segments sent after this pass began
                    // were SACKed while a hole the pass already resent is still open.
                    // Walk the holes again (same recovery episode, no further window
                    // reduction).
                    let resent_hole_open = self
                        .scoreboard
                        .next_hole(self.snd_una, self.rtx_ptr.min(self.rtx_round))
                        .is_some();
                    if self.scoreboard.sacked_above(self.rtx_round) >= threshold && resent_hole_open
                    {
                        stats.lost_retransmits += 1;
                        self.rtx_ptr = self.snd_una;
                        self.rtx_round = self.snd_nxt;
                    }
                }
            }
            _ => {}
        }
    }

    /// Starts fast recovery (RFC 6675 section 5 step 4, RFC 6582 3.2 step 2): one window
    /// reduction, and the holes below `lost_until` (at least the first segment) resent
    /// first.
    pub(super) fn enter_fast_recovery(&mut self, lost_until: Seq, stats: &mut Stats) {
        stats.fast_recoveries += 1;
        self.cancel_probe();
        self.reo_at = None;
        self.reordering_on_recovery();
        self.save_for_undo();
        let flight = self.snd_nxt.since(self.snd_una);
        // A model-based controller sets its own window in recovery.
        self.prr = (!self.cc.is_model_based()).then(|| super::prr::Prr::new(flight));
        self.recovery = Some((RecoveryKind::Fast, self.snd_nxt));
        self.last_recover = self.snd_nxt;
        self.rtx_ptr = self.snd_una;
        self.rtx_end = lost_until
            .max(self.snd_una + self.send_mss)
            .min(self.snd_nxt);
        self.force_rtx = true;
        self.dupack_credit = 0;
        self.rtx_round = self.snd_nxt;
        // After the lost range is known, so `pipe` no longer counts it.
        let pipe = self.pipe();
        self.cc.on_congestion(flight, pipe);
    }

    /// Retransmission timeout (RFC 6298 section 5.4-5.7, RFC 5681 section 3.1).
    pub(super) fn on_rto(&mut self, stats: &mut Stats) {
        self.rto_at = None;
        match self.state {
            State::SynSent | State::SynReceived => {
                self.retries += 1;
                if self.retries > self.cfg.syn_retries {
                    self.terminate(Some(Error::TimedOut));
                } else {
                    stats.timeouts += 1;
                    self.rtt.backoff();
                    self.timed = None;
                    self.syn_pending = true;
                }
            }
            _ if self.snd_nxt != self.snd_una => {
                self.retries += 1;
                if self.retries > self.cfg.max_retransmits {
                    self.terminate(Some(Error::TimedOut));
                    return;
                }
                stats.timeouts += 1;
                self.rtt.backoff();
                self.cancel_probe();
                self.reo_at = None;
                self.undo = None;
                self.prr = None;
                let flight = self.snd_nxt.since(self.snd_una);
                self.cc.on_rto(flight);
                // RFC 2018 section 8: the receiver may have reneged; start from scratch.
                self.scoreboard.clear();
                self.dupacks = 0;
                self.dupack_credit = 0;
                self.recovery = Some((RecoveryKind::Timeout, self.snd_nxt));
                self.last_recover = self.snd_nxt;
                self.rtx_ptr = self.snd_una;
                self.rtx_end = self.snd_nxt;
                self.force_rtx = true;
                self.timed = None;
            }
            _ => {}
        }
    }
}
