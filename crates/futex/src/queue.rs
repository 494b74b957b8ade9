//! The wait queues: one FIFO per futex key, each waiter with its bitset and deadline
//! (Linux's hash buckets of `futex_q`s, `futex_wake`, `futex_requeue`, `futex_unqueue`).
//!
//! Linux keeps waiters in priority order, FIFO among equal priorities; every normal
//! (`SCHED_OTHER`) thread has the same futex priority, so for them the order is FIFO,
//! which is what Halyard does for everyone (it has no real-time scheduling classes). A
//! requeued waiter goes to the tail of the target queue, as Linux's `plist_add` puts it
//! after the waiters of equal priority; requeueing a key onto itself changes nothing.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

use crate::op::{Clock, Deadline};

/// What identifies a futex: for a private futex the address space and the user address,
/// for a shared one the backing object and offset; the kernel computes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// The address space (private) or the object (shared).
    pub space: u64,
    /// The user address (private) or the offset in the object (shared).
    pub addr: u64,
}

/// A waiting thread, named by the kernel (its tid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Waiter(pub u32);

#[derive(Clone, Copy, Debug)]
struct Queued {
    waiter: Waiter,
    bitset: u32,
}

#[derive(Clone, Copy, Debug)]
struct Where {
    key: Key,
    deadline: Option<Deadline>,
}

/// Every futex waiter of the system.
#[derive(Clone, Debug, Default)]
pub struct Futexes {
    queues: BTreeMap<Key, VecDeque<Queued>>,
    waiting: BTreeMap<Waiter, Where>,
    deadlines: BTreeSet<(Deadline, Waiter)>,
}

impl Futexes {
    /// No waiters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `waiter` on `key` (after the kernel found the word's value as expected),
    /// with its `bitset` and optional `deadline`. A thread waits on one futex at a time:
    /// if `waiter` was queued already, it is moved here.
    pub fn wait(&mut self, key: Key, waiter: Waiter, bitset: u32, deadline: Option<Deadline>) {
        self.cancel(waiter);
        self.queues
            .entry(key)
            .or_default()
            .push_back(Queued { waiter, bitset });
        self.waiting.insert(waiter, Where { key, deadline });
        if let Some(d) = deadline {
            self.deadlines.insert((d, waiter));
        }
    }

    /// `FUTEX_WAKE(_BITSET)`: removes and returns, oldest first, up to `count` waiters of
    /// `key` whose bitset shares a bit with `bitset`. The syscall returns their number.
    pub fn wake(&mut self, key: Key, count: u32, bitset: u32) -> Vec<Waiter> {
        let mut woken = Vec::new();
        if let Some(queue) = self.queues.get_mut(&key) {
            queue.retain(|q| {
                let take = woken.len() < count as usize && q.bitset & bitset != 0;
                if take {
                    woken.push(q.waiter);
                }
                !take
            });
        }
        self.forget(key, &woken);
        woken
    }

    /// `FUTEX_(CMP_)REQUEUE`: wakes the `wake` oldest waiters of `from` (bitsets are not
    /// looked at), then moves up to `requeue` more to the tail of `to`. Returns the woken
    /// waiters and the number moved; the syscall returns their sum.
    pub fn requeue(&mut self, from: Key, to: Key, wake: u32, requeue: u32) -> (Vec<Waiter>, u32) {
        let Some(mut queue) = self.queues.remove(&from) else {
            return (Vec::new(), 0);
        };
        let woken_n = queue.len().min(wake as usize);
        let woken: Vec<Waiter> = queue.drain(..woken_n).map(|q| q.waiter).collect();
        let moved_n = queue.len().min(requeue as usize);
        if from == to {
            self.queues.insert(from, queue);
        } else {
            let moved: Vec<Queued> = queue.drain(..moved_n).collect();
            for q in &moved {
                if let Some(w) = self.waiting.get_mut(&q.waiter) {
                    w.key = to;
                }
            }
            self.queues.entry(to).or_default().extend(moved);
            if !queue.is_empty() {
                self.queues.insert(from, queue);
            }
        }
        self.forget(from, &woken);
        (woken, moved_n as u32)
    }

    /// A waiter's wait ended without a wake (timeout, signal): removes it. `false` means
    /// it had been woken already, and then its `futex` call returns 0, as in Linux
    /// (`futex_unqueue` failing).
    pub fn cancel(&mut self, waiter: Waiter) -> bool {
        let Some(w) = self.waiting.remove(&waiter) else {
            return false;
        };
        if let Some(d) = w.deadline {
            self.deadlines.remove(&(d, waiter));
        }
        if let Some(queue) = self.queues.get_mut(&w.key) {
            queue.retain(|q| q.waiter != waiter);
            if queue.is_empty() {
                self.queues.remove(&w.key);
            }
        }
        true
    }

    /// Removes and returns the waiters whose deadline on `clock` is at or before `now`,
    /// earliest first; their `futex` calls return `ETIMEDOUT`.
    pub fn expire(&mut self, clock: Clock, now: u64) -> Vec<Waiter> {
        let due: Vec<Waiter> = self
            .deadlines
            .iter()
            .filter(|(d, _)| d.clock == clock && d.ns <= now)
            .map(|&(_, w)| w)
            .collect();
        for &w in &due {
            self.cancel(w);
        }
        due
    }

    /// The earliest deadline on `clock`, for the kernel's timer.
    pub fn next_deadline(&self, clock: Clock) -> Option<u64> {
        self.deadlines
            .iter()
            .find(|(d, _)| d.clock == clock)
            .map(|(d, _)| d.ns)
    }

    /// The waiters of `key`, oldest first.
    pub fn waiters(&self, key: Key) -> impl Iterator<Item = Waiter> + '_ {
        self.queues
            .get(&key)
            .into_iter()
            .flatten()
            .map(|q| q.waiter)
    }

    /// Whether `waiter` is queued.
    pub fn is_waiting(&self, waiter: Waiter) -> bool {
        self.waiting.contains_key(&waiter)
    }

    /// Drops the bookkeeping of woken waiters of `key`.
    fn forget(&mut self, key: Key, woken: &[Waiter]) {
        for &w in woken {
            if let Some(Where {
                deadline: Some(d), ..
            }) = self.waiting.remove(&w)
            {
                self.deadlines.remove(&(d, w));
            }
        }
        if self.queues.get(&key).is_some_and(VecDeque::is_empty) {
            self.queues.remove(&key);
        }
    }
}
