//! TCP segmentation offload: new data leaves as super-segments of several MSS that the
//! device (or the host behind it) cuts into segments, so a bulk transfer crosses the
//! emulated NIC once per 64 KB instead of once per 1.5 KB.
//!
//! Only the emission changes. Sequence space, the SACK scoreboard, RACK, PRR, the rate
//! sampler's records and retransmissions stay at MSS granularity: a super-segment is
//! several consecutive MSS-sized segments emitted together (and noted as such), a
//! retransmission is one MSS, and the receiver's ACKs and SACK blocks speak of the
//! segments the device produced.
//!
//! The size follows Linux's TSO autosizing (`tcp_tso_autosize`): about 1 ms of data at the
//! current rate (the pacing rate of a paced controller, else the congestion window over
//! the smoothed RTT, doubled in slow start and times 1.2 after it, as Linux derives
//! `sk_pacing_rate`), at least two segments, at most what the caller's device takes
//! (`Config::tso_max_bytes`); and it is limited like any segment by the congestion window,
//! the peer's window and, for a paced controller, the pacing budget. A super-segment
//! carries whole segments, plus the short tail of the data only when Nagle would let that
//! tail go on its own (Linux's `tcp_mss_split_point`).

use core::time::Duration;

use super::Connection;
use crate::time::Instant;

/// A super-segment holds about this much time's worth of data at the current rate...
const AUTOSIZE_TIME: Duration = Duration::from_millis(1);
/// ...but at least this many segments.
const MIN_SEGMENTS: u32 = 2;

/// How a segment's payload is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cut {
    /// At most one segment (retransmissions, probes, ACKs).
    One,
    /// Several segments when TSO is on; with `keep_tail`, a short last segment too.
    Super { keep_tail: bool },
}

impl Connection {
    /// Whether the caller's device takes super-segments.
    fn tso_enabled(&self) -> bool {
        self.cfg.tso_max_bytes > 0 && self.cfg.checksum_offload
    }

    /// Payload bytes the next new-data segment may carry: one MSS without TSO, else the
    /// autosized goal (see the module docs).
    pub(super) fn tso_goal(&self, now: Instant) -> u32 {
        let mss = self.send_mss;
        if !self.tso_enabled() {
            return mss;
        }
        let max = u32::try_from(self.cfg.tso_max_bytes).unwrap_or(u32::MAX);
        let paced = self.cc.pacing_rate();
        let rate = paced.or_else(|| self.window_rate());
        let worth = rate.map_or(u64::MAX, |r| {
            (u128::from(r) * AUTOSIZE_TIME.as_nanos() / 1_000_000_000) as u64
        });
        let mut goal = worth.max(u64::from(MIN_SEGMENTS * mss)).min(u64::from(max));
        if let Some(rate) = paced {
            goal = goal.min(self.pacer.allowance(now, rate, mss));
        }
        (goal as u32).max(mss)
    }

    /// Linux's pacing rate of an unpaced connection: the congestion window per smoothed
    /// RTT, doubled in slow start, times 1.2 after; `None` before the first RTT sample.
    fn window_rate(&self) -> Option<u64> {
        let srtt = self.rtt.srtt()?.as_micros().max(1);
        let cwnd = u128::from(self.cc.cwnd());
        let percent = if self.cc.cwnd() < self.cc.ssthresh() / 2 {
            200
        } else {
            120
        };
        Some((cwnd * 1_000_000 * percent / 100 / srtt).min(u128::from(u64::MAX)) as u64)
    }

    /// Payload length and segment size of a segment of up to `max_len` bytes whose
    /// segments carry `per_segment` bytes each, with `room` bytes of buffer and a header
    /// of `header_len` bytes.
    pub(super) fn cut(
        &self,
        cut: Cut,
        max_len: u32,
        per_segment: u32,
        room: u32,
        header_len: usize,
    ) -> (u32, Option<u16>) {
        let per = per_segment.max(1);
        let limit = match cut {
            Cut::Super { .. } if self.tso_enabled() => {
                let offload = self.cfg.tso_max_bytes.saturating_sub(header_len);
                room.min(u32::try_from(offload).unwrap_or(u32::MAX))
            }
            _ => room.min(per),
        };
        let mut len = max_len.min(limit);
        if len > per {
            let keep_tail = cut == (Cut::Super { keep_tail: true }) && len == max_len;
            if !keep_tail {
                len -= len % per;
            }
        }
        // `per` is at most the peer's MSS, which is at most ours (a u16).
        let gso_size = (len > per).then(|| u16::try_from(per).unwrap_or(u16::MAX));
        (len, gso_size)
    }
}
