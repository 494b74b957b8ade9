//! Which execution context is this CPU in, and when do bottom halves run?
//!
//! Halyard's locking rule (design notes, "Execution contexts and the locking rule") depends on every piece of code knowing whether it runs in NMI, hardirq, softirq or process
//! context, and whether bottom halves are disabled. Linux answers that with one per-CPU word,
//! `preempt_count`, and this crate gives Halyard the same word as a plain value type
//! ([`PreemptCount`]) so the rules can be tested on the host, plus the softirq machinery's
//! policy, free of any hardware:
//!
//! - [`count`]: the `preempt_count` layout and its context queries;
//! - [`softirq`]: the softirq numbers and a set of them ([`SoftirqSet`]);
//! - [`pending`]: the per-CPU pending word, raised from any context;
//! - [`budget`]: the restart policy (at most N restarts or T ns, then ksoftirqd);
//! - [`stats`]: per-softirq counters for the serial console and tests;
//! - [`run`]: the softirq run loop itself, generic over the platform (clock, handlers), so the
//!   kernel's `do_softirq` and its `ksoftirqd` thread are thin wrappers around tested code.
#![no_std]
#![forbid(unsafe_code)]

pub mod budget;
pub mod count;
pub mod pending;
pub mod run;
pub mod softirq;
pub mod stats;

pub use budget::{PassDecision, RestartBudget, RunBudget};
pub use count::{CountError, CountField, PreemptCount};
pub use pending::PendingSoftirqs;
pub use run::{run_softirqs, RunOutcome, SoftirqCpu, SoftirqPlatform};
pub use softirq::{Softirq, SoftirqSet};
pub use stats::{SoftirqCounters, SoftirqSnapshot, SoftirqStats};
