//! TCP clients of an echo server: one connection per operation, a random message of up to
//! 8 KiB echoed back and compared, then close. [`blocking`] uses blocking calls bounded
//! by `SO_RCVTIMEO`/`SO_SNDTIMEO` and half-closes in every other operation (the server's
//! end of stream must follow the echo); [`with_epoll`] connects without blocking
//! (`EINPROGRESS`, then `SO_ERROR`) and moves the data from an epoll loop, edge or level
//! triggered in turn.

use crate::rng::Rng;
use crate::sys::{self, Epoll};
use crate::tally::{after_timeout, Outcome};
use crate::NET_WAIT;
use std::net::SocketAddrV4;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Instant;

const MAX_MESSAGE: usize = 8192;

/// Compares what came back at offset `at` with what was sent.
fn compare(sent: &[u8], at: usize, got: &[u8]) -> Result<(), Outcome> {
    if at + got.len() > sent.len() {
        return Err(Outcome::Wrong(format!(
            "the echo brought {} bytes for {} sent",
            at + got.len(),
            sent.len()
        )));
    }
    if sent[at..at + got.len()] != *got {
        return Err(Outcome::Wrong(format!(
            "the echo differs from what was sent within bytes {at}..{}",
            at + got.len()
        )));
    }
    Ok(())
}

fn early_end(got: usize, len: usize) -> Outcome {
    Outcome::Wrong(format!(
        "the echo ended after {got} of {len} bytes (end of stream)"
    ))
}

/// One blocking echo connection to `addr`.
pub fn blocking(addr: SocketAddrV4, rng: &mut Rng) -> Outcome {
    match blocking_echo(addr, rng) {
        Ok(()) => Outcome::Done,
        Err(o) => o,
    }
}

fn blocking_echo(addr: SocketAddrV4, rng: &mut Rng) -> Result<(), Outcome> {
    let fd = sys::socket(libc::AF_INET, libc::SOCK_STREAM)?;
    sys::set_timeouts(&fd, NET_WAIT)?;
    match sys::connect(&fd, addr) {
        Ok(()) => {}
        // `SO_SNDTIMEO` bounds a blocking connect; Linux then says EINPROGRESS.
        Err(libc::EINPROGRESS) => {
            return Err(after_timeout(
                fd.as_raw_fd(),
                libc::POLLOUT,
                false,
                "blocking connect",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let msg = rng.message(1, MAX_MESSAGE);
    let half_close = rng.bit();
    let raw = fd.as_raw_fd();
    match sys::send_all(raw, &msg) {
        Ok(()) => {}
        Err(libc::EAGAIN) => return Err(Outcome::Timeout),
        Err(e) => return Err(e.into()),
    }
    if half_close {
        sys::shutdown(raw, libc::SHUT_WR)?;
    }
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut got = 0;
    while got < msg.len() {
        match sys::recv(raw, &mut buf) {
            Ok(0) => return Err(early_end(got, msg.len())),
            Ok(n) => {
                compare(&msg, got, &buf[..n])?;
                got += n;
            }
            Err(libc::EAGAIN) => {
                return Err(after_timeout(raw, libc::POLLIN, false, "recv of the echo"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    if half_close {
        match sys::recv(raw, &mut buf) {
            Ok(0) => {}
            Ok(n) => {
                return Err(Outcome::Wrong(format!(
                    "{n} bytes more than were sent came back"
                )))
            }
            Err(libc::EAGAIN) => {
                return Err(after_timeout(
                    raw,
                    libc::POLLIN,
                    false,
                    "recv of the end of stream after a half-close",
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// One non-blocking echo connection to `addr` driven by epoll instance `ep` (the
/// thread's own; the descriptor leaves it when closed).
pub fn with_epoll(addr: SocketAddrV4, rng: &mut Rng, ep: &Epoll) -> Outcome {
    match epoll_echo(addr, rng, ep) {
        Ok(()) => Outcome::Done,
        Err(o) => o,
    }
}

/// The echo's state as the loop drives it.
struct Echo {
    msg: Vec<u8>,
    sent: usize,
    got: usize,
    connected: bool,
}

impl Echo {
    /// Sends and receives until `EAGAIN` (what edge triggering requires before a wait).
    fn pump(&mut self, fd: &OwnedFd, buf: &mut [u8]) -> Result<(), Outcome> {
        let raw = fd.as_raw_fd();
        while self.sent < self.msg.len() {
            match sys::send(raw, &self.msg[self.sent..]) {
                Ok(n) => self.sent += n,
                Err(libc::EAGAIN) => break,
                Err(e) => return Err(e.into()),
            }
        }
        while self.got < self.msg.len() {
            match sys::recv(raw, buf) {
                Ok(0) => return Err(early_end(self.got, self.msg.len())),
                Ok(n) => {
                    compare(&self.msg, self.got, &buf[..n])?;
                    self.got += n;
                }
                Err(libc::EAGAIN) => break,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// What the loop waits for now, as epoll events.
    fn wanted(&self) -> u32 {
        if !self.connected || self.sent < self.msg.len() {
            (libc::EPOLLOUT | libc::EPOLLIN) as u32
        } else {
            libc::EPOLLIN as u32
        }
    }
}

fn epoll_echo(addr: SocketAddrV4, rng: &mut Rng, ep: &Epoll) -> Result<(), Outcome> {
    let fd = sys::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK)?;
    match sys::connect(&fd, addr) {
        Ok(()) | Err(libc::EINPROGRESS) => {}
        Err(e) => return Err(e.into()),
    }
    let raw = fd.as_raw_fd();
    let edge = rng.bit();
    let mut echo = Echo {
        msg: rng.message(1, MAX_MESSAGE),
        sent: 0,
        got: 0,
        connected: false,
    };
    let base = libc::EPOLLRDHUP as u32;
    let mut interest = if edge {
        base | libc::EPOLLIN as u32 | libc::EPOLLOUT as u32 | libc::EPOLLET as u32
    } else {
        base | libc::EPOLLOUT as u32
    };
    ep.add(raw, interest)?;
    let mut buf = vec![0u8; MAX_MESSAGE];
    let deadline = Instant::now() + NET_WAIT;
    loop {
        if echo.connected {
            echo.pump(&fd, &mut buf)?;
            if echo.got == echo.msg.len() {
                return Ok(());
            }
        }
        if !edge && base | echo.wanted() != interest {
            interest = base | echo.wanted();
            ep.modify(raw, interest)?;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let events = ep.wait(left.as_millis() as i32)?;
        if events.is_empty() {
            let what = if echo.connected {
                "epoll_wait for the echo"
            } else {
                "epoll_wait for a non-blocking connect"
            };
            return Err(after_timeout(raw, echo.wanted() as i16, false, what));
        }
        if !echo.connected && events.iter().any(|&(f, _)| f == raw) {
            match sys::so_error(&fd)? {
                0 => echo.connected = true,
                libc::EINPROGRESS => {}
                e => return Err(e.into()),
            }
        }
    }
}
