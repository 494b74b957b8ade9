//! Pacing: with a rate-based congestion controller (BBR), data segments leave no faster
//! than its pacing rate.
//!
//! A window alone lets a sender put a whole window on the wire at once whenever ACKs
//! arrive in a bunch; BBR's model assumes the data leaves at the rate it chose, so the
//! bottleneck queue stays near empty. Each segment moves the earliest time of the next
//! one forward by its length over the rate. The engine does no I/O and reads no clock:
//! `output` simply returns nothing while the next send time is ahead, and the
//! connection's `next_deadline` includes that time so the caller wakes it.
//!
//! A caller's timer is coarse (the kernel ticks every millisecond), so segments may go
//! out up to a burst allowance ahead of schedule: about one millisecond at the current
//! rate, at least two segments, at most 64 KiB. A late wake-up then costs no throughput.
//! Pure ACKs, SYNs and probes are never paced. NewReno and CUBIC are not paced at all.

use core::time::Duration;

use super::Connection;
use crate::time::Instant;

/// The burst allowance covers this much time at the pacing rate...
const BURST_TIME: Duration = Duration::from_millis(1);
/// ...but at least this many segments...
const MIN_BURST_SEGMENTS: u64 = 2;
/// ...and at most this many bytes.
const MAX_BURST_BYTES: u64 = 64 * 1024;

/// When the next paced segment is due, in nanoseconds on the caller's clock (finer
/// than `Instant`, so rounding does not add up over many small intervals).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Pacer {
    next_ns: u64,
}

/// Nanoseconds `bytes` take at `rate` bytes per second.
fn nanos_at(bytes: u64, rate: u64) -> u64 {
    (u128::from(bytes) * 1_000_000_000 / u128::from(rate.max(1))).min(u128::from(u64::MAX)) as u64
}

/// Bytes that may leave at once at `rate` with `mss`-byte segments.
fn burst_bytes(rate: u64, mss: u32) -> u64 {
    let burst = (u128::from(rate) * BURST_TIME.as_nanos() / 1_000_000_000) as u64;
    burst
        .max(MIN_BURST_SEGMENTS * u64::from(mss))
        .min(MAX_BURST_BYTES)
}

impl Pacer {
    /// The earliest instant a segment may go out at `rate` (bytes per second) with
    /// `mss`-byte segments, if that is after `now`.
    pub fn wait_until(&self, now: Instant, rate: u64, mss: u32) -> Option<Instant> {
        if rate == 0 {
            return None;
        }
        let burst = burst_bytes(rate, mss);
        let earliest_ns = self.next_ns.saturating_sub(nanos_at(burst, rate));
        let now_ns = now.micros().saturating_mul(1000);
        (earliest_ns > now_ns).then(|| Instant::from_micros(earliest_ns.div_ceil(1000)))
    }

    /// Bytes that may leave at `now` in one go (a TSO super-segment): the burst
    /// allowance less what already went out ahead of schedule, at least one segment.
    pub fn allowance(&self, now: Instant, rate: u64, mss: u32) -> u64 {
        let now_ns = now.micros().saturating_mul(1000);
        let ahead_ns = self.next_ns.saturating_sub(now_ns);
        let ahead = (u128::from(ahead_ns) * u128::from(rate) / 1_000_000_000) as u64;
        burst_bytes(rate, mss)
            .saturating_sub(ahead)
            .max(u64::from(mss))
    }

    /// `bytes` went out at `now`: the next segment is due that much later. Idle time
    /// earns no credit beyond the burst allowance.
    pub fn on_send(&mut self, now: Instant, bytes: u32, rate: u64) {
        if rate == 0 {
            return;
        }
        let now_ns = now.micros().saturating_mul(1000);
        self.next_ns = self
            .next_ns
            .max(now_ns)
            .saturating_add(nanos_at(u64::from(bytes), rate));
    }
}

impl Connection {
    /// True when pacing holds data back at `now`; the pacing timer is then armed.
    pub(super) fn pacing_holds(&mut self, now: Instant) -> bool {
        self.pace_at = match self.cc.pacing_rate() {
            Some(rate) => self.pacer.wait_until(now, rate, self.send_mss),
            None => None,
        };
        self.pace_at.is_some()
    }

    /// Accounts `bytes` of data sent at `now` against the pacing rate.
    pub(super) fn pacing_on_send(&mut self, now: Instant, bytes: u32) {
        if let Some(rate) = self.cc.pacing_rate() {
            self.pacer.on_send(now, bytes, rate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At 10 MB/s with 1000-byte segments, the 1 ms allowance (10 000 bytes) lets ten
    /// segments out at once; then one every 100 µs; idle time earns no extra burst.
    #[test]
    fn pacing_gate_and_burst_allowance() {
        let rate = 10_000_000;
        let mut p = Pacer::default();
        let t0 = Instant::from_millis(5);
        let mut sent = 0;
        while p.wait_until(t0, rate, 1000).is_none() {
            p.on_send(t0, 1000, rate);
            sent += 1;
        }
        assert_eq!(sent, 11, "the allowance, plus the segment due now");
        let due = p.wait_until(t0, rate, 1000).unwrap();
        assert_eq!(due, Instant::from_micros(t0.micros() + 100));
        assert!(p.wait_until(due, rate, 1000).is_none());
        p.on_send(due, 1000, rate);
        assert_eq!(
            p.wait_until(due, rate, 1000),
            Some(Instant::from_micros(due.micros() + 100))
        );
        // After a long idle spell, again only the allowance goes out at once.
        let later = Instant::from_millis(1_000);
        let mut burst = 0;
        while p.wait_until(later, rate, 1000).is_none() {
            p.on_send(later, 1000, rate);
            burst += 1;
        }
        assert_eq!(burst, 11);
        // A slow rate still allows two segments (plus the one due) at once.
        let mut slow = Pacer::default();
        for _ in 0..3 {
            assert!(slow.wait_until(t0, 100_000, 1000).is_none());
            slow.on_send(t0, 1000, 100_000);
        }
        assert!(slow.wait_until(t0, 100_000, 1000).is_some());
    }

    /// The allowance for one super-segment is the burst less what went ahead of
    /// schedule, never below one segment.
    #[test]
    fn allowance_shrinks_as_data_goes_ahead() {
        let rate = 10_000_000;
        let mut p = Pacer::default();
        let t0 = Instant::from_millis(5);
        assert_eq!(p.allowance(t0, rate, 1000), 10_000);
        p.on_send(t0, 4000, rate);
        assert_eq!(p.allowance(t0, rate, 1000), 6_000);
        p.on_send(t0, 6000, rate);
        assert_eq!(p.allowance(t0, rate, 1000), 1000);
        // 400 µs later 4000 bytes' worth of schedule has passed.
        assert_eq!(p.allowance(Instant::from_micros(5_400), rate, 1000), 4_000);
    }
}
