//! Per-CPU data that only its own CPU touches, with interrupts off: [`CpuLocal`].
//!
//! The rule "this CPU's slot, interrupts off" used to be a comment next to each
//! `UnsafeCell` (and an `unsafe` block at each use). Here it is a type: every access
//! takes an [`IrqsDisabled`] guard, which exists only while interrupts are off on the
//! calling CPU, so the thread cannot be preempted, migrate, or be interrupted by code that
//! touches the same slot between finding its CPU's slot and using it. Each slot is a
//! `RefCell`, so a nested access to the same slot on the same CPU (a bug) panics instead
//! of aliasing. Declare one with [`cpu_local!`](crate::cpu_local).
use core::cell::{RefCell, RefMut};
use core::marker::PhantomData;

use crate::arch::{cpu, percpu};

/// Interrupts are off on this CPU while this lives; dropping it restores the state it
/// found. Not `Send`: it speaks for the CPU it was made on.
pub struct IrqsDisabled {
    were_enabled: bool,
    _not_send: PhantomData<*const ()>,
}

impl IrqsDisabled {
    /// Disables interrupts on this CPU (if they were on) until the guard is dropped.
    #[inline]
    pub fn new() -> IrqsDisabled {
        let were_enabled = cpu::interrupts_enabled();
        cpu::disable_interrupts();
        IrqsDisabled {
            were_enabled,
            _not_send: PhantomData,
        }
    }
}

impl Drop for IrqsDisabled {
    #[inline]
    fn drop(&mut self) {
        if self.were_enabled {
            // SAFETY: interrupts were enabled when the guard was made, so the context
            // that made it allows them.
            unsafe { cpu::enable_interrupts() };
        }
    }
}

/// One `T` per CPU. Any context; each CPU reaches only its own slot.
pub struct CpuLocal<T> {
    slots: [RefCell<T>; percpu::MAX_CPUS],
}

// SAFETY: slot `i` is only ever reached by CPU `i` (`borrow_mut` indexes by the calling
// CPU), with interrupts off for the whole borrow (the `IrqsDisabled` it borrows), so no two
// contexts use a slot's `RefCell` at once; values may be dropped or moved on another CPU
// later, hence `T: Send`.
unsafe impl<T: Send> Sync for CpuLocal<T> {}

impl<T> CpuLocal<T> {
    /// Use [`cpu_local!`](crate::cpu_local), which builds the slots.
    pub const fn from_slots(slots: [RefCell<T>; percpu::MAX_CPUS]) -> Self {
        CpuLocal { slots }
    }

    /// This CPU's slot, for as long as interrupts stay off.
    #[track_caller]
    pub fn borrow_mut<'a>(&'a self, _irqs: &'a IrqsDisabled) -> RefMut<'a, T> {
        self.slots[percpu::cpu_index() as usize].borrow_mut()
    }
}

/// Declares a `static NAME: CpuLocal<T>` whose every slot starts as `INIT` (a constant
/// expression).
#[macro_export]
macro_rules! cpu_local {
    ($(#[$attr:meta])* $vis:vis static $name:ident: CpuLocal<$t:ty> = $init:expr;) => {
        $(#[$attr])*
        $vis static $name: $crate::sync::CpuLocal<$t> = $crate::sync::CpuLocal::from_slots(
            [const { core::cell::RefCell::new($init) }; $crate::arch::percpu::MAX_CPUS],
        );
    };
}
