//! Round-trip time estimation and the retransmission timeout (RFC 6298).
//!
//! Samples come either from the timestamp option (RFC 7323 section 4, any ACK of new data)
//! or from one timed segment at a time that was never retransmitted (Karn's algorithm,
//! RFC 6298 section 3). The caller enforces Karn; this type only does the arithmetic.
//! It also keeps the smallest sample seen, which sizes RACK's reordering window
//! (RFC 8985 section 6.2).

use core::time::Duration;

/// Clock granularity G of RFC 6298 section 2: the engine's timers are exact to 1 ms.
const GRANULARITY_US: u64 = 1_000;

/// SRTT/RTTVAR state and the current (possibly backed-off) RTO.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    srtt_us: Option<u64>,
    rttvar_us: u64,
    /// Smallest sample so far (RFC 8985 uses it for the reordering window).
    min_rtt_us: Option<u64>,
    rto_us: u64,
    min_us: u64,
    max_us: u64,
}

impl RttEstimator {
    /// Before any sample the RTO is `initial` (RFC 6298 section 2.1: 1 second).
    pub fn new(initial: Duration, min: Duration, max: Duration) -> RttEstimator {
        RttEstimator {
            srtt_us: None,
            rttvar_us: 0,
            min_rtt_us: None,
            rto_us: initial.as_micros() as u64,
            min_us: min.as_micros() as u64,
            max_us: max.as_micros() as u64,
        }
    }

    /// Feeds one RTT measurement (RFC 6298 sections 2.2 and 2.3). Also undoes any backoff
    /// (section 5.7: the next RTO comes from the new estimate).
    pub fn sample(&mut self, rtt: Duration) {
        let r = (rtt.as_micros() as u64).max(1);
        self.min_rtt_us = Some(self.min_rtt_us.map_or(r, |m| m.min(r)));
        match self.srtt_us {
            None => {
                self.srtt_us = Some(r);
                self.rttvar_us = r / 2;
            }
            Some(srtt) => {
                // RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|, then SRTT <- 7/8 SRTT + 1/8 R'.
                self.rttvar_us = (3 * self.rttvar_us + srtt.abs_diff(r)) / 4;
                self.srtt_us = Some((7 * srtt + r) / 8);
            }
        }
        let srtt = self.srtt_us.unwrap_or(r);
        self.rto_us =
            (srtt + (4 * self.rttvar_us).max(GRANULARITY_US)).clamp(self.min_us, self.max_us);
    }

    /// Doubles the RTO after a timeout (RFC 6298 section 5.5), up to the maximum.
    pub fn backoff(&mut self) {
        self.rto_us = (self.rto_us * 2).min(self.max_us);
    }

    /// The current retransmission timeout.
    pub fn rto(&self) -> Duration {
        Duration::from_micros(self.rto_us)
    }

    /// The smallest RTT sample, once there is one.
    pub fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt_us.map(Duration::from_micros)
    }

    /// The RTT variation (zero before the first sample).
    pub fn rttvar(&self) -> Duration {
        Duration::from_micros(self.rttvar_us)
    }

    /// The smoothed RTT, once there is a sample.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt_us.map(Duration::from_micros)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est() -> RttEstimator {
        RttEstimator::new(
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(60),
        )
    }

    /// RFC 6298 section 2.1: RTO starts at 1 s; 2.2: first sample sets SRTT=R, RTTVAR=R/2.
    #[test]
    fn rfc6298_2_first_sample() {
        let mut e = est();
        assert_eq!(e.rto(), Duration::from_secs(1));
        e.sample(Duration::from_millis(100));
        assert_eq!(e.srtt(), Some(Duration::from_millis(100)));
        // RTO = 100 + 4*50 = 300 ms.
        assert_eq!(e.rto(), Duration::from_millis(300));
    }

    /// RFC 6298 section 2.3: the smoothing formulas with alpha=1/8, beta=1/4.
    #[test]
    fn rfc6298_2_3_smoothing() {
        let mut e = est();
        e.sample(Duration::from_millis(100));
        e.sample(Duration::from_millis(200));
        // RTTVAR = 3/4*50 + 1/4*100 = 62.5; SRTT = 87.5 + 25 = 112.5; RTO = 112.5 + 250.
        assert_eq!(e.srtt(), Some(Duration::from_micros(112_500)));
        assert_eq!(e.rto(), Duration::from_micros(362_500));
        e.sample(Duration::from_millis(50));
        e.sample(Duration::from_millis(300));
        assert_eq!(
            e.min_rtt(),
            Some(Duration::from_millis(50)),
            "smallest sample"
        );
    }

    /// RFC 6298 section 2.4 (minimum), 5.5 (backoff doubling) and the maximum.
    #[test]
    fn rfc6298_5_5_backoff_and_bounds() {
        let mut e = est();
        e.sample(Duration::from_millis(1));
        assert_eq!(e.rto(), Duration::from_millis(200));
        for _ in 0..20 {
            e.backoff();
        }
        assert_eq!(e.rto(), Duration::from_secs(60));
        e.sample(Duration::from_millis(1));
        assert_eq!(
            e.rto(),
            Duration::from_millis(200),
            "a new sample undoes backoff"
        );
    }
}
