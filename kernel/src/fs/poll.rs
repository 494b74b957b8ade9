//! Readiness wait queues: Linux's `wait_queue_head` with `poll_table` and wake callbacks.
//!
//! Every pollable kind of file (pipes, socket pairs, `AF_INET` sockets, the console,
//! eventfd, timerfd, epoll) owns one or more [`PollQueue`]s and wakes them when its
//! `poll` events may have changed ([`PollQueue::wake`], with the events that changed as a
//! hint, like the `key` of Linux's `wake_up_poll`). Whoever waits registers a [`Wake`]
//! callback on the queues of the files it watches ([`super::file::FileOps::poll_queues`]):
//! `poll`/`select` a [`ThreadWaker`] that wakes the calling thread, an epoll an entry that
//! queues the file on its ready list. So a change wakes only those watching that file.
//!
//! Wakers run in any context, NET_RX's softirq included, often under the object's own
//! lock (a socket's `net.sock`): the entry list has an interrupts-off leaf lock that is
//! never held while a callback runs. Callbacks are called one at a time by registration
//! id ("the next entry after the last one called"), so an entry removed or added
//! meanwhile is neither skipped wrongly nor called twice, and nothing is allocated in the
//! wake path. A callback only sets flags, takes other leaf locks and wakes threads
//! through the scheduler's lock-free wake: no wake-up is lost, none sleeps.
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::sched::WaitQueue;
use crate::sync::{IrqLock, LockClass};
use crate::syscall::Errno;

static QUEUE_CLASS: LockClass = LockClass::new("fs.poll_queue");
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// What a registered waiter does when a queue it is on is woken. Any context: it must
/// not sleep and must take only leaf locks.
pub trait Wake: Send + Sync {
    /// `events`: the `poll` events that may have changed (0: any).
    fn wake(&self, events: u32);
}

/// A file's readiness wait queue (`wait_queue_head_t`).
pub struct PollQueue {
    /// Registered callbacks in increasing id order.
    entries: IrqLock<Vec<(u64, Arc<dyn Wake>)>>,
}

impl Default for PollQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl PollQueue {
    pub const fn new() -> Self {
        PollQueue {
            entries: IrqLock::new(Vec::new(), &QUEUE_CLASS),
        }
    }

    /// Registers `waker` until the returned handle is dropped. Process context.
    pub fn add(self: &Arc<Self>, waker: Arc<dyn Wake>) -> Registration {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        self.entries.lock().push((id, waker));
        Registration {
            queue: self.clone(),
            id,
        }
    }

    /// Calls every registered waker with `events` (0: any). Any context.
    pub fn wake(&self, events: u32) {
        let mut last = 0;
        loop {
            let next = {
                let entries = self.entries.lock();
                let at = entries.partition_point(|(id, _)| *id <= last);
                entries.get(at).map(|(id, w)| (*id, w.clone()))
            };
            let Some((id, waker)) = next else { return };
            waker.wake(events);
            last = id;
        }
    }
}

/// A registration on a [`PollQueue`]; dropping it unregisters.
pub struct Registration {
    queue: Arc<PollQueue>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut entries = self.queue.entries.lock();
        if let Ok(at) = entries.binary_search_by_key(&self.id, |(id, _)| *id) {
            entries.remove(at);
        }
    }
}

/// The waiter of a `poll`, `select` or `epoll_wait` call: woken by any queue it is on.
pub struct ThreadWaker {
    woken: AtomicBool,
    queue: WaitQueue,
}

impl Wake for ThreadWaker {
    fn wake(&self, _events: u32) {
        self.woken.store(true, Ordering::Release);
        self.queue.wake_all();
    }
}

impl ThreadWaker {
    pub fn new() -> Arc<ThreadWaker> {
        Arc::new(ThreadWaker {
            woken: AtomicBool::new(false),
            queue: WaitQueue::new(),
        })
    }

    /// Forgets earlier wakes: called before a pass over the watched files, so a change
    /// during the pass makes the following [`Self::sleep`] return at once.
    pub fn arm(&self) {
        self.woken.store(false, Ordering::Release);
    }

    /// Sleeps until woken since the last [`Self::arm`], `deadline_ns` (monotonic), or a
    /// signal is pending (`Err(EINTR)`).
    pub fn sleep(&self, deadline_ns: Option<u64>) -> Result<(), Errno> {
        self.queue.wait_until_deadline(deadline_ns, || {
            self.woken.load(Ordering::Acquire) || crate::process::signal_pending()
        });
        if crate::process::signal_pending() {
            return Err(Errno::EINTR);
        }
        Ok(())
    }
}
