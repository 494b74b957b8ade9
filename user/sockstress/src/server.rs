//! The echo server the loopback clients and the host's flood connect to: one thread per
//! CPU, each with its own epoll instance watching the shared non-blocking listener (level
//! triggered: every thread wakes for a connection, one accept wins, the others get
//! `EAGAIN`) and its connections (edge triggered: each event drains the socket to
//! `EAGAIN`), plus an eventfd that tells it to stop.
//!
//! Its lost wakeups: every second it looks at the connections that had no event for two
//! seconds; one that is ready (readable before its end of stream, writable with output
//! pending, or in error) twice in a row, a second apart, had an edge that epoll never
//! delivered.

use crate::sys::{self, Epoll};
use crate::tally::{Kind, Outcome, Tally};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

const SWEEP_EVERY: Duration = Duration::from_secs(1);
const QUIET: Duration = Duration::from_secs(2);

/// The server's threads and the eventfd that stops them.
pub struct Server {
    stop: OwnedFd,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts `threads` threads serving `listener` (non-blocking).
    pub fn start(
        listener: &'static OwnedFd,
        threads: usize,
        tally: &'static Tally,
    ) -> Result<Server, i32> {
        let stop = sys::eventfd(libc::EFD_NONBLOCK)?;
        let stop_raw = stop.as_raw_fd();
        let threads = (0..threads)
            .map(|_| {
                let ep = Epoll::new()?;
                ep.add(listener.as_raw_fd(), libc::EPOLLIN as u32)?;
                ep.add(stop_raw, libc::EPOLLIN as u32)?;
                let serve = move || Loop::new(ep, listener.as_raw_fd(), stop_raw, tally).run();
                std::thread::Builder::new()
                    .spawn(serve)
                    .map_err(|_| libc::EAGAIN)
            })
            .collect::<Result<Vec<_>, i32>>()?;
        Ok(Server { stop, threads })
    }

    /// Stops the threads and waits for them.
    pub fn stop(self) {
        let _ = sys::write_u64(&self.stop, 1);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

struct Conn {
    fd: OwnedFd,
    pending: Vec<u8>,
    eof: bool,
    last_event: Instant,
    suspect: bool,
}

impl Conn {
    /// Reads to `EAGAIN` (or end of stream) and writes what is pending; `Ok(true)` when the
    /// connection is over (end of stream, all echoed).
    fn pump(&mut self, buf: &mut [u8]) -> Result<bool, i32> {
        let raw = self.fd.as_raw_fd();
        while !self.eof {
            match sys::recv(raw, buf) {
                Ok(0) => self.eof = true,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(libc::EAGAIN) => break,
                Err(e) => return Err(e),
            }
        }
        while !self.pending.is_empty() {
            match sys::send(raw, &self.pending) {
                Ok(n) => drop(self.pending.drain(..n)),
                Err(libc::EAGAIN) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(self.eof && self.pending.is_empty())
    }

    /// The poll events an edge would have been delivered for.
    fn awaited(&self) -> i16 {
        let read = if self.eof { 0 } else { libc::POLLIN };
        let write = if self.pending.is_empty() {
            0
        } else {
            libc::POLLOUT
        };
        read | write
    }
}

struct Loop {
    ep: Epoll,
    listener: RawFd,
    stop: RawFd,
    tally: &'static Tally,
    conns: HashMap<RawFd, Conn>,
    buf: Vec<u8>,
}

impl Loop {
    fn new(ep: Epoll, listener: RawFd, stop: RawFd, tally: &'static Tally) -> Loop {
        Loop {
            ep,
            listener,
            stop,
            tally,
            conns: HashMap::new(),
            buf: vec![0; 16 * 1024],
        }
    }

    fn run(mut self) {
        let mut last_sweep = Instant::now();
        loop {
            let events = match self.ep.wait(500) {
                Ok(e) => e,
                Err(libc::EINTR) => continue,
                Err(e) => return self.tally.record(Kind::Server, e.into()),
            };
            for (fd, _) in events {
                if fd == self.stop {
                    return;
                } else if fd == self.listener {
                    self.accept_all();
                } else {
                    self.serve(fd);
                }
            }
            if last_sweep.elapsed() >= SWEEP_EVERY {
                self.sweep();
                last_sweep = Instant::now();
            }
        }
    }

    fn accept_all(&mut self) {
        loop {
            let (fd, peer) = match sys::accept(self.listener, libc::SOCK_NONBLOCK) {
                Ok(c) => c,
                Err(libc::EAGAIN) => return,
                Err(e) => return self.tally.record(Kind::Server, e.into()),
            };
            if !peer.ip().is_loopback() {
                self.tally.record(Kind::Server, Outcome::Extra);
            }
            let events = libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET;
            if let Err(e) = self.ep.add(fd.as_raw_fd(), events as u32) {
                return self.tally.record(Kind::Server, e.into());
            }
            let raw = fd.as_raw_fd();
            let conn = Conn {
                fd,
                pending: Vec::new(),
                eof: false,
                last_event: Instant::now(),
                suspect: false,
            };
            self.conns.insert(raw, conn);
            // Data may have come with the connection: an edge before the add is not seen.
            self.serve(raw);
        }
    }

    fn serve(&mut self, fd: RawFd) {
        let Some(conn) = self.conns.get_mut(&fd) else {
            return;
        };
        conn.last_event = Instant::now();
        conn.suspect = false;
        match conn.pump(&mut self.buf) {
            Ok(false) => {}
            Ok(true) => {
                self.conns.remove(&fd);
                self.tally.record(Kind::Server, Outcome::Done);
            }
            Err(e) => {
                self.conns.remove(&fd);
                self.tally.record(Kind::Server, e.into());
            }
        }
    }

    /// Connections quiet for [`QUIET`] yet ready, twice in a row: lost edges.
    fn sweep(&mut self) {
        let mut lost = Vec::new();
        for (&fd, conn) in &mut self.conns {
            if conn.last_event.elapsed() < QUIET {
                continue;
            }
            let ready = sys::ready(fd, conn.awaited(), 0).unwrap_or(false);
            if ready && conn.suspect {
                lost.push(fd);
            }
            conn.suspect = ready;
        }
        for fd in lost {
            self.conns.remove(&fd);
            self.tally.record(
                Kind::Server,
                Outcome::Lost(format!(
                    "connection fd {fd}: ready for a second, with no epoll event for {} s \
                     (edge triggered, drained to EAGAIN)",
                    QUIET.as_secs()
                )),
            );
        }
    }
}
