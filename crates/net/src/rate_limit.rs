//! A token bucket for ICMP errors (RFC 1812 4.3.2.8 asks for rate limiting; RFC 4443 for
//! IPv6 says the same more firmly). Without it, a flood to closed ports turns this host into
//! an amplifier of unreachable messages.

use crate::time::Instant;

/// Up to `burst` messages at once, refilled at `per_sec` messages per second.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    per_sec: u64,
    burst: u64,
    /// Tokens in units of 1/1e9 token, so refill needs no division per nanosecond.
    nano_tokens: u64,
    last: Instant,
}

const SCALE: u64 = 1_000_000_000;

impl TokenBucket {
    /// A full bucket.
    pub fn new(per_sec: u32, burst: u32) -> TokenBucket {
        let burst = u64::from(burst);
        TokenBucket {
            per_sec: u64::from(per_sec),
            burst,
            nano_tokens: burst * SCALE,
            last: Instant::ZERO,
        }
    }

    /// Takes a token if one is available at `now`.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.as_nanos().saturating_sub(self.last.as_nanos());
        self.last = self.last.max(now);
        let refill = elapsed.saturating_mul(self.per_sec);
        self.nano_tokens = self
            .nano_tokens
            .saturating_add(refill)
            .min(self.burst * SCALE);
        if self.nano_tokens >= SCALE {
            self.nano_tokens -= SCALE;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_rate() {
        let mut b = TokenBucket::new(10, 3);
        let t0 = Instant::from_secs(100);
        assert_eq!((0..5).filter(|_| b.try_take(t0)).count(), 3);
        // 100 ms later exactly one token has been refilled.
        let t1 = Instant::from_nanos(t0.as_nanos() + 100_000_000);
        assert!(b.try_take(t1));
        assert!(!b.try_take(t1));
        // A long pause refills only up to the burst.
        let t2 = Instant::from_secs(1000);
        assert_eq!((0..10).filter(|_| b.try_take(t2)).count(), 3);
        // Time going backwards never adds tokens.
        assert!(!b.try_take(t0));
    }
}
