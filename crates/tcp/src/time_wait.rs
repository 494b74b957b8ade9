//! TIME-WAIT without the connection: once a connection in TIME-WAIT has no owner (its
//! application released it), the endpoint keeps only a compact record of it (Linux's
//! `tcp_timewait_sock`) and frees the rest: the connection's 1.4 KB of state, its
//! reassembly and SACK ranges, and on a kernel the socket around it.
//!
//! TIME-WAIT has three jobs (RFC 9293 3.6, 3.10.7.4): acknowledge a retransmission of
//! the peer's FIN (our last ACK was lost) and restart the 2·MSL wait; keep old duplicates
//! of this incarnation from being taken for a new one's, which holding the 4-tuple does
//! (port choice, `connect_from` and the bind check see a record like a connection); and
//! let a new SYN take the tuple over when it is provably newer (RFC 6191). A record holds
//! what those need: both sequence numbers, the window we advertise, the oldest ACK still
//! acceptable (RFC 5961 5.2), TS.Recent with our timestamp offset, and the expiry. A
//! segment for it is judged by the same rules, in the same order, as a full connection in
//! TIME-WAIT judges it (`conn/input.rs`): reuse by a fresh SYN, PAWS, the window test
//! (an old FIN is acknowledged and restarts the wait), an RST only when exactly at
//! RCV.NXT, challenge ACKs for other RSTs, SYNs and unacceptable ACKs. What a record does
//! not keep: DSACK blocks (a duplicate is acknowledged without one) and the 24-day PAWS
//! idle rule (TIME-WAIT lasts 2·MSL).
//!
//! The records live in a table of their own beside the connections (keyed like them, so
//! a peer cannot aim at one bucket), with their expiries in a min-heap of lazily deleted
//! entries, and a bounded queue of ACKs owed. They do not count against
//! `Config::max_connections` nor the per-peer limit; `Config::max_time_wait` bounds them
//! (Linux's `tcp_max_tw_buckets`), beyond which a connection ends without TIME-WAIT, as
//! on Linux (counted in `time_wait_overflows`).

use alloc::collections::{BinaryHeap, VecDeque};
use core::cmp::Reverse;
use core::time::Duration;

use hashbrown::HashMap;

use crate::challenge::ChallengeLimiter;
use crate::endpoint::Transmit;
use crate::seq::Seq;
use crate::siphash::SipKey;
use crate::stats::Stats;
use crate::table::FourTuple;
use crate::time::Instant;
use crate::wire::{Flags, Options, Segment, SegmentHeader};

/// RFC 6191 (RFC 9293 3.10.7.4's "may accept a SYN in TIME-WAIT"): a new SYN may take
/// over a TIME-WAIT tuple when its timestamp is newer than TS.Recent, or, without
/// timestamps on both sides, its sequence number is beyond RCV.NXT.
pub(crate) fn reuse_allowed(
    ts_recent: Option<u32>,
    rcv_nxt: Seq,
    seq: Seq,
    tsval: Option<u32>,
) -> bool {
    match (ts_recent, tsval) {
        (Some(recent), Some(v)) => newer(v, recent),
        _ => seq > rcv_nxt,
    }
}

/// True when timestamp `v` is after `recent` (modulo 2^32).
pub(crate) fn newer(v: u32, recent: u32) -> bool {
    (v.wrapping_sub(recent) as i32) > 0
}

/// RFC 9293 3.10.7.4's acceptability test of a segment of `len` sequence numbers at
/// `seq` against the window `[rcv_nxt, rcv_nxt + wnd)`.
pub(crate) fn acceptable(rcv_nxt: Seq, wnd: u32, seq: Seq, len: u32) -> bool {
    let end = rcv_nxt + wnd;
    match (len, wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => seq.in_range(rcv_nxt, end),
        (_, 0) => false,
        _ => seq.in_range(rcv_nxt, end) || (seq + len - 1).in_range(rcv_nxt, end),
    }
}

/// Timestamp state a record keeps (RFC 7323).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TwTimestamps {
    /// TS.Recent.
    pub recent: u32,
    /// Our TSval offset (RFC 7323 section 5.4's per-connection offset).
    pub offset: u32,
}

