//! Garbage collection of `AF_UNIX` sockets in flight (Linux's `net/unix/garbage.c`).
//!
//! A socket sent with `SCM_RIGHTS` lives in the receiver's queue until it is read. If the
//! queue that holds it belongs to a socket that is itself only in flight, and so on round
//! a cycle (a socket sent over itself, two sockets each queued on the other), no program
//! can ever read them, and reference counting alone keeps them forever. Linux finds such
//! cycles when a socket is closed while sockets are in flight; so does [`collect`].
//!
//! Every file a queued message carries that is an `AF_UNIX` socket is counted here while
//! it is in flight ([`Rights`]). A socket is a *candidate* when every reference to its
//! open file is such an in-flight one (no descriptor, no thread holds it). Each
//! candidate's in-flight count is then reduced by the references found in candidates'
//! queues; a candidate with some left is referenced from elsewhere (a live socket's
//! queue, or a message on its way in or out), so it is reachable, and so is everything
//! in its queue, transitively. The candidates left unreachable are garbage: their queues
//! are emptied, which drops the last references and closes them.
//!
//! Soundness rests on two rules. The in-flight counts change only under [`STATE`]'s lock,
//! which the collector holds for its whole scan, so they are frozen while it looks. And a
//! count goes up before the message is queued and down only after it has left the queue,
//! so a reference the scan cannot see in a candidate's queue is always counted as
//! reachable: an error can only keep garbage, never free a reachable socket. A thread can
//! take a socket out of a queue only through that queue's own socket, which it must hold,
//! so the socket it takes is reachable. The lock is taken with no socket's lock held, and
//! the collector takes sockets' locks under it (order: gc, then socket).
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use super::{close_orphans, Msg};
use crate::fs::file::OpenFile;
use crate::sync::{IrqLock, LockClass};

static GC_CLASS: LockClass = LockClass::new("fs.unix.gc");
/// The `AF_UNIX` sockets in flight, by open-file address: the file and how many queued
/// messages carry it (Linux's `unix_sk(sk)->inflight`).
static STATE: IrqLock<BTreeMap<usize, (Weak<OpenFile>, usize)>> =
    IrqLock::new(BTreeMap::new(), &GC_CLASS);
/// A collection is running (the sockets it frees close, and closing would start another).
static COLLECTING: AtomicBool = AtomicBool::new(false);

fn key(file: &Arc<OpenFile>) -> usize {
    Arc::as_ptr(file) as usize
}

fn is_unix(file: &OpenFile) -> bool {
    file.ops.unix_socket().is_some()
}

/// The files a queued message carries (`SCM_RIGHTS`). Counted in flight from creation
/// until [`Rights::into_files`] (the message was read) or drop (it was not: the files are
/// closed). A peek's copy is not counted: it is handed to the reader at once.
#[derive(Default)]
pub(super) struct Rights {
    files: Vec<Arc<OpenFile>>,
    counted: bool,
}

impl Rights {
    /// Files about to be queued. No socket lock may be held.
    pub fn queued(files: Vec<Arc<OpenFile>>) -> Rights {
        if files.iter().any(|f| is_unix(f)) {
            let mut state = STATE.lock();
            for f in files.iter().filter(|f| is_unix(f)) {
                state.entry(key(f)).or_insert((Arc::downgrade(f), 0)).1 += 1;
            }
        }
        Rights {
            files,
            counted: true,
        }
    }

    /// A peeked message's copy of the files (`MSG_PEEK`): not in flight, as it goes to
    /// the reader at once.
    pub fn peeked(files: Vec<Arc<OpenFile>>) -> Rights {
        Rights {
            files,
            counted: false,
        }
    }

