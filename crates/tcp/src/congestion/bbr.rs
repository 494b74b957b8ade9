//! BBR (Cardwell et al., "BBR: Congestion-Based Congestion Control", ACM Queue 2016;
//! draft-cardwell-iccrg-bbr-congestion-control), version 1 structure, in integer
//! arithmetic so it runs unchanged in kernel context.
//!
//! Loss-based controllers read a lost packet as "the queue overflowed" and halve their
//! window; on a path with random (non-congestive) loss that caps them near the Mathis
//! bound whatever the capacity (see docs/tcp-loss-recovery.md). BBR instead builds a
//! model of the path from what the ACKs say was *delivered*:
//!
//! - `BtlBw`, the bottleneck bandwidth: the windowed maximum of delivery-rate samples
//!   over the last 10 round trips;
//! - `RTprop`, the propagation delay: the minimum RTT over the last 10 seconds.
//!
//! It paces at `pacing_gain · BtlBw` and caps what is in flight at
//! `cwnd_gain · BtlBw · RTprop` (the bandwidth-delay product, plus a few segments for
//! delayed and aggregated ACKs). The gains come from a state machine:
//!
//! - **Startup**: pacing gain 2/ln 2 (the smallest that doubles the delivery rate each
//!   round), cwnd gain 2, until three rounds in a row fail to raise `BtlBw` by 25% (the
//!   pipe is full);
//! - **Drain**: the inverse pacing gain, until what is in flight is down to one BDP
//!   (the queue Startup built is gone);
//! - **ProbeBW**: an eight-phase cycle of pacing gains 1.25, 0.75, then 1 six times,
//!   each phase about one `RTprop` long: probe for more bandwidth, drain what the probe
//!   queued, cruise;
//! - **ProbeRTT**: when `RTprop` was not refreshed for 10 s, hold the window at four
//!   segments for 200 ms and one round so the queue empties and the true minimum shows.
//!
//! Loss does not shrink the model. In recovery BBR only conserves packets for the first
//! round (send one for each delivered, so the retransmissions do not add to a queue that
//! may have caused the loss), then grows back towards its target, and restores the
//! window it had once recovery ends (draft section 4.2.3.4). After a retransmission
//! timeout the window restarts at one segment and is restored the same way.
//!
//! Not implemented: the v2/v3 response to high loss rates (`inflight_hi`), the
//! long-term policer bandwidth, and the idle-restart pacing rule.

use core::time::Duration;

use super::windowed::{MaxFilter, MinRtt};
use crate::time::Instant;

/// Fixed-point unit of the gains.
const UNIT: u64 = 1024;
/// 2/ln 2 ≈ 2.885: Startup's pacing gain.
const HIGH_GAIN: u64 = 2955;
/// ln 2 / 2 ≈ 0.347: Drain's pacing gain, the inverse of Startup's.
const DRAIN_GAIN: u64 = 355;
/// Window gain in Startup, Drain and ProbeBW.
const CWND_GAIN: u64 = 2 * UNIT;
/// ProbeBW's pacing-gain cycle: probe, drain, cruise.
const PROBE_BW_GAINS: [u64; 8] = [
    UNIT * 5 / 4,
    UNIT * 3 / 4,
    UNIT,
    UNIT,
    UNIT,
    UNIT,
    UNIT,
    UNIT,
];
/// Rounds the bandwidth filter remembers.
const BW_WINDOW_ROUNDS: u64 = 10;
/// How long a minimum RTT stays valid without being seen again.
const MIN_RTT_WINDOW: Duration = Duration::from_secs(10);
/// How long ProbeRTT holds the small window (at least one round as well).
const PROBE_RTT_DURATION: Duration = Duration::from_millis(200);
/// The smallest window, and ProbeRTT's window, in segments.
const MIN_PIPE_SEGMENTS: u32 = 4;
/// Startup ends after this many rounds without `FULL_BW_GROWTH`.
const FULL_BW_ROUNDS: u32 = 3;
/// 25% growth, in `UNIT`s.
const FULL_BW_GROWTH: u64 = UNIT * 5 / 4;
/// Segments of window above the BDP for delayed and aggregated ACKs (the draft's
/// 3 · send_quantum).
const ACK_ALLOWANCE_SEGMENTS: u32 = 3;
/// Pace 1% below the estimate so the bottleneck queue stays empty at gain 1.
const PACING_MARGIN_PERCENT: u64 = 1;
/// RTT assumed for the initial pacing rate before any sample (as Linux does).
const DEFAULT_RTT: Duration = Duration::from_millis(1);

