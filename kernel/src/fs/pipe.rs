//! Pipes: `pipe2`.
//!
//! A pipe is a 64 KiB ring (Linux's default of 16 pages) with counts of open read and
//! write ends. Linux's rules: a read returns what is there (at least one byte), waits
//! while the pipe is empty and a writer remains, and reads 0 (end of file) when no writer
//! is left; a write of at most `PIPE_BUF` (4096) bytes is atomic (it waits for room for all
//! of it), a larger one may be split; writing with no reader left is `EPIPE` and raises
//! `SIGPIPE`. `O_NONBLOCK` turns each wait into `EAGAIN`.
use alloc::collections::VecDeque;
use alloc::sync::Arc;

use linux_raw_sys::general::{
    O_RDONLY, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, S_IFIFO,
};

use super::file::{FileOps, FileStat, OpenFile};
use super::poll::PollQueue;
use super::wait;
use crate::sched::WaitQueue;
use crate::sync::{IrqLock, LockClass};
use crate::syscall::Errno;

/// Capacity of a pipe.
pub const PIPE_SIZE: usize = 65536;
/// Writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;

static PIPE_CLASS: LockClass = LockClass::new("fs.pipe");

struct State {
    buf: VecDeque<u8>,
    readers: u32,
    writers: u32,
    /// Bytes the pipe holds at most (`F_SETPIPE_SZ`).
    capacity: usize,
}

/// Largest capacity an unprivileged process may set (Linux's default `pipe-max-size`).
pub const PIPE_MAX_SIZE: usize = 1 << 20;

/// The shared part of a pipe.
pub struct Pipe {
    state: IrqLock<State>,
    readable: WaitQueue,
    writable: WaitQueue,
    /// Readiness queue of both ends (`poll`, `epoll`).
    pub poll_queue: Arc<PollQueue>,
    ino: u64,
}

/// One end of a pipe.
struct End {
    pipe: Arc<Pipe>,
    write: bool,
}

static NEXT_INO: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

/// A new pipe: (read end, write end), with `flags` (`O_NONBLOCK`, `O_CLOEXEC` is the
/// caller's) on both.
pub fn new(flags: u32) -> (Arc<OpenFile>, Arc<OpenFile>) {
    let pipe = Pipe::new();
    let r = OpenFile::new(
        Arc::new(End {
            pipe: pipe.clone(),
            write: false,
        }),
        O_RDONLY | flags,
    );
    let w = OpenFile::new(Arc::new(End { pipe, write: true }), O_WRONLY | flags);
    (r, w)
}

impl Pipe {
    fn new() -> Arc<Pipe> {
        Arc::new(Pipe {
            state: IrqLock::new(
                State {
                    buf: VecDeque::new(),
                    readers: 1,
                    writers: 1,
                    capacity: PIPE_SIZE,
                },
                &PIPE_CLASS,
            ),
            readable: WaitQueue::new(),
            writable: WaitQueue::new(),
            poll_queue: Arc::new(PollQueue::new()),
            ino: NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
        })
    }

