//! Transmit buffers as contiguous runs of slots of one region, handed out in ring order.
//!
//! A frame of up to 64 KB (a TSO super-segment) must reach the device as one descriptor
//! over contiguous memory, while an ACK needs only a few dozen bytes. The transmit region
//! is cut into equal slots; a frame takes as many consecutive slots as it needs, starting
//! where the previous one ended (a run that would cross the region's end starts over at
//! slot 0, the slots skipped going with the previous run). The device finishes frames in
//! the order they were posted (QEMU does), so runs come back oldest first and the free
//! space stays one contiguous stretch; a run finished out of order is only marked, and its
//! slots return once every older run is back too, so nothing is ever handed out twice.
use alloc::vec;
use alloc::vec::Vec;

/// Slot runs over a region of `size` slots.
#[derive(Debug)]
pub struct TxSlots {
    size: u16,
    /// The next slot to hand out, and the oldest one still out.
    head: u16,
    tail: u16,
    /// Slots out (skipped ones included).
    used: u16,
    /// The run handed out last (the one skipped slots are added to), and the one before
    /// it (the last again once that run is given back unused).
    last: u16,
    before_last: u16,
    /// Slots of the run starting at each slot (0 for none).
    run: Vec<u16>,
    /// The run starting at each slot is back from the device.
    done: Vec<bool>,
}

impl TxSlots {
    /// A region of `size` slots, all free.
    pub fn new(size: u16) -> TxSlots {
        TxSlots {
            size,
            head: 0,
            tail: 0,
            used: 0,
            last: 0,
            before_last: 0,
            run: vec![0; usize::from(size)],
            done: vec![false; usize::from(size)],
        }
    }

    /// Slots in the region.
    pub fn size(&self) -> u16 {
        self.size
    }

    /// Slots out right now.
    pub fn used(&self) -> u16 {
        self.used
    }

    /// Hands out a run of `n` consecutive slots; returns its first slot, or `None` when
    /// that many are not free in one stretch.
    pub fn alloc(&mut self, n: u16) -> Option<u16> {
        if n == 0 || n > self.size {
            return None;
        }
        if self.used == 0 {
            self.head = 0;
            self.tail = 0;
        }
        let to_end = self.size - self.head;
        let start = if n <= to_end {
            if self.used + n > self.size {
                return None;
            }
            self.head
        } else {
            if u32::from(self.used) + u32::from(to_end) + u32::from(n) > u32::from(self.size) {
                return None;
            }
            // The slots up to the end go with the last run, which ends at `head`.
            self.run[usize::from(self.last)] += to_end;
            self.used += to_end;
            0
        };
        self.run[usize::from(start)] = n;
        self.done[usize::from(start)] = false;
        self.used += n;
        self.head = (start + n) % self.size;
        self.before_last = self.last;
        self.last = start;
        Some(start)
    }

    /// Shortens the run handed out last, starting at `start`, to `n` slots (0: gives it
    /// back unused), before it is posted: a buffer reserved for the largest frame and
    /// filled with a smaller one. False (and nothing changes) when `start` is not that
    /// run or `n` exceeds it.
    pub fn shrink(&mut self, start: u16, n: u16) -> bool {
        let i = usize::from(start);
        let Some(&have) = self.run.get(i) else {
            return false;
        };
        if start != self.last || have == 0 || self.done[i] || n > have {
            return false;
        }
        self.used -= have - n;
        self.head = (start + n) % self.size;
        self.run[i] = n;
        if n == 0 {
            self.last = self.before_last;
        }
        true
    }

