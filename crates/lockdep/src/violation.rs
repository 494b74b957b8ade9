//! What the validator reports: a value, printed on the serial console by its `Display`.

use alloc::vec::Vec;
use core::fmt;

use crate::class::LockClass;
use crate::context::Acquisition;
use crate::usage::IrqKind;

/// One recorded order edge: `acquired` was taken while `held` was held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderStep {
    pub held: &'static LockClass,
    pub acquired: &'static LockClass,
    /// The first acquisition that recorded this order.
    pub acquisition: Acquisition,
}

/// A locking problem, reported the first time it becomes visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// One class is taken inside `kind` handlers and also where a `kind` handler can
    /// interrupt its holder: the handler can spin forever on a lock its own CPU holds.
    IrqInconsistent {
        kind: IrqKind,
        class: &'static LockClass,
        /// First acquisition inside a `kind` handler.
        used_in: Acquisition,
        /// First acquisition with `kind` handlers able to run.
        enabled: Acquisition,
    },
    /// `safe` is taken inside `kind` handlers, and `unsafe_class` — taken where `kind`
    /// handlers can run — is acquired while `safe` is held (through `chain`). CPU 0 holds
    /// `unsafe_class` and is interrupted by a handler that takes `safe`; CPU 1 holds `safe`
    /// in a handler and waits for `unsafe_class`: neither can finish.
    IrqUnsafeDependency {
        kind: IrqKind,
        safe: &'static LockClass,
        used_in: Acquisition,
        unsafe_class: &'static LockClass,
        enabled: Acquisition,
        /// The order edges from `safe` to `unsafe_class`.
        chain: Vec<OrderStep>,
    },
    /// `acquiring` is being taken while `held` is held, but the opposite order is already
    /// established through `established` (from `acquiring` to `held`): two CPUs taking the
    /// locks in the two orders can each wait for the other forever.
    OrderInversion {
        acquiring: &'static LockClass,
        held: &'static LockClass,
        acquisition: Acquisition,
        established: Vec<OrderStep>,
    },
    /// A lock of `class` is taken while a lock of the same class is held: a self-deadlock
    /// if it is the same lock, an unordered nesting (give the inner lock its own class) if not.
    Recursive {
        class: &'static LockClass,
        acquisition: Acquisition,
    },
}

const RULE: &str = "=====================================================";

fn write_chain(f: &mut fmt::Formatter<'_>, chain: &[OrderStep]) -> fmt::Result {
    for step in chain {
        writeln!(
            f,
            "    `{}` -> `{}` {}",
            step.held.name(),
            step.acquired.name(),
            step.acquisition
        )?;
    }
    Ok(())
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{RULE}")?;
        match self {
            Violation::IrqInconsistent {
                kind,
                class,
                used_in,
                enabled,
            } => {
                writeln!(f, "lockdep: inconsistent {} lock usage", kind.name())?;
                writeln!(f, "lock class {class}")?;
                writeln!(f, "is taken in {} context:", kind.context_name())?;
                writeln!(f, "    {used_in}")?;
                writeln!(f, "and taken with {}s enabled:", kind.context_name())?;
                writeln!(f, "    {enabled}")?;
                writeln!(
                    f,
                    "a {} on the CPU holding the lock can interrupt the holder and spin on it forever.",
                    kind.context_name()
                )?;
                writeln!(f, "fix: {}", kind.remedy())?;
            }
            Violation::IrqUnsafeDependency {
                kind,
                safe,
                used_in,
                unsafe_class,
                enabled,
                chain,
            } => {
                writeln!(
                    f,
                    "lockdep: {}-safe -> {}-unsafe lock order",
                    kind.name(),
                    kind.name()
                )?;
                writeln!(f, "{}-safe lock class {safe}", kind.name())?;
                writeln!(f, "    taken in {} context {used_in}", kind.context_name())?;
                writeln!(
                    f,
                    "is held while acquiring {}-unsafe lock class {unsafe_class}",
                    kind.name()
                )?;
                writeln!(
                    f,
                    "    taken with {}s enabled {enabled}",
                    kind.context_name()
                )?;
                writeln!(f, "through the lock order:")?;
                write_chain(f, chain)?;
                let (k, u, s) = (kind.context_name(), unsafe_class.name(), safe.name());
                writeln!(
                    f,
                    "CPU 0 holds `{u}` with {k}s enabled and a {k} there spins on `{s}`,"
                )?;
                writeln!(
                    f,
                    "which CPU 1 holds while it waits for `{u}`: neither can finish."
                )?;
                writeln!(f, "fix for `{}`: {}", unsafe_class.name(), kind.remedy())?;
            }
            Violation::OrderInversion {
                acquiring,
                held,
                acquisition,
                established,
            } => {
                writeln!(f, "lockdep: lock order inversion (possible deadlock)")?;
                writeln!(f, "acquiring lock class {acquiring}")?;
                writeln!(f, "while holding lock class {held}")?;
                writeln!(f, "    {acquisition}")?;
                writeln!(f, "but the opposite order is already established:")?;
                write_chain(f, established)?;
                writeln!(f, "two CPUs taking these locks in the two orders can each wait for the other forever.")?;
            }
            Violation::Recursive { class, acquisition } => {
                writeln!(f, "lockdep: recursive acquisition of lock class {class}")?;
                writeln!(f, "    {acquisition}")?;
                writeln!(f, "while a lock of the same class is held: a self-deadlock, or a nesting that needs its own class.")?;
            }
        }
        write!(f, "{RULE}")
    }
}
