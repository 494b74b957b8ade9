//! A queue of pending signals (`struct sigpending`): the set of pending signals plus the
//! queued siginfo entries, in arrival order. Each thread has one for signals sent to it,
//! and each process one shared by its threads (`signal->shared_pending`).
//!
//! Standard signals coalesce: while one is pending, another of the same number is dropped
//! (`legacy_queue`). Real-time signals queue one entry per send, charged to the receiving
//! user's `RLIMIT_SIGPENDING` count ([`SigpendingQuota`]). Over the limit, Linux still marks
//! a standard signal (or a real-time one sent by `kill`) pending without its details, and
//! refuses other real-time sends with `EAGAIN` (`__send_signal_locked`).

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::siginfo::SI_USER;
use crate::signal::SYNCHRONOUS;
use crate::{Errno, SigInfo, SigSet, Signal};

/// One user's count of queued siginfo entries (Linux's `UCOUNT_RLIMIT_SIGPENDING`),
/// shared by every process of that user; entries give their charge back when they leave
/// a queue, whichever process they were queued on.
#[derive(Debug, Default)]
pub struct SigpendingQuota {
    queued: AtomicU64,
}

impl SigpendingQuota {
    /// A new count at zero, for one user.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// How many entries are queued for this user.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }
}

/// One queued entry's charge; given back when the entry is dropped.
#[derive(Debug)]
struct Charge(Arc<SigpendingQuota>);

impl Charge {
    /// `sig_get_ucounts`: count one more entry; over `limit` (unless `force`) give it back.
    fn take(quota: &Arc<SigpendingQuota>, limit: u64, force: bool) -> Option<Self> {
        let now = quota
            .queued
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        let charge = Self(quota.clone());
        (force || now <= limit).then_some(charge)
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct Entry {
    info: SigInfo,
    _charge: Charge,
}

/// Where a send left the signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queued {
    /// Pending with its siginfo queued.
    Queued,
    /// A standard signal already pending: this one merged into it.
    Coalesced,
    /// Pending, but its siginfo was dropped (over the limit; SIGKILL never keeps one).
    InfoLost,
}

/// A pending-signal queue (`struct sigpending`).
#[derive(Debug, Default)]
pub struct Pending {
    set: SigSet,
    queue: VecDeque<Entry>,
}

/// The owner of a queue the signal is charged to: the receiving user's count and the
/// receiver's `RLIMIT_SIGPENDING`.
#[derive(Clone, Debug)]
pub(crate) struct Charging<'a> {
    pub quota: &'a Arc<SigpendingQuota>,
    pub limit: u64,
}

impl Pending {
    /// The signals pending here.
    pub fn set(&self) -> SigSet {
        self.set
    }

    /// Adds a signal (`__send_signal_locked` after `prepare_signal`).
    pub(crate) fn enqueue(&mut self, info: SigInfo, charging: &Charging) -> Result<Queued, Errno> {
        let sig = info.signal();
        if !sig.is_realtime() && self.set.contains(sig) {
            return Ok(Queued::Coalesced);
        }
        if sig == Signal::SIGKILL {
            self.set.insert(sig);
            return Ok(Queued::InfoLost);
        }
        // Standard signals from the kernel or kill() may exceed the limit: at least one
        // instance must get through. Real-time ones never.
        let force = !sig.is_realtime() && info.code() >= 0;
        match Charge::take(charging.quota, charging.limit, force) {
            Some(charge) => {
                self.queue.push_back(Entry {
                    info,
                    _charge: charge,
                });
                self.set.insert(sig);
                Ok(Queued::Queued)
            }
            None if sig.is_realtime() && info.code() != SI_USER => Err(Errno::EAGAIN),
            None => {
                self.set.insert(sig);
                Ok(Queued::InfoLost)
            }
        }
    }

    /// `next_signal`: the signal to take next among those not in `blocked`: synchronous
    /// (fault) signals first, then the lowest number.
    pub(crate) fn next(&self, blocked: SigSet) -> Option<Signal> {
        let ready = self.set.difference(blocked);
        let sync = ready.intersection(SigSet::from_bits(SYNCHRONOUS));
        Signal::lowest(if sync.is_empty() { ready } else { sync })
    }

    /// `collect_signal`: takes `sig`'s first entry; the signal stays pending while more
    /// entries of it are queued.
    pub(crate) fn collect(&mut self, sig: Signal) -> SigInfo {
        let found = self.queue.iter().position(|e| e.info.signal() == sig);
        let info = match found.and_then(|i| self.queue.remove(i)) {
            Some(entry) => entry.info,
            None => SigInfo::lost(sig),
        };
        if !self.queue.iter().any(|e| e.info.signal() == sig) {
            self.set.remove(sig);
        }
        info
    }

    /// `dequeue_synchronous_signal`: if an unblocked synchronous signal is pending, the
    /// first kernel-sent synchronous entry in arrival order (Linux does not re-check that
    /// this entry's own signal is unblocked).
    pub(crate) fn take_synchronous(&mut self, blocked: SigSet) -> Option<SigInfo> {
        let ready = self.set.difference(blocked).bits() & SYNCHRONOUS;
        if ready == 0 {
            return None;
        }
        let i = self
            .queue
            .iter()
            .position(|e| e.info.code() > SI_USER && e.info.signal().is_synchronous())?;
        let entry = self.queue.remove(i)?;
        let sig = entry.info.signal();
        if !self.queue.iter().skip(i).any(|e| e.info.signal() == sig) {
            self.set.remove(sig);
        }
        Some(entry.info)
    }

    /// `flush_sigqueue_mask`: forgets every signal in `set`, queued entries included.
    pub(crate) fn flush(&mut self, set: SigSet) {
        if self.set.intersection(set).is_empty() {
            return;
        }
        self.set = self.set.difference(set);
        self.queue.retain(|e| !set.contains(e.info.signal()));
    }

    /// Marks `sig` pending without siginfo (how Linux posts SIGKILL to every thread).
    pub(crate) fn mark(&mut self, sig: Signal) {
        self.set.insert(sig);
    }
}
