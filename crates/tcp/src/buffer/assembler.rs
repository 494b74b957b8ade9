//! Out-of-order bookkeeping for the receive side (RFC 9293 section 3.10.7.4 "segments
//! with higher beginning sequence numbers may be held"; RFC 2018 for reporting them).
//!
//! The bytes themselves sit in the receive ring at their final offset; this type only
//! remembers which sequence ranges beyond `RCV.NXT` are filled. The number of ranges is
//! bounded: a segment that would need one more range than the limit is dropped (and
//! counted by the caller), so a hostile peer cannot make reassembly state grow.

use super::RangeSet;
use crate::seq::Seq;
use crate::wire::SackBlocks;

/// Filled ranges past `RCV.NXT`, sorted, disjoint and non-adjacent.
#[derive(Debug)]
pub struct Assembler {
    ranges: RangeSet,
    /// The range holding the most recently received segment (RFC 2018 section 4: it is
    /// reported first).
    recent: Option<(Seq, Seq)>,
}

impl Assembler {
    /// An empty assembler holding at most `max_ranges` separate ranges.
    pub fn new(max_ranges: usize) -> Assembler {
        Assembler {
            ranges: RangeSet::new(max_ranges),
            recent: None,
        }
    }

    /// True when nothing is held out of order.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Records `[left, right)` as filled. Returns false, changing nothing, when that
    /// would need more ranges than allowed.
    pub fn insert(&mut self, left: Seq, right: Seq) -> bool {
        if left >= right {
            return true;
        }
        match self.ranges.insert(left, right) {
            Some(merged) => {
                self.recent = Some(merged);
                true
            }
            None => false,
        }
    }

    /// Given the new `RCV.NXT`, removes the range that now continues it and returns the
    /// new `RCV.NXT` past that range (or `rcv_nxt` unchanged).
    pub fn advance(&mut self, rcv_nxt: Seq) -> Seq {
        let mut nxt = rcv_nxt;
        while let Some(&(l, r)) = self.ranges.as_slice().first() {
            if l > nxt {
                break;
            }
            nxt = nxt.max(r);
            self.ranges.pop_first();
        }
        if self.recent.is_some_and(|(_, r)| r <= nxt) {
            self.recent = None;
        }
        nxt
    }

    /// SACK blocks to report (RFC 2018 section 4): the most recent range first, then the
    /// others, at most `max` in all.
    pub fn sack_blocks(&self, max: usize) -> SackBlocks {
        let mut b = SackBlocks::default();
        if let Some((l, r)) = self.recent {
            b.push(l, r);
        }
        for &(l, r) in self.ranges.as_slice().iter().rev() {
            if Some((l, r)) != self.recent {
                b.push(l, r);
            }
        }
        b.truncate(max);
        b
    }

    /// Forgets everything (the connection is going away).
    pub fn clear(&mut self) {
        self.ranges.clear();
        self.recent = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9293 3.10.7.4: out-of-order data is held and released once the gap fills.
    #[test]
    fn merges_and_advances() {
        let mut a = Assembler::new(4);
        assert!(a.insert(Seq(20), Seq(30)));
        assert!(a.insert(Seq(40), Seq(50)));
        assert!(a.insert(Seq(30), Seq(35))); // touches first
        assert_eq!(
            a.ranges.as_slice(),
            [(Seq(20), Seq(35)), (Seq(40), Seq(50))]
        );
        assert!(a.insert(Seq(34), Seq(41)));
        assert_eq!(a.ranges.as_slice(), [(Seq(20), Seq(50))]);
        assert_eq!(a.advance(Seq(10)), Seq(10));
        assert_eq!(a.advance(Seq(20)), Seq(50));
        assert!(a.is_empty());
    }

    /// The range count is bounded: no memory growth from a hostile peer.
    #[test]
    fn bounded_ranges() {
        let mut a = Assembler::new(2);
        assert!(a.insert(Seq(10), Seq(11)));
        assert!(a.insert(Seq(20), Seq(21)));
        assert!(!a.insert(Seq(30), Seq(31)));
        assert!(a.insert(Seq(11), Seq(12))); // merging is always fine
        assert_eq!(a.ranges.as_slice().len(), 2);
    }

    /// RFC 2018 section 4: the first SACK block holds the most recently received segment.
    #[test]
    fn rfc2018_4_most_recent_block_first() {
        let mut a = Assembler::new(8);
        a.insert(Seq(10), Seq(20));
        a.insert(Seq(30), Seq(40));
        a.insert(Seq(50), Seq(60));
        a.insert(Seq(20), Seq(25));
        let b = a.sack_blocks(3);
        assert_eq!(
            b.as_slice(),
            [(Seq(10), Seq(25)), (Seq(50), Seq(60)), (Seq(30), Seq(40))]
        );
    }
}
