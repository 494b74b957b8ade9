//! epoll (Linux's `fs/eventpoll.c`): an interest list of (file, descriptor) pairs and a
//! ready list that the files' wake-ups fill.
//!
//! Adding a file registers an [`Entry`] on the file's readiness queues. When a queue is
//! woken with events the entry is interested in (or with no hint), the entry puts itself
//! on the epoll's ready list, once until the next `epoll_wait` takes it, and wakes the
//! epoll's waiters and its own readiness queue (an epoll watched by another epoll, or by
//! `poll`). This runs in any context, NET_RX's softirq included: the ready list has an
//! interrupts-off leaf lock, and room for every entry is reserved when the entry is added,
//! so the wake path never allocates and never drops an event. `epoll_wait` looks only at
//! the entries on the ready list: it asks each file for its events, reports those asked
//! for, and puts a level-triggered entry that had events back on the list (Linux's rule:
//! it is looked at again on the next wait); an edge-triggered one waits for its next
//! wake-up, and an `EPOLLONESHOT` one is disabled until `EPOLL_CTL_MOD`.
//!
//! An entry holds its file weakly, as Linux's epoll does not keep a file open: once the
//! file's last descriptor is closed the entry is dropped (at the next `epoll_ctl` or
//! `epoll_wait`). Adding an epoll to an epoll is checked for loops and depth under one
//! global mutex (Linux's `epnested_mutex`): `ELOOP`.
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use linux_raw_sys::general::{
    EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLONESHOT, EPOLLWAKEUP, O_RDWR, POLLIN,
    POLLRDNORM,
};

use super::file::{FileOps, FileStat, OpenFile};
use super::poll::{PollQueue, Registration, ThreadWaker, Wake};
use crate::sync::{IrqLock, LockClass, Mutex};
use crate::syscall::Errno;

static READY_CLASS: LockClass = LockClass::new("fs.epoll_ready");

/// Linux's `EP_MAX_NESTS`: how deep epolls may watch epolls.
const MAX_NESTS: usize = 4;
/// Flag bits that are not events (`EP_PRIVATE_BITS`).
const PRIVATE: u32 = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;

/// Serialises adding epolls to epolls, so two such adds cannot make a loop together.
static NESTING: Mutex<()> = Mutex::new(());

/// One watched (file, descriptor) pair.
struct Entry {
    me: Weak<Entry>,
    epoll: Weak<Epoll>,
    file: Weak<OpenFile>,
    /// Events asked for, with `EPOLLET`/`EPOLLONESHOT`; no event bits once a one-shot
    /// entry has fired.
    interest: AtomicU32,
    data: AtomicU64,
    /// On the ready list.
    queued: AtomicBool,
}

impl Wake for Entry {
    fn wake(&self, events: u32) {
        let interest = self.interest.load(Ordering::Acquire);
        if interest & !PRIVATE == 0 || (events != 0 && events & interest == 0) {
            return;
        }
        if let (Some(epoll), Some(me)) = (self.epoll.upgrade(), self.me.upgrade()) {
            epoll.enqueue(&me);
        }
    }
}

/// What the interest list keeps per entry: the entry and its registrations.
struct Item {
    entry: Arc<Entry>,
    _registrations: Vec<Registration>,
}

/// An epoll instance.
pub struct Epoll {
    me: Weak<Epoll>,
    /// The interest list, by (file address, descriptor). Process context only.
    items: Mutex<BTreeMap<(usize, i32), Item>>,
    /// Entries with wake-ups not yet looked at; room for every entry is reserved.
    ready: IrqLock<Vec<Arc<Entry>>>,
    /// Threads in `epoll_wait`.
    waiters: Arc<ThreadWaker>,
    poll_queue: Arc<PollQueue>,
}

/// The result of `epoll_wait` for one entry.
pub struct Event {
    pub events: u32,
    pub data: u64,
}

