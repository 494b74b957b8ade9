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

use linux_raw_sys::general::{POLLERR, POLLHUP, POLLIN, POLLOUT, O_RDONLY, O_WRONLY, S_IFIFO};

use super::file::{FileOps, FileStat, OpenFile};
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
}

/// The shared part of a pipe.
pub struct Pipe {
    state: IrqLock<State>,
    readable: WaitQueue,
    writable: WaitQueue,
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
    let pipe = Arc::new(Pipe {
        state: IrqLock::new(
            State {
                buf: VecDeque::new(),
                readers: 1,
                writers: 1,
            },
            &PIPE_CLASS,
        ),
        readable: WaitQueue::new(),
        writable: WaitQueue::new(),
        ino: NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
    });
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

impl FileOps for End {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        let p = &self.pipe;
        loop {
            {
                let mut s = p.state.lock();
                if !s.buf.is_empty() {
                    let n = buf.len().min(s.buf.len());
                    for (d, b) in buf.iter_mut().zip(s.buf.drain(..n)) {
                        *d = b;
                    }
                    drop(s);
                    p.writable.wake_all();
                    wait::notify();
                    return Ok(n);
                }
                if s.writers == 0 {
                    return Ok(0);
                }
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            wait::interruptible(&p.readable, || {
                let s = p.state.lock();
                !s.buf.is_empty() || s.writers == 0
            })?;
        }
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        let p = &self.pipe;
        let mut done = 0;
        while done < buf.len() {
            let left = buf.len() - done;
            {
                let mut s = p.state.lock();
                if s.readers == 0 {
                    drop(s);
                    crate::process::send_sigpipe();
                    return if done > 0 { Ok(done) } else { Err(Errno::EPIPE) };
                }
                let room = PIPE_SIZE - s.buf.len();
                // Atomic writes wait for room for all of themselves.
                let n = if left <= PIPE_BUF && room < left { 0 } else { room.min(left) };
                if n > 0 {
                    s.buf.extend(&buf[done..done + n]);
                    done += n;
                    drop(s);
                    p.readable.wake_all();
                    wait::notify();
                    continue;
                }
            }
            if file.nonblocking() {
                return if done > 0 { Ok(done) } else { Err(Errno::EAGAIN) };
            }
            let need = left.min(PIPE_BUF);
            if let Err(e) = wait::interruptible(&p.writable, || {
                let s = p.state.lock();
                s.readers == 0 || PIPE_SIZE - s.buf.len() >= need
            }) {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
        }
        Ok(done)
    }

    fn poll(&self) -> u16 {
        let s = self.pipe.state.lock();
        let mut ev = 0;
        if self.write {
            if s.readers == 0 {
                ev |= POLLERR;
            } else if PIPE_SIZE - s.buf.len() >= PIPE_BUF {
                ev |= POLLOUT;
            }
        } else {
            if !s.buf.is_empty() {
                ev |= POLLIN;
            }
            if s.writers == 0 {
                ev |= POLLHUP;
            }
        }
        ev as u16
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
        {
            let mut s = self.pipe.state.lock();
            if self.write {
                s.writers -= 1;
            } else {
                s.readers -= 1;
            }
        }
        self.pipe.readable.wake_all();
        self.pipe.writable.wake_all();
        wait::notify();
    }
}
