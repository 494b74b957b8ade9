//! The lossless wake path: wake a thread from any context, never drop the wake.
//!
//! # The problem
//!
//! A NIC interrupt or the NET_RX softirq must be able to wake a thread blocked in `recv`
//! without taking a scheduler lock (the interrupted CPU may hold it: that is the seed
//! kernel's deadlock), and without any chance of losing the wake (the seed kernel's ISR wake
//! buffer had a fixed size and dropped wakes when it was full, leaving threads asleep with
//! data waiting).
//!
//! # The design
//!
//! Every wakeable object (a thread) embeds a [`WakeLink`]: a "queued" flag and an intrusive
//! `next` pointer ([`Wakeable`] gives the queue access to it). A [`WakeQueue`] (one per CPU,
//! owned by its scheduler) is a single atomic head pointer.
//!
//! - **Wake** ([`WakeQueue::wake`], any context, any CPU): swap the object's flag to true. If
//!   it was already true the object is queued and its pending delivery will make it runnable;
//!   the wake is *coalesced* (counted, not lost: the woken thread re-checks its condition
//!   when it runs). Otherwise push the object with a CAS loop on the head.
//! - **Drain** ([`WakeQueue::drain`], the scheduler): swap the head to null, taking the whole
//!   batch at once; reverse it so delivery is in wake order; for each object read `next`,
//!   clear the flag, deliver.
//!
//! The queue cannot overflow (each object occupies its own link, at most once) and never
//! allocates, so a wake cannot fail.
//!
//! # Why a Treiber stack drained by swap, not a Vyukov MPSC queue
//!
//! Vyukov's intrusive MPSC queue gives FIFO order without a reversal, but a push is two
//! steps (swap the tail, then link the previous tail to the new node) and between them the
//! consumer sees a broken chain: it must either spin until that producer finishes — which
//! may be a thread preempted on another CPU — or stop and retry later, delaying every wake
//! queued behind it. It also needs a stub node re-inserted by the consumer. The Treiber push
//! is one CAS that publishes a complete node, the drain is one swap plus a walk, so the
//! consumer never waits for a producer (wait-free drain) and producers only retry when
//! another push succeeded (lock-free). The price is the reversal, which is O(batch) and the
//! batch is bounded by the number of threads.
//!
//! # ABA
//!
//! The classic Treiber ABA bug is in *pop*: the CAS compares the head with a node that was
//! popped and pushed back meanwhile, and installs a stale `next`. Here nothing pops single
//! nodes: the consumer takes the whole stack with `swap`, which has no expected value to be
//! fooled. A producer's CAS can see ABA (head was H, the batch was drained, H was pushed
//! again, head is H again), but the push then links the new node to H, which *is* the
//! current head, so the result is correct: a push's correctness depends only on the head's
//! value, never on anything reachable from it. And no node can be in the stack twice,
//! because only the waker that flips the flag from false to true may push it.
//!
//! # Memory orderings
//!
//! - Flag swap in `wake`: **AcqRel**. Acquire pairs with the drain's clearing swap, so the
//!   consumer's read of `next` happens-before the next waker rewrites it. Release makes a
//!   *coalesced* waker's earlier writes (the wait condition it just made true) visible to
//!   the consumer whose clearing swap reads its `true`.
//! - Push CAS: **Release** on success (publishes `next` and the waker's writes), Relaxed on
//!   failure and for the head load (the producer never dereferences the head).
//! - Drain's head swap: **Acquire**. All pushes are RMWs on the head, so they form one
//!   release sequence and the swap synchronises with every push of the batch.
//! - Flag clear in `drain`: **AcqRel** swap (not a store), so it reads-from, and acquires,
//!   the last waker's swap — coalesced ones included — before `deliver` runs.
//!
//! Together: everything a waker wrote before `wake` happens-before the `deliver` call that
//! covers that wake. The flag is cleared *before* `deliver`, so a wake racing with the
//! delivery queues the object again instead of being merged into a delivery that has already
//! looked at the thread (which would lose it). The loom tests check this property.
//!
//! # Testing
//!
//! Unit tests and std-thread stress tests run with `cargo test -p wakeq`. The loom models
//! (`tests/loom.rs`) run with
//! `RUSTFLAGS="--cfg loom" cargo test -p wakeq --release` (the `sync` shim swaps in loom's
//! atomics and cell).
#![no_std]

mod link;
mod queue;
mod stats;
mod sync;

pub use link::{WakeLink, Wakeable};
pub use queue::{Wake, WakeQueue};
pub use stats::{WakeCounters, WakeStats};
