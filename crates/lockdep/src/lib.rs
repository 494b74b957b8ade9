//! A small lock validator (a "lockdep"): catch the seed kernel's deadlock on the first run.
//!
//! The seed kernel hung because a syscall held the TCP connection lock when the NIC
//! interrupt arrived, and the NET_RX softirq on the same CPU spun on that lock forever. The
//! hang needed a rare timing; the *mistake* — one lock taken both in softirq context and in
//! process context with softirqs enabled — was visible on every run. This validator records
//! how each lock class is used and in which order classes nest, and reports, at first
//! occurrence and with both acquisition sites:
//!
//! - **irq-safety inconsistency** ([`Violation::IrqInconsistent`]): a class taken in
//!   softirq (hardirq) context and somewhere else with softirqs (hardirqs) enabled;
//! - **irq-unsafe dependency** ([`Violation::IrqUnsafeDependency`]): a softirq-safe class
//!   held while taking a softirq-unsafe one (and the hardirq analogue), which deadlocks
//!   across two CPUs;
//! - **lock-order inversion** ([`Violation::OrderInversion`]): B taken while holding A
//!   after A was taken while holding B, directly or through a chain of classes;
//! - **recursive acquisition** ([`Violation::Recursive`]): a class taken while held.
//!
//! Use in the kernel: declare a `static LockClass` next to each lock definition, register
//! it once (the lock caches the [`ClassId`]), and on every acquisition call
//! [`Validator::acquire`] with the context from `preempt_count` and the interrupt flag, the
//! `#[track_caller]` site, and the current context's held-lock stack; print any
//! [`Violation`] (its `Display` is a multi-line console report).
//!
//! Modules: [`class`](LockClass) (classes and ids), [`context`](AcquireContext) (where and
//! in which context), `usage` (the irq-safety states and their rule), `order_graph` (the
//! nesting order with its transitive closure), [`violation`](Violation) (the report), and
//! [`validator`](Validator) (the bookkeeping that ties them together).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod class;
mod class_set;
mod context;
mod order_graph;
mod usage;
mod validator;
mod violation;

pub use class::{ClassId, LockClass};
pub use class_set::MAX_CLASSES;
pub use context::{AcquireContext, AcquireSite, Acquisition};
pub use usage::{IrqKind, UsageState};
pub use validator::{CapacityError, Validator, ValidatorStats};
pub use violation::{OrderStep, Violation};
