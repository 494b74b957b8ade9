//! Sequence-number arithmetic (RFC 9293 section 3.4, RFC 1982 serial numbers).
//!
//! TCP sequence numbers live in a 2^32 circle, so "less than" only makes sense for
//! numbers less than 2^31 apart. [`Seq`] wraps a `u32` and compares through the signed
//! distance, which is what every window check in the engine needs.

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A TCP sequence (or acknowledgement) number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Seq(pub u32);

impl Seq {
    /// Signed distance from `other` to `self` (positive when `self` is after `other`).
    pub fn diff(self, other: Seq) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// Number of sequence numbers from `other` up to `self`, which must not be before it.
    pub fn since(self, other: Seq) -> u32 {
        debug_assert!(self >= other, "{self:?} before {other:?}");
        self.0.wrapping_sub(other.0)
    }

    /// The later of the two numbers.
    pub fn max(self, other: Seq) -> Seq {
        if self >= other {
            self
        } else {
            other
        }
    }

    /// The earlier of the two numbers.
    pub fn min(self, other: Seq) -> Seq {
        if self <= other {
            self
        } else {
            other
        }
    }

    /// True when `lo <= self < hi` in sequence space.
    pub fn in_range(self, lo: Seq, hi: Seq) -> bool {
        self >= lo && self < hi
    }
}

impl PartialOrd for Seq {
    fn partial_cmp(&self, other: &Seq) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Seq {
    fn cmp(&self, other: &Seq) -> Ordering {
        self.diff(*other).cmp(&0)
    }
}

impl Add<u32> for Seq {
    type Output = Seq;
    fn add(self, rhs: u32) -> Seq {
        Seq(self.0.wrapping_add(rhs))
    }
}

impl AddAssign<u32> for Seq {
    fn add_assign(&mut self, rhs: u32) {
        self.0 = self.0.wrapping_add(rhs);
    }
}

impl Sub<u32> for Seq {
    type Output = Seq;
    fn sub(self, rhs: u32) -> Seq {
        Seq(self.0.wrapping_sub(rhs))
    }
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seq({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9293 section 3.4: comparisons are modulo 2^32.
    #[test]
    fn rfc9293_3_4_wraparound_comparisons() {
        let a = Seq(u32::MAX - 10);
        let b = a + 20;
        assert_eq!(b.0, 9);
        assert!(b > a);
        assert!(a < b);
        assert_eq!(b.since(a), 20);
        assert_eq!(a.diff(b), -20);
        assert!(Seq(5).in_range(a, b));
        assert!(!b.in_range(a, b));
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
    }
}
