//! Undoing the window reduction of a spurious fast recovery (RFC 9438 section 4.9).
//!
//! A segment delayed behind later ones (reordering) looks lost: the SACKs for what
//! overtook it start fast recovery, the window is cut and the segment is resent. When the
//! original was merely late, the cut was for nothing. Two signals tell:
//!
//! - Eifel detection (RFC 3522): the ACK that first covers the resent segment echoes, in
//!   its timestamp, the TSval of the segment that filled the hole. An echo older than the
//!   first retransmission means the original did it.
//! - DSACK (RFC 3708): the receiver reports every segment it got twice; once each
//!   retransmission of the episode has been reported so, none was needed.
//!
//! Either restores the congestion state saved when the recovery began, and marks the
//! path as reordering: later losses get the RACK reordering window (RFC 8985 section
//! 6.2), longer each time, before fast recovery starts.

use super::Connection;
use crate::congestion::Congestion;
use crate::seq::Seq;
use crate::stats::Stats;
use crate::time::Instant;
use crate::wire::SegmentHeader;

/// The congestion state to restore if the current recovery turns out spurious.
#[derive(Debug, Clone)]
pub(super) struct Undo {
    /// Congestion state just before the reduction.
    prior: Congestion,
    /// The episode's sequence range (SND.UNA and SND.NXT when it began): only DSACKs
    /// inside it are about its retransmissions (RFC 3708 section 3).
    start: Seq,
    end: Seq,
    /// TSval of the episode's first retransmission, until the ACK covering it came.
    first_rtx_tsval: Option<u32>,
    /// Segments retransmitted in the episode, and how many of them DSACKs reported.
    retransmits: u32,
    dsacked: u32,
}

/// The first SACK block if it is a DSACK (RFC 2883 section 4): below the cumulative
/// ACK, or inside the second block.
pub(super) fn dsack_block(h: &SegmentHeader) -> Option<(Seq, Seq)> {
    match *h.options.sack.as_slice() {
        [(l, r), ..] if r <= h.ack => Some((l, r)),
        [(l, r), (l2, r2), ..] if l >= l2 && r <= r2 => Some((l, r)),
        _ => None,
    }
}

impl Connection {
    /// Saves the congestion state before fast recovery reduces it. When the episode
    /// starts on data that was already retransmitted, neither signal can tell whether
    /// the original or an earlier retransmission arrived, so no undo is possible.
    pub(super) fn save_for_undo(&mut self) {
        if self.snd_una < self.rtx_high {
            self.undo = None;
            return;
        }
        self.undo = Some(Undo {
            prior: self.cc.clone(),
            start: self.snd_una,
            end: self.snd_nxt,
            first_rtx_tsval: None,
            retransmits: 0,
            dsacked: 0,
        });
    }

    /// Counts a retransmission of the current episode.
    pub(super) fn note_retransmit_for_undo(&mut self, now: Instant) {
        let tsval = self.ts.is_some().then(|| self.tsval(now));
        if let Some(u) = self.undo.as_mut() {
            u.retransmits += 1;
            if u.retransmits == 1 {
                u.first_rtx_tsval = tsval;
            }
        }
    }

    /// Looks at an ACK for proof that the episode's retransmissions were not needed, and
    /// undoes the reduction if so. `old_una` is SND.UNA before this ACK.
    pub(super) fn check_spurious(&mut self, h: &SegmentHeader, old_una: Seq, stats: &mut Stats) {
        let Some(u) = self.undo.as_mut() else { return };
        if u.retransmits == 0 {
            return;
        }
        if dsack_block(h).is_some_and(|(l, r)| l >= u.start && r <= u.end) {
            u.dsacked += 1;
        }
        let mut spurious = u.dsacked >= u.retransmits;
        if h.ack > old_una {
            // The first ACK to advance covers the first retransmission (it was SND.UNA).
            if let (Some(rtx), Some((_, ecr))) = (u.first_rtx_tsval.take(), h.options.timestamp) {
                spurious |= (ecr.wrapping_sub(rtx) as i32) < 0;
            }
        }
        if !spurious {
            return;
        }
        let Some(u) = self.undo.take() else { return };
        stats.spurious_recoveries_undone += 1;
        self.cc.undo(&u.prior);
        self.reordering_detected();
    }
}
