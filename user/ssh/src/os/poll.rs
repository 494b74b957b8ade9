//! A thin, safe wrapper over poll(2): the one system call std does not expose that both
//! programs need to wait on a socket and pipes at once.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// One descriptor to wait on and what happened to it.
pub struct Watch<'a> {
    fd: BorrowedFd<'a>,
    events: i16,
    revents: i16,
}

impl<'a> Watch<'a> {
    /// Wait for `fd` to become readable.
    pub fn read(fd: BorrowedFd<'a>) -> Self {
        Watch {
            fd,
            events: libc::POLLIN,
            revents: 0,
        }
    }

    /// Wait for `fd` to become writable.
    pub fn write(fd: BorrowedFd<'a>) -> Self {
        Watch {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        }
    }

    /// Ready for what was asked, or hung up/errored (a read then returns 0 or the error).
    pub fn ready(&self) -> bool {
        self.revents & (self.events | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
    }
}

/// Waits until one of `watches` is ready or `timeout_ms` passes (-1: no timeout). Retries on
/// EINTR. Returns how many are ready.
pub fn poll(watches: &mut [Watch<'_>], timeout_ms: i32) -> io::Result<usize> {
    let mut fds: Vec<libc::pollfd> = watches
        .iter()
        .map(|w| libc::pollfd {
            fd: w.fd.as_raw_fd(),
            events: w.events,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: `fds` is a valid, initialised array of `fds.len()` pollfd structs that lives
        // across the call; the descriptors are borrowed for 'a and so stay open.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if n >= 0 {
            for (w, f) in watches.iter_mut().zip(&fds) {
                w.revents = f.revents;
            }
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}
