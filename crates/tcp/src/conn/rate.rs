//! Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation), for BBR.
//!
//! The rate at which the path delivers data is measured per ACK: of the segments this
//! ACK newly delivered, take the one sent last (`P`). When `P` was sent, the sender noted
//! how much had been delivered in total and when; the sample is the data delivered since
//! then divided by the time it took. That time is the longer of the send phase (from the
//! first to the last send of the flight `P` belongs to) and the ACK phase (from the
//! delivery noted at `P`'s send to now), so neither ACK compression nor a send burst can
//! make the rate look higher than the path allows.
//!
//! The per-segment notes live in a ring sorted by sequence number, sized once from the
//! send buffer and the MSS (no allocation per segment). A retransmission overwrites the
//! notes of the ranges it covers. When the ring is full (many small segments), a new
//! segment is merged into the previous record, which only makes the samples coarser.
//!
//! Segments sent while the application had nothing more to send are marked
//! *app-limited*: until the data outstanding at that moment has been delivered, samples
//! may understate the path, and BBR only uses them if they raise its estimate.

use alloc::collections::VecDeque;
use core::time::Duration;

use super::Connection;
use crate::congestion::{AckInfo, RateSample};
use crate::seq::Seq;
use crate::time::Instant;
use crate::wire::SegmentHeader;

/// Records beyond what the send buffer holds in full segments (FIN, small segments).
const SPARE_RECORDS: usize = 16;
/// Ring size limit, whatever the configuration.
const MAX_RECORDS: usize = 8192;

/// What the sender knew when it sent `[start, end)`.
#[derive(Debug, Clone, Copy)]
struct Sent {
    start: Seq,
    end: Seq,
    sent_at: Instant,
    /// Total delivered, and when it last grew, at send time.
    delivered: u64,
    delivered_at: Instant,
    /// Send time of the first segment of the flight this one belongs to.
    first_sent_at: Instant,
    app_limited: bool,
    retransmitted: bool,
    /// Already counted as delivered by a SACK.
    sacked: bool,
}

/// The sender's delivery-rate state.
#[derive(Debug)]
pub(super) struct RateSampler {
    records: VecDeque<Sent>,
    capacity: usize,
    /// Bytes delivered in total (cumulatively ACKed or SACKed).
    delivered: u64,
    /// When `delivered` last grew.
    delivered_at: Instant,
    /// Send time of the newest segment delivered so far (start of the current flight).
    first_sent_at: Instant,
    /// While nonzero, the application-limited phase lasts until `delivered` passes it.
    app_limited_until: u64,
}

impl RateSampler {
    /// A sampler for a send buffer of `send_buffer` bytes sent in `mss`-byte segments.
    pub fn new(send_buffer: usize, mss: u32, now: Instant) -> RateSampler {
        let capacity = (send_buffer / mss.max(1) as usize + SPARE_RECORDS).min(MAX_RECORDS);
        RateSampler {
            records: VecDeque::with_capacity(capacity),
            capacity,
            delivered: 0,
            delivered_at: now,
            first_sent_at: now,
            app_limited_until: 0,
        }
    }

    /// Bytes delivered in total.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Notes the send (or resend) of `[start, end)` at `now`; `idle` means nothing was in
    /// flight, so a new flight starts here.
    pub fn on_send(&mut self, start: Seq, end: Seq, now: Instant, idle: bool, retransmit: bool) {
        if start >= end {
            return;
        }
        if idle {
            self.first_sent_at = now;
            self.delivered_at = now;
        }
        let note = Sent {
            start,
            end,
            sent_at: now,
            delivered: self.delivered,
            delivered_at: self.delivered_at,
            first_sent_at: self.first_sent_at,
            app_limited: self.app_limited_until != 0,
            retransmitted: retransmit,
            sacked: false,
        };
        if retransmit {
            let first = self.records.partition_point(|r| r.end <= start);
            for r in self.records.range_mut(first..) {
                if r.start >= end {
                    break;
                }
                // A range already SACKed stays counted as delivered (go-back-N after
                // a timeout resends it).
                *r = Sent {
                    start: r.start,
                    end: r.end,
                    sacked: r.sacked,
                    ..note
                };
            }
            return;
        }
        if self.records.len() < self.capacity {
            self.records.push_back(note);
        } else if let Some(last) = self.records.back_mut() {
            last.end = last.end.max(end);
        }
    }

    /// The application has nothing more to send while `inflight` bytes are outstanding:
    /// samples are app-limited until those are delivered.
    pub fn on_app_limited(&mut self, inflight: u32) {
        self.app_limited_until = (self.delivered + u64::from(inflight)).max(1);
    }