    /// The device is done with the run starting at `start`; false (and nothing changes)
    /// when no run starting there is out.
    pub fn free(&mut self, start: u16) -> bool {
        let i = usize::from(start);
        if i >= self.run.len() || self.run[i] == 0 || self.done[i] {
            return false;
        }
        self.done[i] = true;
        while self.used > 0 && self.done[usize::from(self.tail)] {
            let t = usize::from(self.tail);
            let n = self.run[t];
            self.run[t] = 0;
            self.done[t] = false;
            self.used -= n;
            self.tail = (self.tail + n) % self.size;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn runs_wrap_and_come_back() {
        let mut s = TxSlots::new(16);
        assert_eq!(s.alloc(10), Some(0));
        assert_eq!(s.alloc(4), Some(10));
        // 2 slots left at the end, 0 at the start: 3 do not fit anywhere.
        assert_eq!(s.alloc(3), None);
        assert!(s.free(0));
        // Now 3 start over at 0; the 2 at the end go with the run at 10.
        assert_eq!(s.alloc(3), Some(0));
        assert_eq!(s.used(), 4 + 2 + 3);
        assert!(s.free(0));
        assert_eq!(s.used(), 9, "the run at 0 waits for the older run at 10");
        assert!(s.free(10));
        assert_eq!(s.used(), 0);
        // Unknown, repeated and out-of-range frees change nothing.
        assert!(!s.free(10) && !s.free(5) && !s.free(99));
        assert_eq!(s.alloc(17), None);
        assert_eq!(s.alloc(0), None);
        assert_eq!(s.alloc(16), Some(0));
    }

    #[test]
    fn the_last_run_shrinks_before_it_is_posted() {
        let mut s = TxSlots::new(16);
        let a = s.alloc(10).unwrap();
        assert!(s.shrink(a, 6));
        assert_eq!(s.used(), 6);
        let b = s.alloc(6).unwrap();
        assert_eq!(b, 6, "the shrunk run's slots are handed out again");
        assert!(!s.shrink(a, 1), "only the last run");
        assert!(!s.shrink(b, 7), "never grows");
        assert!(s.free(a));
        let c = s.alloc(2).unwrap();
        assert_eq!(c, 12);
        // Given back unused: the run before is the last one again, and takes the slots a
        // wrapping run skips.
        assert!(s.shrink(c, 0));
        assert_eq!(s.used(), 6);
        let d = s.alloc(5).unwrap();
        assert_eq!(d, 0);
        assert_eq!(s.used(), 6 + 4 + 5);
        assert!(s.free(b));
        assert_eq!(s.used(), 5);
        assert!(s.free(d));
        assert_eq!(s.used(), 0);
    }

    #[test]
    fn out_of_order_completion_waits_for_older_runs() {
        let mut s = TxSlots::new(8);
        let a = s.alloc(3).unwrap();
        let b = s.alloc(3).unwrap();
        assert!(s.free(b));
        assert_eq!(s.used(), 6, "b's slots wait for a");
        assert_eq!(s.alloc(3), None);
        assert!(s.free(a));
        assert_eq!(s.used(), 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig { rng_seed: proptest::test_runner::RngSeed::Fixed(0x510f), ..ProptestConfig::default() })]

        /// Any sequence of allocations and (possibly bogus or out-of-order) frees: runs
        /// never overlap, stay inside the region, and every slot comes back.
        #[test]
        fn runs_never_overlap(ops in proptest::collection::vec((any::<bool>(), 0u16..20, any::<u8>()), 1..300)) {
            let size = 32u16;
            let mut s = TxSlots::new(size);
            let mut out: BTreeMap<u16, u16> = BTreeMap::new();
            for (alloc, n, pick) in ops {
                if alloc {
                    if let Some(start) = s.alloc(n) {
                        prop_assert!(start + n <= size);
                        for (&o, &m) in &out {
                            prop_assert!(start + n <= o || o + m <= start, "overlap");
                        }
                        // Sometimes reserved larger than needed, then shrunk (maybe to 0).
                        let keep = if pick % 3 == 0 { n.min(u16::from(pick) % 4) } else { n };
                        prop_assert!(s.shrink(start, keep));
                        if keep > 0 {
                            out.insert(start, keep);
                        }
                    }
                } else if !out.is_empty() {
                    let k = *out.keys().nth(usize::from(pick) % out.len()).unwrap();
                    prop_assert!(s.free(k));
                    out.remove(&k);
                } else {
                    prop_assert!(!s.free(u16::from(pick) % size));
                }
            }
            for k in out.keys().copied().collect::<std::vec::Vec<_>>() {
                prop_assert!(s.free(k));
            }
            prop_assert_eq!(s.used(), 0);
            prop_assert_eq!(s.alloc(size), Some(0));
        }
    }
}
