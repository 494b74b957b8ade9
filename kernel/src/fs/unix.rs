//! `AF_UNIX` socket pairs (`socketpair`): two connected ends, each reading what the other
//! writes, built from two pipes.
//!
//! Programs use them for in-process signalling: Rust std's `Command::spawn` reports an
//! `execve` failure to the parent through one (`SOCK_SEQPACKET`). Both `SOCK_STREAM` and
//! `SOCK_SEQPACKET` are served as byte streams: message boundaries of `SOCK_SEQPACKET` are
//! not kept (a known difference from Linux; a reader that reads exactly what one write
//! sent, as std does, cannot tell). Named `AF_UNIX` sockets (`bind`/`connect` on a path)
//! are issue 14's.
//!
//! `shutdown` closes this end's side of a pipe once: `SHUT_WR` the writing side of the
//! outgoing pipe (the peer reads end of file), `SHUT_RD` the reading side of the incoming
//! one (the peer's writes get `EPIPE`, ours reads end of file). `poll` follows Linux's
//! `unix_poll`: `POLLRDHUP` once the peer can send no more, `POLLHUP` once neither side
//! can, and writable while there is room, whether or not the peer is still there.
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use linux_raw_sys::general::{
    O_RDWR, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM,
    S_IFSOCK,
};

use super::file::{FileOps, FileStat, OpenFile};
use super::pipe::{self, Pipe};
use super::poll::PollQueue;
use crate::syscall::Errno;

struct UnixEnd {
    rx: Arc<Pipe>,
    tx: Arc<Pipe>,
    /// `SHUT_RD`: our reading side of `rx` is closed.
    read_shut: AtomicBool,
    /// `SHUT_WR`: our writing side of `tx` is closed.
    write_shut: AtomicBool,
}

impl UnixEnd {
    fn new(rx: Arc<Pipe>, tx: Arc<Pipe>) -> UnixEnd {
        UnixEnd {
            rx,
            tx,
            read_shut: AtomicBool::new(false),
            write_shut: AtomicBool::new(false),
        }
    }

    fn read(&self, nonblocking: bool, buf: &mut [u8]) -> Result<usize, Errno> {
        // After SHUT_RD nothing more can come: what is queued, then end of file.
        let nonblocking = nonblocking || self.read_shut.load(Ordering::Acquire);
        match self.rx.read(nonblocking, buf) {
            Err(Errno::EAGAIN) if self.read_shut.load(Ordering::Acquire) => Ok(0),
            r => r,
        }
    }

    fn write(&self, nonblocking: bool, buf: &[u8], sigpipe: bool) -> Result<usize, Errno> {
        if self.write_shut.load(Ordering::Acquire) {
            if sigpipe {
                crate::process::send_sigpipe();
            }
            return Err(Errno::EPIPE);
        }
        self.tx.write(nonblocking, buf, sigpipe)
    }
}

impl FileOps for UnixEnd {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        UnixEnd::read(self, file.nonblocking(), buf)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        UnixEnd::write(self, file.nonblocking(), buf, true)
    }

    fn send(&self, buf: &[u8], nonblocking: bool, nosignal: bool) -> Result<usize, Errno> {
        UnixEnd::write(self, nonblocking, buf, !nosignal)
    }

    fn recv(&self, buf: &mut [u8], nonblocking: bool) -> Result<usize, Errno> {
        UnixEnd::read(self, nonblocking, buf)
    }

    fn poll(&self) -> u16 {
        let rx = self.rx.poll_read() as u32;
        let tx = self.tx.poll_write() as u32;
        let peer_done = rx & POLLHUP != 0;
        let rcv_shutdown = peer_done || self.read_shut.load(Ordering::Acquire);
        // No reader left on the outgoing pipe: the peer closed or shut reading.
        let snd_shutdown = self.write_shut.load(Ordering::Acquire) || tx & POLLERR != 0;
        let mut ev = rx & (POLLIN | POLLRDNORM);
        if rcv_shutdown {
            ev |= POLLIN | POLLRDNORM | POLLRDHUP;
        }
        if rcv_shutdown && snd_shutdown {
            ev |= POLLHUP;
        }
        if tx & POLLOUT != 0 || snd_shutdown {
            ev |= POLLOUT | POLLWRNORM | POLLWRBAND;
        }
        ev as u16
    }

    fn poll_queues(&self, add: &mut dyn FnMut(&Arc<PollQueue>)) -> bool {
        add(&self.rx.poll_queue);
        add(&self.tx.poll_queue);
        true
    }

    fn shutdown(&self, read: bool, write: bool) -> Result<(), Errno> {
        if read && !self.read_shut.swap(true, Ordering::AcqRel) {
            self.rx.close(false);
        }
        if write && !self.write_shut.swap(true, Ordering::AcqRel) {
            self.tx.close(true);
        }
        Ok(())
    }

    fn stat(&self) -> FileStat {
        FileStat {
            mode: S_IFSOCK | 0o777,
            rdev: 0,
            size: 0,
            ino: self.rx.ino(),
        }
    }

    fn release(&self, _file: &OpenFile) {
        self.shutdown(true, true).ok();
    }
}

/// A connected pair of ends with status flags `flags` (`O_NONBLOCK`).
pub fn socketpair(flags: u32) -> (Arc<OpenFile>, Arc<OpenFile>) {
    let (ab, ba) = pipe::pair();
    let a = OpenFile::new(
        Arc::new(UnixEnd::new(ba.clone(), ab.clone())),
        O_RDWR | flags,
    );
    let b = OpenFile::new(Arc::new(UnixEnd::new(ab, ba)), O_RDWR | flags);
    (a, b)
}
