//! A sleeping mutex for process context: waiters block instead of spinning.
//!
//! Taking it may sleep, so it calls `might_sleep()` first: using it from an interrupt
//! handler, a softirq, or with a spin lock held panics with a clear message instead of
//! deadlocking later.
//!
//! Uncontended, taking and releasing it touch only its own two words: a thread that finds
//! it free takes it without going near the wait queue, and the holder wakes someone only
//! when a thread has announced itself as waiting. The announcement (`waiting`) comes before
//! the waiter's attempt to take the mutex, and the release's store before its look at
//! `waiting`, all sequentially consistent: so either the holder sees the waiter and wakes
//! it, or the waiter's attempt sees the mutex free (the wait queue's own protocol covers a
//! wake that comes before the waiter sleeps). Going through the queue every time cost two
//! of its lock acquisitions per `lock`/`unlock` pair, measured on `Process::mm` in the
//! futex path under emulation.
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::sched::WaitQueue;

/// Mutual exclusion that sleeps while waiting. Process context only.
pub struct Mutex<T> {
    locked: AtomicBool,
    /// Threads between announcing that they wait and having taken the mutex.
    waiting: AtomicUsize,
    waiters: WaitQueue,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, held by one thread at a time.
unsafe impl<T: Send> Sync for Mutex<T> {}
// SAFETY: moving the mutex moves the data.
unsafe impl<T: Send> Send for Mutex<T> {}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        Mutex {
            locked: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            waiters: WaitQueue::new(),
            data: UnsafeCell::new(value),
        }
    }

    fn try_acquire(&self) -> bool {
        self.locked
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Takes the mutex, sleeping while another thread holds it.
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        crate::irq::might_sleep();
        if !self.try_acquire() {
            self.waiting.fetch_add(1, Ordering::SeqCst);
            self.waiters.wait_until(|| self.try_acquire());
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        MutexGuard { mutex: self }
    }
}

/// Holds a [`Mutex`]; dropping it wakes a waiter.
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard is the only holder.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard is the only holder.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.locked.store(false, Ordering::SeqCst);
        if self.mutex.waiting.load(Ordering::SeqCst) != 0 {
            self.mutex.waiters.wake_one();
        }
    }
}
