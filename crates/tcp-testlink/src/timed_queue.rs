//! Packets waiting for their delivery time, earliest first (ties in send order). Shared
//! by the simulated link (simulated time) and the TUN driver (wall-clock time).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

struct Entry<T: Ord, P> {
    at: T,
    order: u64,
    item: P,
}

impl<T: Ord, P> PartialEq for Entry<T, P> {
    fn eq(&self, o: &Self) -> bool {
        self.at == o.at && self.order == o.order
    }
}
impl<T: Ord, P> Eq for Entry<T, P> {}
impl<T: Ord, P> PartialOrd for Entry<T, P> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<T: Ord, P> Ord for Entry<T, P> {
    fn cmp(&self, o: &Self) -> Ordering {
        self.at.cmp(&o.at).then(self.order.cmp(&o.order))
    }
}

/// A min-queue of items keyed by time.
pub struct TimedQueue<T: Ord + Copy, P> {
    heap: BinaryHeap<Reverse<Entry<T, P>>>,
    order: u64,
}

impl<T: Ord + Copy, P> Default for TimedQueue<T, P> {
    fn default() -> Self {
        TimedQueue {
            heap: BinaryHeap::new(),
            order: 0,
        }
    }
}

impl<T: Ord + Copy, P> TimedQueue<T, P> {
    pub fn push(&mut self, at: T, item: P) {
        self.order += 1;
        self.heap.push(Reverse(Entry {
            at,
            order: self.order,
            item,
        }));
    }

    /// Time of the earliest item.
    pub fn next_time(&self) -> Option<T> {
        self.heap.peek().map(|r| r.0.at)
    }

    /// The earliest item if it is due at `now`.
    pub fn pop_due(&mut self, now: T) -> Option<P> {
        if self.next_time()? > now {
            return None;
        }
        self.heap.pop().map(|r| r.0.item)
    }
}
