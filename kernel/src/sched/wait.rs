//! Wait queues: sleep until a condition holds, woken by whoever makes it true.
//!
//! The pattern is prepare-to-wait / check / schedule: the waiter registers itself and
//! marks itself Blocked, *then* checks the condition, and only then gives up the CPU. A
//! waker makes the condition true first and wakes second, so either the waiter's check
//! sees the condition, or the waker sees the waiter Blocked and wakes it. Wakers may run
//! in any context (hardirq, softirq, process); the waiter list has an interrupts-off lock
//! and the wake itself is the scheduler's lock-free [`super::wake`].
use alloc::collections::VecDeque;
use alloc::sync::Arc;

use super::thread::{State, Thread};
use crate::sync::{IrqLock, LockClass};

static WAIT_QUEUE_CLASS: LockClass = LockClass::new("sched.wait_queue");

/// Threads waiting for some condition.
pub struct WaitQueue {
    waiters: IrqLock<VecDeque<Arc<Thread>>>,
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitQueue {
    pub const fn new() -> Self {
        WaitQueue {
            waiters: IrqLock::new(VecDeque::new(), &WAIT_QUEUE_CLASS),
        }
    }

    /// Sleeps until `cond()` is true, or until `deadline_ns` (monotonic clock) passes.
    /// Returns whether `cond()` returned true; it is not called again after that, so it
    /// may have side effects (e.g. acquiring something). Process context; may sleep.
    #[track_caller]
    pub fn wait_until_deadline(
        &self,
        deadline_ns: Option<u64>,
        mut cond: impl FnMut() -> bool,
    ) -> bool {
        crate::irq::might_sleep();
        let me = super::current();
        let timer = deadline_ns.map(|d| super::sleep::arm(&me, d));
        let expired = || deadline_ns.is_some_and(|d| crate::time::now_ns() >= d);
        let result = loop {
            if cond() {
                break true;
            }
            if expired() {
                break false;
            }
            {
                // Queue and mark Blocked under the list lock, so no waker can take us off
                // the list between the two (its wake would then find us Running, do
                // nothing, and leave us asleep off the list).
                let mut w = self.waiters.lock();
                if !w.iter().any(|t| Arc::ptr_eq(t, &me)) {
                    w.push_back(me.clone());
                }
                me.set_state(State::Blocked);
            }
            // `cond` may have side effects (a mutex's try-acquire): a true answer is final.
            if cond() {
                me.set_state(State::Running);
                break true;
            }
            if expired() {
                me.set_state(State::Running);
                break false;
            }
            super::schedule();
        };
        self.waiters.lock().retain(|t| !Arc::ptr_eq(t, &me));
        if let Some(t) = timer {
            super::sleep::disarm(&me, t);
        }
        result
    }

    /// Sleeps until `cond()` is true. Process context; may sleep.
    #[track_caller]
    pub fn wait_until(&self, cond: impl FnMut() -> bool) {
        self.wait_until_deadline(None, cond);
    }

    /// Wakes every waiter (each re-checks its condition). Any context.
    pub fn wake_all(&self) {
        let waiters = core::mem::take(&mut *self.waiters.lock());
        for t in &waiters {
            super::wake(t);
        }
    }

    /// Wakes the longest-waiting waiter. Any context.
    pub fn wake_one(&self) {
        let t = self.waiters.lock().pop_front();
        if let Some(t) = t {
            super::wake(&t);
        }
    }
}
