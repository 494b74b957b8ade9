//! Deciding what to send next: SYN / SYN-ACK, retransmissions (RFC 6675 NextSeg order,
//! SACKed ranges skipped), new data under the congestion and peer windows with Nagle
//! (RFC 9293 3.7.4) and sender-side silly-window avoidance (RFC 9293 3.8.6.2.1), probes,
//! and ACKs with the receiver-side silly-window rule (RFC 9293 3.8.6.2.2). New data may
//! leave as a TSO super-segment of several MSS (`tso.rs`).

use super::tso::Cut;
use super::{Connection, Fin};
use crate::seq::Seq;
use crate::state::State;
use crate::stats::Stats;
use crate::time::Instant;
use crate::wire::{Flags, Options, SackBlocks, SegmentHeader, HEADER_LEN};

/// A segment written into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Written {
    /// Bytes of TCP (header and payload).
    pub len: usize,
    /// Only the pseudo-header sum is in the checksum field.
    pub checksum_partial: bool,
    /// A super-segment's payload per segment.
    pub gso_size: Option<u16>,
}

impl Connection {
    /// Writes the next segment this connection wants to send into `buf` (TCP header and
    /// payload, checksummed or with the pseudo-header sum only), returning its length.
    pub(crate) fn output(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        stats: &mut Stats,
    ) -> Option<Written> {
        let checksum_partial = self.cfg.checksum_offload;
        let written = |(len, gso_size)| Written {
            len,
            checksum_partial,
            gso_size,
        };
        let possible = self.output_possible();
        let out = match self.state {
            State::Closed | State::Listen => None,
            State::SynSent | State::SynReceived if self.syn_pending => {
                Some((self.emit_syn(now, buf), None))
            }
            State::SynSent => None,
            _ => self
                .retransmit(now, buf, stats)
                .map(|n| (n, None))
                .or_else(|| self.send_new(now, buf))
                .or_else(|| self.send_control(now, buf).map(|n| (n, None))),
        };
        debug_assert!(out.is_none() || possible, "output_possible said no");
        out.map(written)
    }

    /// False only when [`Self::output`] would certainly write nothing now: a cheap test,
    /// so a caller can skip what sending needs (its locks, a buffer in the device's ring)
    /// when it is idle. Data waiting on a window still says yes (`output` arms the persist
    /// timer then).
    fn output_possible(&self) -> bool {
        match self.state {
            State::Closed | State::Listen => false,
            State::SynSent | State::SynReceived if self.syn_pending => true,
            State::SynSent => false,
            _ => {
                self.ack_now
                    || self.probe_now
                    || self.rtx_ptr < self.rtx_end
                    || (self.may_send_data()
                        && (self.data_end() != self.snd_nxt || self.fin == Fin::Queued))
            }
        }
    }

