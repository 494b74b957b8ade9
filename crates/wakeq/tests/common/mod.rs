//! A wakeable test object that records what its deliveries saw, shared by the unit, stress
//! and loom tests.

#[cfg(loom)]
pub use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
pub use std::sync::atomic::{AtomicUsize, Ordering};

use std::pin::Pin;

use wakeq::{Wake, WakeLink, WakeQueue, Wakeable};

/// A stand-in for a thread: `events` is its wait condition (bumped by producers before they
/// wake it), and deliveries record the most events one of them observed.
pub struct Item {
    pub id: usize,
    pub events: AtomicUsize,
    pub delivered: AtomicUsize,
    pub last_seen: AtomicUsize,
    link: WakeLink<Item>,
}

// SAFETY: `link` is a field of the item, returned on every call.
unsafe impl Wakeable for Item {
    fn wake_link(&self) -> &WakeLink<Item> {
        &self.link
    }
}

impl Item {
    pub fn new(id: usize) -> Self {
        Item {
            id,
            events: AtomicUsize::new(0),
            delivered: AtomicUsize::new(0),
            last_seen: AtomicUsize::new(0),
            link: WakeLink::new(),
        }
    }

    pub fn is_queued(&self) -> bool {
        self.link.is_queued()
    }

    /// What a producer does: make the condition true (relaxed: the queue must provide the
    /// ordering), then wake.
    pub fn signal(&self, queue: &WakeQueue<Item>) -> Wake {
        self.events.fetch_add(1, Ordering::Relaxed);
        // SAFETY: every test keeps its items alive (and unmoved) until after the queue's
        // final drain and the queue's drop.
        unsafe { queue.wake(Pin::new_unchecked(self)) }
    }

    /// What the scheduler's delivery does: observe the condition. `last_seen` keeps the
    /// largest value any delivery saw (concurrent drains may finish out of order).
    pub fn on_delivery(&self) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.last_seen
            .fetch_max(self.events.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// Drains `queue`, recording every delivery; returns the ids in delivery order.
pub fn drain_ids(queue: &WakeQueue<Item>) -> Vec<usize> {
    let mut ids = Vec::new();
    queue.drain(|item| {
        item.on_delivery();
        ids.push(item.id);
    });
    ids
}
