//! Outstanding echo requests, matched to replies by (identifier, sequence number, peer), so
//! the RTT of each reply can be reported and unanswered requests time out.

use crate::time::Instant;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::time::Duration;

/// One echo request waiting for its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outstanding {
    pub dst: Ipv4Addr,
    pub ident: u16,
    pub seq_no: u16,
    pub sent: Instant,
}

/// Bounded list of outstanding pings, oldest first.
#[derive(Debug)]
pub struct PingTracker {
    outstanding: VecDeque<Outstanding>,
    max: usize,
    timeout: Duration,
}

impl PingTracker {
    pub fn new(max: usize, timeout: Duration) -> PingTracker {
        PingTracker {
            outstanding: VecDeque::new(),
            max,
            timeout,
        }
    }

    /// Remembers a request (forgetting the oldest one when full).
    pub fn record(&mut self, o: Outstanding) {
        self.outstanding
            .retain(|x| (x.ident, x.seq_no) != (o.ident, o.seq_no));
        if self.outstanding.len() >= self.max {
            self.outstanding.pop_front();
        }
        if self.max > 0 {
            self.outstanding.push_back(o);
        }
    }

    /// Matches a reply from `from`; returns the round-trip time.
    pub fn take(
        &mut self,
        from: Ipv4Addr,
        ident: u16,
        seq_no: u16,
        now: Instant,
    ) -> Option<Duration> {
        let i = self
            .outstanding
            .iter()
            .position(|o| (o.dst, o.ident, o.seq_no) == (from, ident, seq_no))?;
        self.outstanding.remove(i).map(|o| now.since(o.sent))
    }

    /// Removes and returns requests older than the timeout.
    pub fn expire(&mut self, now: Instant) -> Vec<Outstanding> {
        let mut out = Vec::new();
        while self
            .outstanding
            .front()
            .is_some_and(|o| (o.sent + self.timeout) <= now)
        {
            out.extend(self.outstanding.pop_front());
        }
        out
    }

    /// When the oldest request times out.
    pub fn poll_at(&self) -> Option<Instant> {
        self.outstanding.front().map(|o| o.sent + self.timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    fn o(seq_no: u16, sent_ms: u64) -> Outstanding {
        Outstanding {
            dst: A,
            ident: 1,
            seq_no,
            sent: Instant::from_millis(sent_ms),
        }
    }

    #[test]
    fn match_expire_and_bound() {
        let mut t = PingTracker::new(2, Duration::from_secs(1));
        t.record(o(1, 0));
        t.record(o(2, 100));
        assert_eq!(
            t.take(Ipv4Addr::new(10, 0, 0, 9), 1, 1, Instant::from_millis(5)),
            None,
            "wrong peer"
        );
        assert_eq!(
            t.take(A, 1, 1, Instant::from_millis(5)),
            Some(Duration::from_millis(5))
        );
        assert_eq!(
            t.take(A, 1, 1, Instant::from_millis(6)),
            None,
            "already answered"
        );
        t.record(o(3, 200));
        t.record(o(4, 300));
        assert_eq!(
            t.take(A, 1, 2, Instant::from_millis(400)),
            None,
            "evicted by the bound"
        );
        assert_eq!(t.poll_at(), Some(Instant::from_millis(1200)));
        assert_eq!(t.expire(Instant::from_millis(1250)), vec![o(3, 200)]);
        assert_eq!(t.expire(Instant::from_millis(1300)), vec![o(4, 300)]);
        assert_eq!(t.poll_at(), None);
    }
}