/// A new epoll file with status flags `flags`.
pub fn new(flags: u32) -> Arc<OpenFile> {
    let epoll = Arc::new_cyclic(|me| Epoll {
        me: me.clone(),
        items: Mutex::new(BTreeMap::new()),
        ready: IrqLock::new(Vec::new(), &READY_CLASS),
        waiters: ThreadWaker::new(),
        poll_queue: Arc::new(PollQueue::new()),
    });
    OpenFile::new(epoll, O_RDWR | flags)
}

/// The interest list's key of `fd` open as `file`.
fn key(file: &Arc<OpenFile>, fd: i32) -> (usize, i32) {
    (Arc::as_ptr(file) as usize, fd)
}

impl Epoll {
    /// Puts `entry` on the ready list (once) and wakes whoever waits. Any context.
    fn enqueue(&self, entry: &Arc<Entry>) {
        if !entry.queued.swap(true, Ordering::AcqRel) {
            let mut ready = self.ready.lock();
            // Room was reserved when the entry was added: this never allocates.
            if ready.try_reserve(1).is_ok() {
                ready.push(entry.clone());
            }
        }
        self.waiters.wake(0);
        self.poll_queue.wake(POLLIN | POLLRDNORM);
    }

    /// Drops the entries whose file is closed.
    fn prune(items: &mut BTreeMap<(usize, i32), Item>) {
        items.retain(|_, item| item.entry.file.strong_count() > 0);
    }

    /// The epolls this one watches.
    fn children(&self) -> Vec<Arc<OpenFile>> {
        self.items
            .lock()
            .values()
            .filter_map(|item| item.entry.file.upgrade())
            .filter(|f| f.ops.epoll().is_some())
            .collect()
    }

    /// Whether watching `file` (an epoll) from `me` would make a loop or nest too deep.
    fn makes_loop(me: &Epoll, file: &OpenFile, depth: usize) -> bool {
        let Some(ep) = file.ops.epoll() else {
            return false;
        };
        if core::ptr::eq(ep, me) || depth >= MAX_NESTS {
            return true;
        }
        ep.children()
            .iter()
            .any(|child| Epoll::makes_loop(me, child, depth + 1))
    }

    /// `epoll_ctl(EPOLL_CTL_ADD/MOD/DEL)`, after the descriptor checks: `file` is open as
    /// `fd`; `event` is (events, data) for ADD and MOD.
    pub fn ctl(
        &self,
        op: u32,
        file: &Arc<OpenFile>,
        fd: i32,
        event: (u32, u64),
    ) -> Result<(), Errno> {
        use linux_raw_sys::general::{EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD};
        let _nesting = (op == EPOLL_CTL_ADD && file.ops.epoll().is_some()).then(|| NESTING.lock());
        if op == EPOLL_CTL_ADD && file.ops.epoll().is_some() && Epoll::makes_loop(self, file, 0) {
            return Err(Errno(linux_raw_sys::errno::ELOOP));
        }
        // EPOLLWAKEUP needs CAP_BLOCK_SUSPEND; Linux drops it silently without.
        let events = (event.0 & !EPOLLWAKEUP) | EPOLLERR | EPOLLHUP;
        let mut items = self.items.lock();
        Epoll::prune(&mut items);
        let k = key(file, fd);
        match op {
            EPOLL_CTL_ADD => {
                if items.contains_key(&k) {
                    return Err(Errno(linux_raw_sys::errno::EEXIST));
                }
                let entry = Arc::new_cyclic(|me| Entry {
                    me: me.clone(),
                    epoll: self.me.clone(),
                    file: Arc::downgrade(file),
                    interest: AtomicU32::new(events),
                    data: AtomicU64::new(event.1),
                    queued: AtomicBool::new(false),
                });
                self.ready
                    .lock()
                    .try_reserve(items.len() + 1)
                    .map_err(|_| Errno::ENOMEM)?;
                let mut registrations = Vec::new();
                file.ops
                    .poll_queues(&mut |q| registrations.push(q.add(entry.clone())));
                items.insert(
                    k,
                    Item {
                        entry: entry.clone(),
                        _registrations: registrations,
                    },
                );
                drop(items);
                self.enqueue(&entry);
            }
            EPOLL_CTL_MOD => {
                let item = items.get(&k).ok_or(Errno(linux_raw_sys::errno::ENOENT))?;
                if item.entry.interest.load(Ordering::Acquire) & EPOLLEXCLUSIVE != 0 {
                    return Err(Errno::EINVAL);
                }
                let entry = item.entry.clone();
                drop(items);
                entry.data.store(event.1, Ordering::Release);
                entry.interest.store(events, Ordering::Release);
                self.enqueue(&entry);
            }
            EPOLL_CTL_DEL => {
                let item = items
                    .remove(&k)
                    .ok_or(Errno(linux_raw_sys::errno::ENOENT))?;
                // Make a queued entry harmless: the wait skips entries with no events.
                item.entry.interest.store(0, Ordering::Release);
            }
            _ => return Err(Errno::EINVAL),
        }
        Ok(())
    }

