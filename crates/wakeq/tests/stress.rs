//! Many producers on real threads, one or two drainers: every wake is accounted for and the
//! last delivery of every object has seen every event signalled to it.
#![cfg(not(loom))]

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Barrier;
use std::thread;

use common::{drain_ids, Item, Ordering};
use test_rng::TestRng;
use wakeq::{Wake, WakeQueue};

const ITEMS: usize = 16;

/// Per-item count of `Enqueued` outcomes, summed over the producers.
type EnqueuedPerItem = [usize; ITEMS];

fn run(producers: usize, wakes_each: usize, drainers: usize) {
    let items: Vec<Item> = (0..ITEMS).map(Item::new).collect();
    let queue = WakeQueue::new();
    let producing = AtomicBool::new(true);
    let start = Barrier::new(producers + drainers);
    let enqueued = thread::scope(|s| {
        let drainer_threads: Vec<_> = (0..drainers)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    let mut rounds = 0u64;
                    while producing.load(Ordering::Acquire) {
                        drain_ids(&queue);
                        rounds += 1;
                        if rounds.is_multiple_of(64) {
                            thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let producer_threads: Vec<_> = (0..producers)
            .map(|p| {
                let (items, queue, start) = (&items, &queue, &start);
                s.spawn(move || {
                    start.wait();
                    // Seeded: each producer's choice of objects is deterministic.
                    let mut rng = TestRng::new(p as u64);
                    let mut enqueued: EnqueuedPerItem = [0; ITEMS];
                    for n in 0..wakes_each {
                        // Give the drainers a chance on a loaded machine, so wakes race with
                        // drains instead of all coalescing into one batch.
                        if n.is_multiple_of(32) {
                            thread::yield_now();
                        }
                        let i = rng.index(ITEMS);
                        if items[i].signal(queue) == Wake::Enqueued {
                            enqueued[i] += 1;
                        }
                    }
                    enqueued
                })
            })
            .collect();
        let mut total: EnqueuedPerItem = [0; ITEMS];
        for t in producer_threads {
            for (sum, n) in total.iter_mut().zip(t.join().unwrap()) {
                *sum += n;
            }
        }
        producing.store(false, Ordering::Release);
        drainer_threads.into_iter().for_each(|t| t.join().unwrap());
        total
    });
    drain_ids(&queue);

    let stats = queue.counters().snapshot();
    let requested = (producers * wakes_each) as u64;
    assert_eq!(stats.requested, requested);
    assert_eq!(
        stats.enqueued + stats.coalesced,
        requested,
        "every wake enqueued or coalesced"
    );
    assert_eq!(stats.drained, stats.enqueued, "every enqueue drained");
    for (item, enq) in items.iter().zip(enqueued) {
        assert!(!item.is_queued());
        assert_eq!(
            item.delivered.load(Ordering::Relaxed),
            enq,
            "item {}: one delivery per enqueue",
            item.id
        );
        assert_eq!(
            item.last_seen.load(Ordering::Relaxed),
            item.events.load(Ordering::Relaxed),
            "item {}: the last delivery saw every event (no lost wake)",
            item.id
        );
    }
    assert_eq!(
        items
            .iter()
            .map(|i| i.events.load(Ordering::Relaxed) as u64)
            .sum::<u64>(),
        requested
    );
}

#[test]
fn four_producers_one_drainer() {
    run(4, 50_000, 1);
}

#[test]
fn three_producers_two_concurrent_drainers() {
    run(3, 50_000, 2);
}