/// One connection in TIME-WAIT, without the connection. See the module docs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeWait {
    /// SND.NXT: our FIN's sequence number plus one (everything was acknowledged).
    pub snd_nxt: Seq,
    /// RCV.NXT: the peer's FIN's sequence number plus one.
    pub rcv_nxt: Seq,
    /// The receive window for the acceptability test.
    pub rcv_wnd: u32,
    /// How far below SND.NXT an ACK may be and still be taken (RFC 5961 5.2: the largest
    /// window the peer offered, or one MSS).
    pub max_back: u32,
    pub ts: Option<TwTimestamps>,
    /// The window field of our ACKs (already scaled).
    pub window: u16,
    /// An ACK is queued for this record.
    ack_queued: bool,
    /// End of the 2·MSL wait.
    pub expires: Instant,
}

/// What a segment asks of a record's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing (the segment was taken or counted and dropped).
    Keep,
    /// Send an ACK.
    Ack,
    /// A new SYN may take the tuple over: drop the record and hand the SYN to a listener.
    Reuse,
    /// An RST exactly at RCV.NXT ended TIME-WAIT (RFC 9293 3.10.7.4).
    Reset,
}

impl TimeWait {
    /// A record of a connection in TIME-WAIT with these figures; no ACK owed yet.
    pub(crate) fn new(
        snd_nxt: Seq,
        rcv_nxt: Seq,
        rcv_wnd: u32,
        max_back: u32,
        ts: Option<TwTimestamps>,
        window: u16,
        expires: Instant,
    ) -> TimeWait {
        TimeWait {
            snd_nxt,
            rcv_nxt,
            rcv_wnd,
            max_back,
            ts,
            window,
            ack_queued: false,
            expires,
        }
    }

    /// RFC 6191: may a new SYN with `seq`/`tsval` take over this tuple?
    pub(crate) fn allows_reuse(&self, seq: Seq, tsval: Option<u32>) -> bool {
        reuse_allowed(self.ts.map(|t| t.recent), self.rcv_nxt, seq, tsval)
    }

    /// Judges one segment for this tuple, as `conn/input.rs` does in TIME-WAIT.
    pub(crate) fn input(
        &mut self,
        now: Instant,
        seg: &Segment<'_>,
        wait: Duration,
        stats: &mut Stats,
        challenge: &mut ChallengeLimiter,
    ) -> Verdict {
        let h = &seg.header;
        let rst = h.flags.contains(Flags::RST);
        let tsval = h.options.timestamp.map(|t| t.0);
        if h.flags.contains(Flags::SYN)
            && !h.flags.contains(Flags::ACK)
            && self.allows_reuse(h.seq, tsval)
        {
            return Verdict::Reuse;
        }
        // PAWS (RFC 7323 section 5.3).
        if let (Some(ts), Some(v)) = (self.ts, tsval) {
            if newer(ts.recent, v) && !rst {
                stats.drop_paws += 1;
                return Verdict::Ack;
            }
        }
        if !acceptable(self.rcv_nxt, self.rcv_wnd, h.seq, seg.seq_len()) {
            stats.drop_out_of_window += 1;
            if rst {
                return Verdict::Keep;
            }
            if h.flags.contains(Flags::FIN) {
                // The peer did not get our last ACK: wait 2·MSL again (RFC 9293 3.10.7.4).
                self.expires = now + wait;
            }
            return Verdict::Ack;
        }
        // RFC 5961 section 3.2: only an RST exactly at RCV.NXT is taken.
        if rst {
            if h.seq == self.rcv_nxt {
                stats.resets_received += 1;
                return Verdict::Reset;
            }
            stats.drop_rst_not_exact += 1;
            return challenge_ack(now, stats, challenge);
        }
        // RFC 5961 section 4.2.
        if h.flags.contains(Flags::SYN) {
            stats.drop_syn_in_window += 1;
            return challenge_ack(now, stats, challenge);
        }
        if !h.flags.contains(Flags::ACK) {
            stats.drop_other += 1;
            return Verdict::Keep;
        }
        // RFC 5961 section 5.2.
        if h.ack > self.snd_nxt || h.ack < self.snd_nxt - self.max_back {
            stats.drop_bad_ack += 1;
            return challenge_ack(now, stats, challenge);
        }
        // RFC 7323 section 4.3: the segment covers our last ACK (RCV.NXT).
        if let (Some(ts), Some(v)) = (self.ts.as_mut(), tsval) {
            if !newer(ts.recent, v) && h.seq <= self.rcv_nxt {
                ts.recent = v;
            }
        }
        if h.flags.contains(Flags::FIN) {
            Verdict::Ack
        } else {
            Verdict::Keep
        }
    }

