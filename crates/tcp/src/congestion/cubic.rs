//! CUBIC (RFC 9438) in integer arithmetic (no floating point, so it runs unchanged in
//! kernel context): W_cubic(t) = C·(t−K)³ + W_max with C = 0.4 and β = 0.7, plus the
//! Reno-friendly estimate W_est of section 4.3.

use core::time::Duration;

use crate::time::Instant;

/// β_cubic = 7/10 (RFC 9438 section 4.6).
const BETA_NUM: u64 = 7;
const BETA_DEN: u64 = 10;

/// CUBIC window state.
#[derive(Debug, Clone)]
pub struct Cubic {
    pub(super) cwnd: u32,
    pub(super) ssthresh: u32,
    mss: u32,
    /// W_max in bytes: the window just before the last reduction (lowered by fast
    /// convergence).
    w_max: u64,
    /// cwnd_prior in bytes: the window just before the last reduction, as it was.
    cwnd_prior: u64,
    /// Start of the current congestion-avoidance epoch, with K in ms and the origin.
    epoch: Option<Epoch>,
    /// Reno-friendly window estimate W_est in bytes.
    w_est: u64,
    /// Sub-byte remainders of the two growth rules.
    cubic_acc: u64,
    est_acc: u64,
}

#[derive(Debug, Clone, Copy)]
struct Epoch {
    start: Instant,
    k_ms: u64,
    origin: u64,
}

