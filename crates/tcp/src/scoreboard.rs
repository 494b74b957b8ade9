//! The sender's SACK scoreboard (RFC 6675 section 3): which ranges above `SND.UNA` the
//! receiver reported holding. Bounded like the receive-side assembler; when full, the
//! oldest (lowest) information is kept and new ranges that do not merge are ignored,
//! which only makes recovery more conservative.

use crate::buffer::RangeSet;
use crate::seq::Seq;

/// SACKed ranges, sorted and disjoint.
#[derive(Debug)]
pub struct Scoreboard {
    ranges: RangeSet,
}

impl Scoreboard {
    pub fn new(max: usize) -> Scoreboard {
        Scoreboard {
            ranges: RangeSet::new(max),
        }
    }

    /// Records a SACK block (ignored if it would exceed the bound).
    pub fn insert(&mut self, left: Seq, right: Seq) {
        self.ranges.insert(left, right);
    }

    /// Forgets everything at or below the cumulative ACK.
    pub fn prune(&mut self, snd_una: Seq) {
        self.ranges.trim_below(snd_una);
    }

    /// Forgets everything (after an RTO: RFC 2018 section 8, the receiver may renege).
    pub fn clear(&mut self) {
        self.ranges.clear();
    }

    /// Bytes SACKed in total.
    pub fn sacked_bytes(&self) -> u32 {
        self.ranges
            .as_slice()
            .iter()
            .map(|&(l, r)| r.since(l))
            .sum()
    }

    /// RFC 6675 IsLost approximated per range: everything below the left edge of the range
    /// where at least `threshold` SACKed bytes lie at or above is considered lost.
    pub fn lost_boundary(&self, threshold: u32) -> Option<Seq> {
        let mut above = 0u32;
        for &(l, r) in self.ranges.as_slice().iter().rev() {
            above += r.since(l);
            if above >= threshold {
                return Some(l);
            }
        }
        None
    }

    /// The first sequence number at or after `from` and below `end` that is not SACKed,
    /// with the end of that hole (capped at `end`).
    pub fn next_hole(&self, from: Seq, end: Seq) -> Option<(Seq, Seq)> {
        let mut s = from;
        for &(l, r) in self.ranges.as_slice() {
            if r <= s {
                continue;
            }
            if l > s {
                return (s < end).then(|| (s, l.min(end)));
            }
            s = r;
        }
        (s < end).then_some((s, end))
    }

    /// Bytes SACKed at or above `from`.
    pub fn sacked_above(&self, from: Seq) -> u32 {
        self.ranges
            .as_slice()
            .iter()
            .map(|&(l, r)| if r > from { r.since(l.max(from)) } else { 0 })
            .sum()
    }

    /// Bytes in `[from, end)` that are not SACKed.
    pub fn unsacked_in(&self, from: Seq, end: Seq) -> u32 {
        if from >= end {
            return 0;
        }
        let covered: u32 = self
            .ranges
            .as_slice()
            .iter()
            .map(|&(l, r)| {
                let (a, b) = (l.max(from), r.min(end));
                if a < b {
                    b.since(a)
                } else {
                    0
                }
            })
            .sum();
        end.since(from) - covered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6675 section 3 (scoreboard) and section 4 (NextSeg walks holes in order).
    #[test]
    fn rfc6675_holes_and_lost_boundary() {
        let mut s = Scoreboard::new(8);
        s.insert(Seq(200), Seq(300));
        s.insert(Seq(400), Seq(500));
        s.insert(Seq(500), Seq(600));
        assert_eq!(s.sacked_bytes(), 300);
        assert_eq!(s.next_hole(Seq(100), Seq(700)), Some((Seq(100), Seq(200))));
        assert_eq!(s.next_hole(Seq(250), Seq(700)), Some((Seq(300), Seq(400))));
        assert_eq!(s.next_hole(Seq(450), Seq(700)), Some((Seq(600), Seq(700))));
        assert_eq!(s.next_hole(Seq(450), Seq(600)), None);
        assert_eq!(s.unsacked_in(Seq(100), Seq(700)), 300);
        assert_eq!(s.sacked_above(Seq(450)), 150);
        assert_eq!(s.sacked_above(Seq(100)), 300);
        assert_eq!(s.lost_boundary(200), Some(Seq(400)));
        assert_eq!(s.lost_boundary(300), Some(Seq(200)));
        assert_eq!(s.lost_boundary(301), None);
        s.prune(Seq(450));
        assert_eq!(s.sacked_bytes(), 150);
    }
}
