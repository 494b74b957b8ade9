//! The spin lock, generic over its [`GuardPolicy`].
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::panic::Location;
use core::sync::atomic::{AtomicBool, Ordering};

use super::lockdep::{self, LockClass};
use super::policy::GuardPolicy;

/// A spin lock whose guard applies policy `P` (see the module docs of `sync`).
#[repr(C)]
pub struct SpinLock<T, P: GuardPolicy> {
    locked: AtomicBool,
    class: &'static LockClass,
    data: UnsafeCell<T>,
    _policy: PhantomData<P>,
}

// SAFETY: the data is only reached through a guard, which exists for one holder at a
// time (the compare-exchange in `lock`).
unsafe impl<T: Send, P: GuardPolicy> Sync for SpinLock<T, P> {}
// SAFETY: moving the lock moves the data; `T: Send` allows that.
unsafe impl<T: Send, P: GuardPolicy> Send for SpinLock<T, P> {}

impl<T, P: GuardPolicy> SpinLock<T, P> {
    /// A lock of class `class` (declare one `static LockClass` per kind of lock).
    pub const fn new(value: T, class: &'static LockClass) -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
            class,
            data: UnsafeCell::new(value),
            _policy: PhantomData,
        }
    }

    /// Applies the policy, tells the validator (which reports a misuse before we could
    /// deadlock), then spins until the lock is free.
    #[track_caller]
    pub fn lock(&self) -> SpinGuard<'_, T, P> {
        let saved = P::enter();
        lockdep::acquire(self.class, Location::caller());
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.locked.load(Ordering::Relaxed) {
                core::hint::spin_loop();
            }
        }
        SpinGuard { lock: self, saved }
    }

    /// Takes the lock only if it is free right now, never spinning: for a context that
    /// must not wait for the holder (NET_RX on a socket a thread holds). The policy is
    /// applied first and undone on failure; the validator records a successful
    /// acquisition like any other (a try-lock cannot deadlock, but its usage context and
    /// the locks taken under it still count).
    #[track_caller]
    pub fn try_lock(&self) -> Option<SpinGuard<'_, T, P>> {
        let saved = P::enter();
        if self
            .locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            P::exit(saved);
            return None;
        }
        lockdep::acquire(self.class, Location::caller());
        Some(SpinGuard { lock: self, saved })
    }
}

#[cfg(feature = "negative-tests")]
impl<T> SpinLock<T, super::BhOff> {
    /// Takes a bottom-half lock while leaving bottom halves *enabled*: the seed's
    /// mistake, for the negative-control test kernel. The validator must report it.
    #[track_caller]
    pub fn lock_with_bottom_halves_enabled(&self) -> SpinGuard<'_, T, super::PreemptOff> {
        super::PreemptOff::enter();
        lockdep::acquire(self.class, Location::caller());
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        // SAFETY: `SpinLock<T, P>` has the same layout for every policy `P` (the policy
        // is a zero-sized marker), so the guard may name this lock with another policy.
        let lock = unsafe { &*(self as *const Self as *const SpinLock<T, super::PreemptOff>) };
        SpinGuard { lock, saved: () }
    }
}

/// Access to a [`SpinLock`]'s data; dropping it releases the lock and undoes the policy.
pub struct SpinGuard<'a, T, P: GuardPolicy> {
    lock: &'a SpinLock<T, P>,
    saved: P::Saved,
}

impl<T, P: GuardPolicy> Deref for SpinGuard<'_, T, P> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard is the lock's only holder.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T, P: GuardPolicy> DerefMut for SpinGuard<'_, T, P> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard is the lock's only holder.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T, P: GuardPolicy> Drop for SpinGuard<'_, T, P> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
        lockdep::release(self.lock.class);
        P::exit(self.saved);
    }
}