/// BBR's state (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Doubling the sending rate each round until the bandwidth stops growing.
    Startup,
    /// Emptying the queue Startup built.
    Drain,
    /// Cruising at the estimated bandwidth, probing above it one phase in eight.
    ProbeBw,
    /// Holding four segments in flight to measure the propagation delay again.
    ProbeRtt,
}

/// One delivery-rate sample (draft-cheng-iccrg-delivery-rate-estimation section 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSample {
    /// Bytes per second delivered over the sample's interval.
    pub delivery_rate: u64,
    /// The interval: the longer of the send and the ACK phase.
    pub interval: Duration,
    /// Bytes delivered in total when the newest segment of the sample was sent.
    pub prior_delivered: u64,
    /// The sender had nothing more to send when that segment went out: the rate may
    /// understate the path.
    pub app_limited: bool,
    /// RTT of that segment, unless it was a retransmission (Karn).
    pub rtt: Option<Duration>,
}

/// What one ACK told the sender.
#[derive(Debug, Clone, Copy)]
pub struct AckInfo {
    /// When the ACK arrived.
    pub now: Instant,
    /// Bytes delivered in total (cumulatively ACKed or SACKed), after this ACK.
    pub delivered: u64,
    /// Bytes this ACK newly delivered.
    pub acked: u32,
    /// Bytes in flight after this ACK (RFC 6675 `pipe`).
    pub inflight: u32,
    /// The rate sample, if the ACK delivered a segment the sender has a record of.
    pub sample: Option<RateSample>,
}

/// BBR state.
#[derive(Debug, Clone)]
pub struct Bbr {
    pub(super) cwnd: u32,
    mss: u32,
    initial_cwnd: u32,
    mode: Mode,
    pacing_gain: u64,
    cwnd_gain: u64,
    /// Bytes per second.
    pacing_rate: u64,
    max_bw: MaxFilter,
    min_rtt: MinRtt,
    /// Bytes delivered in total as of the last ACK.
    delivered: u64,
    round_count: u64,
    /// A round ends when a segment sent after this much was delivered is ACKed.
    next_round_delivered: u64,
    round_start: bool,
    full_bw: u64,
    full_bw_rounds: u32,
    filled_pipe: bool,
    /// ProbeBW phase and when it began.
    cycle_index: usize,
    cycle_stamp: Instant,
    /// A loss was detected during the current ProbeBW phase.
    loss_in_phase: bool,
    /// When ProbeRTT may end (set once the window has drained to four segments).
    probe_rtt_done: Option<Instant>,
    probe_rtt_round_done: bool,
    /// The window to restore after recovery or ProbeRTT.
    prior_cwnd: u32,
    /// In loss recovery (fast recovery or after an RTO).
    recovering: bool,
    /// First round of fast recovery: one segment out per segment delivered.
    conserving: bool,
}

impl Bbr {
    /// Startup with an initial window of `cwnd` bytes sent in `mss`-byte segments.
    pub fn new(mss: u32, cwnd: u32) -> Bbr {
        let mut b = Bbr {
            cwnd,
            mss,
            initial_cwnd: cwnd,
            mode: Mode::Startup,
            pacing_gain: HIGH_GAIN,
            cwnd_gain: CWND_GAIN,
            pacing_rate: 0,
            max_bw: MaxFilter::default(),
            min_rtt: MinRtt::new(Instant::ZERO),
            delivered: 0,
            round_count: 0,
            next_round_delivered: 0,
            round_start: false,
            full_bw: 0,
            full_bw_rounds: 0,
            filled_pipe: false,
            cycle_index: 0,
            cycle_stamp: Instant::ZERO,
            loss_in_phase: false,
            probe_rtt_done: None,
            probe_rtt_round_done: false,
            prior_cwnd: 0,
            recovering: false,
            conserving: false,
        };
        b.set_pacing_rate();
        b
    }