    /// A read from the pipe (see the module docs).
    pub fn read(&self, nonblocking: bool, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            {
                let mut s = self.state.lock();
                if !s.buf.is_empty() {
                    let n = buf.len().min(s.buf.len());
                    for (d, b) in buf.iter_mut().zip(s.buf.drain(..n)) {
                        *d = b;
                    }
                    drop(s);
                    self.writable.wake_all();
                    self.poll_queue.wake(POLLOUT | POLLWRNORM);
                    return Ok(n);
                }
                if s.writers == 0 {
                    return Ok(0);
                }
            }
            if nonblocking {
                return Err(Errno::EAGAIN);
            }
            wait::interruptible(&self.readable, || {
                let s = self.state.lock();
                !s.buf.is_empty() || s.writers == 0
            })
            .map_err(|_| Errno::ERESTARTSYS)?;
        }
    }

    /// A write into the pipe (see the module docs).
    pub fn write(&self, nonblocking: bool, buf: &[u8]) -> Result<usize, Errno> {
        let mut done = 0;
        while done < buf.len() {
            let left = buf.len() - done;
            {
                let mut s = self.state.lock();
                if s.readers == 0 {
                    drop(s);
                    crate::process::send_sigpipe();
                    return if done > 0 {
                        Ok(done)
                    } else {
                        Err(Errno::EPIPE)
                    };
                }
                let room = s.capacity - s.buf.len();
                // Atomic writes wait for room for all of themselves.
                let n = if left <= PIPE_BUF && room < left {
                    0
                } else {
                    room.min(left)
                };
                if n > 0 {
                    s.buf.extend(&buf[done..done + n]);
                    done += n;
                    drop(s);
                    self.readable.wake_all();
                    self.poll_queue.wake(POLLIN | POLLRDNORM);
                    continue;
                }
            }
            if nonblocking {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
            let need = left.min(PIPE_BUF);
            if wait::interruptible(&self.writable, || {
                let s = self.state.lock();
                s.readers == 0 || s.capacity - s.buf.len() >= need
            })
            .is_err()
            {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::ERESTARTSYS)
                };
            }
        }
        Ok(done)
    }

    /// `poll` events of the read side.
    pub fn poll_read(&self) -> u16 {
        let s = self.state.lock();
        let mut ev = 0;
        if !s.buf.is_empty() {
            ev |= POLLIN | POLLRDNORM;
        }
        if s.writers == 0 {
            ev |= POLLHUP;
        }
        ev as u16
    }

    /// `poll` events of the write side.
    pub fn poll_write(&self) -> u16 {
        let s = self.state.lock();
        (if s.readers == 0 {
            POLLERR
        } else if s.capacity - s.buf.len() >= PIPE_BUF {
            POLLOUT | POLLWRNORM
        } else {
            0
        }) as u16
    }

    /// One reader (or writer) end closed.
    pub fn close(&self, writer: bool) {
        {
            let mut s = self.state.lock();
            if writer {
                s.writers -= 1;
            } else {
                s.readers -= 1;
            }
        }
        self.readable.wake_all();
        self.writable.wake_all();
        self.poll_queue.wake(0);
    }

    /// `F_GETPIPE_SZ`.
    pub fn capacity(&self) -> usize {
        self.state.lock().capacity
    }

    /// `F_SETPIPE_SZ`: the size rounded up to a power-of-two number of pages; `EPERM`
    /// above [`PIPE_MAX_SIZE`] unless `privileged`, `EBUSY` below what the pipe holds,
    /// `EINVAL` for a size that does not fit an `int` page count.
    pub fn set_capacity(&self, size: u64, privileged: bool) -> Result<usize, Errno> {
        let pages = size.max(1).div_ceil(4096);
        let bytes = pages
            .checked_next_power_of_two()
            .and_then(|p| p.checked_mul(4096));
        let bytes = bytes
            .filter(|&b| b <= u64::from(u32::MAX >> 1))
            .ok_or(Errno::EINVAL)? as usize;
        if bytes > PIPE_MAX_SIZE && !privileged {
            return Err(Errno::EPERM);
        }
        let mut s = self.state.lock();
        if s.buf.len() > bytes {
            return Err(Errno::EBUSY);
        }
        s.capacity = bytes;
        drop(s);
        self.writable.wake_all();
        self.poll_queue.wake(POLLOUT | POLLWRNORM);
        Ok(bytes)
    }
}

impl FileOps for End {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        self.pipe.read(file.nonblocking(), buf)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        self.pipe.write(file.nonblocking(), buf)
    }

    fn poll(&self) -> u16 {
        if self.write {
            self.pipe.poll_write()
        } else {
            self.pipe.poll_read()
        }
    }

    fn poll_queues(&self, add: &mut dyn FnMut(&Arc<PollQueue>)) -> bool {
        add(&self.pipe.poll_queue);
        true
    }

    fn stat(&self) -> FileStat {
        FileStat {
            mode: S_IFIFO | 0o600,
            rdev: 0,
            size: 0,
            ino: self.pipe.ino,
        }
    }

    fn release(&self, _file: &OpenFile) {
        self.pipe.close(self.write);
    }

    fn pipe(&self) -> Option<&Pipe> {
        Some(&self.pipe)
    }
}
