//! A raw spin mutex for `lock_api` users (the heap allocator) that masks interrupts on
//! the local CPU while held, so an interrupt handler that allocates can never spin on the
//! heap lock its own CPU holds.
use core::cell::Cell;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::cpu;

pub struct RawIrqMutex {
    locked: AtomicBool,
    /// Interrupt state found by the current holder; only the holder reads or writes it.
    restore_interrupts: Cell<bool>,
}

// SAFETY: `restore_interrupts` is only accessed by the CPU that holds `locked`, between
// its Acquire in `lock` and its Release in `unlock`, so accesses never race.
unsafe impl Sync for RawIrqMutex {}

// SAFETY: `lock` returns only after winning the compare-exchange, so at most one owner
// exists; `unlock` releases with Release ordering after the owner's critical section.
unsafe impl lock_api::RawMutex for RawIrqMutex {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = RawIrqMutex {
        locked: AtomicBool::new(false),
        restore_interrupts: Cell::new(false),
    };
    type GuardMarker = lock_api::GuardNoSend;

    fn lock(&self) {
        let were_enabled = cpu::interrupts_enabled();
        cpu::disable_interrupts();
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        self.restore_interrupts.set(were_enabled);
    }

    fn try_lock(&self) -> bool {
        let were_enabled = cpu::interrupts_enabled();
        cpu::disable_interrupts();
        if self
            .locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            self.restore_interrupts.set(were_enabled);
            true
        } else {
            if were_enabled {
                // SAFETY: restoring the state found on entry.
                unsafe { cpu::enable_interrupts() };
            }
            false
        }
    }

    unsafe fn unlock(&self) {
        let restore = self.restore_interrupts.get();
        self.locked.store(false, Ordering::Release);
        if restore {
            // SAFETY: interrupts were enabled when this holder locked, and the lock is free.
            unsafe { cpu::enable_interrupts() };
        }
    }
}
