//! Congestion control. Two loss-based algorithms: slow start, congestion avoidance and the
//! window reduction on loss (RFC 5681), with either NewReno's linear growth or CUBIC
//! (RFC 9438, the default); and one model-based algorithm, BBR, which sets a pacing rate
//! and a window from its estimates of the bottleneck bandwidth and the propagation delay
//! and does not read random loss as congestion (see `bbr.rs`).
//!
//! Loss *detection* and retransmission live in the connection; these types only own
//! `cwnd` and `ssthresh` (and BBR's pacing rate) and are told about ACKed bytes,
//! fast-recovery entry and exit and RTOs. BBR is also given a delivery-rate sample for
//! every ACK that delivers data (the connection's `conn/rate.rs`), and the connection
//! paces its segments at BBR's rate (`conn/pacing.rs`); with NewReno and CUBIC it sends
//! as the window allows, unpaced.

mod bbr;
mod cubic;
mod newreno;
mod windowed;

use core::time::Duration;

pub use bbr::{AckInfo, Bbr, Mode as BbrMode, RateSample};
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
    /// BBR (version 1 structure, draft-cardwell-iccrg-bbr-congestion-control): model
    /// based and paced. Suited to paths with random loss, where the loss-based
    /// algorithms stay near the Mathis bound; it keeps a small queue at the bottleneck
    /// but does not back off on loss, so it competes hard with loss-based flows.
    Bbr,
}

/// The congestion state of one connection.
#[derive(Debug, Clone)]
pub enum Congestion {
    NewReno(NewReno),
    Cubic(Cubic),
    Bbr(Bbr),
}

impl Congestion {
    /// Initial window per RFC 6928 (`initial_segments` of `mss`), ssthresh unbounded.
    pub fn new(alg: Algorithm, mss: u32, initial_segments: u32) -> Congestion {
        let cwnd = mss * initial_segments;
        match alg {
            Algorithm::NewReno => Congestion::NewReno(NewReno::new(mss, cwnd)),
            Algorithm::Cubic => Congestion::Cubic(Cubic::new(mss, cwnd)),
            Algorithm::Bbr => Congestion::Bbr(Bbr::new(mss, cwnd)),
        }
    }

    /// Congestion window in bytes.
    pub fn cwnd(&self) -> u32 {
        match self {
            Congestion::NewReno(c) => c.cwnd,
            Congestion::Cubic(c) => c.cwnd,
            Congestion::Bbr(c) => c.cwnd,
        }
    }

    /// Slow-start threshold in bytes (BBR has none: `u32::MAX`).
    pub fn ssthresh(&self) -> u32 {
        match self {
            Congestion::NewReno(c) => c.ssthresh,
            Congestion::Cubic(c) => c.ssthresh,
            Congestion::Bbr(_) => u32::MAX,
        }
    }

    /// The rate to pace segments at, in bytes per second; `None` for the unpaced
    /// loss-based algorithms.
    pub fn pacing_rate(&self) -> Option<u64> {
        match self {
            Congestion::Bbr(c) => Some(c.pacing_rate()),
            _ => None,
        }
    }

    /// True for a model-based algorithm, which wants delivery-rate samples and sets its
    /// own window in recovery (no RFC 6937 rate reduction).
    pub fn is_model_based(&self) -> bool {
        matches!(self, Congestion::Bbr(_))
    }

    /// `acked` new bytes were cumulatively acknowledged outside loss recovery.
    pub fn on_ack(&mut self, acked: u32, now: Instant, srtt: Option<Duration>) {
        match self {
            Congestion::NewReno(c) => c.on_ack(acked),
            Congestion::Cubic(c) => c.on_ack(acked, now, srtt),
            // BBR learns from every delivering ACK through `on_delivery`.
            Congestion::Bbr(_) => {}
        }
    }

    /// An ACK delivered data (cumulatively or by SACK), in or out of recovery: the
    /// model-based algorithm updates its model (the others ignore it).
    pub fn on_delivery(&mut self, ack: &AckInfo) {
        if let Congestion::Bbr(c) = self {
            c.on_ack(ack);
        }
    }

    /// Loss detected by duplicate ACKs or SACK: enter fast recovery. `flight` is
    /// everything outstanding, `pipe` the estimate of what is still in the network.
    pub fn on_congestion(&mut self, flight: u32, pipe: u32) {
        match self {
            Congestion::NewReno(c) => c.on_congestion(flight),
            Congestion::Cubic(c) => c.on_congestion(),
            Congestion::Bbr(c) => c.on_congestion(pipe),
        }
    }

    /// Loss recovery (fast or after a timeout) ended with a full ACK.
    pub fn on_recovery_end(&mut self) {
        if let Congestion::Bbr(c) = self {
            c.on_recovery_end();
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
            (Congestion::Bbr(c), Congestion::Bbr(p)) => c.undo(p),
            _ => {}
        }
    }

    /// Retransmission timeout (RFC 5681 section 3.1, equation 4; cwnd = 1 segment).
    pub fn on_rto(&mut self, flight: u32) {
        match self {
            Congestion::NewReno(c) => c.on_rto(flight),
            Congestion::Cubic(c) => c.on_rto(),
            Congestion::Bbr(c) => c.on_rto(),
        }
    }
}

/// Slow-start growth shared by the loss-based algorithms (RFC 5681 section 3.1 with appropriate
/// byte counting, RFC 3465, L = 2 segments). Returns bytes left over for avoidance.
fn slow_start(cwnd: &mut u32, ssthresh: u32, acked: u32, mss: u32) -> u32 {
    if *cwnd >= ssthresh {
        return acked;
    }
    let grow = acked.min(2 * mss).min(ssthresh - *cwnd);
    *cwnd += grow;
    acked - grow.min(acked)
}
