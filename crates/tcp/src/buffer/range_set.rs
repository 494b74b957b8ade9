//! A bounded set of disjoint sequence ranges, kept sorted. Both the receiver's
//! out-of-order bookkeeping and the sender's SACK scoreboard are one of these: bounded,
//! so a peer cannot make either grow.

use alloc::vec::Vec;

use crate::seq::Seq;

/// Sorted, disjoint, non-touching `[left, right)` ranges, at most `max` of them.
#[derive(Debug)]
pub struct RangeSet {
    ranges: Vec<(Seq, Seq)>,
    max: usize,
}

impl RangeSet {
    pub fn new(max: usize) -> RangeSet {
        RangeSet {
            ranges: Vec::with_capacity(max),
            max,
        }
    }

    /// Adds `[left, right)`, merging with ranges it overlaps or touches. Returns the
    /// merged range, or `None` (changing nothing) when it would need a range beyond the
    /// limit. Never allocates past the initial capacity.
    pub fn insert(&mut self, left: Seq, right: Seq) -> Option<(Seq, Seq)> {
        if left >= right {
            return None;
        }
        let i = self
            .ranges
            .iter()
            .position(|&(_, r)| r >= left)
            .unwrap_or(self.ranges.len());
        let mut j = i;
        while j < self.ranges.len() && self.ranges[j].0 <= right {
            j += 1;
        }
        if i == j {
            if self.ranges.len() == self.max {
                return None;
            }
            self.ranges.insert(i, (left, right));
            return Some((left, right));
        }
        let merged = (left.min(self.ranges[i].0), right.max(self.ranges[j - 1].1));
        self.ranges[i] = merged;
        self.ranges.drain(i + 1..j);
        Some(merged)
    }

    /// The ranges, lowest first.
    pub fn as_slice(&self) -> &[(Seq, Seq)] {
        &self.ranges
    }

    /// Removes the first range.
    pub fn pop_first(&mut self) {
        if !self.ranges.is_empty() {
            self.ranges.remove(0);
        }
    }

    /// Keeps only the parts above `floor`.
    pub fn trim_below(&mut self, floor: Seq) {
        self.ranges.retain(|&(_, r)| r > floor);
        if let Some(first) = self.ranges.first_mut() {
            first.0 = first.0.max(floor);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn clear(&mut self) {
        self.ranges.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_touching_and_overlapping_and_respects_limit() {
        let mut s = RangeSet::new(2);
        assert_eq!(s.insert(Seq(10), Seq(20)), Some((Seq(10), Seq(20))));
        assert_eq!(s.insert(Seq(30), Seq(40)), Some((Seq(30), Seq(40))));
        assert_eq!(s.insert(Seq(50), Seq(60)), None, "limit");
        assert_eq!(
            s.insert(Seq(20), Seq(30)),
            Some((Seq(10), Seq(40))),
            "touching both"
        );
        assert_eq!(s.as_slice(), [(Seq(10), Seq(40))]);
        s.trim_below(Seq(15));
        assert_eq!(s.as_slice(), [(Seq(15), Seq(40))]);
        assert_eq!(s.insert(Seq(5), Seq(5)), None, "empty range");
    }
}
