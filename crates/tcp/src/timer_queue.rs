//! Deadlines of all connections in one min-heap, so finding the next timer is O(log n)
//! instead of a scan. Entries are never updated in place: a connection that reschedules
//! pushes a new entry and stale ones are skipped when they surface (the endpoint checks
//! each popped entry against the connection's current deadline).

use alloc::collections::BinaryHeap;
use core::cmp::Reverse;

use crate::time::Instant;

/// Min-heap of (deadline, slot index).
#[derive(Debug, Default)]
pub struct TimerQueue {
    heap: BinaryHeap<Reverse<(Instant, u32)>>,
}

impl TimerQueue {
    pub fn push(&mut self, at: Instant, slot: u32) {
        self.heap.push(Reverse((at, slot)));
    }

    /// The earliest entry, stale or not.
    pub fn peek(&self) -> Option<(Instant, u32)> {
        self.heap.peek().map(|r| r.0)
    }

    pub fn pop(&mut self) -> Option<(Instant, u32)> {
        self.heap.pop().map(|r| r.0)
    }

    /// Room for `n` entries without growing.
    pub fn reserve(&mut self, n: usize) {
        self.heap.reserve(n);
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Drops every entry (before rebuilding from the live connections).
    pub fn clear(&mut self) {
        self.heap.clear();
    }
}
