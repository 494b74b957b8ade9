//! `timerfd_create`: a timer as a file (Linux's `fs/timerfd.c`).
//!
//! The timer is kept as its next expiry on the monotonic clock and its interval; how
//! many times it has expired is worked out from the clock when asked, so no tick has to
//! run for an interval timer nobody reads. A read of at least 8 bytes waits (or
//! `EAGAIN`) for the first expiry, then returns the number of expirations since the last
//! read (or the last `settime`) and moves the next expiry past now. Waking `poll` and
//! epoll at an expiry takes a kernel timer ([`crate::sched::sleep::arm_call`]), armed by
//! `settime` and again by each read that leaves an interval timer running; an expiry
//! that finds the timer changed since (its generation) does nothing.
//!
//! `CLOCK_REALTIME` timers are turned into monotonic deadlines when set; a later change
//! of the wall clock does not move them (Linux's `TFD_TIMER_CANCEL_ON_SET` and the
//! re-arming of absolute realtime timers are not kept).
use alloc::sync::{Arc, Weak};

use linux_raw_sys::general::{O_RDWR, POLLIN, POLLRDNORM};

use super::file::{FileOps, FileStat, OpenFile};
use super::poll::{PollQueue, Wake};
use super::wait;
use crate::sched::WaitQueue;
use crate::sync::{IrqLock, LockClass};
use crate::syscall::Errno;

static TIMERFD_CLASS: LockClass = LockClass::new("fs.timerfd");

#[derive(Clone, Copy, Default)]
struct State {
    /// Next expiry (monotonic ns); `None`: disarmed.
    next: Option<u64>,
    /// Interval (ns); 0: one-shot.
    interval: u64,
    /// Bumped by every `settime`, so expiries of an earlier setting are ignored.
    generation: u64,
}

impl State {
    /// Expirations up to `now`, and the state with them consumed.
    fn expirations(&self, now: u64) -> (u64, State) {
        match self.next {
            Some(next) if next <= now => {
                let mut after = *self;
                match (now - next).checked_div(self.interval) {
                    None => {
                        after.next = None;
                        (1, after)
                    }
                    Some(periods) => {
                        let n = periods + 1;
                        after.next = Some(next.saturating_add(n.saturating_mul(self.interval)));
                        (n, after)
                    }
                }
            }
            _ => (0, *self),
        }
    }
}

pub struct TimerFd {
    state: IrqLock<State>,
    /// Blocked readers.
    waiters: WaitQueue,
    poll_queue: Arc<PollQueue>,
    /// `CLOCK_MONOTONIC`, `CLOCK_REALTIME` or `CLOCK_BOOTTIME`.
    clock: u32,
    me: Weak<TimerFd>,
}

/// The expiry callback of one setting of a timer.
struct Expiry {
    timer: Weak<TimerFd>,
    generation: u64,
}

impl Wake for Expiry {
    fn wake(&self, _events: u32) {
        if let Some(t) = self.timer.upgrade() {
            if t.state.lock().generation == self.generation {
                t.waiters.wake_all();
                t.poll_queue.wake(POLLIN | POLLRDNORM);
            }
        }
    }
}

/// A new disarmed timer on `clock` with status flags `flags` (`O_NONBLOCK`).
pub fn new(clock: u32, flags: u32) -> Arc<OpenFile> {
    let timer = Arc::new_cyclic(|me| TimerFd {
        state: IrqLock::new(State::default(), &TIMERFD_CLASS),
        waiters: WaitQueue::new(),
        poll_queue: Arc::new(PollQueue::new()),
        clock,
        me: me.clone(),
    });
    OpenFile::new(timer, O_RDWR | flags)
}

impl TimerFd {
    /// The clock it was created on.
    pub fn clock(&self) -> u32 {
        self.clock
    }

    /// Arms the kernel timer for the state's next expiry, if any.
    fn arm(&self, s: &State) {
        if let Some(next) = s.next {
            crate::sched::sleep::arm_call(
                next,
                Arc::new(Expiry {
                    timer: self.me.clone(),
                    generation: s.generation,
                }),
            );
        }
    }

    /// `timerfd_settime`: first expiry at monotonic `first` (`None`: disarm), then every
    /// `interval` ns; returns the old (time to next expiry, interval).
    pub fn set(&self, first: Option<u64>, interval: u64) -> (u64, u64) {
        let now = crate::time::now_ns();
        let old = self.get();
        let new = {
            let mut s = self.state.lock();
            s.next = first;
            s.interval = if first.is_some() { interval } else { 0 };
            s.generation += 1;
            *s
        };
        self.arm(&new);
        // A deadline already past is ready now.
        if first.is_some_and(|f| f <= now) {
            self.waiters.wake_all();
            self.poll_queue.wake(POLLIN | POLLRDNORM);
        }
        old
    }

    /// `timerfd_gettime`: (time to the next expiry, interval); (0, 0) when disarmed.
    pub fn get(&self) -> (u64, u64) {
        let now = crate::time::now_ns();
        let (_, s) = self.state.lock().expirations(now);
        match s.next {
            Some(next) => (next.saturating_sub(now).max(1), s.interval),
            None => (0, 0),
        }
    }
}

impl FileOps for TimerFd {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        loop {
            let now = crate::time::now_ns();
            let taken = {
                let mut s = self.state.lock();
                let (n, after) = s.expirations(now);
                if n > 0 {
                    *s = after;
                }
                (n > 0).then_some((n, after))
            };
            if let Some((n, after)) = taken {
                self.arm(&after);
                buf[..8].copy_from_slice(&n.to_ne_bytes());
                return Ok(8);
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            wait::interruptible(&self.waiters, || {
                self.state.lock().expirations(crate::time::now_ns()).0 > 0
            })
            .map_err(|_| Errno::ERESTARTSYS)?;
        }
    }

    fn write(&self, _file: &OpenFile, _buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn poll(&self) -> u16 {
        let ready = self.state.lock().expirations(crate::time::now_ns()).0 > 0;
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

    fn timerfd(&self) -> Option<&TimerFd> {
        Some(self)
    }
}
