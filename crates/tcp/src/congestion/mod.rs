//! Congestion control: slow start, congestion avoidance and the window reduction on loss
//! (RFC 5681), with either NewReno's linear growth or CUBIC (RFC 9438, the default).
//!
//! Loss *detection* and retransmission live in the connection; these types only own
//! `cwnd` and `ssthresh` and are told about ACKed bytes, fast-recovery entry and RTOs.

mod cubic;
mod newreno;

use core::time::Duration;

pub use cubic::Cubic;
pub use newreno::NewReno;

use crate::time::Instant;

/// Which algorithm new connections use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// RFC 5681 / RFC 6582.
    NewReno,
    /// RFC 9438.
    #[default]
    Cubic,
}

/// The congestion state of one connection.
#[derive(Debug, Clone)]
pub enum Congestion {
    NewReno(NewReno),
    Cubic(Cubic),
}

impl Congestion {
    /// Initial window per RFC 6928 (`initial_segments` of `mss`), ssthresh unbounded.
    pub fn new(alg: Algorithm, mss: u32, initial_segments: u32) -> Congestion {
        let cwnd = mss * initial_segments;
        match alg {
            Algorithm::NewReno => Congestion::NewReno(NewReno::new(mss, cwnd)),
            Algorithm::Cubic => Congestion::Cubic(Cubic::new(mss, cwnd)),
        }
    }

    /// Congestion window in bytes.
    pub fn cwnd(&self) -> u32 {
        match self {
            Congestion::NewReno(c) => c.cwnd,
            Congestion::Cubic(c) => c.cwnd,
        }
    }

    /// Slow-start threshold in bytes.
    pub fn ssthresh(&self) -> u32 {
        match self {
            Congestion::NewReno(c) => c.ssthresh,
            Congestion::Cubic(c) => c.ssthresh,
        }
    }

    /// `acked` new bytes were cumulatively acknowledged outside loss recovery.
    pub fn on_ack(&mut self, acked: u32, now: Instant, srtt: Option<Duration>) {
        match self {
            Congestion::NewReno(c) => c.on_ack(acked),
            Congestion::Cubic(c) => c.on_ack(acked, now, srtt),
        }
    }

    /// Loss detected by duplicate ACKs or SACK: enter fast recovery.
    pub fn on_congestion(&mut self, flight: u32) {
        match self {
            Congestion::NewReno(c) => c.on_congestion(flight),
            Congestion::Cubic(c) => c.on_congestion(),
        }
    }

    /// Undoes a window reduction found to be spurious (RFC 3522 / RFC 3708 detection):
    /// cwnd and ssthresh go back to at least their values in `prior`, the state saved
    /// before the reduction (RFC 4015 section 3 restores both; like Linux, a window that
    /// grew since is kept).
    pub fn undo(&mut self, prior: &Congestion) {
        match (self, prior) {
            (Congestion::NewReno(c), Congestion::NewReno(p)) => c.undo(p),
            (Congestion::Cubic(c), Congestion::Cubic(p)) => c.undo(p),
            _ => {}
        }
    }

    /// Retransmission timeout (RFC 5681 section 3.1, equation 4; cwnd = 1 segment).
    pub fn on_rto(&mut self, flight: u32) {
        match self {
            Congestion::NewReno(c) => c.on_rto(flight),
            Congestion::Cubic(c) => c.on_rto(),
        }
    }
}

/// Slow-start growth shared by both algorithms (RFC 5681 section 3.1 with appropriate
/// byte counting, RFC 3465, L = 2 segments). Returns bytes left over for avoidance.
fn slow_start(cwnd: &mut u32, ssthresh: u32, acked: u32, mss: u32) -> u32 {
    if *cwnd >= ssthresh {
        return acked;
    }
    let grow = acked.min(2 * mss).min(ssthresh - *cwnd);
    *cwnd += grow;
    acked - grow.min(acked)
}
