//! Locks whose interrupt behaviour is part of their type, checked by a lock validator.
//!
//! - [`SpinLock<T, P>`] is a spin lock with a guard policy `P`:
//!   [`PreemptOff`] (data never touched by interrupt handlers or softirqs),
//!   [`BhOff`] (data shared with softirqs: process context takes it with bottom halves
//!   disabled, the `spin_lock_bh` idea, so a softirq can never spin on a lock its own CPU
//!   holds — the seed's deadlock), and [`IrqOff`] (data shared with hardirq handlers).
//!   Aliases: [`BhLock`], [`IrqLock`].
//! - [`Mutex`] is a sleeping lock for process context only.
//! - Every lock names a [`LockClass`] declared next to it; the validator (`lockdep`)
//!   checks every acquisition and reports a lock used in softirq context and elsewhere
//!   with softirqs enabled, or two classes taken in both orders, at the first occurrence.
//! - [`CpuLocal`] is per-CPU data reached only by its own CPU with interrupts off (an
//!   [`IrqsDisabled`] guard proves it).
//! - [`RawIrqMutex`] is the one unvalidated lock: under the heap allocator, which the
//!   validator itself uses.
mod cpu_local;
mod fn_slot;
mod lockdep;
mod mutex;
mod policy;
mod raw_irq_mutex;
mod spin;

pub use self::lockdep::{
    enabled as lockdep_enabled, set_enabled as set_lockdep_enabled, validator_stats, LockClass,
};
pub use cpu_local::{CpuLocal, IrqsDisabled};
pub use fn_slot::FnSlot;
pub use mutex::Mutex;
pub use policy::{BhOff, IrqOff, PreemptOff};
pub use raw_irq_mutex::RawIrqMutex;
pub use spin::{SpinGuard, SpinLock};

/// A lock for data shared with softirqs (NET_RX, TIMER): bottom halves off while held.
pub type BhLock<T> = SpinLock<T, BhOff>;
/// A lock for data shared with hardirq handlers: interrupts off while held.
pub type IrqLock<T> = SpinLock<T, IrqOff>;