    /// Writes our ACK for `tuple` into `buf` and counts it.
    pub(crate) fn emit_ack(
        &self,
        tuple: &FourTuple,
        now: Instant,
        buf: &mut [u8],
        stats: &mut Stats,
    ) -> Transmit {
        stats.segments_out += 1;
        let h = SegmentHeader {
            src_port: tuple.local.port(),
            dst_port: tuple.remote.port(),
            seq: self.snd_nxt,
            ack: self.rcv_nxt,
            flags: Flags::ACK,
            window: self.window,
            urgent: 0,
            options: Options {
                timestamp: self.ts.map(|t| (tsval(now, t.offset), t.recent)),
                ..Options::default()
            },
        };
        let (src, dst) = (*tuple.local.ip(), *tuple.remote.ip());
        Transmit {
            src,
            dst,
            len: h.emit(buf, 0, src, dst),
            checksum_partial: false,
            gso_size: None,
        }
    }
}

/// The TSval a connection with timestamp offset `offset` sends at `now`.
pub(crate) fn tsval(now: Instant, offset: u32) -> u32 {
    (now.millis() as u32).wrapping_add(offset)
}

fn challenge_ack(now: Instant, stats: &mut Stats, challenge: &mut ChallengeLimiter) -> Verdict {
    if challenge.allow(now) {
        stats.challenge_acks += 1;
        Verdict::Ack
    } else {
        stats.challenge_acks_limited += 1;
        Verdict::Keep
    }
}

/// What [`TimeWaits::receive`] did with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handled {
    /// No record for the tuple.
    NoRecord,
    /// The record took it.
    Done,
    /// The record is gone and the SYN is for a listener.
    Reuse,
}

/// Every TIME-WAIT record of an endpoint, their expiries and the ACKs they owe.
#[derive(Debug)]
pub(crate) struct TimeWaits {
    map: HashMap<FourTuple, TimeWait, SipKey>,
    /// (expiry, tuple), lazily deleted: an entry whose record is gone or expires at
    /// another time is skipped when it surfaces.
    expiries: BinaryHeap<Reverse<(Instant, FourTuple)>>,
    /// Tuples whose record owes an ACK (each at most once).
    acks: VecDeque<FourTuple>,
    limit: usize,
    ack_limit: usize,
}

impl TimeWaits {
    /// At most `limit` records and `ack_limit` queued ACKs.
    pub(crate) fn new(key: SipKey, limit: usize, ack_limit: usize) -> TimeWaits {
        TimeWaits {
            map: HashMap::with_hasher(key),
            expiries: BinaryHeap::new(),
            acks: VecDeque::new(),
            limit,
            ack_limit,
        }
    }

    /// Room for every record without growing.
    pub(crate) fn preallocate(&mut self) {
        self.map.reserve(self.limit);
        self.expiries.reserve(2 * self.limit + 64);
        self.acks.reserve(self.ack_limit);
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn contains(&self, t: &FourTuple) -> bool {
        self.map.contains_key(t)
    }

    /// True when some record's local port is `port` (a scan: bind time only).
    pub(crate) fn any_local_port(&self, port: u16) -> bool {
        self.map.keys().any(|t| t.local.port() == port)
    }

    /// Every record, for `/proc/net/tcp`.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&FourTuple, &TimeWait)> + '_ {
        self.map.iter()
    }

    /// Adds a record (an ACK is queued for it when `ack_owed`). False, keeping nothing,
    /// when the table is full.
    pub(crate) fn insert(
        &mut self,
        tuple: FourTuple,
        tw: TimeWait,
        ack_owed: bool,
        stats: &mut Stats,
    ) -> bool {
        if self.map.len() >= self.limit {
            stats.time_wait_overflows += 1;
            return false;
        }
        self.map.insert(tuple, tw);
        self.push_expiry(tw.expires, tuple);
        if ack_owed {
            self.queue_ack(tuple, stats);
        }
        true
    }

