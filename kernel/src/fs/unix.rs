//! `AF_UNIX` socket pairs (`socketpair`): two connected ends, each reading what the other
//! writes, built from two pipes.
//!
//! Programs use them for in-process signalling: Rust std's `Command::spawn` reports an
//! `execve` failure to the parent through one (`SOCK_SEQPACKET`). Both `SOCK_STREAM` and
//! `SOCK_SEQPACKET` are served as byte streams: message boundaries of `SOCK_SEQPACKET` are
//! not kept (a known difference from Linux; a reader that reads exactly what one write
//! sent, as std does, cannot tell). Named `AF_UNIX` sockets (`bind`/`connect` on a path)
//! are issue 14's.
use alloc::sync::Arc;

use linux_raw_sys::general::{O_RDWR, S_IFSOCK};

use super::file::{FileOps, FileStat, OpenFile};
use super::pipe::{self, Pipe};
use crate::syscall::Errno;

struct UnixEnd {
    rx: Arc<Pipe>,
    tx: Arc<Pipe>,
}

impl FileOps for UnixEnd {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        self.rx.read(file.nonblocking(), buf)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        self.tx.write(file.nonblocking(), buf, true)
    }

    fn send(&self, buf: &[u8], nonblocking: bool, nosignal: bool) -> Result<usize, Errno> {
        self.tx.write(nonblocking, buf, !nosignal)
    }

    fn recv(&self, buf: &mut [u8], nonblocking: bool) -> Result<usize, Errno> {
        self.rx.read(nonblocking, buf)
    }

    fn poll(&self) -> u16 {
        self.rx.poll_read() | self.tx.poll_write()
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
        self.rx.close(false);
        self.tx.close(true);
    }
}

/// A connected pair of ends with status flags `flags` (`O_NONBLOCK`).
pub fn socketpair(flags: u32) -> (Arc<OpenFile>, Arc<OpenFile>) {
    let (ab, ba) = pipe::pair();
    let a = OpenFile::new(
        Arc::new(UnixEnd {
            rx: ba.clone(),
            tx: ab.clone(),
        }),
        O_RDWR | flags,
    );
    let b = OpenFile::new(Arc::new(UnixEnd { rx: ab, tx: ba }), O_RDWR | flags);
    (a, b)
}
