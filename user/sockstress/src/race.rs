//! Close and shutdown against a thread blocked in recv on the same socket, in a process of
//! their own (two threads: no other thread there opens a descriptor that could take the
//! closed number). Linux's semantics are the oracle:
//! - `close` while another thread is in recv only drops the descriptor: the recv holds
//!   its own reference to the file, so the socket stays connected and the recv gets what
//!   the peer sends afterwards ([`Kind::CloseUnix`], [`Kind::CloseTcp`]). A close that
//!   comes before the recv has started gives it `EBADF` (counted as `closed-first`).
//! - `shutdown(SHUT_RDWR)` wakes the recv, which returns 0 ([`Kind::ShutdownUnix`],
//!   [`Kind::ShutdownTcp`]).
//!
//! A recv that is still blocked when its timeout ends is a lost wakeup.

use crate::sys;
use crate::tally::{Kind, Outcome, Tally};
use crate::LOCAL_WAIT;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long the closing thread waits after the other announced its recv: enough for it
/// to be blocked in the kernel almost always, even under emulation.
const SETTLE: Duration = Duration::from_millis(3);

const MESSAGE: &[u8] = b"sent after the close";

/// The racer process's loop: `kinds` in turn, until `deadline` or `count` rounds.
pub fn run(tally: &Tally, kinds: &[Kind], deadline: Instant, count: u64) {
    let listener = match sys::listen(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0), 0) {
        Ok(l) => l,
        Err(e) => return tally.record(Kind::CloseTcp, e.into()),
    };
    // Bounds the accept of each TCP round.
    if let Err(e) = sys::set_timeouts(&listener, LOCAL_WAIT) {
        return tally.record(Kind::CloseTcp, e.into());
    }
    let mut round = 0u64;
    while Instant::now() < deadline && round < count {
        let kind = kinds[round as usize % kinds.len()];
        tally.record(kind, one_round(kind, &listener));
        round += 1;
    }
}

