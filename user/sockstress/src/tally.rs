//! The counts of every operation, by kind, shared by all the program's processes: one
//! `MAP_SHARED` anonymous mapping made before the first `fork`, holding atomics.
//!
//! Each operation ends in one [`Outcome`]. A *lost wakeup* is a blocking call (or an
//! epoll/poll wait) that gave up after its generous timeout although what it waited for
//! had happened: the descriptor is ready when looked at right after the timeout, or the
//! peer's send (an eventfd write, a timer's expiry) had returned before the wait gave up.
//! A timeout without either is counted as a plain timeout (a dropped frame, a slow
//! host). *Wrong* is an answer Linux would not give: echoed bytes that differ, a stream
//! that ends early, a recv on a socket another thread closed that does not go on as
//! Linux's does. The run passes with no lost and no wrong outcome.

use crate::sys::errno_name;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};

/// What an operation is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Blocking TCP connect / send / recv / close to the program's own epoll echo server
    /// over 127.0.0.1.
    LoTcp,
    /// The same to the host's echo listener over the NIC.
    HostTcp,
    /// Non-blocking connect (`EINPROGRESS`, `SO_ERROR`), then send and recv driven by an
    /// epoll loop (edge or level triggered, in turn), over 127.0.0.1.
    LoEpoll,
    /// The same to the host's listener.
    HostEpoll,
    /// `socketpair` of each `AF_UNIX` type: a helper thread blocks in recv, echoes; the
    /// thread blocks in recv for the echo.
    UnixStream,
    UnixDgram,
    UnixSeqpacket,
    /// A helper thread in `epoll_wait` on an eventfd the thread writes; it answers on a
    /// second eventfd the thread `poll`s.
    Eventfd,
    /// A one-shot timerfd of a few milliseconds, waited for in `epoll_wait` or `poll`.
    Timerfd,
    /// A thread blocked in recv while another closes the descriptor, then the peer sends:
    /// as on Linux, the recv keeps its reference and gets the data. Over an `AF_UNIX`
    /// pair and over a TCP connection on 127.0.0.1.
    CloseUnix,
    CloseTcp,
    /// A thread blocked in recv while another shuts the socket down: recv returns 0.
    ShutdownUnix,
    ShutdownTcp,
    /// The epoll echo server's connections (loopback clients and the host's flood).
    Server,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::LoTcp,
        Kind::HostTcp,
        Kind::LoEpoll,
        Kind::HostEpoll,
        Kind::UnixStream,
        Kind::UnixDgram,
        Kind::UnixSeqpacket,
        Kind::Eventfd,
        Kind::Timerfd,
        Kind::CloseUnix,
        Kind::CloseTcp,
        Kind::ShutdownUnix,
        Kind::ShutdownTcp,
        Kind::Server,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::LoTcp => "lo-tcp",
            Kind::HostTcp => "host-tcp",
            Kind::LoEpoll => "lo-epoll",
            Kind::HostEpoll => "host-epoll",
            Kind::UnixStream => "unix-stream",
            Kind::UnixDgram => "unix-dgram",
            Kind::UnixSeqpacket => "unix-seqpacket",
            Kind::Eventfd => "eventfd",
            Kind::Timerfd => "timerfd",
            Kind::CloseUnix => "close-unix",
            Kind::CloseTcp => "close-tcp",
            Kind::ShutdownUnix => "shutdown-unix",
            Kind::ShutdownTcp => "shutdown-tcp",
            Kind::Server => "server",
        }
    }

    /// The kind called `name`.
    pub fn named(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The meaning of the kind's extra count, where it has one.
    fn extra(self) -> Option<&'static str> {
        match self {
            // The close came before the other thread was in recv (it got EBADF).
            Kind::CloseUnix | Kind::CloseTcp => Some("closed-first"),
            // Connections from another host (the test's flood), not from 127.0.0.1.
            Kind::Server => Some("remote"),
            _ => None,
        }
    }
}

/// How one operation ended.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Done,
    /// Gave up after the timeout with nothing there to have woken it.
    Timeout,
    /// A system call failed with this errno.
    Error(i32),
    /// The kind's [`Kind::extra`] outcome.
    Extra,
    /// A lost wakeup, described.
    Lost(String),
    /// An answer Linux would not give, described.
    Wrong(String),
}

impl From<i32> for Outcome {
    fn from(errno: i32) -> Outcome {
        Outcome::Error(errno)
    }
}

/// The errnos counted one by one; others fall in the last slot.
const ERRNOS: usize = 134;

struct Counts {
    done: AtomicU64,
    timeouts: AtomicU64,
    errors: AtomicU64,
    extra: AtomicU64,
    lost: AtomicU64,
    wrong: AtomicU64,
    errnos: [AtomicU64; ERRNOS],
}

/// The shared counts.
pub struct Tally {
    kinds: [Counts; Kind::ALL.len()],
}