    /// The files of a message left in the queue (`MSG_PEEK`).
    pub fn peek(&self) -> Vec<Arc<OpenFile>> {
        self.files.clone()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The message was read: its files are the reader's. No socket lock may be held.
    pub fn into_files(mut self) -> Vec<Arc<OpenFile>> {
        self.uncount();
        core::mem::take(&mut self.files)
    }

    fn uncount(&mut self) {
        if !core::mem::take(&mut self.counted) || !self.files.iter().any(|f| is_unix(f)) {
            return;
        }
        let mut state = STATE.lock();
        for f in self.files.iter().filter(|f| is_unix(f)) {
            if let Some(entry) = state.get_mut(&key(f)) {
                entry.1 -= 1;
                if entry.1 == 0 {
                    state.remove(&key(f));
                }
            }
        }
    }

    /// The in-flight sockets among the files, by key.
    fn unix_keys(&self) -> impl Iterator<Item = usize> + '_ {
        self.files.iter().filter(|f| is_unix(f)).map(key)
    }
}

impl Drop for Rights {
    /// A message dropped unread (or its socket closed): its files are closed by
    /// [`close_orphans`]. Messages are dropped with no socket lock held.
    fn drop(&mut self) {
        self.uncount();
        if !self.files.is_empty() {
            close_orphans(core::mem::take(&mut self.files));
        }
    }
}

/// An in-flight socket whose every reference is a counted one: its open file and count.
type Candidates = BTreeMap<usize, (Arc<OpenFile>, usize)>;

/// Frees the sockets in flight that no program can reach any more (Linux's `unix_gc`).
/// Called when a socket is closed; no lock may be held.
pub(super) fn collect() {
    if STATE.lock().is_empty() || COLLECTING.swap(true, Ordering::Acquire) {
        return;
    }
    let (garbage, candidates) = {
        let state = STATE.lock();
        let candidates = candidates(&state);
        (find_garbage(&candidates), candidates)
    };
    // Dropped with no lock held: the last references go and the sockets close.
    drop(garbage);
    drop(candidates);
    COLLECTING.store(false, Ordering::Release);
}

/// The in-flight sockets nothing but queued messages refers to (plus the reference the
/// upgrade here takes).
fn candidates(state: &BTreeMap<usize, (Weak<OpenFile>, usize)>) -> Candidates {
    state
        .iter()
        .filter_map(|(&k, (weak, inflight))| {
            let file = weak.upgrade()?;
            (Arc::strong_count(&file) == inflight + 1).then_some((k, (file, *inflight)))
        })
        .collect()
}

/// The messages of the unreachable candidates, taken out of their queues.
fn find_garbage(candidates: &Candidates) -> Vec<Msg> {
    // What each candidate's queue (and its embryos' queues) holds in flight.
    let children: BTreeMap<usize, Vec<usize>> = candidates
        .iter()
        .map(|(&k, (file, _))| {
            let held = file.ops.unix_socket().map(|s| s.in_flight_children());
            (k, held.unwrap_or_default())
        })
        .collect();
    // References from outside the candidates' queues make a candidate reachable.
    let mut outside: BTreeMap<usize, usize> =
        candidates.iter().map(|(&k, (_, n))| (k, *n)).collect();
    for k in children.values().flatten() {
        if let Some(n) = outside.get_mut(k) {
            *n = n.saturating_sub(1);
        }
    }
    let mut reachable: BTreeSet<usize> = outside
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(&k, _)| k)
        .collect();
    let mut todo: Vec<usize> = reachable.iter().copied().collect();
    while let Some(k) = todo.pop() {
        for &child in children.get(&k).into_iter().flatten() {
            if candidates.contains_key(&child) && reachable.insert(child) {
                todo.push(child);
            }
        }
    }
    let mut garbage = Vec::new();
    for (k, (file, _)) in candidates {
        if !reachable.contains(k) {
            if let Some(s) = file.ops.unix_socket() {
                s.purge_queue(&mut garbage);
            }
        }
    }
    garbage
}

/// Keys of the in-flight sockets that `msgs` carry.
pub(super) fn in_flight_keys<'a>(msgs: impl Iterator<Item = &'a Msg>) -> Vec<usize> {
    msgs.flat_map(|m| m.rights.unix_keys()).collect()
}
