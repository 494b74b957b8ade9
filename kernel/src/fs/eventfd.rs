//! `eventfd2`: a 64-bit counter as a file (Linux's `fs/eventfd.c`).
//!
//! A write of 8 bytes adds to the counter, waiting (or `EAGAIN`) while the sum would
//! pass `0xffff_ffff_ffff_fffe`; writing `u64::MAX` is `EINVAL`. A read of at least 8
//! bytes waits (or `EAGAIN`) while the counter is 0, then returns it and resets it to 0,
//! or, with `EFD_SEMAPHORE`, returns 1 and decrements it. Shorter buffers are `EINVAL`.
//! Readable while the counter is not 0, writable while at least 1 can be added.
use alloc::sync::Arc;

use linux_raw_sys::general::{O_RDWR, POLLIN, POLLOUT};

use super::file::{FileOps, FileStat, OpenFile};
use super::poll::PollQueue;
use super::wait;
use crate::sched::WaitQueue;
use crate::sync::{IrqLock, LockClass};
use crate::syscall::Errno;

static EVENTFD_CLASS: LockClass = LockClass::new("fs.eventfd");

/// The largest value the counter holds.
const MAX: u64 = u64::MAX - 1;

struct EventFd {
    count: IrqLock<u64>,
    semaphore: bool,
    /// Blocked readers and writers.
    waiters: WaitQueue,
    poll_queue: Arc<PollQueue>,
}

/// A new eventfd holding `initval`; `semaphore`: `EFD_SEMAPHORE`; `flags`: `O_NONBLOCK`.
pub fn new(initval: u32, semaphore: bool, flags: u32) -> Arc<OpenFile> {
    OpenFile::new(
        Arc::new(EventFd {
            count: IrqLock::new(u64::from(initval), &EVENTFD_CLASS),
            semaphore,
            waiters: WaitQueue::new(),
            poll_queue: Arc::new(PollQueue::new()),
        }),
        O_RDWR | flags,
    )
}

impl EventFd {
    fn changed(&self, events: u32) {
        self.waiters.wake_all();
        self.poll_queue.wake(events);
    }
}

impl FileOps for EventFd {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        loop {
            {
                let mut count = self.count.lock();
                if *count > 0 {
                    let value = if self.semaphore { 1 } else { *count };
                    *count -= value;
                    drop(count);
                    buf[..8].copy_from_slice(&value.to_ne_bytes());
                    self.changed(POLLOUT);
                    return Ok(8);
                }
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            wait::interruptible(&self.waiters, || *self.count.lock() > 0)
                .map_err(|_| Errno::ERESTARTSYS)?;
        }
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        let bytes: [u8; 8] = buf
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or(Errno::EINVAL)?;
        let value = u64::from_ne_bytes(bytes);
        if value == u64::MAX {
            return Err(Errno::EINVAL);
        }
        loop {
            {
                let mut count = self.count.lock();
                if MAX - *count >= value {
                    *count += value;
                    drop(count);
                    if value > 0 {
                        self.changed(POLLIN);
                    }
                    return Ok(8);
                }
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            wait::interruptible(&self.waiters, || MAX - *self.count.lock() >= value)
                .map_err(|_| Errno::ERESTARTSYS)?;
        }
    }

    fn poll(&self) -> u16 {
        let count = *self.count.lock();
        let mut ev = 0;
        if count > 0 {
            ev |= POLLIN;
        }
        if count < MAX {
            ev |= POLLOUT;
        }
        ev as u16
    }

    fn poll_queues(&self, add: &mut dyn FnMut(&Arc<PollQueue>)) -> bool {
        add(&self.poll_queue);
        true
    }

    fn stat(&self) -> FileStat {
        FileStat::ANON_INODE
    }
}