    /// Current state.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Pacing rate in bytes per second.
    pub fn pacing_rate(&self) -> u64 {
        self.pacing_rate
    }

    /// The bottleneck-bandwidth estimate in bytes per second.
    pub fn bandwidth(&self) -> u64 {
        self.max_bw.get()
    }

    /// The propagation-delay estimate.
    pub fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt.get()
    }

    /// Updates the model and the control parameters from one ACK.
    pub fn on_ack(&mut self, a: &AckInfo) {
        self.delivered = a.delivered;
        self.update_round(a);
        self.update_bandwidth(a);
        self.check_full_pipe(a);
        self.check_drain(a);
        if self.mode == Mode::ProbeBw && self.phase_done(a) {
            self.advance_phase(a.now);
        }
        self.update_min_rtt(a);
        self.set_pacing_rate();
        self.set_cwnd(a);
    }

    fn update_round(&mut self, a: &AckInfo) {
        self.round_start = false;
        if let Some(s) = a.sample {
            if s.prior_delivered >= self.next_round_delivered {
                self.next_round_delivered = a.delivered;
                self.round_count += 1;
                self.round_start = true;
                self.conserving = false;
            }
        }
    }

    fn update_bandwidth(&mut self, a: &AckInfo) {
        let Some(s) = a.sample else { return };
        // A sample shorter than the minimum RTT measured a burst, not the path.
        if self.min_rtt.get().is_some_and(|m| s.interval < m) || s.delivery_rate == 0 {
            return;
        }
        if !s.app_limited || s.delivery_rate >= self.max_bw.get() {
            self.max_bw
                .update(s.delivery_rate, self.round_count, BW_WINDOW_ROUNDS);
        }
    }

    /// Startup ends when three rounds in a row (not limited by the application) raise
    /// the bandwidth estimate by less than 25%.
    fn check_full_pipe(&mut self, a: &AckInfo) {
        if self.filled_pipe || !self.round_start || a.sample.is_some_and(|s| s.app_limited) {
            return;
        }
        let bw = self.max_bw.get();
        if bw * UNIT >= self.full_bw * FULL_BW_GROWTH {
            self.full_bw = bw;
            self.full_bw_rounds = 0;
            return;
        }
        self.full_bw_rounds += 1;
        if self.full_bw_rounds >= FULL_BW_ROUNDS {
            self.filled_pipe = true;
        }
    }

    fn check_drain(&mut self, a: &AckInfo) {
        if self.mode == Mode::Startup && self.filled_pipe {
            self.mode = Mode::Drain;
            self.pacing_gain = DRAIN_GAIN;
            self.cwnd_gain = CWND_GAIN;
        }
        if self.mode == Mode::Drain && u64::from(a.inflight) <= self.bdp(UNIT) {
            self.enter_probe_bw(a.now);
        }
    }

    fn enter_probe_bw(&mut self, now: Instant) {
        self.mode = Mode::ProbeBw;
        self.cwnd_gain = CWND_GAIN;
        // Start at a pseudo-random phase other than the draining one, so flows that
        // start together do not probe in step.
        let mix = (self.delivered ^ self.round_count.rotate_left(29))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            >> 32;
        let r = (mix % 7) as usize;
        self.cycle_index = if r == 0 { 0 } else { r + 1 };
        self.start_phase(now);
    }

    fn start_phase(&mut self, now: Instant) {
        self.cycle_stamp = now;
        self.pacing_gain = PROBE_BW_GAINS[self.cycle_index];
        self.loss_in_phase = false;
    }

    /// A phase lasts one minimum RTT; probing also needs 1.25 BDP in flight (or a
    /// loss), and the draining phase ends early once in flight is down to one BDP.
    fn phase_done(&self, a: &AckInfo) -> bool {
        let full_length = self
            .min_rtt
            .get()
            .is_none_or(|m| a.now.saturating_since(self.cycle_stamp) > m);
        let inflight = u64::from(a.inflight);
        if self.pacing_gain > UNIT {
            full_length && (self.loss_in_phase || inflight >= self.bdp(self.pacing_gain))
        } else if self.pacing_gain < UNIT {
            full_length || inflight <= self.bdp(UNIT)
        } else {
            full_length
        }
    }

    fn advance_phase(&mut self, now: Instant) {
        self.cycle_index = (self.cycle_index + 1) % PROBE_BW_GAINS.len();
        self.start_phase(now);
    }

    /// Takes the RTT sample; enters ProbeRTT when the minimum had expired, and leaves it
    /// after 200 ms and a round at the small window.
    fn update_min_rtt(&mut self, a: &AckInfo) {
        let expired = self.min_rtt.get().is_some() && self.min_rtt.expired(a.now, MIN_RTT_WINDOW);
        if let Some(rtt) = a.sample.and_then(|s| s.rtt) {
            self.min_rtt.update(rtt, a.now, MIN_RTT_WINDOW);
        }
        if expired && self.mode != Mode::ProbeRtt {
            self.prior_cwnd = self.saved_cwnd();
            self.mode = Mode::ProbeRtt;
            self.pacing_gain = UNIT;
            self.cwnd_gain = UNIT;
            self.probe_rtt_done = None;
        }
        if self.mode != Mode::ProbeRtt {
            return;
        }
        match self.probe_rtt_done {
            None if a.inflight <= self.min_pipe() => {
                self.probe_rtt_done = Some(a.now + PROBE_RTT_DURATION);
                self.probe_rtt_round_done = false;
                self.next_round_delivered = a.delivered;
            }
            Some(done) => {
                self.probe_rtt_round_done |= self.round_start;
                if self.probe_rtt_round_done && a.now >= done {
                    self.min_rtt.refresh(a.now);
                    self.cwnd = self.cwnd.max(self.prior_cwnd);
                    if self.filled_pipe {
                        self.enter_probe_bw(a.now);
                    } else {
                        self.mode = Mode::Startup;
                        self.pacing_gain = HIGH_GAIN;
                        self.cwnd_gain = CWND_GAIN;
                    }
                }
            }
            None => {}
        }
    }

    fn min_pipe(&self) -> u32 {
        MIN_PIPE_SEGMENTS * self.mss
    }

    /// `gain` times the bandwidth-delay product, in bytes (the initial window before
    /// the model has both halves).
    fn bdp(&self, gain: u64) -> u64 {
        match (self.min_rtt.get(), self.max_bw.get()) {
            (Some(rtt), bw) if bw > 0 => {
                let bytes = u128::from(bw) * rtt.as_micros() / 1_000_000;
                (bytes * u128::from(gain) / u128::from(UNIT)).min(u128::from(u32::MAX)) as u64
            }
            _ => u64::from(self.initial_cwnd),
        }
    }

    fn set_pacing_rate(&mut self) {
        let bw = self.max_bw.get();
        if bw == 0 {
            // No sample yet: the initial window over the RTT, at Startup's gain.
            let rtt = self
                .min_rtt
                .get()
                .unwrap_or(DEFAULT_RTT)
                .max(Duration::from_micros(1));
            let rate = u128::from(self.cwnd) * 1_000_000 / rtt.as_micros();
            self.pacing_rate = (rate * u128::from(HIGH_GAIN) / u128::from(UNIT)) as u64;
            return;
        }
        let rate = u128::from(bw) * u128::from(self.pacing_gain) / u128::from(UNIT)
            * u128::from(100 - PACING_MARGIN_PERCENT)
            / 100;
        let rate = rate.min(u128::from(u64::MAX)) as u64;
        // Until the pipe is known full, never slow down on a low sample.
        if self.filled_pipe || rate > self.pacing_rate {
            self.pacing_rate = rate;
        }
    }

    fn set_cwnd(&mut self, a: &AckInfo) {
        let target = self.bdp(self.cwnd_gain) + u64::from(ACK_ALLOWANCE_SEGMENTS * self.mss);
        let target = target.min(u64::from(u32::MAX)) as u32;
        if self.conserving {
            self.cwnd = self.cwnd.max(a.inflight.saturating_add(a.acked));
        } else if self.filled_pipe {
            self.cwnd = self.cwnd.saturating_add(a.acked).min(target);
        } else if self.cwnd < target || self.delivered < u64::from(self.initial_cwnd) {
            self.cwnd = self.cwnd.saturating_add(a.acked);
        }
        self.cwnd = self.cwnd.max(self.min_pipe());
        if self.mode == Mode::ProbeRtt {
            self.cwnd = self.cwnd.min(self.min_pipe());
        }
    }

    /// The last window known good: the current one, or the one saved before recovery
    /// or ProbeRTT if that was larger.
    fn saved_cwnd(&self) -> u32 {
        if !self.recovering && self.mode != Mode::ProbeRtt {
            self.cwnd
        } else {
            self.cwnd.max(self.prior_cwnd)
        }
    }

    /// Fast recovery begins with `inflight` bytes in the network: the window drops to
    /// what is in flight plus one segment and grows one for one for a round.
    pub fn on_congestion(&mut self, inflight: u32) {
        self.prior_cwnd = self.saved_cwnd();
        self.recovering = true;
        self.conserving = true;
        self.loss_in_phase = true;
        self.next_round_delivered = self.delivered;
        self.cwnd = inflight.saturating_add(self.mss);
    }

    /// Retransmission timeout: nothing is known to be in flight; restart at one segment.
    pub fn on_rto(&mut self) {
        self.prior_cwnd = self.saved_cwnd();
        self.recovering = true;
        self.conserving = false;
        self.loss_in_phase = true;
        self.cwnd = self.mss;
    }

    /// Recovery ended: the window saved at its start comes back.
    pub fn on_recovery_end(&mut self) {
        if self.recovering {
            self.recovering = false;
            self.conserving = false;
            self.cwnd = self.cwnd.max(self.prior_cwnd);
        }
    }

    /// The recovery was spurious: back to the window before it.
    pub fn undo(&mut self, prior: &Bbr) {
        self.cwnd = self.cwnd.max(prior.cwnd);
        self.conserving = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;
    const RTT: Duration = Duration::from_millis(20);

    /// Drives `b` one round: an ACK whose sample was sent at the start of the round.
    struct Driver {
        b: Bbr,
        now: Instant,
        delivered: u64,
    }

    impl Driver {
        fn new() -> Driver {
            Driver {
                b: Bbr::new(MSS, 10 * MSS),
                now: Instant::from_millis(1_000),
                delivered: 0,
            }
        }

        /// One round delivering at `rate` bytes/s, with `inflight` left, RTT `rtt`.
        fn round(&mut self, rate: u64, inflight: u32, rtt: Duration) {
            let prior = self.delivered;
            let bytes = rate * RTT.as_micros() as u64 / 1_000_000;
            self.now = self.now + RTT;
            self.delivered += bytes;
            self.b.on_ack(&AckInfo {
                now: self.now,
                delivered: self.delivered,
                acked: bytes as u32,
                inflight,
                sample: Some(RateSample {
                    delivery_rate: rate,
                    interval: RTT,
                    prior_delivered: prior,
                    app_limited: false,
                    rtt: Some(rtt),
                }),
            });
        }
    }

    /// Startup keeps going while the bandwidth grows by 25% per round and ends after
    /// three rounds without that growth; Drain then lasts until in flight is at most
    /// one BDP.
    #[test]
    fn startup_exits_after_three_flat_rounds_then_drains() {
        let mut d = Driver::new();
        let mut rate = 1_000_000;
        for _ in 0..6 {
            d.round(rate, 10 * MSS, RTT);
            assert_eq!(d.b.mode(), Mode::Startup);
            rate *= 2;
        }
        let plateau = rate;
        assert!(
            d.b.pacing_rate() > plateau,
            "Startup paces above the estimate"
        );
        // The first round at the plateau still doubled the estimate.
        d.round(plateau, 2000 * MSS, RTT);
        d.round(plateau, 2000 * MSS, RTT);
        d.round(plateau, 2000 * MSS, RTT);
        assert_eq!(d.b.mode(), Mode::Startup, "two flat rounds are not enough");
        d.round(plateau, 2000 * MSS, RTT);
        assert_eq!(d.b.mode(), Mode::Drain, "three flat rounds fill the pipe");
        assert!(d.b.pacing_rate() < plateau / 2);
        let bdp = plateau * RTT.as_micros() as u64 / 1_000_000;
        d.round(plateau, bdp as u32 + MSS, RTT);
        assert_eq!(d.b.mode(), Mode::Drain, "still more than a BDP in flight");
        d.round(plateau, bdp as u32, RTT);
        assert_eq!(d.b.mode(), Mode::ProbeBw);
        let gain = d.b.pacing_gain;
        assert!(PROBE_BW_GAINS.contains(&gain) && gain != UNIT * 3 / 4);
        // cwnd converges on 2·BDP plus the ACK allowance.
        for _ in 0..20 {
            d.round(plateau, bdp as u32, RTT);
        }
        assert_eq!(
            u64::from(d.b.cwnd),
            2 * bdp + u64::from(ACK_ALLOWANCE_SEGMENTS * MSS)
        );
    }

    fn probing() -> Driver {
        let mut d = Driver::new();
        for r in 0..10 {
            d.round(50_000_000 / (10 - r), 10 * MSS, RTT);
        }
        while d.b.mode() != Mode::ProbeBw {
            d.round(50_000_000, 10 * MSS, RTT);
        }
        d
    }

    /// The min RTT filter expires after 10 s without a new minimum: ProbeRTT holds
    /// four segments for 200 ms and a round, then ProbeBW resumes with the old window.
    #[test]
    fn probe_rtt_after_ten_seconds_without_new_min() {
        let mut d = probing();
        let cwnd = d.b.cwnd;
        let start = d.now;
        while d.now < start + Duration::from_secs(10) {
            d.round(50_000_000, 10 * MSS, RTT + Duration::from_millis(5));
            assert_eq!(d.b.mode(), Mode::ProbeBw);
        }
        d.round(50_000_000, 10 * MSS, RTT + Duration::from_millis(5));
        assert_eq!(d.b.mode(), Mode::ProbeRtt);
        assert_eq!(d.b.cwnd, 4 * MSS);
        d.round(50_000_000, 4 * MSS, RTT);
        let entered = d.now;
        while d.now < entered + PROBE_RTT_DURATION {
            assert_eq!(d.b.mode(), Mode::ProbeRtt);
            d.round(50_000_000, 4 * MSS, RTT);
        }
        assert_eq!(d.b.mode(), Mode::ProbeBw);
        assert_eq!(d.b.cwnd, cwnd, "window restored");
        assert_eq!(d.b.min_rtt(), Some(RTT));
    }

    /// The windowed max keeps the bandwidth for 10 rounds after it was last seen, so
    /// the draining phase and random loss do not lower the estimate.
    #[test]
    fn bandwidth_estimate_survives_ten_rounds() {
        let mut d = probing();
        let bw = d.b.bandwidth();
        for _ in 0..9 {
            d.round(bw / 2, 10 * MSS, RTT);
        }
        assert_eq!(d.b.bandwidth(), bw);
        d.round(bw / 2, 10 * MSS, RTT);
        d.round(bw / 2, 10 * MSS, RTT);
        assert_eq!(d.b.bandwidth(), bw / 2);
    }

    /// Recovery: the window drops to what is in flight plus one segment, grows one for
    /// one during the first round, and the earlier window returns when recovery ends.
    #[test]
    fn recovery_conserves_packets_then_restores() {
        let mut d = probing();
        let before = d.b.cwnd;
        d.b.on_congestion(30 * MSS);
        assert_eq!(d.b.cwnd, 31 * MSS);
        // An ACK within the first round: no growth beyond inflight + acked.
        let delivered = d.delivered + u64::from(MSS);
        d.b.on_ack(&AckInfo {
            now: d.now,
            delivered,
            acked: MSS,
            inflight: 20 * MSS,
            sample: None,
        });
        assert_eq!(d.b.cwnd, 31 * MSS);
        d.b.on_recovery_end();
        assert_eq!(d.b.cwnd, before);
        d.b.on_rto();
        assert_eq!(d.b.cwnd, MSS);
        d.b.on_recovery_end();
        assert_eq!(d.b.cwnd, before);
    }
}
