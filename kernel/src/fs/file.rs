//! Open files: what a file descriptor refers to.
//!
//! An [`OpenFile`] is Linux's `struct file`, the open file description: the object's
//! operations ([`FileOps`]), the status flags (`O_APPEND`, `O_NONBLOCK`, the access
//! mode) and the position. `dup` and `fork` share one; `open` makes a new one.
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, Ordering};

use linux_raw_sys::general::{O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY};

use super::poll::PollQueue;
use crate::sync::Mutex;
use crate::syscall::{Errno, SysResult};

/// What a kind of file does. Reads and writes move kernel buffers (the system-call layer
/// copies to and from user memory); a call that must wait sleeps interruptibly
/// ([`super::wait`]) and returns `EINTR`-class errors when a signal arrives.
pub trait FileOps: Send + Sync {
    /// Reads at `*pos` (seekable files advance it; others ignore it).
    fn read(&self, file: &OpenFile, buf: &mut [u8], pos: &mut u64) -> Result<usize, Errno>;
    /// Writes at `*pos` (or at the end under `O_APPEND`, for files that have one).
    fn write(&self, file: &OpenFile, buf: &[u8], pos: &mut u64) -> Result<usize, Errno>;
    /// The `poll` events that hold now (`POLLIN`, `POLLOUT`, `POLLHUP`, `POLLERR`,
    /// `POLLRDHUP`).
    fn poll(&self) -> u16;
    /// Calls `add` with each readiness queue the file wakes when its `poll` events may
    /// have changed (Linux's `poll_wait` inside `f_op->poll`). `false` for files without
    /// `poll` (Linux's `file_can_poll`): they are always ready, and `epoll_ctl` refuses
    /// them with `EPERM`.
    fn poll_queues(&self, _add: &mut dyn FnMut(&Arc<PollQueue>)) -> bool {
        false
    }
    /// An `ioctl`; `ENOTTY` for files that have none.
    fn ioctl(&self, _file: &OpenFile, _cmd: u32, _arg: u64) -> SysResult {
        Err(Errno::ENOTTY)
    }
    /// `lseek` support: the size for `SEEK_END`, or `ESPIPE` for unseekable files.
    fn size(&self) -> Result<u64, Errno> {
        Err(Errno::ESPIPE)
    }
    /// `fstat`: the file's `st_mode` (type and permission bits), `st_rdev` and size.
    fn stat(&self) -> FileStat;
    /// The pipe behind the file (`F_GETPIPE_SZ`, `F_SETPIPE_SZ`).
    fn pipe(&self) -> Option<&super::pipe::Pipe> {
        None
    }
    /// The socket behind the file (the socket system calls; `ENOTSOCK` without one).
    fn socket(&self) -> Option<&dyn super::socket::Socket> {
        None
    }
    /// The `AF_UNIX` socket behind the file (its garbage collector follows files in
    /// flight through it).
    fn unix_socket(&self) -> Option<&super::unix::UnixSocket> {
        None
    }
    /// The `AF_INET` datagram (UDP) socket behind the file (the interface ioctls take
    /// `AF_INET` sockets of both types).
    fn inet_dgram(&self) -> Option<&super::inet_dgram::InetDgram> {
        None
    }
    /// The timer behind a timerfd (`timerfd_settime`, `timerfd_gettime`).
    fn timerfd(&self) -> Option<&super::timerfd::TimerFd> {
        None
    }
    /// The epoll behind the file (`epoll_ctl`, `epoll_wait`).
    fn epoll(&self) -> Option<&super::epoll::Epoll> {
        None
    }
    /// The VFS node behind the file, for files opened by path (`fstat`, `getdents64`,
    /// `fchdir`, `*at` calls relative to a directory descriptor).
    fn node(&self) -> Option<halyard_vfs::NodeRef> {
        None
    }
    /// The path the file was opened by, for files that keep it (regular files).
    fn path(&self) -> Option<alloc::vec::Vec<u8>> {
        None
    }
    /// A device's own path (a terminal's `/dev/pts/N`): what `/proc/PID/fd/N` shows,
    /// known without the VFS (procfs asks under its lock).
    fn device_path(&self) -> Option<alloc::vec::Vec<u8>> {
        None
    }
    /// The open file description is going away (its last descriptor closed).
    fn release(&self, _file: &OpenFile) {}
}

/// What `fstat` reports of a file that is not in a file system tree.
#[derive(Clone, Copy, Debug, Default)]
pub struct FileStat {
    pub mode: u32,
    pub rdev: u64,
    pub size: u64,
    pub ino: u64,
}

impl FileStat {
    /// Linux's anonymous inode (epoll, eventfd, timerfd): mode 0600, no type bits.
    pub const ANON_INODE: FileStat = FileStat {
        mode: 0o600,
        rdev: 0,
        size: 0,
        ino: 0,
    };

    /// A socket's inode number `ino`: `S_IFSOCK` with mode 0777, as Linux's sockfs inodes.
    pub const fn socket(ino: u64) -> FileStat {
        FileStat {
            mode: linux_raw_sys::general::S_IFSOCK | 0o777,
            rdev: 0,
            size: 0,
            ino,
        }
    }
}

/// An open file description.
pub struct OpenFile {
    pub ops: Arc<dyn FileOps>,
    /// `O_*` status flags and access mode (`F_GETFL`).
    flags: AtomicU32,
    /// The file position.
    pub pos: Mutex<u64>,
}

impl OpenFile {
    pub fn new(ops: Arc<dyn FileOps>, flags: u32) -> Arc<OpenFile> {
        Arc::new(OpenFile {
            ops,
            flags: AtomicU32::new(flags),
            pos: Mutex::new(0),
        })
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// `F_SETFL`: only `O_APPEND`, `O_NONBLOCK` (and the ignored `O_ASYNC`, `O_DIRECT`,
    /// `O_NOATIME`) change; the access mode and creation flags stay.
    pub fn set_status_flags(&self, new: u32) {
        use linux_raw_sys::general::{O_APPEND, O_DIRECT, O_NOATIME};
        let changeable = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | 0o20000 /* O_ASYNC */;
        let old = self.flags();
        self.flags
            .store((old & !changeable) | (new & changeable), Ordering::Relaxed);
    }

    pub fn nonblocking(&self) -> bool {
        self.flags() & O_NONBLOCK != 0
    }

    pub fn readable(&self) -> bool {
        matches!(self.flags() & O_ACCMODE, O_RDONLY | O_RDWR)
    }

    pub fn writable(&self) -> bool {
        matches!(self.flags() & O_ACCMODE, O_WRONLY | O_RDWR)
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        self.ops.clone().release(self);
    }
}