/// The two ends: the one a thread blocks on, and its peer.
fn pair(kind: Kind, listener: &OwnedFd) -> Result<(OwnedFd, OwnedFd), Outcome> {
    let (mine, peer) = match kind {
        Kind::CloseUnix | Kind::ShutdownUnix => sys::socketpair(libc::SOCK_STREAM)?,
        _ => {
            let c = sys::socket(libc::AF_INET, libc::SOCK_STREAM)?;
            sys::connect(&c, sys::local_addr(listener)?)?;
            match sys::accept(listener.as_raw_fd(), 0) {
                Ok((s, _)) => (c, s),
                Err(libc::EAGAIN) => {
                    return Err(crate::tally::after_timeout(
                        listener.as_raw_fd(),
                        libc::POLLIN,
                        true,
                        "accept of a connected loopback client",
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    sys::set_timeouts(&mine, LOCAL_WAIT)?;
    Ok((mine, peer))
}

fn one_round(kind: Kind, listener: &OwnedFd) -> Outcome {
    let (mine, peer) = match pair(kind, listener) {
        Ok(p) => p,
        Err(o) => return o,
    };
    let closing = matches!(kind, Kind::CloseUnix | Kind::CloseTcp);
    // The close race gives up ownership: the number is closed by hand below.
    let (raw, kept): (RawFd, Option<OwnedFd>) = if closing {
        (mine.into_raw_fd(), None)
    } else {
        (mine.as_raw_fd(), Some(mine))
    };
    let entered = AtomicBool::new(false);
    std::thread::scope(|s| {
        let spawned = std::thread::Builder::new().spawn_scoped(s, || {
            let mut buf = [0u8; 64];
            entered.store(true, Ordering::Release);
            sys::recv(raw, &mut buf).map(|n| buf[..n].to_vec())
        });
        let Ok(reader) = spawned else {
            if closing {
                let _ = sys::close_raw(raw);
            }
            return Outcome::Error(libc::EAGAIN);
        };
        while !entered.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
        std::thread::sleep(SETTLE);
        let sent = if closing {
            if let Err(e) = sys::close_raw(raw) {
                return Outcome::Wrong(format!("close failed: {}", sys::errno_name(e)));
            }
            std::thread::sleep(SETTLE);
            sys::send(peer.as_raw_fd(), MESSAGE)
        } else {
            sys::shutdown(raw, libc::SHUT_RDWR).map(|()| 0)
        };
        let got = reader.join().unwrap_or(Err(-1));
        drop(kept);
        if closing {
            close_verdict(got, sent)
        } else {
            shutdown_verdict(got, sent)
        }
    })
}

/// The recv of a descriptor another thread closed: the data (Linux's semantics), or
/// `EBADF` if the close came first.
fn close_verdict(got: Result<Vec<u8>, i32>, sent: Result<usize, i32>) -> Outcome {
    match (got, sent) {
        (Ok(data), _) if data == MESSAGE => Outcome::Done,
        (Err(libc::EBADF), _) => Outcome::Extra,
        (Err(libc::EAGAIN), Ok(_)) => Outcome::Lost(
            "a recv blocked while another thread closed its socket was not woken by the \
             data the peer sent afterwards"
                .into(),
        ),
        (got, sent) => Outcome::Wrong(format!(
            "a recv blocked while another thread closed its socket ended with {got:?} \
             (the peer's send after the close: {sent:?}); Linux keeps the socket open \
             while the recv holds it, so the recv gets the data"
        )),
    }
}

fn shutdown_verdict(got: Result<Vec<u8>, i32>, shut: Result<usize, i32>) -> Outcome {
    match (got, shut) {
        (_, Err(e)) => Outcome::Error(e),
        (Ok(data), _) if data.is_empty() => Outcome::Done,
        (Err(libc::EAGAIN), _) => Outcome::Lost(
            "a recv blocked while another thread shut its socket down was not woken".into(),
        ),
        (got, _) => Outcome::Wrong(format!(
            "a recv blocked while another thread shut its socket down ended with {got:?}, \
             not end of stream"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_race_keeps_linux_semantics() {
        assert_eq!(close_verdict(Ok(MESSAGE.to_vec()), Ok(20)), Outcome::Done);
        // The close came first: the recv never started.
        assert_eq!(
            close_verdict(Err(libc::EBADF), Err(libc::EPIPE)),
            Outcome::Extra
        );
        // Blocked through the peer's send: lost.
        assert!(matches!(
            close_verdict(Err(libc::EAGAIN), Ok(20)),
            Outcome::Lost(_)
        ));
        // The socket went with the descriptor: not Linux.
        for got in [Ok(Vec::new()), Err(libc::ECONNRESET)] {
            assert!(matches!(
                close_verdict(got, Err(libc::EPIPE)),
                Outcome::Wrong(_)
            ));
        }
    }

    #[test]
    fn a_shutdown_race_must_end_the_recv() {
        assert_eq!(shutdown_verdict(Ok(Vec::new()), Ok(0)), Outcome::Done);
        assert!(matches!(
            shutdown_verdict(Err(libc::EAGAIN), Ok(0)),
            Outcome::Lost(_)
        ));
        assert!(matches!(
            shutdown_verdict(Ok(b"x".to_vec()), Ok(0)),
            Outcome::Wrong(_)
        ));
        assert_eq!(
            shutdown_verdict(Ok(Vec::new()), Err(libc::ENOTCONN)),
            Outcome::Error(libc::ENOTCONN)
        );
    }

    /// Both races on this machine's Linux, a few rounds of each: a blocked recv keeps
    /// its socket through a close and ends at a shutdown.
    #[test]
    fn the_races_run_as_on_linux() {
        let listener = sys::listen(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0), 0).unwrap();
        for kind in [
            Kind::CloseUnix,
            Kind::CloseTcp,
            Kind::ShutdownUnix,
            Kind::ShutdownTcp,
        ] {
            for _ in 0..3 {
                let outcome = one_round(kind, &listener);
                assert!(
                    matches!(outcome, Outcome::Done | Outcome::Extra),
                    "{kind:?}: {outcome:?}"
                );
            }
        }
    }
}