/// Totals over every kind.
#[derive(Default)]
pub struct Totals {
    pub done: u64,
    pub timeouts: u64,
    pub errors: u64,
    pub lost: u64,
    pub wrong: u64,
}

impl Tally {
    /// A zeroed tally in memory shared with every process forked afterwards; it lives as
    /// long as the process.
    pub fn shared() -> &'static Tally {
        let len = std::mem::size_of::<Tally>();
        // SAFETY: a fresh anonymous shared mapping; no existing memory is touched.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(
            p != libc::MAP_FAILED,
            "sockstress: mmap of the tally failed"
        );
        // SAFETY: the mapping is page-aligned, `len` bytes, zero-filled (all-zero atomics
        // are valid), never unmapped, and only ever reached through atomics.
        unsafe { &*(p as *const Tally) }
    }

    fn of(&self, kind: Kind) -> &Counts {
        &self.kinds[kind as usize]
    }

    pub fn record(&self, kind: Kind, outcome: Outcome) {
        let c = self.of(kind);
        let add = |a: &AtomicU64| a.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Outcome::Done => add(&c.done),
            Outcome::Timeout => add(&c.timeouts),
            Outcome::Extra => add(&c.extra),
            Outcome::Error(e) => {
                add(&c.errnos[(e.max(0) as usize).min(ERRNOS - 1)]);
                add(&c.errors)
            }
            Outcome::Lost(why) => {
                eprintln!("sockstress: LOST WAKEUP {}: {why}", kind.name());
                add(&c.lost)
            }
            Outcome::Wrong(why) => {
                eprintln!("sockstress: WRONG {}: {why}", kind.name());
                add(&c.wrong)
            }
        };
    }

    /// Completed operations of `kind`.
    pub fn done(&self, kind: Kind) -> u64 {
        self.of(kind).done.load(Ordering::Relaxed)
    }

    /// One line per kind of `kinds`: `sockstress: kind NAME ops=N timeouts=N errors=N
    /// lost=N wrong=N [EXTRA=N] [errnos=NAME:N,...]`; returns the totals.
    pub fn report(&self, kinds: &[Kind]) -> Totals {
        let mut t = Totals::default();
        for &kind in kinds {
            let c = self.of(kind);
            let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
            let (done, timeouts, errors) = (get(&c.done), get(&c.timeouts), get(&c.errors));
            let (lost, wrong) = (get(&c.lost), get(&c.wrong));
            let mut line = format!(
                "sockstress: kind {} ops={done} timeouts={timeouts} errors={errors} \
                 lost={lost} wrong={wrong}",
                kind.name()
            );
            if let Some(extra) = kind.extra() {
                line += &format!(" {extra}={}", get(&c.extra));
            }
            let errnos: Vec<String> = c
                .errnos
                .iter()
                .enumerate()
                .filter(|(_, n)| get(n) > 0)
                .map(|(e, n)| format!("{}:{}", errno_name(e as i32), get(n)))
                .collect();
            if !errnos.is_empty() {
                line += &format!(" errnos={}", errnos.join(","));
            }
            println!("{line}");
            t.done += done;
            t.timeouts += timeouts;
            t.errors += errors;
            t.lost += lost;
            t.wrong += wrong;
        }
        t
    }
}

/// The outcome of a wait on `fd` for `events` that gave up after its timeout: a lost
/// wakeup if `fd` is ready now, or if `known_sent` (what it waited for had been sent
/// before it gave up); else a plain timeout.
pub fn after_timeout(fd: RawFd, events: i16, known_sent: bool, what: &str) -> Outcome {
    match crate::sys::ready(fd, events, 0) {
        Ok(true) => Outcome::Lost(format!("{what}: gave up, yet the descriptor is ready")),
        _ if known_sent => Outcome::Lost(format!(
            "{what}: gave up, though the peer had sent before (and nothing is there)"
        )),
        Ok(false) => Outcome::Timeout,
        Err(e) => Outcome::Error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_timeout_is_lost_when_the_data_is_there_or_was_sent() {
        let (a, b) = crate::sys::socketpair(libc::SOCK_STREAM).unwrap();
        let fd = b.as_raw_fd();
        assert_eq!(
            after_timeout(fd, libc::POLLIN, false, "x"),
            Outcome::Timeout
        );
        assert!(matches!(
            after_timeout(fd, libc::POLLIN, true, "x"),
            Outcome::Lost(_)
        ));
        crate::sys::send_all(a.as_raw_fd(), b"late").unwrap();
        assert!(matches!(
            after_timeout(fd, libc::POLLIN, false, "x"),
            Outcome::Lost(_)
        ));
    }

    #[test]
    fn kinds_are_named_once() {
        for kind in Kind::ALL {
            assert_eq!(Kind::named(kind.name()), Some(kind));
        }
        assert_eq!(Kind::named("shutdown-tcp"), Some(Kind::ShutdownTcp));
        assert_eq!(Kind::named("nonsense"), None);
    }
}
