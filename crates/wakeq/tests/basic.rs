//! Single-threaded behaviour of the wake queue.
#![cfg(not(loom))]

mod common;

use std::pin::Pin;

use common::{drain_ids, Item, Ordering};
use wakeq::{Wake, WakeQueue, WakeStats};

#[test]
fn wake_then_drain_delivers_once() {
    let item = Item::new(7);
    let q = WakeQueue::new();
    assert!(q.is_empty() && !item.is_queued());
    assert_eq!(item.signal(&q), Wake::Enqueued);
    assert!(!q.is_empty() && item.is_queued());
    assert_eq!(drain_ids(&q), [7]);
    assert!(q.is_empty() && !item.is_queued());
    assert_eq!(drain_ids(&q), [] as [usize; 0]);
    assert_eq!(
        q.counters().snapshot(),
        WakeStats {
            requested: 1,
            enqueued: 1,
            coalesced: 0,
            drained: 1
        }
    );
}

#[test]
fn second_wake_coalesces_and_delivery_sees_both() {
    let item = Item::new(1);
    let q = WakeQueue::new();
    assert_eq!(item.signal(&q), Wake::Enqueued);
    assert_eq!(item.signal(&q), Wake::Coalesced);
    assert_eq!(drain_ids(&q), [1]);
    assert_eq!(item.last_seen.load(Ordering::Relaxed), 2);
    // After delivery the object can be queued again.
    assert_eq!(item.signal(&q), Wake::Enqueued);
    assert_eq!(
        q.counters().snapshot(),
        WakeStats {
            requested: 3,
            enqueued: 2,
            coalesced: 1,
            drained: 1
        }
    );
}

#[test]
fn delivery_is_in_wake_order() {
    let items: Vec<Item> = (0..5).map(Item::new).collect();
    let q = WakeQueue::new();
    for i in [3, 0, 4, 3, 1] {
        items[i].signal(&q);
    }
    assert_eq!(drain_ids(&q), [3, 0, 4, 1]);
}

#[test]
fn wake_during_delivery_requeues_instead_of_merging() {
    let a = Item::new(0);
    let b = Item::new(1);
    let q = WakeQueue::new();
    a.signal(&q);
    b.signal(&q);
    let mut rewoken = Vec::new();
    let delivered = q.drain(|item| {
        assert!(!item.is_queued(), "link cleared before delivery");
        // A wake that races with this delivery (an interrupt on another CPU).
        rewoken.push(a.signal(&q));
    });
    assert_eq!(delivered, 2);
    assert_eq!(rewoken, [Wake::Enqueued, Wake::Coalesced]);
    assert_eq!(drain_ids(&q), [0], "the racing wake got its own delivery");
}

#[test]
fn static_objects_wake_safely() {
    let item: Pin<&'static Item> = Pin::static_ref(Box::leak(Box::new(Item::new(9))));
    let q = WakeQueue::new();
    assert_eq!(q.wake_static(item), Wake::Enqueued);
    assert_eq!(q.wake_static(item), Wake::Coalesced);
    assert_eq!(drain_ids(&q), [9]);
}

#[test]
fn dropping_a_queue_unqueues_its_objects() {
    let item = Item::new(2);
    {
        let q = WakeQueue::new();
        item.signal(&q);
        assert!(item.is_queued());
    }
    assert!(!item.is_queued());
    let q2 = WakeQueue::new();
    assert_eq!(
        item.signal(&q2),
        Wake::Enqueued,
        "usable with another queue"
    );
    drain_ids(&q2);
}
