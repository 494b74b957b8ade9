//! Model checking of the wake protocol with loom: every interleaving (up to a preemption
//! bound) of wakers and a drainer. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p wakeq --release`.
#![cfg(loom)]

mod common;

use loom::sync::Arc;
use loom::thread;

use common::{drain_ids, Item, Ordering};
use wakeq::{Wake, WakeQueue};

/// Explores every interleaving of a small model (no preemption bound).
fn model(f: impl Fn() + Sync + Send + 'static) {
    bounded_model(None, f);
}

/// Explores a larger model with at most `bound` preemptions per execution, which keeps it
/// well under a minute.
fn bounded_model(bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = bound;
    builder.check(f);
}

/// After all wakers are done and a final drain: one delivery per enqueue, and the last
/// delivery observed every event (no wake was lost, not even a coalesced one).
fn assert_lossless(item: &Item, enqueued: usize) {
    assert!(!item.is_queued());
    assert_eq!(item.delivered.load(Ordering::Relaxed), enqueued);
    assert_eq!(
        item.last_seen.load(Ordering::Relaxed),
        item.events.load(Ordering::Relaxed)
    );
}

fn enqueued(w: Wake) -> usize {
    usize::from(w == Wake::Enqueued)
}

/// Another CPU signals `item` once; joining gives 1 if its wake enqueued.
fn spawn_waker(item: &Arc<Item>, queue: &Arc<WakeQueue<Item>>) -> thread::JoinHandle<usize> {
    let (item, queue) = (item.clone(), queue.clone());
    thread::spawn(move || enqueued(item.signal(&queue)))
}

/// Two CPUs wake the same thread while its scheduler drains.
#[test]
fn two_wakers_same_item_with_concurrent_drain() {
    model(|| {
        let item = Arc::new(Item::new(0));
        let queue = Arc::new(WakeQueue::new());
        let wakers: Vec<_> = (0..2).map(|_| spawn_waker(&item, &queue)).collect();
        drain_ids(&queue);
        let enq: usize = wakers.into_iter().map(|t| t.join().unwrap()).sum();
        drain_ids(&queue);
        assert!(enq >= 1);
        assert_lossless(&item, enq);
    });
}

/// A wake races with the delivery of an earlier wake of the same thread: it must either be
/// seen by that delivery or cause a new one.
#[test]
fn wake_racing_with_delivery_is_not_lost() {
    model(|| {
        let item = Arc::new(Item::new(0));
        let queue = Arc::new(WakeQueue::new());
        let first = enqueued(item.signal(&queue));
        let waker = spawn_waker(&item, &queue);
        drain_ids(&queue);
        let second = waker.join().unwrap();
        drain_ids(&queue);
        assert_lossless(&item, first + second);
    });
}

/// Two CPUs wake different threads while the scheduler drains: both pushes land, each
/// thread is delivered exactly once and the list is never corrupted.
#[test]
fn two_items_pushed_concurrently_each_delivered_once() {
    model(|| {
        let items = [Arc::new(Item::new(0)), Arc::new(Item::new(1))];
        let queue = Arc::new(WakeQueue::new());
        let wakers: Vec<_> = items.iter().map(|item| spawn_waker(item, &queue)).collect();
        let mut ids = drain_ids(&queue);
        for t in wakers {
            assert_eq!(
                t.join().unwrap(),
                1,
                "a different item each: always enqueued"
            );
        }
        ids.extend(drain_ids(&queue));
        ids.sort_unstable();
        assert_eq!(ids, [0, 1]);
        for item in &items {
            assert_lossless(item, 1);
        }
    });
}

/// Three wakers (two on the same thread) and a drainer.
#[test]
fn three_wakers_two_items_with_drain() {
    bounded_model(Some(3), || {
        let items = [Arc::new(Item::new(0)), Arc::new(Item::new(1))];
        let queue = Arc::new(WakeQueue::new());
        let wakers: Vec<_> = [0, 0, 1]
            .map(|i| (i, spawn_waker(&items[i], &queue)))
            .into();
        drain_ids(&queue);
        let mut enq = [0; 2];
        for (i, t) in wakers {
            enq[i] += t.join().unwrap();
        }
        drain_ids(&queue);
        for (item, e) in items.iter().zip(enq) {
            assert_lossless(item, e);
        }
    });
}

/// Two drains at once (e.g. the scheduler and a CPU-hotplug path) while a waker runs: the
/// batches are disjoint, so nothing is delivered twice or lost.
#[test]
fn concurrent_drains_take_disjoint_batches() {
    model(|| {
        let item = Arc::new(Item::new(0));
        let queue = Arc::new(WakeQueue::new());
        let first = enqueued(item.signal(&queue));
        let waker = spawn_waker(&item, &queue);
        let drainer = {
            let queue = queue.clone();
            thread::spawn(move || drain_ids(&queue).len())
        };
        let mut delivered = drain_ids(&queue).len();
        let second = waker.join().unwrap();
        delivered += drainer.join().unwrap();
        delivered += drain_ids(&queue).len();
        assert_eq!(delivered, first + second);
        assert_lossless(&item, first + second);
    });
}
