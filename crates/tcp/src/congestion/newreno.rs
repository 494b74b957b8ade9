//! NewReno (RFC 5681 section 3.1, RFC 6582): one segment of growth per RTT in congestion
//! avoidance, halve on loss.

/// NewReno window state.
#[derive(Debug, Clone)]
pub struct NewReno {
    pub(super) cwnd: u32,
    pub(super) ssthresh: u32,
    mss: u32,
    /// Bytes acknowledged since cwnd last grew in congestion avoidance.
    acked_in_ca: u32,
}

impl NewReno {
    pub fn new(mss: u32, cwnd: u32) -> NewReno {
        NewReno {
            cwnd,
            ssthresh: u32::MAX,
            mss,
            acked_in_ca: 0,
        }
    }

    pub fn on_ack(&mut self, acked: u32) {
        let rest = super::slow_start(&mut self.cwnd, self.ssthresh, acked, self.mss);
        if self.cwnd < self.ssthresh {
            return;
        }
        // RFC 5681 equation 3 done with byte counting: +1 MSS per cwnd of ACKed bytes.
        self.acked_in_ca += rest;
        if self.acked_in_ca >= self.cwnd {
            self.acked_in_ca -= self.cwnd;
            self.cwnd = self.cwnd.saturating_add(self.mss);
        }
    }

    /// RFC 5681 equation 4: ssthresh = max(FlightSize / 2, 2*SMSS); recovery starts at
    /// ssthresh (the engine's pipe accounting replaces the window inflation of section 3.2).
    pub fn on_congestion(&mut self, flight: u32) {
        self.ssthresh = (flight / 2).max(2 * self.mss);
        self.cwnd = self.ssthresh;
        self.acked_in_ca = 0;
    }

    /// Back to the window and threshold before a spurious reduction.
    pub fn undo(&mut self, prior: &NewReno) {
        self.cwnd = self.cwnd.max(prior.cwnd);
        self.ssthresh = self.ssthresh.max(prior.ssthresh);
        self.acked_in_ca = 0;
    }

    pub fn on_rto(&mut self, flight: u32) {
        self.ssthresh = (flight / 2).max(2 * self.mss);
        self.cwnd = self.mss;
        self.acked_in_ca = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5681 section 3.1: exponential growth below ssthresh, linear above, halving
    /// on loss and one segment after a timeout.
    #[test]
    fn rfc5681_3_1_growth_and_reduction() {
        let mut c = NewReno::new(1000, 10_000);
        c.on_ack(1000);
        assert_eq!(c.cwnd, 11_000);
        c.on_congestion(20_000);
        assert_eq!((c.cwnd, c.ssthresh), (10_000, 10_000));
        for _ in 0..10 {
            c.on_ack(1000);
        }
        assert_eq!(c.cwnd, 11_000, "one MSS per window of ACKed bytes");
        let prior = c.clone();
        c.on_congestion(11_000);
        c.undo(&prior);
        assert_eq!((c.cwnd, c.ssthresh), (11_000, 10_000), "undo restores both");
        c.on_rto(3000);
        assert_eq!((c.cwnd, c.ssthresh), (1000, 2000));
    }
}
