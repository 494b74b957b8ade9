//! A process's signal state behind its lock, plus the one-bit summary a thread reads
//! without the lock on its way back to user mode (Linux's `TIF_SIGPENDING`).
//!
//! Every return to user mode must look for signal work, and taking the lock twice for it
//! (is a signal deliverable, is a mask to restore) was most of the cost of a system call
//! under software emulation (measured with `ubench --only getpid`, docs/bench.md). The
//! summary is [`SignalState::needs_attention`], stored by every guard as it is dropped,
//! before the lock is released, so whoever synchronises with a change of the state through
//! the lock (a sleeping thread woken to take a signal re-checks under the lock) also sees
//! the summary that covers it. A thread that reads `false` without synchronising may miss
//! a signal sent at that instant; it takes it at its next entry to the kernel, exactly as
//! it would have had the signal come a moment after a check under the lock.
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

use halyard_signal::SignalState;

use crate::sync::{IrqLock, IrqOff, LockClass, SpinGuard};

/// The signal state of one process and its summary.
pub struct SignalLock {
    state: IrqLock<SignalState>,
    attention: AtomicBool,
}

impl SignalLock {
    pub fn new(state: SignalState, class: &'static LockClass) -> SignalLock {
        let attention = AtomicBool::new(state.needs_attention());
        SignalLock {
            state: IrqLock::new(state, class),
            attention,
        }
    }

    /// Locks the state; the summary is brought up to date when the guard is dropped.
    #[track_caller]
    pub fn lock(&self) -> SignalGuard<'_> {
        SignalGuard {
            guard: ManuallyDrop::new(self.state.lock()),
            attention: &self.attention,
        }
    }

    /// `false`: no signal is pending in the process and no thread has a mask to restore,
    /// as of the last release of the lock.
    pub fn needs_attention(&self) -> bool {
        self.attention.load(Ordering::Acquire)
    }
}

/// Holds the signal lock.
pub struct SignalGuard<'a> {
    guard: ManuallyDrop<SpinGuard<'a, SignalState, IrqOff>>,
    attention: &'a AtomicBool,
}

impl Deref for SignalGuard<'_> {
    type Target = SignalState;
    fn deref(&self) -> &SignalState {
        &self.guard
    }
}

impl DerefMut for SignalGuard<'_> {
    fn deref_mut(&mut self) -> &mut SignalState {
        &mut self.guard
    }
}

impl Drop for SignalGuard<'_> {
    fn drop(&mut self) {
        self.attention
            .store(self.guard.needs_attention(), Ordering::Release);
        // SAFETY: the guard is dropped exactly once, here, after the summary is stored.
        unsafe { ManuallyDrop::drop(&mut self.guard) };
    }
}
