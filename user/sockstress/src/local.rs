//! Wakeups within one machine, where "sent" is certain: an `AF_UNIX` socketpair echo and
//! an eventfd ping-pong, each between the thread and a helper thread it starts for the
//! operation (both sides block), and a one-shot timerfd. Each side records when its send
//! has returned, so a wait that gives up after it is a lost wakeup
//! ([`crate::tally::after_timeout`]).

use crate::rng::Rng;
use crate::sys::{self, Epoll};
use crate::tally::{after_timeout, Outcome};
use crate::LOCAL_WAIT;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const MAX_MESSAGE: usize = 2048;

/// The worse of two outcomes (lost and wrong first).
fn worse(a: Outcome, b: Outcome) -> Outcome {
    let rank = |o: &Outcome| match o {
        Outcome::Lost(_) => 5,
        Outcome::Wrong(_) => 4,
        Outcome::Error(_) => 3,
        Outcome::Timeout => 2,
        Outcome::Extra => 1,
        Outcome::Done => 0,
    };
    if rank(&b) > rank(&a) {
        b
    } else {
        a
    }
}

fn into_outcome(r: Result<(), Outcome>) -> Outcome {
    r.err().unwrap_or(Outcome::Done)
}

/// A short random pause, so the two sides meet in different orders.
fn jitter(rng: &mut Rng) {
    std::thread::sleep(Duration::from_micros(rng.range(0, 500)));
}

/// Runs `helper` on a new thread alongside `main`; the worse of their outcomes.
fn with_helper(
    helper: impl FnOnce() -> Result<(), Outcome> + Send,
    main: impl FnOnce() -> Result<(), Outcome>,
) -> Outcome {
    std::thread::scope(|s| {
        let spawned = std::thread::Builder::new().spawn_scoped(s, helper);
        let Ok(handle) = spawned else {
            return Outcome::Error(libc::EAGAIN);
        };
        let mine = into_outcome(main());
        let theirs = handle
            .join()
            .map(into_outcome)
            .unwrap_or_else(|_| Outcome::Wrong("the helper thread panicked".into()));
        worse(mine, theirs)
    })
}

/// Receives exactly `len` bytes (one datagram or record for the message types).
fn recv_message(
    fd: &OwnedFd,
    len: usize,
    peer_sent: &AtomicBool,
    what: &str,
) -> Result<Vec<u8>, Outcome> {
    let mut got = Vec::with_capacity(len);
    let mut buf = vec![0u8; MAX_MESSAGE];
    while got.len() < len {
        match sys::recv(fd.as_raw_fd(), &mut buf) {
            Ok(0) => {
                return Err(Outcome::Wrong(format!(
                    "{what}: end of stream after {} of {len} bytes",
                    got.len()
                )))
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(libc::EAGAIN) => {
                let sent = peer_sent.load(Ordering::Acquire);
                return Err(after_timeout(fd.as_raw_fd(), libc::POLLIN, sent, what));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(got)
}

/// An echo over a socketpair of type `ty`: the helper blocks in recv on one end and
/// echoes; the thread sends on the other and blocks in recv for the echo.
pub fn unix_pair(ty: i32, rng: &mut Rng) -> Outcome {
    let (a, b) = match sys::socketpair(ty) {
        Ok(pair) => pair,
        Err(e) => return e.into(),
    };
    for fd in [&a, &b] {
        if let Err(e) = sys::set_timeouts(fd, LOCAL_WAIT) {
            return e.into();
        }
    }
    let msg = rng.message(1, MAX_MESSAGE);
    let (sent, echoed) = (AtomicBool::new(false), AtomicBool::new(false));
    let helper = || {
        let got = recv_message(&b, msg.len(), &sent, "the helper's recv")?;
        sys::send_all(b.as_raw_fd(), &got)?;
        echoed.store(true, Ordering::Release);
        Ok(())
    };
    let main = || {
        jitter(rng);
        sys::send_all(a.as_raw_fd(), &msg)?;
        sent.store(true, Ordering::Release);
        let back = recv_message(&a, msg.len(), &echoed, "recv of the echo")?;
        if back != msg {
            return Err(Outcome::Wrong("the echo differs from what was sent".into()));
        }
        Ok(())
    };
    with_helper(helper, main)
}

/// An eventfd ping-pong: the helper waits in `epoll_wait` (edge or level triggered) for
/// the thread's write of a value, reads it and writes the value plus one to a second
/// eventfd, which the thread waits for in `poll`.
pub fn eventfd(rng: &mut Rng) -> Outcome {
    let fds = sys::eventfd(0).and_then(|ping| Ok((ping, sys::eventfd(libc::EFD_NONBLOCK)?)));
    let ((ping, pong), ep) = match (fds, Epoll::new()) {
        (Ok(fds), Ok(ep)) => (fds, ep),
        (Err(e), _) | (_, Err(e)) => return e.into(),
    };
    let edge = if rng.bit() { libc::EPOLLET as u32 } else { 0 };
    if let Err(e) = ep.add(ping.as_raw_fd(), libc::EPOLLIN as u32 | edge) {
        return e.into();
    }
    let value = rng.range(1, 1 << 40);
    let (sent, answered) = (AtomicBool::new(false), AtomicBool::new(false));
    let helper = || {
        let ms = LOCAL_WAIT.as_millis() as i32;
        if ep.wait(ms)?.is_empty() {
            let known = sent.load(Ordering::Acquire);
            return Err(after_timeout(
                ping.as_raw_fd(),
                libc::POLLIN,
                known,
                "epoll_wait on an eventfd",
            ));
        }
        // Blocking read: epoll said it is readable.
        let v = sys::read_u64(&ping)?;
        sys::write_u64(&pong, v + 1)?;
        answered.store(true, Ordering::Release);
        Ok(())
    };
    let main = || {
        jitter(rng);
        sys::write_u64(&ping, value)?;
        sent.store(true, Ordering::Release);
        let ms = LOCAL_WAIT.as_millis() as i32;
        if !sys::ready(pong.as_raw_fd(), libc::POLLIN, ms)? {
            let known = answered.load(Ordering::Acquire);
            return Err(after_timeout(
                pong.as_raw_fd(),
                libc::POLLIN,
                known,
                "poll on an eventfd",
            ));
        }
        match sys::read_u64(&pong)? {
            v if v == value + 1 => Ok(()),
            v => Err(Outcome::Wrong(format!(
                "the eventfd held {v}, not {}",
                value + 1
            ))),
        }
    };
    with_helper(helper, main)
}

/// A timerfd of 1 to 5 ms, waited for in `ep` (the thread's own epoll) or in `poll`; it
/// has surely expired when the wait gives up.
pub fn timerfd(rng: &mut Rng, ep: &Epoll) -> Outcome {
    into_outcome(timer_once(rng, ep))
}

fn timer_once(rng: &mut Rng, ep: &Epoll) -> Result<(), Outcome> {
    let after = Duration::from_micros(rng.range(1000, 5000));
    let fd = sys::timerfd_once(after)?;
    let raw = fd.as_raw_fd();
    let ms = LOCAL_WAIT.as_millis() as i32;
    let woke = if rng.bit() {
        ep.add(raw, libc::EPOLLIN as u32)?;
        !ep.wait(ms)?.is_empty()
    } else {
        sys::ready(raw, libc::POLLIN, ms)?
    };
    if !woke {
        return Err(after_timeout(raw, libc::POLLIN, true, "wait for a timerfd"));
    }
    match sys::read_u64(&fd)? {
        0 => Err(Outcome::Wrong("a timerfd read gave 0 expirations".into())),
        _ => Ok(()),
    }
}