    fn push_expiry(&mut self, at: Instant, tuple: FourTuple) {
        if self.expiries.len() >= 2 * self.map.len() + 64 {
            self.expiries.clear();
            for (t, tw) in &self.map {
                self.expiries.push(Reverse((tw.expires, *t)));
            }
        }
        self.expiries.push(Reverse((at, tuple)));
    }

    fn queue_ack(&mut self, tuple: FourTuple, stats: &mut Stats) {
        let Some(tw) = self.map.get_mut(&tuple) else {
            return;
        };
        if tw.ack_queued {
            return;
        }
        if self.acks.len() >= self.ack_limit {
            stats.time_wait_acks_dropped += 1;
            return;
        }
        tw.ack_queued = true;
        self.acks.push_back(tuple);
    }

    /// Hands `seg`, addressed to `tuple`, to its record if there is one.
    pub(crate) fn receive(
        &mut self,
        now: Instant,
        tuple: FourTuple,
        seg: &Segment<'_>,
        wait: Duration,
        stats: &mut Stats,
        challenge: &mut ChallengeLimiter,
    ) -> Handled {
        let Some(tw) = self.map.get_mut(&tuple) else {
            return Handled::NoRecord;
        };
        let expires = tw.expires;
        match tw.input(now, seg, wait, stats, challenge) {
            Verdict::Keep => {}
            Verdict::Ack => self.queue_ack(tuple, stats),
            Verdict::Reuse => {
                self.map.remove(&tuple);
                return Handled::Reuse;
            }
            Verdict::Reset => {
                self.map.remove(&tuple);
                return Handled::Done;
            }
        }
        if let Some(tw) = self.map.get(&tuple) {
            if tw.expires != expires {
                self.push_expiry(tw.expires, tuple);
            }
        }
        Handled::Done
    }

    /// Writes the next ACK owed into `buf`, if any (of records still there).
    pub(crate) fn poll_ack(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        stats: &mut Stats,
    ) -> Option<Transmit> {
        while let Some(tuple) = self.acks.pop_front() {
            if let Some(tw) = self.map.get_mut(&tuple) {
                tw.ack_queued = false;
                return Some(tw.emit_ack(&tuple, now, buf, stats));
            }
        }
        None
    }

    /// The earliest expiry, dropping stale heap entries on the way.
    pub(crate) fn next_expiry(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, tuple))) = self.expiries.peek() {
            if self.map.get(&tuple).is_some_and(|tw| tw.expires == at) {
                return Some(at);
            }
            self.expiries.pop();
        }
        None
    }

    /// Ends every wait due at `now`.
    pub(crate) fn expire(&mut self, now: Instant) {
        while let Some(at) = self.next_expiry() {
            if at > now {
                break;
            }
            if let Some(Reverse((_, tuple))) = self.expiries.pop() {
                self.map.remove(&tuple);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::size_of;

    /// A record is what Linux's `tcp_timewait_sock` holds, not a connection: 40 bytes
    /// (a `Connection` is about 1.4 KB, plus its reassembly and SACK ranges), 56 with
    /// its tuple in the table.
    #[test]
    fn a_record_is_small() {
        assert!(size_of::<TimeWait>() <= 40, "{}", size_of::<TimeWait>());
        assert!(size_of::<(FourTuple, TimeWait)>() <= 56);
        assert!(size_of::<crate::conn::Connection>() > 20 * size_of::<TimeWait>());
    }

    /// RFC 6191: with timestamps on both sides the timestamp decides; otherwise the
    /// sequence number must be beyond RCV.NXT.
    #[test]
    fn rfc6191_reuse_rule() {
        let rcv = Seq(1000);
        assert!(reuse_allowed(Some(5), rcv, Seq(0), Some(6)));
        assert!(!reuse_allowed(Some(5), rcv, Seq(5000), Some(5)));
        assert!(
            reuse_allowed(Some(u32::MAX), rcv, Seq(0), Some(1)),
            "modulo 2^32"
        );
        assert!(reuse_allowed(None, rcv, Seq(1001), Some(1)));
        assert!(!reuse_allowed(Some(5), rcv, Seq(1000), None));
    }
}
