//! Proportional Rate Reduction during fast recovery (RFC 6937).
//!
//! Fast recovery cuts the window to ssthresh at once, but the data in flight drains one
//! ACK at a time. Sending only once `pipe` falls below the new window would stall for
//! most of a round trip and then burst; sending whatever `cwnd − pipe` allows after
//! several losses would burst too. PRR instead paces the reduction with the ACK clock:
//! while `pipe` is above ssthresh it sends ssthresh/RecoverFS of what each ACK reports
//! delivered, so the window reaches ssthresh exactly when recovery ends; once `pipe` has
//! fallen below ssthresh (more losses), it grows back no faster than slow start
//! (PRR-SSRB, section 3.1), never in one burst.

use super::Connection;

/// PRR's counters for one recovery episode (RFC 6937 section 3).
#[derive(Debug, Clone, Copy)]
pub(super) struct Prr {
    /// RecoverFS: FlightSize when recovery began.
    recover_fs: u32,
    /// prr_delivered: bytes the receiver reported delivered during recovery.
    delivered: u64,
    /// prr_out: bytes sent during recovery.
    out: u64,
    /// DeliveredData of the latest ACK.
    last_delivered: u32,
}

impl Prr {
    /// Starts an episode with `flight` bytes outstanding.
    pub fn new(flight: u32) -> Prr {
        Prr {
            recover_fs: flight.max(1),
            delivered: 0,
            out: 0,
            last_delivered: 0,
        }
    }

    /// An ACK reported `delivered` more bytes at the receiver (cumulatively or by SACK).
    pub fn on_ack(&mut self, delivered: u32) {
        self.delivered += u64::from(delivered);
        self.last_delivered = delivered;
    }

    /// `bytes` were sent (new data or retransmission).
    pub fn on_send(&mut self, bytes: u32) {
        self.out += u64::from(bytes);
    }

    /// Bytes that may be sent now (RFC 6937 section 3 "sndcnt"), given `pipe`,
    /// `ssthresh` and the MSS.
    pub fn allowance(&self, pipe: u32, ssthresh: u32, mss: u32) -> u32 {
        let sndcnt = if pipe > ssthresh {
            // Proportional part: CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out.
            let target =
                (self.delivered * u64::from(ssthresh)).div_ceil(u64::from(self.recover_fs));
            target.saturating_sub(self.out)
        } else {
            // PRR-SSRB: MAX(prr_delivered - prr_out, DeliveredData) + MSS, capped at
            // what brings pipe up to ssthresh.
            let limit = self
                .delivered
                .saturating_sub(self.out)
                .max(u64::from(self.last_delivered))
                + u64::from(mss);
            limit.min(u64::from(ssthresh - pipe))
        };
        sndcnt.min(u64::from(u32::MAX)) as u32
    }
}

impl Connection {
    /// How many bytes the congestion window lets us send now: PRR's allowance during
    /// fast recovery, otherwise `cwnd − pipe`.
    pub(super) fn send_allowance(&self) -> u32 {
        match self.prr {
            Some(prr) => prr.allowance(self.pipe(), self.cc.ssthresh(), self.send_mss),
            None => self.cc.cwnd().saturating_sub(self.pipe()),
        }
    }

    /// Counts bytes sent during fast recovery.
    pub(super) fn prr_on_send(&mut self, bytes: u32) {
        if let Some(prr) = self.prr.as_mut() {
            prr.on_send(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6937 section 3: with one loss out of 20 segments and ssthresh = 10, PRR sends
    /// one segment for every two delivered, so ssthresh is in flight when recovery
    /// ends.
    #[test]
    fn rfc6937_3_proportional_part() {
        let mss = 100;
        let mut p = Prr::new(20 * mss);
        let mut pipe = 19 * mss; // one segment lost
        let mut sent = 0;
        for _ in 0..19 {
            p.on_ack(mss);
            pipe -= mss;
            let n = p.allowance(pipe + sent, 10 * mss, mss);
            if n >= mss {
                p.on_send(mss);
                sent += mss;
            }
        }
        assert_eq!(sent, 10 * mss, "ssthresh in flight at the end");
    }

    /// RFC 6937 section 3.1 (PRR-SSRB): when losses have taken pipe below ssthresh, the
    /// allowance is what was delivered plus one MSS per ACK (slow start), not a burst up
    /// to ssthresh.
    #[test]
    fn rfc6937_3_1_slow_start_reduction_bound() {
        let mss = 100;
        let mut p = Prr::new(20 * mss);
        p.on_ack(mss);
        assert_eq!(p.allowance(2 * mss, 10 * mss, mss), 2 * mss);
        p.on_send(2 * mss);
        p.on_ack(2 * mss);
        assert_eq!(p.allowance(2 * mss, 10 * mss, mss), 3 * mss);
        assert_eq!(
            p.allowance(9 * mss, 10 * mss, mss),
            mss,
            "capped at ssthresh - pipe"
        );
    }
}