    /// Takes the ready list and reports up to `max` entries with events (see the module
    /// docs); the rest go back on the list.
    fn harvest(&self, max: usize) -> Vec<Event> {
        let capacity = self.items.lock().len() + 1;
        let mut taken = Vec::with_capacity(capacity);
        core::mem::swap(&mut *self.ready.lock(), &mut taken);
        {
            // Keep the reserved room on the list for the wake path.
            let mut ready = self.ready.lock();
            let _ = ready.try_reserve(capacity);
        }
        let mut out = Vec::new();
        let mut again = Vec::new();
        for entry in taken {
            entry.queued.store(false, Ordering::Release);
            let interest = entry.interest.load(Ordering::Acquire);
            let Some(file) = entry.file.upgrade() else {
                continue;
            };
            if interest & !PRIVATE == 0 {
                continue;
            }
            let events = u32::from(file.ops.poll()) & interest & !PRIVATE;
            if events == 0 {
                continue;
            }
            if out.len() == max {
                again.push(entry);
                continue;
            }
            out.push(Event {
                events,
                data: entry.data.load(Ordering::Acquire),
            });
            if interest & EPOLLONESHOT != 0 {
                entry.interest.store(interest & PRIVATE, Ordering::Release);
            } else if interest & EPOLLET == 0 {
                again.push(entry);
            }
        }
        for entry in again {
            if !entry.queued.swap(true, Ordering::AcqRel) {
                let mut ready = self.ready.lock();
                if ready.try_reserve(1).is_ok() {
                    ready.push(entry);
                }
            }
        }
        out
    }

    /// `epoll_wait`: up to `max` events, waiting until `deadline` (monotonic ns) for one;
    /// `Err(EINTR)` for a signal.
    pub fn wait(&self, max: usize, deadline: Option<u64>) -> Result<Vec<Event>, Errno> {
        Epoll::prune(&mut self.items.lock());
        loop {
            self.waiters.arm();
            let events = self.harvest(max);
            if !events.is_empty() || deadline.is_some_and(|d| crate::time::now_ns() >= d) {
                return Ok(events);
            }
            if !self.ready.lock().is_empty() {
                continue;
            }
            self.waiters.sleep(deadline)?;
        }
    }
}

impl FileOps for Epoll {
    fn read(&self, _file: &OpenFile, _buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _file: &OpenFile, _buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    /// Readable when an entry on the ready list has events (Linux's `ep_eventpoll_poll`).
    fn poll(&self) -> u16 {
        let n = self.ready.lock().len();
        let mut queued = Vec::with_capacity(n);
        queued.extend(self.ready.lock().iter().take(n).cloned());
        let ready = queued.iter().any(|entry| {
            let interest = entry.interest.load(Ordering::Acquire);
            entry
                .file
                .upgrade()
                .is_some_and(|f| u32::from(f.ops.poll()) & interest & !PRIVATE != 0)
        });
        if ready {
            (POLLIN | POLLRDNORM) as u16
        } else {
            0
        }
    }

    fn poll_queues(&self, add: &mut dyn FnMut(&Arc<PollQueue>)) -> bool {
        add(&self.poll_queue);
        true
    }

    fn stat(&self) -> FileStat {
        FileStat::ANON_INODE
    }

    fn epoll(&self) -> Option<&Epoll> {
        Some(self)
    }
}
