//! `poll`, `ppoll`, `select`, `pselect6`: Linux's `fs/select.c`.
//!
//! One loop serves all four ([`wait`]): on its first pass it registers a
//! [`ThreadWaker`] on the readiness queues of every watched file (Linux's `poll_table`),
//! then it checks each file's events; if none is ready it sleeps until one of those
//! queues is woken, the deadline passes or a signal is pending. The waker is armed before
//! each pass, so a change during the pass is not lost. A zero timeout registers nothing.
//!
//! Linux's rules kept: errors and hang-ups are reported whether asked for or not;
//! `select` counts each ready bit, refuses a closed descriptor with `EBADF` and clamps
//! `nfds` (to `RLIMIT_NOFILE`: Halyard's descriptor table has no allocated size, which
//! is Linux's bound); `ppoll`, `select` and `pselect6` write back the
//! time left (never negative; not for a zero timeout), and an interrupted call is
//! `ERESTARTNOHAND` (`EINTR` when a handler runs); `ppoll`/`pselect6` install their
//! signal mask for the call's duration (`set_user_sigmask`).
use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general::{
    self as g, __kernel_old_timeval, __kernel_timespec, POLLERR, POLLHUP, POLLIN, POLLNVAL,
    POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM,
};

use super::io::nofile;
use super::{signal, Errno, SysResult};
use crate::fs::file::OpenFile;
use crate::fs::poll::ThreadWaker;
use crate::process::usercopy::{self, UserAddr, UserRef};

const NS: u64 = 1_000_000_000;

/// One watched descriptor: the events asked for and those found.
struct Watch {
    fd: i32,
    events: u16,
    revents: u16,
}

/// Waits until a watched descriptor has an event, `deadline` (monotonic ns) passes, or a
/// signal is pending (`Err(EINTR)`); returns how many descriptors have events (each
/// `revents` set; `POLLNVAL` for a descriptor that is not open).
fn wait(watches: &mut [Watch], deadline: Option<u64>) -> Result<usize, Errno> {
    let files = crate::process::current().process.files.clone();
    let waker = ThreadWaker::new();
    let mut registrations = Vec::new();
    let mut register = deadline.is_none_or(|d| d > crate::time::now_ns());
    loop {
        waker.arm();
        let mut ready = 0;
        for w in watches.iter_mut() {
            if w.fd < 0 {
                w.revents = 0;
                continue;
            }
            let file: Result<Arc<OpenFile>, Errno> = files.lock().get(w.fd);
            w.revents = match file {
                Ok(f) => {
                    if register {
                        f.ops
                            .poll_queues(&mut |q| registrations.push(q.add(waker.clone())));
                    }
                    f.ops.poll() & (w.events | (POLLERR | POLLHUP) as u16)
                }
                Err(_) => POLLNVAL as u16,
            };
            ready += usize::from(w.revents != 0);
        }
        register = false;
        if ready > 0 || deadline.is_some_and(|d| crate::time::now_ns() >= d) {
            return Ok(ready);
        }
        waker.sleep(deadline)?;
    }
}

/// `poll`'s and `ppoll`'s common part.
fn poll_fds(fds: u64, nfds: u64, deadline: Option<u64>) -> SysResult {
    if nfds > nofile() as u64 {
        return Err(Errno::EINVAL);
    }
    let mm = crate::process::current().process.mm();
    let mut watches = Vec::with_capacity(nfds as usize);
    for i in 0..nfds {
        let p: g::pollfd = usercopy::read(&mm, UserRef::new(fds + i * 8))?;
        watches.push(Watch {
            fd: p.fd,
            events: p.events as u16,
            revents: 0,
        });
    }
    let ready = wait(&mut watches, deadline).map_err(|_| Errno::ERESTARTNOHAND)?;
    for (i, w) in watches.iter().enumerate() {
        let p = g::pollfd {
            fd: w.fd,
            events: w.events as i16,
            revents: w.revents as i16,
        };
        usercopy::write(&mm, UserRef::new(fds + i as u64 * 8), &p)?;
    }
    Ok(ready as u64)
}

// SAFETY: `pollfd` is a C struct of integers without padding: any bytes are a valid value.
unsafe impl usercopy::Pod for g::pollfd {}
// SAFETY: `__kernel_old_timeval` is two i64s.
unsafe impl usercopy::Pod for __kernel_old_timeval {}

/// `poll(fds, nfds, timeout_ms)`: a negative timeout waits forever.
pub fn poll(fds: u64, nfds: u64, timeout_ms: u64) -> SysResult {
    let deadline = match timeout_ms as i32 {
        t if t < 0 => None,
        t => Some(crate::time::now_ns() + t as u64 * 1_000_000),
    };
    poll_fds(fds, nfds, deadline)
}

/// A relative timeout at `addr` (0: none) as a deadline, with Linux's checks.
fn timespec_deadline(addr: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let ns = super::time::read_timespec(addr)?;
    Ok(Some(crate::time::now_ns().saturating_add(ns)))
}

/// Linux's `poll_select_finish`: writes the time left before `deadline` back to `addr`
/// (a timespec, or a timeval for `select`), unless there is none or it was zero.
fn write_time_left(addr: u64, start: u64, deadline: Option<u64>, timeval: bool) {
    let Some(deadline) = deadline.filter(|&d| addr != 0 && d > start) else {
        return;
    };
    let left = deadline.saturating_sub(crate::time::now_ns());
    let mm = crate::process::current().process.mm();
    let (sec, frac) = ((left / NS) as i64, (left % NS) as i64);
    // A failed copy leaves the result as it is (Linux turns ERESTARTNOHAND into EINTR
    // then, which only matters for a pointer made invalid during the call).
    let _ = if timeval {
        usercopy::write(
            &mm,
            UserRef::new(addr),
            &__kernel_old_timeval {
                tv_sec: sec,
                tv_usec: frac / 1000,
            },
        )
    } else {
        usercopy::write(
            &mm,
            UserRef::new(addr),
            &__kernel_timespec {
                tv_sec: sec,
                tv_nsec: frac,
            },
        )
    };
}

