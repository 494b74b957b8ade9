//! Segment arrival (RFC 9293 section 3.10.7), with the RFC 5961 protections against
//! blind RST, SYN and data injection and PAWS (RFC 7323 section 5).

use super::{Connection, Fin};
use crate::challenge::ChallengeLimiter;
use crate::error::Error;
use crate::event::Readiness;
use crate::seq::Seq;
use crate::state::State;
use crate::stats::Stats;
use crate::time::Instant;
use crate::wire::{Flags, Segment};

/// What the endpoint must do for the connection after a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    Nothing,
    /// Send `<SEQ=seq><CTL=RST>` (no connection state is created for it).
    Rst {
        seq: Seq,
    },
}

/// RFC 7323 section 5.5: TS.Recent older than 24 days is invalid for PAWS.
const PAWS_IDLE_LIMIT_SECS: u64 = 24 * 24 * 3600;

/// Endpoint-wide state a segment may touch.
pub(crate) struct InputCtx<'a> {
    pub stats: &'a mut Stats,
    pub challenge: &'a mut ChallengeLimiter,
}

impl Connection {
    /// Processes one segment addressed to this connection.
    pub(crate) fn input(
        &mut self,
        now: Instant,
        seg: &Segment<'_>,
        ctx: &mut InputCtx<'_>,
    ) -> Reply {
        if let Some(k) = self.cfg.keepalive {
            if self.state.is_synchronized() {
                self.keepalive_at = Some(now + k.idle);
                self.keepalive_sent = 0;
            }
        }
        match self.state {
            State::Closed | State::Listen => {
                ctx.stats.drop_other += 1;
                Reply::Nothing
            }
            State::SynSent => self.input_syn_sent(now, seg, ctx),
            _ => self.input_synchronized(now, seg, ctx),
        }
    }

    /// RFC 9293 3.10.7.3.
    fn input_syn_sent(&mut self, now: Instant, seg: &Segment<'_>, ctx: &mut InputCtx<'_>) -> Reply {
        let h = &seg.header;
        let has_ack = h.flags.contains(Flags::ACK);
        if has_ack && (h.ack <= self.iss || h.ack > self.snd_nxt) {
            ctx.stats.drop_bad_ack += 1;
            return if h.flags.contains(Flags::RST) {
                Reply::Nothing
            } else {
                Reply::Rst { seq: h.ack }
            };
        }
        if h.flags.contains(Flags::RST) {
            if has_ack {
                ctx.stats.resets_received += 1;
                self.terminate(Some(Error::Refused));
            } else {
                ctx.stats.drop_other += 1;
            }
            return Reply::Nothing;
        }
        if !h.flags.contains(Flags::SYN) {
            ctx.stats.drop_other += 1;
            return Reply::Nothing;
        }
        self.take_syn(h, now);
        self.snd_wl2 = h.ack;
        if has_ack {
            self.sample_rtt(now, seg);
            self.snd_una = h.ack;
            self.retries = 0;
            self.rto_at = None;
            self.establish(ctx.stats);
            self.ack_now = true;
        } else {
            // Simultaneous open (RFC 9293 figure 8): answer with SYN-ACK.
            self.state = State::SynReceived;
            self.syn_pending = true;
        }
        Reply::Nothing
    }

    fn establish(&mut self, stats: &mut Stats) {
        stats.established += 1;
        self.state = if self.fin == Fin::Queued {
            State::FinWait1
        } else {
            State::Established
        };
        self.events |= Readiness::CONNECTED | Readiness::WRITABLE;
        self.timed = None;
    }

    /// Receive window for the acceptability test: everything that fits the buffer.
    pub(super) fn rcv_wnd(&self) -> u32 {
        self.recvbuf.free() as u32
    }

    /// RFC 9293 3.10.7.4, first check: is any of the segment inside the window?
    fn acceptable(&self, seq: Seq, len: u32) -> bool {
        crate::time_wait::acceptable(self.rcv_nxt, self.rcv_wnd(), seq, len)
    }

    fn challenge_ack(&mut self, now: Instant, ctx: &mut InputCtx<'_>) {
        if ctx.challenge.allow(now) {
            ctx.stats.challenge_acks += 1;
            self.ack_now = true;
        } else {
            ctx.stats.challenge_acks_limited += 1;
        }
    }