    /// Processes an ACK that moved SND.UNA to `snd_una` and carried `sack` blocks (those
    /// reaching beyond `snd_nxt` are ignored). Returns the bytes it newly delivered (by
    /// the records: a range counts once, however often it was sent or reported) and the
    /// rate sample, if any segment was newly delivered.
    pub fn on_ack(
        &mut self,
        snd_una: Seq,
        snd_nxt: Seq,
        sack: &[(Seq, Seq)],
        now: Instant,
    ) -> (u32, Option<RateSample>) {
        let mut newest: Option<Sent> = None;
        let mut bytes = 0u32;
        let mut take = |r: &Sent| {
            bytes += r.end.since(r.start);
            if newest.is_none_or(|n| (r.sent_at, r.end) > (n.sent_at, n.end)) {
                newest = Some(*r);
            }
        };
        while let Some(r) = self.records.front().copied() {
            if r.end > snd_una {
                break;
            }
            self.records.pop_front();
            if !r.sacked {
                take(&r);
            }
        }
        for &(l, right) in sack {
            if right > snd_nxt || l >= right {
                continue;
            }
            let first = self.records.partition_point(|r| r.start < l);
            for r in self.records.range_mut(first..) {
                if r.end > right {
                    break;
                }
                if !r.sacked {
                    r.sacked = true;
                    take(r);
                }
            }
        }
        if bytes > 0 {
            self.delivered += u64::from(bytes);
            self.delivered_at = now;
        }
        if self.app_limited_until != 0 && self.delivered > self.app_limited_until {
            self.app_limited_until = 0;
        }
        let Some(p) = newest else {
            return (bytes, None);
        };
        self.first_sent_at = p.sent_at;
        let send_elapsed = p.sent_at.saturating_since(p.first_sent_at);
        let ack_elapsed = self.delivered_at.saturating_since(p.delivered_at);
        let interval = send_elapsed.max(ack_elapsed);
        let sample = RateSample {
            delivery_rate: rate(self.delivered - p.delivered, interval),
            interval,
            prior_delivered: p.delivered,
            app_limited: p.app_limited,
            rtt: (!p.retransmitted).then(|| now.saturating_since(p.sent_at)),
        };
        (bytes, Some(sample))
    }
}

impl Connection {
    /// Notes `[start, end)` sent at `now` for delivery-rate samples and pacing.
    /// A TSO super-segment (`gso_size`) is noted as the segments it carries, so samples
    /// keep their MSS granularity (a SACK of part of it delivers those segments).
    pub(super) fn note_sent(
        &mut self,
        now: Instant,
        start: Seq,
        end: Seq,
        retransmit: bool,
        gso_size: Option<u16>,
    ) {
        let idle = self.snd_una == self.snd_nxt;
        if let Some(r) = self.rate.as_mut() {
            let step = gso_size.map_or(u32::MAX, |s| u32::from(s).max(1));
            let mut at = start;
            while at < end {
                let piece_end = if end.since(at) > step { at + step } else { end };
                r.on_send(at, piece_end, now, idle && at == start, retransmit);
                at = piece_end;
            }
        }
        self.pacing_on_send(now, end.since(start));
    }

    /// The application left the window unused: later samples may be app-limited.
    pub(super) fn note_app_limited(&mut self) {
        if self.rate.is_none() {
            return;
        }
        let pipe = self.pipe();
        if pipe < self.cc.cwnd() {
            if let Some(r) = self.rate.as_mut() {
                r.on_app_limited(pipe);
            }
        }
    }

    /// Feeds the congestion controller's model from an ACK (model-based controllers
    /// only).
    pub(super) fn update_model(&mut self, now: Instant, h: &SegmentHeader) {
        let (una, nxt) = (self.snd_una, self.snd_nxt);
        let Some(r) = self.rate.as_mut() else { return };
        let (acked, sample) = r.on_ack(una, nxt, h.options.sack.as_slice(), now);
        if acked == 0 {
            return;
        }
        let info = AckInfo {
            now,
            delivered: r.delivered(),
            acked,
            inflight: self.pipe(),
            sample,
        };
        self.cc.on_delivery(&info);
    }
}

