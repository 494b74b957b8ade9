//! Rate limit for challenge ACKs (RFC 5961 section 7), so spoofed RSTs/SYNs cannot make
//! the endpoint a traffic amplifier.

use crate::time::Instant;

/// At most `limit` challenge ACKs per second, endpoint-wide.
#[derive(Debug, Clone)]
pub struct ChallengeLimiter {
    limit: u32,
    window_start: Instant,
    sent: u32,
}

impl ChallengeLimiter {
    pub fn new(limit: u32) -> ChallengeLimiter {
        ChallengeLimiter {
            limit,
            window_start: Instant::ZERO,
            sent: 0,
        }
    }

    /// True (and counted) when one more challenge ACK may be sent at `now`.
    pub fn allow(&mut self, now: Instant) -> bool {
        if now.saturating_since(self.window_start).as_secs() >= 1 {
            self.window_start = now;
            self.sent = 0;
        }
        if self.sent < self.limit {
            self.sent += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5961 section 7: challenge ACKs are rate limited per time window.
    #[test]
    fn rfc5961_7_rate_limit() {
        let mut c = ChallengeLimiter::new(3);
        let t = Instant::from_millis(5000);
        assert!((0..3).all(|_| c.allow(t)));
        assert!(!c.allow(t));
        assert!(c.allow(Instant::from_millis(6000)));
    }
}