    fn input_synchronized(
        &mut self,
        now: Instant,
        seg: &Segment<'_>,
        ctx: &mut InputCtx<'_>,
    ) -> Reply {
        let h = &seg.header;
        let rst = h.flags.contains(Flags::RST);

        // Simultaneous open: our SYN-ACK crossed theirs; their SYN is already counted.
        if self.state == State::SynReceived
            && h.flags.contains(Flags::SYN | Flags::ACK)
            && h.seq == self.irs
            && h.ack > self.snd_una
            && h.ack <= self.snd_nxt
        {
            self.snd_una = h.ack;
            self.rto_at = None;
            self.retries = 0;
            self.establish(ctx.stats);
            self.ack_now = true;
            return Reply::Nothing;
        }

        // PAWS (RFC 7323 section 5.3, R1-R3).
        if let (Some(ts), Some((val, _))) = (self.ts, h.options.timestamp) {
            let older = (val.wrapping_sub(ts.recent) as i32) < 0;
            let stale = now.saturating_since(ts.recent_at).as_secs() > PAWS_IDLE_LIMIT_SECS;
            if older && !rst && !stale {
                ctx.stats.drop_paws += 1;
                self.ack_now = true;
                return Reply::Nothing;
            }
        }

        if !self.acceptable(h.seq, seg.seq_len()) {
            ctx.stats.drop_out_of_window += 1;
            if !rst {
                if self.state == State::SynReceived
                    && h.flags.contains(Flags::SYN)
                    && h.seq == self.irs
                {
                    self.syn_pending = true; // Retransmitted SYN: our SYN-ACK was lost.
                } else {
                    self.ack_now = true;
                    let len = seg.payload.len() as u32;
                    if len > 0 && h.seq + len <= self.rcv_nxt {
                        self.note_duplicate(h.seq, h.seq + len);
                    }
                }
                if self.state == State::TimeWait && h.flags.contains(Flags::FIN) {
                    self.close_at = Some(now + 2 * self.cfg.msl);
                }
            }
            return Reply::Nothing;
        }

        // RFC 5961 section 3.2: only a RST exactly at RCV.NXT resets; others in the window
        // get a challenge ACK.
        if rst {
            if h.seq == self.rcv_nxt {
                ctx.stats.resets_received += 1;
                let err = if self.state == State::SynReceived {
                    Error::Refused
                } else {
                    Error::Reset
                };
                self.terminate(Some(err));
            } else {
                ctx.stats.drop_rst_not_exact += 1;
                self.challenge_ack(now, ctx);
            }
            return Reply::Nothing;
        }

        // RFC 5961 section 4.2: any SYN on a synchronized connection gets a challenge ACK.
        if h.flags.contains(Flags::SYN) {
            ctx.stats.drop_syn_in_window += 1;
            if self.state == State::SynReceived {
                self.syn_pending = true;
            } else {
                self.challenge_ack(now, ctx);
            }
            return Reply::Nothing;
        }

        if !h.flags.contains(Flags::ACK) {
            ctx.stats.drop_other += 1;
            return Reply::Nothing;
        }

        if self.state == State::SynReceived {
            if h.ack > self.snd_una && h.ack <= self.snd_nxt {
                self.snd_wnd = u32::from(h.window) << self.snd_wscale;
                self.max_snd_wnd = self.snd_wnd;
                self.snd_wl1 = h.seq;
                self.snd_wl2 = h.ack;
                self.establish(ctx.stats);
            } else {
                ctx.stats.drop_bad_ack += 1;
                return Reply::Rst { seq: h.ack };
            }
        }

        // RFC 5961 section 5.2 / RFC 9293: ACK of unsent data, or far too old.
        let max_back = self.max_snd_wnd.max(self.send_mss);
        if h.ack > self.snd_nxt || h.ack < self.snd_una - max_back {
            ctx.stats.drop_bad_ack += 1;
            self.challenge_ack(now, ctx);
            return Reply::Nothing;
        }

        // RFC 7323 section 4.3: update TS.Recent for segments that cover Last.ACK.sent.
        if let (Some(ts), Some((val, _))) = (self.ts.as_mut(), h.options.timestamp) {
            if (val.wrapping_sub(ts.recent) as i32) >= 0 && h.seq <= self.last_ack_sent {
                ts.recent = val;
                ts.recent_at = now;
            }
        }

        let fin_acked = self.process_ack(now, seg, ctx.stats);
        if fin_acked {
            match self.state {
                State::FinWait1 => {
                    self.state = State::FinWait2;
                    if self.orphaned {
                        self.close_at = Some(now + self.cfg.fin_wait_2_timeout);
                    }
                }
                State::Closing => self.enter_time_wait(now),
                State::LastAck => {
                    self.terminate(None);
                    return Reply::Nothing;
                }
                _ => {}
            }
        }

        if matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        ) {
            self.receive_data(now, seg, ctx.stats);
        }
        if h.flags.contains(Flags::FIN) {
            let fin_seq = h.seq + seg.payload.len() as u32;
            if fin_seq >= self.rcv_nxt && self.fin_at.is_none() {
                self.fin_at = Some(fin_seq);
            }
            self.ack_now = true;
        }
        self.take_fin(now);
        Reply::Nothing
    }

    pub(super) fn enter_time_wait(&mut self, now: Instant) {
        self.state = State::TimeWait;
        self.rto_at = None;
        self.persist_at = None;
        self.keepalive_at = None;
        self.close_at = Some(now + 2 * self.cfg.msl);
        self.events |= Readiness::CLOSED;
        self.release_buffers();
    }

    /// Consumes the peer's FIN once all data before it has arrived (RFC 9293 3.10.7.4,
    /// "eighth, check the FIN bit").
    fn take_fin(&mut self, now: Instant) {
        if self.fin_received || self.fin_at != Some(self.rcv_nxt) {
            return;
        }
        self.fin_received = true;
        self.rcv_nxt += 1;
        self.ack_now = true;
        self.events |= Readiness::READABLE;
        match self.state {
            State::SynReceived | State::Established => self.state = State::CloseWait,
            State::FinWait1 => self.state = State::Closing,
            State::FinWait2 => self.enter_time_wait(now),
            _ => {}
        }
    }

    /// Places payload bytes (RFC 9293 3.10.7.4 "seventh, process the segment text"),
    /// holding out-of-order data in the bounded assembler.
    fn receive_data(&mut self, now: Instant, seg: &Segment<'_>, stats: &mut Stats) {
        let mut seq = seg.header.seq;
        let mut data = seg.payload;
        if data.is_empty() {
            return;
        }
        if seq < self.rcv_nxt {
            let skip = self.rcv_nxt.since(seq) as usize;
            self.note_duplicate(seq, seq + (skip.min(data.len()) as u32));
            if skip >= data.len() {
                self.owe_dup_ack(); // Pure duplicate: the earlier ACK was lost.
                return;
            }
            data = &data[skip..];
            seq = self.rcv_nxt;
        }
        // The sender's segment size: the device's `gso_size` for a coalesced segment
        // (its length is several of them), else the length (Linux's tcp_measure_rcv_mss).
        let measured = seg.gso_size.map_or(data.len() as u32, u32::from);
        self.rcv_mss = self.rcv_mss.max(measured.min(u32::from(self.cfg.mss)));
        let offset = seq.since(self.rcv_nxt) as usize;
        let free = self.recvbuf.free();
        if offset >= free {
            stats.drop_out_of_window += 1;
            self.ack_now = true;
            return;
        }
        let len = data.len().min(free - offset);
        let data = &data[..len];
        // Fewer bytes than offered when the buffer cannot grow (memory pressure).
        let len = self.recvbuf.write_at(offset, data);
        if len == 0 {
            stats.drop_no_memory += 1;
            self.ack_now = true;
            return;
        }
        if offset == 0 {
            let had_gap = !self.asm.is_empty();
            let new_nxt = self.asm.advance(self.rcv_nxt + len as u32);
            self.recvbuf.commit(new_nxt.since(self.rcv_nxt) as usize);
            self.rcv_nxt = new_nxt;
            self.events |= Readiness::READABLE;
            self.unacked_bytes += len as u32;
            // RFC 5681 section 4.2: ACK at least every second full-sized segment, and at
            // once when a segment fills a gap (RFC 5681 section 4.2, last paragraph).
            if had_gap || self.unacked_bytes >= 2 * self.rcv_mss {
                self.ack_now = true;
            } else if self.delack_at.is_none() {
                self.delack_at = Some(now + self.cfg.delayed_ack);
            }
        } else {
            if !self.asm.insert(seq, seq + len as u32) {
                stats.drop_ooo_limit += 1;
            }
            // RFC 5681 section 4.2: an out-of-order segment triggers an immediate
            // duplicate ACK (carrying SACK blocks when negotiated).
            self.owe_dup_ack();
        }
    }

    /// Data in `[left, right)` arrived again: report it in the next ACK's first SACK
    /// block (DSACK, RFC 2883 section 4.1) so the sender can tell a needless
    /// retransmission from a repair.
    fn note_duplicate(&mut self, left: Seq, right: Seq) {
        if self.sack_ok {
            self.dsack = Some((left, right));
        }
    }

    /// Asks for one more immediate ACK (bounded, so a flood cannot queue unbounded work).
    fn owe_dup_ack(&mut self) {
        self.ack_now = true;
        self.dup_acks_owed = self.dup_acks_owed.saturating_add(1).min(64);
    }
}