    /// Whether the state lets new data (or our FIN) go.
    fn may_send_data(&self) -> bool {
        matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        ) && self.fin != Fin::Sent
    }

    /// [`Self::output_possible`], doing when it says no what [`Self::output`] would have
    /// done (noting that the application left the window unused).
    pub(crate) fn wants_output(&mut self) -> bool {
        let possible = self.output_possible();
        if !possible && self.may_send_data() {
            self.note_app_limited();
        }
        possible
    }

    /// SYN (active open) or SYN-ACK (passive or simultaneous open).
    fn emit_syn(&mut self, now: Instant, buf: &mut [u8]) -> usize {
        self.syn_pending = false;
        let synack = self.state == State::SynReceived;
        let options = Options {
            mss: Some(self.cfg.mss),
            wscale: (self.cfg.window_scaling
                && (!synack || self.rcv_wscale > 0 || self.snd_wscale > 0))
                .then_some(self.rcv_wscale),
            sack_permitted: if synack { self.sack_ok } else { self.cfg.sack },
            timestamp: match (synack, self.ts) {
                (false, _) if self.cfg.timestamps => Some((self.tsval(now), 0)),
                (true, Some(ts)) => Some((self.tsval(now), ts.recent)),
                _ => None,
            },
            ..Options::default()
        };
        let (flags, ack) = if synack {
            (Flags::SYN | Flags::ACK, self.rcv_nxt)
        } else {
            (Flags::SYN, Seq(0))
        };
        let h = SegmentHeader {
            src_port: self.tuple.local.port(),
            dst_port: self.tuple.remote.port(),
            seq: self.iss,
            ack,
            flags,
            // RFC 7323 section 2.2: the window in a SYN is never scaled.
            window: self.recvbuf.free().min(0xffff) as u16,
            urgent: 0,
            options,
        };
        if synack {
            self.rcv_adv = self.rcv_nxt + u32::from(h.window);
            self.ack_now = false;
        }
        if self.snd_nxt == self.iss {
            self.timed = Some((self.iss + 1, now));
        }
        self.snd_nxt = self.iss + 1;
        self.rto_at.get_or_insert(now + self.rtt.rto());
        self.write_header(&h, buf, 0)
    }

    /// Writes header `h` and its checksum over the `payload_len` bytes after it (or only
    /// the pseudo-header sum, with checksum offload); returns the segment's length.
    fn write_header(&self, h: &SegmentHeader, buf: &mut [u8], payload_len: usize) -> usize {
        let (src, dst) = (*self.tuple.local.ip(), *self.tuple.remote.ip());
        h.emit_with(buf, payload_len, src, dst, self.cfg.checksum_offload)
    }

    /// Window to advertise, applying receiver-side SWS avoidance: the right edge only
    /// moves when it can move by min(buffer/2, MSS).
    pub(super) fn advertise_window(&mut self) -> u16 {
        let free = self.recvbuf.free() as u32;
        let edge = self.rcv_nxt + free;
        let step = (self.recvbuf.capacity() as u32 / 2).min(u32::from(self.cfg.mss));
        if self.rcv_adv < self.rcv_nxt {
            self.rcv_adv = self.rcv_nxt;
        }
        if edge > self.rcv_adv && edge.since(self.rcv_adv) >= step {
            self.rcv_adv = edge;
        }
        let field = (self.rcv_adv.since(self.rcv_nxt) >> self.rcv_wscale).min(0xffff);
        self.rcv_adv = self.rcv_nxt + (field << self.rcv_wscale);
        field as u16
    }

    /// After the application read data: send a window update now if it matters — the
    /// peer may be stalled on a small window, or the window grew by half the buffer.
    pub(super) fn maybe_window_update(&mut self) {
        if !matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        ) {
            return;
        }
        let free = self.recvbuf.free() as u32;
        let adv = if self.rcv_adv > self.rcv_nxt {
            self.rcv_adv.since(self.rcv_nxt)
        } else {
            0
        };
        let mss = u32::from(self.cfg.mss);
        let grow = free.saturating_sub(adv);
        if (adv < 2 * mss && grow >= mss) || grow >= self.recvbuf.capacity() as u32 / 2 {
            self.ack_now = true;
        }
    }

    /// SACK blocks for the next segment: a pending DSACK first (RFC 2883 section 4), then
    /// the out-of-order ranges, most recent first (RFC 2018 section 4), as many as fit
    /// beside the timestamp option.
    fn sack_blocks(&mut self) -> SackBlocks {
        let max = if self.ts.is_some() { 3 } else { 4 };
        let mut blocks = SackBlocks::default();
        if let Some((l, r)) = self.dsack.take() {
            blocks.push(l, r);
        }
        if !self.asm.is_empty() {
            for &(l, r) in self.asm.sack_blocks(max).as_slice() {
                blocks.push(l, r);
            }
        }
        blocks.truncate(max);
        blocks
    }

    /// Builds and writes a segment at `seq` with up to `max_len` bytes of payload from the
    /// send buffer, cut as `cut` says. Returns (segment length, payload bytes, payload
    /// per segment of a super-segment).
    fn emit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        seq: Seq,
        max_len: u32,
        flags: Flags,
        cut: Cut,
    ) -> (usize, u32, Option<u16>) {
        let mut options = Options::default();
        if let Some(ts) = self.ts {
            options.timestamp = Some((self.tsval(now), ts.recent));
        }
        if self.sack_ok {
            options.sack = self.sack_blocks();
        }
        let window = self.advertise_window();
        let mut h = SegmentHeader {
            src_port: self.tuple.local.port(),
            dst_port: self.tuple.remote.port(),
            seq,
            ack: self.rcv_nxt,
            flags: flags | Flags::ACK,
            window,
            urgent: 0,
            options,
        };
        let hl = h.len();
        // Options come out of the payload so the packet never exceeds the peer's MSS
        // (RFC 6691).
        let per_segment = self.peer_mss.saturating_sub((hl - HEADER_LEN) as u32);
        let room = buf.len().saturating_sub(hl) as u32;
        let (len, gso_size) = self.cut(cut, max_len, per_segment, room, hl);
        if len < max_len && flags.contains(Flags::FIN) {
            h.flags = Flags(h.flags.0 & !Flags::FIN.0);
        }
        if len > 0 {
            let off = seq.since(self.snd_base) as usize;
            self.sendbuf.peek_at(off, &mut buf[hl..hl + len as usize]);
        }
        let n = self.write_header(&h, buf, len as usize);
        self.dup_acks_owed = self.dup_acks_owed.saturating_sub(1);
        self.ack_now = self.dup_acks_owed > 0;
        self.delack_at = None;
        self.unacked_bytes = 0;
        self.last_ack_sent = self.rcv_nxt;
        (n, len, gso_size)
    }

    /// True when our FIN went out with this segment's flags.
    fn sent_fin(buf: &[u8]) -> bool {
        buf[13] & Flags::FIN.0 != 0
    }

    /// Next retransmission, if any is due and the congestion window allows it.
    fn retransmit(&mut self, now: Instant, buf: &mut [u8], stats: &mut Stats) -> Option<usize> {
        if self.rtx_ptr >= self.rtx_end {
            return None;
        }
        if !self.force_rtx && self.send_allowance() < self.send_mss {
            return None;
        }
        let Some((s, hole_end)) = self
            .scoreboard
            .next_hole(self.rtx_ptr.max(self.snd_una), self.rtx_end)
        else {
            self.rtx_ptr = self.rtx_end;
            return None;
        };
        if self.pacing_holds(now) {
            return None;
        }
        let data_end = self.data_end();
        let fin_sent = self.fin == Fin::Sent;
        let (n, used) = if s >= data_end {
            // Only the FIN is missing.
            let (n, _, _) = self.emit(now, buf, s, 0, Flags::FIN, Cut::One);
            (n, 1)
        } else {
            let want = hole_end.min(data_end).since(s);
            let fin = fin_sent && hole_end > data_end;
            let flags = if fin { Flags::FIN } else { Flags::empty() };
            let (n, len, _) = self.emit(now, buf, s, want, flags, Cut::One);
            (n, len + u32::from(Self::sent_fin(buf)))
        };
        self.note_sent(now, s, s + used, true, None);
        self.rtx_ptr = s + used;
        self.rtx_high = self.rtx_high.max(self.rtx_ptr);
        self.prr_on_send(used);
        self.force_rtx = false;
        self.note_retransmit_for_undo(now);
        self.timed = None; // Karn's algorithm.
        self.rto_at.get_or_insert(now + self.rtt.rto());
        stats.retransmits += 1;
        Some(n)
    }

    /// New data (and our FIN) within the peer's window and the congestion window, as one
    /// segment or, with TSO, a super-segment of several.
    fn send_new(&mut self, now: Instant, buf: &mut [u8]) -> Option<(usize, Option<u16>)> {
        if !self.may_send_data() {
            return None;
        }
        let data_end = self.data_end();
        let unsent = data_end.since(self.snd_nxt);
        let fin_queued = self.fin == Fin::Queued;
        if unsent == 0 && !fin_queued {
            self.note_app_limited();
            return None;
        }
        let wnd_edge = self.snd_una + self.snd_wnd;
        let wnd_avail = if wnd_edge > self.snd_nxt {
            wnd_edge.since(self.snd_nxt)
        } else {
            0
        };
        let mss = self.send_mss;
        // A tail loss probe carrying new data ignores the congestion window.
        let cwnd_avail = if self.tlp_new_data {
            mss
        } else {
            self.send_allowance()
        };
        let in_flight = self.snd_nxt != self.snd_una;
        let goal = self.tso_goal(now);
        let len = unsent.min(goal).min(wnd_avail).min(cwnd_avail);
        // A super-segment carries whole segments, plus a short tail only when it ends the
        // data and Nagle would let it go on its own (Linux's tcp_mss_split_point).
        let keep_tail = len == unsent && (self.nodelay || !in_flight);
        let cut = Cut::Super { keep_tail };
        let fin_now = fin_queued && len == unsent;
        // The persist timer doubles as the SWS override timer (RFC 9293 3.8.6.2.1): when
        // it fires and some window is open, send what fits instead of probing.
        let override_sws = self.probe_now && len > 0;
        if override_sws {
            self.probe_now = false;
        }
        if len == 0 && !fin_now {
            self.arm_persist(now, unsent, wnd_avail, in_flight);
            return None;
        }
        if len < mss && !fin_now && !override_sws && !self.tlp_new_data {
            // Nagle (RFC 9293 3.7.4) and sender SWS avoidance (RFC 9293 3.8.6.2.1): send
            // a short segment only if it empties the buffer with nothing in flight (or
            // with no-delay), or it is at least half the largest window seen.
            let all = len == unsent;
            let ok = (all && (self.nodelay || !in_flight))
                || (!in_flight && len >= self.max_snd_wnd / 2);
            if !ok {
                self.arm_persist(now, unsent, wnd_avail, in_flight);
                return None;
            }
        }
        if self.pacing_holds(now) {
            // Sent when the pacing timer fires; the persist timer's turn comes then too.
            self.probe_now |= override_sws;
            return None;
        }
        let mut flags = if len == unsent && len > 0 {
            Flags::PSH
        } else {
            Flags::empty()
        };
        if fin_now {
            flags |= Flags::FIN;
        }
        let seq = self.snd_nxt;
        let (n, sent, gso_size) = self.emit(now, buf, seq, len, flags, cut);
        let fin = Self::sent_fin(buf);
        self.note_sent(now, seq, seq + sent + u32::from(fin), false, gso_size);
        self.snd_nxt += sent + u32::from(fin);
        self.prr_on_send(sent + u32::from(fin));
        if fin {
            self.fin = Fin::Sent;
        }
        if self.ts.is_none() && self.timed.is_none() && sent > 0 {
            self.timed = Some((self.snd_nxt, now));
        }
        self.rto_at.get_or_insert(now + self.rtt.rto());
        if self.tlp_new_data {
            self.tlp_sent_new_data();
        } else {
            self.schedule_pto(now);
        }
        self.persist_at = None;
        if sent > 0 && self.fin == Fin::None {
            self.note_write_space();
        }
        Some((n, gso_size))
    }

    /// Starts the persist timer when data waits on a window that cannot take it and
    /// nothing is in flight to bring an ACK (RFC 9293 3.8.6.1).
    fn arm_persist(&mut self, now: Instant, unsent: u32, wnd_avail: u32, in_flight: bool) {
        if unsent > 0
            && !in_flight
            && wnd_avail < unsent.min(self.send_mss)
            && self.persist_at.is_none()
        {
            let d = self.rtt.rto() * (1u32 << self.persist_backoff.min(6));
            self.persist_at = Some(now + d.min(self.cfg.max_rto));
        }
    }

    /// Probes and pure ACKs.
    fn send_control(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if self.probe_now {
            // SEQ = SND.UNA − 1 is outside the peer's window, so it must answer with an
            // ACK carrying its current window (RFC 9293 3.8.4 / 3.8.6.1).
            self.probe_now = false;
            let seq = self.snd_una - 1;
            return Some(self.emit(now, buf, seq, 0, Flags::empty(), Cut::One).0);
        }
        if self.ack_now {
            let seq = self.snd_nxt;
            return Some(self.emit(now, buf, seq, 0, Flags::empty(), Cut::One).0);
        }
        None
    }
}
