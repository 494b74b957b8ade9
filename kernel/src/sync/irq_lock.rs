//! A spin lock that disables interrupts on the local CPU while held.
//!
//! Because the holder cannot be interrupted on its own CPU, an interrupt handler taking
//! the same lock can never spin on a lock its own CPU holds (the seed's deadlock). The
//! guard restores exactly the interrupt state found at `lock()`, so nesting is safe.
use core::ops::{Deref, DerefMut};

use crate::arch::cpu;

/// A spin lock usable from any context, including hardirq. Hold it briefly.
pub struct IrqSpinLock<T> {
    inner: spin::Mutex<T>,
}

impl<T> IrqSpinLock<T> {
    pub const fn new(value: T) -> Self {
        IrqSpinLock { inner: spin::Mutex::new(value) }
    }

    /// Disables interrupts, then spins until the lock is free.
    pub fn lock(&self) -> IrqSpinLockGuard<'_, T> {
        let were_enabled = cpu::interrupts_enabled();
        cpu::disable_interrupts();
        IrqSpinLockGuard { guard: Some(self.inner.lock()), were_enabled }
    }
}

/// Holds an [`IrqSpinLock`]; releasing it restores the previous interrupt state.
pub struct IrqSpinLockGuard<'a, T> {
    guard: Option<spin::MutexGuard<'a, T>>,
    were_enabled: bool,
}

impl<T> Deref for IrqSpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("guard present until drop")
    }
}

impl<T> DerefMut for IrqSpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("guard present until drop")
    }
}

impl<T> Drop for IrqSpinLockGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.guard.take());
        if self.were_enabled {
            // SAFETY: interrupts were enabled when the lock was taken, and the lock is
            // released now, so re-enabling cannot let a handler spin on it.
            unsafe { cpu::enable_interrupts() };
        }
    }
}