/// `bytes` over `interval` in bytes per second (0 for an empty interval).
fn rate(bytes: u64, interval: Duration) -> u64 {
    let us = interval.as_micros();
    if us == 0 {
        return 0;
    }
    (u128::from(bytes) * 1_000_000 / us).min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SND.NXT for the tests: above everything they send.
    const NXT: Seq = Seq(1 << 20);

    fn ms(m: u64) -> Instant {
        Instant::from_millis(m)
    }

    /// Ten segments sent back to back at t=0 and ACKed over 10 ms starting at t=20 ms:
    /// the rate is the data delivered since the newest segment's send over the ACK
    /// phase, and the RTT is that segment's.
    #[test]
    fn rate_sample_arithmetic() {
        let mut s = RateSampler::new(64 * 1024, 1000, ms(0));
        for i in 0..10u32 {
            s.on_send(Seq(i * 1000), Seq((i + 1) * 1000), ms(0), i == 0, false);
        }
        let mut last = None;
        for i in 1..=10u32 {
            last = s.on_ack(Seq(i * 1000), NXT, &[], ms(20 + u64::from(i))).1;
        }
        let r = last.unwrap();
        assert_eq!(r.prior_delivered, 0);
        assert_eq!(
            r.interval,
            Duration::from_millis(30),
            "delivered_at was t=0"
        );
        assert_eq!(r.delivery_rate, 10_000 * 1000 / 30);
        assert_eq!(r.rtt, Some(Duration::from_millis(30)));
        assert_eq!(s.delivered(), 10_000);

        // After an idle spell a new flight starts at 31 ms and is ACKed at 51 ms:
        // 1000 bytes over 20 ms, not over the idle time.
        s.on_send(Seq(10_000), Seq(11_000), ms(31), true, false);
        let r = s.on_ack(Seq(11_000), NXT, &[], ms(51)).1.unwrap();
        assert_eq!(r.prior_delivered, 10_000);
        assert_eq!(r.interval, Duration::from_millis(20));
        assert_eq!(r.delivery_rate, 1000 * 1000 / 20);
    }

    /// A SACKed segment gives a sample at once and is not counted again by the
    /// cumulative ACK, even when it was resent (go-back-N after a timeout); a
    /// retransmitted one gives no RTT (Karn).
    #[test]
    fn sack_and_retransmission() {
        let mut s = RateSampler::new(64 * 1024, 1000, ms(0));
        for i in 0..4u32 {
            s.on_send(
                Seq(i * 1000),
                Seq((i + 1) * 1000),
                ms(u64::from(i)),
                i == 0,
                false,
            );
        }
        let r = s
            .on_ack(Seq(0), NXT, &[(Seq(1000), Seq(3000))], ms(22))
            .1
            .unwrap();
        assert_eq!(
            r.rtt,
            Some(Duration::from_millis(20)),
            "newest SACKed: sent at 2 ms"
        );
        s.on_send(Seq(0), Seq(1000), ms(22), false, true);
        s.on_send(Seq(1000), Seq(2000), ms(22), false, true);
        let (bytes, r) = s.on_ack(Seq(3000), NXT, &[], ms(42));
        assert_eq!(bytes, 1000, "the SACKed ranges were counted already");
        let r = r.unwrap();
        assert_eq!(r.rtt, None, "only the retransmission was newly delivered");
        assert_eq!(r.prior_delivered, 2000);
        let r = s.on_ack(Seq(4000), NXT, &[], ms(43)).1.unwrap();
        assert_eq!(r.rtt, Some(Duration::from_millis(40)));
        assert_eq!(s.delivered(), 4000);
    }

    /// App-limited marking lasts until the data outstanding at that moment is
    /// delivered; a full ring merges new segments instead of allocating.
    #[test]
    fn app_limited_and_bounded_ring() {
        let mut s = RateSampler::new(2000, 1000, ms(0));
        s.on_send(Seq(0), Seq(1000), ms(0), true, false);
        s.on_app_limited(1000);
        s.on_send(Seq(1000), Seq(1100), ms(1), false, false);
        let (bytes, r) = s.on_ack(Seq(1000), NXT, &[], ms(20));
        assert!(bytes == 1000 && r.is_some_and(|r| !r.app_limited));
        let (bytes, r) = s.on_ack(Seq(1100), NXT, &[], ms(21));
        assert!(bytes == 100 && r.is_some_and(|r| r.app_limited));
        for i in 0..100u32 {
            let a = 1100 + i * 10;
            s.on_send(Seq(a), Seq(a + 10), ms(22), false, false);
        }
        assert_eq!(s.records.len(), s.capacity);
        assert!(s.on_ack(Seq(2100), NXT, &[], ms(42)).1.is_some());
        assert!(s.records.is_empty());
    }
}