/// Integer cube root (largest r with r³ <= x).
fn cbrt(x: u128) -> u64 {
    let (mut lo, mut hi) = (0u64, 1u64 << 43);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if u128::from(mid).pow(3) <= x {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

impl Cubic {
    pub fn new(mss: u32, cwnd: u32) -> Cubic {
        Cubic {
            cwnd,
            ssthresh: u32::MAX,
            mss,
            w_max: 0,
            cwnd_prior: 0,
            epoch: None,
            w_est: 0,
            cubic_acc: 0,
            est_acc: 0,
        }
    }

    /// W_cubic(t) in bytes for `t_ms` since the epoch start (RFC 9438 equation 1).
    fn w_cubic(&self, e: &Epoch, t_ms: u64) -> u64 {
        let d = i128::from(t_ms) - i128::from(e.k_ms);
        // C·mss·d³ with d in ms: 0.4 · mss · d³ / 1e9.
        let off = 4 * i128::from(self.mss) * d * d * d / 10_000_000_000;
        (i128::from(e.origin) + off).clamp(0, i128::from(u32::MAX)) as u64
    }

    pub fn on_ack(&mut self, acked: u32, now: Instant, srtt: Option<Duration>) {
        let rest = super::slow_start(&mut self.cwnd, self.ssthresh, acked, self.mss);
        if self.cwnd < self.ssthresh || rest == 0 {
            return;
        }
        let cwnd = u64::from(self.cwnd);
        let e = *self.epoch.get_or_insert_with(|| {
            self.w_est = cwnd;
            if cwnd < self.w_max {
                // K = cbrt((W_max − cwnd) / (C·mss)) seconds (RFC 9438 equation 2), in ms.
                let k = cbrt(
                    u128::from(self.w_max - cwnd) * 10_000_000_000 / (4 * u128::from(self.mss)),
                );
                Epoch {
                    start: now,
                    k_ms: k,
                    origin: self.w_max,
                }
            } else {
                Epoch {
                    start: now,
                    k_ms: 0,
                    origin: cwnd,
                }
            }
        });
        let rtt_ms = srtt.map_or(100, |d| d.as_millis() as u64);
        let t = now.saturating_since(e.start).as_millis() as u64 + rtt_ms;
        // Section 4.2: the target is clamped to [cwnd, 1.5·cwnd].
        let target = self.w_cubic(&e, t).clamp(cwnd, cwnd + cwnd / 2);
        self.cubic_acc += (target - cwnd) * u64::from(rest);
        let mut grow = self.cubic_acc / cwnd;
        self.cubic_acc %= cwnd;
        // Section 4.3: W_est grows by α·(acked/cwnd) segments, α = 3(1−β)/(1+β) = 9/17
        // while below cwnd_prior; once W_est has reached cwnd_prior, α = 1 (Reno's rate).
        let alpha_17ths = if self.w_est < self.cwnd_prior { 9 } else { 17 };
        self.est_acc += alpha_17ths * u64::from(rest) * u64::from(self.mss);
        self.w_est += self.est_acc / (17 * cwnd);
        self.est_acc %= 17 * cwnd;
        if self.w_est > cwnd + grow {
            grow = self.w_est - cwnd;
        }
        self.cwnd = (cwnd + grow).min(u64::from(u32::MAX)) as u32;
    }

    /// Section 4.6 (β reduction) and 4.7 (fast convergence).
    fn reduce(&mut self) {
        let cwnd = u64::from(self.cwnd);
        self.cwnd_prior = cwnd;
        self.w_max = if cwnd < self.w_max {
            cwnd * (BETA_DEN + BETA_NUM) / (2 * BETA_DEN)
        } else {
            cwnd
        };
        self.ssthresh = ((cwnd * BETA_NUM / BETA_DEN) as u32).max(2 * self.mss);
        self.epoch = None;
        self.cubic_acc = 0;
        self.est_acc = 0;
    }

    pub fn on_congestion(&mut self) {
        self.reduce();
        self.cwnd = self.ssthresh;
    }

    /// Back to the state before a spurious reduction (RFC 9438 section 4.9: restore
    /// cwnd, ssthresh, W_max and cwnd_prior); a new epoch starts from the restored window.
    pub fn undo(&mut self, prior: &Cubic) {
        self.cwnd = self.cwnd.max(prior.cwnd);
        self.ssthresh = self.ssthresh.max(prior.ssthresh);
        self.w_max = prior.w_max;
        self.cwnd_prior = prior.cwnd_prior;
        self.epoch = None;
        self.cubic_acc = 0;
        self.est_acc = 0;
    }

    /// Section 4.8: a timeout reduces like a loss and restarts from one segment.
    pub fn on_rto(&mut self) {
        self.reduce();
        self.cwnd = self.mss;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_cube_root() {
        for x in [0u64, 1, 7, 8, 26, 27, 1000, 123_456_789] {
            let r = cbrt(u128::from(x));
            assert!(
                u128::from(r).pow(3) <= u128::from(x) && u128::from(r + 1).pow(3) > u128::from(x)
            );
        }
    }

    /// RFC 9438 section 4.6: multiplicative decrease by β = 0.7.
    #[test]
    fn rfc9438_4_6_beta_reduction() {
        let mut c = Cubic::new(1000, 100_000);
        c.on_congestion();
        assert_eq!((c.cwnd, c.ssthresh), (70_000, 70_000));
        // Section 4.7 fast convergence: a second loss below W_max lowers W_max further.
        c.on_congestion();
        assert_eq!(c.w_max, 70_000 * 17 / 20);
    }

    /// RFC 9438 section 4.9: a spurious congestion event is undone, restoring the window,
    /// ssthresh and W_max from before it.
    #[test]
    fn rfc9438_4_9_undo_spurious_reduction() {
        let mut c = Cubic::new(1000, 100_000);
        c.on_congestion();
        let prior = c.clone();
        c.on_congestion();
        assert_eq!(c.cwnd, 49_000);
        c.undo(&prior);
        assert_eq!((c.cwnd, c.ssthresh, c.w_max), (70_000, 70_000, 100_000));
    }

    /// RFC 9438 sections 4.2 and 5.1: after a reduction the window climbs back to W_max
    /// around time K (concave) and then grows beyond it (convex).
    #[test]
    fn rfc9438_4_2_concave_then_convex() {
        let mss = 1000;
        let mut c = Cubic::new(mss, 100_000);
        c.on_congestion(); // W_max = 100 kB, cwnd = 70 kB, K = cbrt(30/0.4) s ≈ 4.2 s
                           // A long RTT keeps the Reno-friendly estimate (section 4.3) below the cubic curve.
        let rtt = Duration::from_millis(200);
        let mut now = Instant::from_millis(0);
        let mut at_k = 0;
        for step in 0..60 {
            // One window of ACKs per RTT.
            let acks = c.cwnd / mss;
            for _ in 0..acks {
                c.on_ack(mss, now, Some(rtt));
            }
            now = now + rtt;
            if step == 20 {
                at_k = c.cwnd;
            }
        }
        assert!(
            (95_000..=106_000).contains(&at_k),
            "cwnd near W_max at K: {at_k}"
        );
        assert!(c.cwnd > 150_000, "convex growth after K: {}", c.cwnd);
    }

    /// Runs `rtts` round trips of one window of ACKs each with a short RTT, where CUBIC
    /// stays in the Reno-friendly region; returns the window after each round.
    fn reno_friendly_rounds(c: &mut Cubic, rtts: usize) -> alloc::vec::Vec<u32> {
        let rtt = Duration::from_millis(10);
        let mut now = Instant::from_millis(0);
        (0..rtts)
            .map(|_| {
                let window = c.cwnd;
                let mut acked = 0;
                while acked < window {
                    c.on_ack(c.mss, now, Some(rtt));
                    acked += c.mss;
                }
                now = now + rtt;
                c.cwnd
            })
            .collect()
    }

    /// RFC 9438 section 4.3: in the Reno-friendly region W_est grows by
    /// α = 3(1−β)/(1+β) ≈ 0.53 segments per RTT until it reaches cwnd_prior, then by
    /// one segment per RTT like Reno.
    #[test]
    fn rfc9438_4_3_reno_friendly_alpha() {
        let mss = 1000;
        let mut c = Cubic::new(mss, 20_000);
        c.on_congestion(); // cwnd_prior = 20 segments, cwnd = 14.
        let w = reno_friendly_rounds(&mut c, 30);
        let below = w
            .iter()
            .position(|&x| x >= 20_000)
            .expect("reaches cwnd_prior");
        // 6 segments at 9/17 per RTT: about 11 RTTs.
        assert!((10..=13).contains(&below), "RTTs to cwnd_prior: {below}");
        let slow = w[4] - w[2];
        let fast = w[below + 6] - w[below + 4];
        assert!(
            (900..=1200).contains(&slow),
            "two RTTs at alpha 9/17: {slow}"
        );
        assert!((1900..=2100).contains(&fast), "two RTTs at alpha 1: {fast}");
    }
}
