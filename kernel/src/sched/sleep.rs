//! Sleeping with a deadline: a per-CPU heap of timers, expired by the TIMER softirq.
//!
//! A sleeping thread arms a timer on its CPU's heap and blocks. The LAPIC tick raises
//! the TIMER softirq when the earliest deadline has passed; the softirq pops expired
//! timers and wakes their threads. Each timer carries the thread's sleep generation, so
//! a timer left over from an earlier, already-finished wait cannot wake a later one. The
//! heap is shared between process context (arming) and the softirq (expiring): a
//! [`BhLock`].
use alloc::collections::BinaryHeap;
use alloc::sync::Arc;
use core::cmp::Reverse;
use core::sync::atomic::{AtomicU64, Ordering};

use super::thread::Thread;
use crate::arch::percpu;
use crate::sync::{BhLock, LockClass};

struct Timer {
    deadline: u64,
    generation: u64,
    thread: Arc<Thread>,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.deadline == other.deadline
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timer {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.deadline.cmp(&other.deadline)
    }
}

static TIMERS_CLASS: LockClass = LockClass::new("sched.sleep_timers");
static TIMERS: [BhLock<BinaryHeap<Reverse<Timer>>>; percpu::MAX_CPUS] =
    [const { BhLock::new(BinaryHeap::new(), &TIMERS_CLASS) }; percpu::MAX_CPUS];
/// Earliest armed deadline per CPU (u64::MAX: none), read lock-free by the tick.
static NEXT_DEADLINE: [AtomicU64; percpu::MAX_CPUS] =
    [const { AtomicU64::new(u64::MAX) }; percpu::MAX_CPUS];

/// Handle of an armed timer.
#[derive(Clone, Copy)]
pub struct Armed {
    generation: u64,
}

/// Arms a timer that wakes `t` at `deadline` (monotonic ns). Process context.
pub fn arm(t: &Arc<Thread>, deadline: u64) -> Armed {
    let generation = t.sleep_gen.fetch_add(1, Ordering::AcqRel) + 1;
    let index = percpu::cpu_index() as usize;
    let mut heap = TIMERS[index].lock();
    heap.push(Reverse(Timer {
        deadline,
        generation,
        thread: t.clone(),
    }));
    NEXT_DEADLINE[index].fetch_min(deadline, Ordering::AcqRel);
    Armed { generation }
}

/// Makes an armed timer harmless once its wait is over (it is dropped when it expires).
pub fn disarm(t: &Arc<Thread>, armed: Armed) {
    let _ = t.sleep_gen.compare_exchange(
        armed.generation,
        armed.generation + 1,
        Ordering::AcqRel,
        Ordering::Relaxed,
    );
}

/// True when this CPU has a timer due at `now`. Hardirq context (the tick), lock-free.
pub fn due(now: u64) -> bool {
    NEXT_DEADLINE[percpu::cpu_index() as usize].load(Ordering::Acquire) <= now
}

/// Expires due timers on this CPU. TIMER softirq context.
pub fn expire() {
    let index = percpu::cpu_index() as usize;
    let now = crate::time::now_ns();
    let mut heap = TIMERS[index].lock();
    while let Some(Reverse(first)) = heap.peek() {
        if first.deadline > now {
            break;
        }
        let Reverse(timer) = heap.pop().expect("peeked");
        if timer.thread.sleep_gen.load(Ordering::Acquire) == timer.generation {
            super::wake(&timer.thread);
        }
    }
    let next = heap.peek().map_or(u64::MAX, |Reverse(t)| t.deadline);
    NEXT_DEADLINE[index].store(next, Ordering::Release);
}
