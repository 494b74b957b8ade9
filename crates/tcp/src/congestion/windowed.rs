//! The two path-model filters BBR keeps: the bottleneck bandwidth as the windowed maximum
//! of delivery-rate samples over the last few round trips, and the round-trip
//! propagation delay as the minimum RTT seen within a time window.
//!
//! A maximum over a sliding window would need every sample in the window. The bandwidth
//! filter keeps three: the best sample, the best one that arrived after it, and the best
//! one after that (each with the round it came in). When the best sample ages out of the
//! window, the next one is already known to be the best of what remains, so memory and
//! work are constant per sample.

use core::time::Duration;

use crate::time::Instant;

/// Windowed maximum of `u64` samples, indexed by a monotonic round count.
#[derive(Debug, Clone, Copy, Default)]
pub struct MaxFilter {
    /// (value, round): the maximum, the best sample after it, the best sample after that.
    best: [(u64, u64); 3],
}

impl MaxFilter {
    /// The maximum over the current window (0 before any sample).
    pub fn get(&self) -> u64 {
        self.best[0].0
    }

    /// Adds `value` seen in `round`; samples older than `window` rounds drop out.
    pub fn update(&mut self, value: u64, round: u64, window: u64) {
        let window = window.max(1);
        let fresh = (value, round);
        if value >= self.best[0].0 || round.saturating_sub(self.best[2].1) >= window {
            // A new overall maximum, or even the newest candidate expired: restart.
            self.best = [fresh; 3];
            return;
        }
        if self.best[1].1 == self.best[0].1 || value >= self.best[1].0 {
            // The best sample since the maximum.
            self.best[1] = fresh;
            self.best[2] = fresh;
        } else if self.best[2].1 == self.best[1].1 || value >= self.best[2].0 {
            // The best sample since the second.
            self.best[2] = fresh;
        }
        // Age out the best samples that fell out of the window: the newer candidates take
        // their place (they are the best of what remains).
        while round.saturating_sub(self.best[0].1) >= window {
            self.best = [self.best[1], self.best[2], fresh];
        }
    }
}

/// Minimum RTT with the time it was last refreshed; it expires after a window so a
/// changed path (a longer route) is noticed.
#[derive(Debug, Clone, Copy)]
pub struct MinRtt {
    value: Option<Duration>,
    stamp: Instant,
}

impl MinRtt {
    /// No sample yet; the window counts from `now`.
    pub fn new(now: Instant) -> MinRtt {
        MinRtt {
            value: None,
            stamp: now,
        }
    }

    /// The current minimum, if any sample was taken.
    pub fn get(&self) -> Option<Duration> {
        self.value
    }

    /// True when the minimum has not been refreshed for longer than `window`.
    pub fn expired(&self, now: Instant, window: Duration) -> bool {
        now > self.stamp + window
    }

    /// Takes a sample; it replaces the minimum when it is not larger, or when the
    /// minimum has expired.
    pub fn update(&mut self, sample: Duration, now: Instant, window: Duration) {
        if self.value.is_none_or(|v| sample <= v) || self.expired(now, window) {
            self.value = Some(sample);
            self.stamp = now;
        }
    }

    /// Marks the current minimum as fresh (after ProbeRTT measured it again).
    pub fn refresh(&mut self, now: Instant) {
        self.stamp = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The maximum holds for `window` rounds, then the best later sample takes over.
    #[test]
    fn max_filter_window_expiry() {
        let mut f = MaxFilter::default();
        f.update(100, 0, 10);
        f.update(60, 3, 10);
        f.update(80, 5, 10);
        f.update(40, 8, 10);
        assert_eq!(f.get(), 100);
        f.update(50, 9, 10);
        assert_eq!(f.get(), 100, "round 9 is still within 10 rounds of round 0");
        f.update(30, 10, 10);
        assert_eq!(
            f.get(),
            80,
            "round 0 expired; 80 (round 5) is the best left"
        );
        f.update(20, 15, 10);
        assert_eq!(
            f.get(),
            50,
            "round 5 expired; 50 (round 9) is the best left"
        );
        f.update(200, 16, 10);
        assert_eq!(f.get(), 200);
        f.update(10, 40, 10);
        assert_eq!(f.get(), 10, "everything older than the window is gone");
    }

    /// A lower sample always wins; a higher one only once the minimum is older than
    /// the window.
    #[test]
    fn min_rtt_expiry() {
        let w = Duration::from_secs(10);
        let t0 = Instant::from_millis(1_000);
        let mut m = MinRtt::new(t0);
        assert_eq!(m.get(), None);
        m.update(Duration::from_millis(20), t0, w);
        m.update(Duration::from_millis(30), t0 + Duration::from_secs(5), w);
        assert_eq!(m.get(), Some(Duration::from_millis(20)));
        m.update(Duration::from_millis(19), t0 + Duration::from_secs(6), w);
        assert_eq!(m.get(), Some(Duration::from_millis(19)));
        let later = t0 + Duration::from_secs(16) + Duration::from_millis(1);
        assert!(m.expired(later, w));
        m.update(Duration::from_millis(40), later, w);
        assert_eq!(
            m.get(),
            Some(Duration::from_millis(40)),
            "expired: replaced"
        );
        assert!(!m.expired(later, w));
    }
}
