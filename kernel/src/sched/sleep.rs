//! Sleeping with a deadline: a per-CPU heap of timers, expired by the TIMER softirq.
//!
//! A sleeping thread arms a timer on its CPU's heap and blocks. The LAPIC tick raises
//! the TIMER softirq when the earliest deadline has passed; the softirq pops expired
//! timers and wakes their threads. Each timer carries the thread's sleep generation, so
//! a timer left over from an earlier, already-finished wait cannot wake a later one. The
//! heap is shared between process context (arming) and the softirq (expiring): a
//! [`BhLock`]. A timer can also call a [`Wake`] callback (timerfd, [`arm_call`]).
//!
//! A timer refers to its thread weakly: a wait's timer stays in the heap until its
//! deadline (disarming only makes it stale), and a thread that exits meanwhile must not be
//! kept, with its 64 KiB kernel stack, until then (`net-tap-user-stress` found hundreds of
//! exited threads' stacks held by the 5 and 10 s timeouts of their last socket calls).
use alloc::collections::BinaryHeap;
use alloc::sync::{Arc, Weak};
use core::cmp::Reverse;
use core::sync::atomic::{AtomicU64, Ordering};

use super::thread::Thread;
use crate::arch::percpu;
use crate::fs::poll::Wake;
use crate::sync::{BhLock, LockClass};

struct Timer {
    deadline: u64,
    target: Target,
}

/// What an expired timer wakes.
enum Target {
    /// A sleeping thread, if it still is in the same wait (its sleep generation).
    Thread {
        thread: Weak<Thread>,
        generation: u64,
    },
    /// A callback (a timerfd's): it decides itself whether it is stale.
    Call(Arc<dyn Wake>),
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
        target: Target::Thread {
            thread: Arc::downgrade(t),
            generation,
        },
    }));
    NEXT_DEADLINE[index].fetch_min(deadline, Ordering::AcqRel);
    Armed { generation }
}

/// Arms a timer that calls `waker.wake(0)` at `deadline` (monotonic ns), from the TIMER
/// softirq with no lock held. There is no disarming: the callback ignores a stale
/// expiry. Process context.
pub fn arm_call(deadline: u64, waker: Arc<dyn Wake>) {
    let index = percpu::cpu_index() as usize;
    let mut heap = TIMERS[index].lock();
    heap.push(Reverse(Timer {
        deadline,
        target: Target::Call(waker),
    }));
    NEXT_DEADLINE[index].fetch_min(deadline, Ordering::AcqRel);
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
    loop {
        let timer = {
            let mut heap = TIMERS[index].lock();
            match heap.peek() {
                Some(Reverse(first)) if first.deadline <= now => heap.pop().map(|r| r.0),
                _ => {
                    let next = heap.peek().map_or(u64::MAX, |Reverse(t)| t.deadline);
                    NEXT_DEADLINE[index].store(next, Ordering::Release);
                    return;
                }
            }
        };
        // Fired outside the heap's lock: a callback takes its own (leaf) locks.
        match timer.map(|t| t.target) {
            Some(Target::Thread { thread, generation }) => {
                if let Some(thread) = thread.upgrade() {
                    if thread.sleep_gen.load(Ordering::Acquire) == generation {
                        super::wake(&thread);
                    }
                }
            }
            Some(Target::Call(waker)) => waker.wake(0),
            _ => {}
        }
    }
}