/// `ppoll(fds, nfds, timeout, sigmask, sigsetsize)`.
pub fn ppoll(fds: u64, nfds: u64, timeout: u64, mask: u64, size: u64) -> SysResult {
    let start = crate::time::now_ns();
    let deadline = timespec_deadline(timeout)?;
    signal::begin_call_sigmask(mask, size)?;
    let result = poll_fds(fds, nfds, deadline);
    signal::end_call_sigmask(&result);
    write_time_left(timeout, start, deadline, false);
    result
}

/// The events each `select` set stands for (`POLLIN_SET`, `POLLOUT_SET`, `POLLEX_SET`).
const SETS: [u32; 3] = [
    POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR,
    POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR,
    POLLPRI,
];

/// `select`'s and `pselect6`'s common part: `sets` are the read, write and exception
/// sets (0 for none).
fn select_fds(nfds: u64, sets: [u64; 3], deadline: Option<u64>) -> SysResult {
    let nfds = nfds as i32;
    if nfds < 0 {
        return Err(Errno::EINVAL);
    }
    let nfds = (nfds as usize).min(nofile());
    let words = nfds.div_ceil(64);
    let mm = crate::process::current().process.mm();
    let mut bits = [const { Vec::new() }; 3];
    for (set, addr) in bits.iter_mut().zip(sets) {
        *set = alloc::vec![0u64; words];
        if addr != 0 {
            for (i, w) in set.iter_mut().enumerate() {
                *w = usercopy::read(&mm, UserRef::new(addr + i as u64 * 8))?;
            }
        }
    }
    let mut watches = Vec::new();
    for fd in 0..nfds {
        let events = (0..3)
            .filter(|&k| bits[k][fd / 64] & (1 << (fd % 64)) != 0)
            .fold(0, |ev, k| ev | SETS[k]);
        if events != 0 {
            watches.push(Watch {
                fd: fd as i32,
                events: events as u16,
                revents: 0,
            });
        }
    }
    // A closed descriptor in a set is EBADF (Linux's `max_select_fd`).
    let files = crate::process::current().process.files.clone();
    if watches.iter().any(|w| files.lock().get(w.fd).is_err()) {
        return Err(Errno::EBADF);
    }
    wait(&mut watches, deadline).map_err(|_| Errno::ERESTARTNOHAND)?;
    let mut out = [const { Vec::new() }; 3];
    for set in out.iter_mut() {
        *set = alloc::vec![0u64; words];
    }
    let mut count = 0;
    for w in &watches {
        for k in 0..3 {
            let asked = bits[k][w.fd as usize / 64] & (1 << (w.fd % 64)) != 0;
            if asked && u32::from(w.revents) & SETS[k] != 0 {
                out[k][w.fd as usize / 64] |= 1 << (w.fd % 64);
                count += 1;
            }
        }
    }
    for (set, addr) in out.iter().zip(sets) {
        if addr != 0 {
            let bytes: Vec<u8> = set.iter().flat_map(|w| w.to_ne_bytes()).collect();
            usercopy::write_bytes(&mm, UserAddr(addr), &bytes)?;
        }
    }
    Ok(count)
}

/// `select(nfds, readfds, writefds, exceptfds, timeout)`: a timeval, updated with the time
/// left.
pub fn select(nfds: u64, r: u64, w: u64, x: u64, timeout: u64) -> SysResult {
    let start = crate::time::now_ns();
    let deadline = if timeout == 0 {
        None
    } else {
        let mm = crate::process::current().process.mm();
        let tv: __kernel_old_timeval = usercopy::read(&mm, UserRef::new(timeout))?;
        // Linux carries whole seconds out of the microseconds, then checks.
        let sec = tv.tv_sec.saturating_add(tv.tv_usec / 1_000_000);
        let usec = tv.tv_usec % 1_000_000;
        if sec < 0 || usec < 0 {
            return Err(Errno::EINVAL);
        }
        let ns = (sec as u64)
            .saturating_mul(NS)
            .saturating_add(usec as u64 * 1000);
        Some(start.saturating_add(ns))
    };
    let result = select_fds(nfds, [r, w, x], deadline);
    write_time_left(timeout, start, deadline, true);
    result
}

/// `pselect6(nfds, readfds, writefds, exceptfds, timeout, sigdata)`: `sigdata` points to
/// `{ const sigset_t *ss; size_t ss_len; }`.
pub fn pselect6(nfds: u64, r: u64, w: u64, x: u64, timeout: u64, sigdata: u64) -> SysResult {
    let start = crate::time::now_ns();
    let deadline = timespec_deadline(timeout)?;
    let (mask, size) = if sigdata == 0 {
        (0, 0)
    } else {
        let mm = crate::process::current().process.mm();
        let data: [u64; 2] = usercopy::read(&mm, UserRef::new(sigdata))?;
        (data[0], data[1])
    };
    signal::begin_call_sigmask(mask, size)?;
    let result = select_fds(nfds, [r, w, x], deadline);
    signal::end_call_sigmask(&result);
    write_time_left(timeout, start, deadline, false);
    result
}
