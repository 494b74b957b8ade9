//! epoll, eventfd and timerfd system calls (`fs/eventpoll.c`, `fs/eventfd.c`,
//! `fs/timerfd.c`): the argument checks in Linux's order; the objects are
//! [`crate::fs::epoll`], [`crate::fs::eventfd`] and [`crate::fs::timerfd`].
use alloc::sync::Arc;

use linux_raw_sys::general::{
    __kernel_itimerspec, __kernel_timespec, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME,
    EFD_SEMAPHORE, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLPRI,
    EPOLLRDNORM, EPOLLWAKEUP, EPOLLWRNORM, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL,
    EPOLL_CTL_MOD, O_CLOEXEC, O_NONBLOCK, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET,
};

use super::io::file;
use super::{signal, Errno, SysResult};
use crate::fs::file::OpenFile;
use crate::process::usercopy::{self, UserAddr, UserRef};

const NS: u64 = 1_000_000_000;
/// Size of `struct epoll_event` on x86_64 (packed: events, then data).
const EVENT_SIZE: u64 = 12;
/// Linux's `EP_MAX_EVENTS`.
const MAX_EVENTS: u64 = (i32::MAX as u64) / EVENT_SIZE;

/// Installs `f` as a new descriptor, close-on-exec if `cloexec`.
fn install(f: Arc<OpenFile>, cloexec: bool) -> SysResult {
    let fd =
        crate::process::current()
            .process
            .files
            .lock()
            .install(f, cloexec, super::io::nofile())?;
    Ok(fd as u64)
}

/// `epoll_create1(flags)`: only `EPOLL_CLOEXEC`.
pub fn epoll_create1(flags: u64) -> SysResult {
    if flags & !u64::from(EPOLL_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    install(crate::fs::epoll::new(0), flags != 0)
}

/// `epoll_create(size)`: `size` must be positive and is otherwise ignored.
pub fn epoll_create(size: u64) -> SysResult {
    if size as i32 <= 0 {
        return Err(Errno::EINVAL);
    }
    install(crate::fs::epoll::new(0), false)
}

/// `epoll_ctl(epfd, op, fd, event)`, checked in `do_epoll_ctl`'s order.
pub fn epoll_ctl(epfd: u64, op: u64, fd: u64, event: u64) -> SysResult {
    let op = op as u32;
    let ev = if op != EPOLL_CTL_DEL {
        let mm = crate::process::current().process.mm();
        let raw: [u8; EVENT_SIZE as usize] = usercopy::read(&mm, UserRef::new(event))?;
        let events = u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let mut data = [0; 8];
        data.copy_from_slice(&raw[4..12]);
        (events, u64::from_ne_bytes(data))
    } else {
        (0, 0)
    };
    let ep_file = file(epfd)?;
    let target = file(fd)?;
    if !target.ops.poll_queues(&mut |_| {}) {
        return Err(Errno::EPERM);
    }
    let Some(ep) = ep_file.ops.epoll() else {
        return Err(Errno::EINVAL);
    };
    if Arc::ptr_eq(&ep_file, &target) {
        return Err(Errno::EINVAL);
    }
    if op != EPOLL_CTL_DEL && ev.0 & EPOLLEXCLUSIVE != 0 {
        // Linux's EPOLLEXCLUSIVE_OK_BITS.
        let ok = EPOLLIN
            | EPOLLOUT
            | EPOLLERR
            | EPOLLHUP
            | EPOLLWAKEUP
            | EPOLLET
            | EPOLLEXCLUSIVE
            | EPOLLRDNORM
            | EPOLLWRNORM
            | EPOLLPRI;
        if op == EPOLL_CTL_MOD
            || (op == EPOLL_CTL_ADD && (target.ops.epoll().is_some() || ev.0 & !ok != 0))
        {
            return Err(Errno::EINVAL);
        }
    }
    if !matches!(op, EPOLL_CTL_ADD | EPOLL_CTL_MOD | EPOLL_CTL_DEL) {
        return Err(Errno::EINVAL);
    }
    ep.ctl(op, &target, fd as i32, ev).map(|()| 0)
}

/// `epoll_pwait(epfd, events, maxevents, timeout_ms, sigmask, sigsetsize)` (and
/// `epoll_wait` with no mask). An interrupted wait is `EINTR`, never restarted.
pub fn epoll_pwait(
    epfd: u64,
    events: u64,
    max: u64,
    timeout: u64,
    mask: u64,
    size: u64,
) -> SysResult {
    let deadline = match timeout as i32 {
        t if t < 0 => None,
        t => Some(crate::time::now_ns() + t as u64 * 1_000_000),
    };
    wait(epfd, events, max, deadline, mask, size)
}

/// `epoll_pwait2(epfd, events, maxevents, timeout, sigmask, sigsetsize)`: a timespec
/// timeout (none: wait forever).
pub fn epoll_pwait2(
    epfd: u64,
    events: u64,
    max: u64,
    timeout: u64,
    mask: u64,
    size: u64,
) -> SysResult {
    let deadline = if timeout == 0 {
        None
    } else {
        let ns = super::time::read_timespec(timeout)?;
        Some(crate::time::now_ns().saturating_add(ns))
    };
    wait(epfd, events, max, deadline, mask, size)
}

fn wait(
    epfd: u64,
    events: u64,
    max: u64,
    deadline: Option<u64>,
    mask: u64,
    size: u64,
) -> SysResult {
    signal::begin_call_sigmask(mask, size)?;
    let result = do_wait(epfd, events, max, deadline);
    signal::end_call_sigmask(&result.map_err(|err| {
        if err == Errno::EINTR {
            Errno::ERESTARTNOHAND
        } else {
            err
        }
    }));
    result
}

/// `do_epoll_wait`.
fn do_wait(epfd: u64, events: u64, max: u64, deadline: Option<u64>) -> SysResult {
    let max = max as i32;
    if max <= 0 || max as u64 > MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    super::io::access_ok(events, max as u64 * EVENT_SIZE)?;
    let f = file(epfd)?;
    let ep = f.ops.epoll().ok_or(Errno::EINVAL)?;
    let ready = ep.wait(max as usize, deadline)?;
    let mm = crate::process::current().process.mm();
    for (i, ev) in ready.iter().enumerate() {
        let mut raw = [0u8; EVENT_SIZE as usize];
        raw[..4].copy_from_slice(&ev.events.to_ne_bytes());
        raw[4..].copy_from_slice(&ev.data.to_ne_bytes());
        usercopy::write_bytes(&mm, UserAddr(events + i as u64 * EVENT_SIZE), &raw)?;
    }
    Ok(ready.len() as u64)
}

/// `eventfd2(initval, flags)`: `EFD_SEMAPHORE`, `EFD_NONBLOCK`, `EFD_CLOEXEC`.
pub fn eventfd2(initval: u64, flags: u64) -> SysResult {
    let flags = flags as u32;
    if flags & !(EFD_SEMAPHORE | O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let f = crate::fs::eventfd::new(
        initval as u32,
        flags & EFD_SEMAPHORE != 0,
        flags & O_NONBLOCK,
    );
    install(f, flags & O_CLOEXEC != 0)
}

/// `timerfd_create(clockid, flags)`: `CLOCK_MONOTONIC`, `CLOCK_REALTIME` and
/// `CLOCK_BOOTTIME` (the monotonic clock: Halyard does not suspend); the `_ALARM` clocks
/// need `CAP_WAKE_ALARM` (`EPERM` for others, `EINVAL` here: no alarm timers).
pub fn timerfd_create(clock: u64, flags: u64) -> SysResult {
    let flags = flags as u32;
    if flags & !(O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    if !matches!(
        clock as u32,
        CLOCK_MONOTONIC | CLOCK_REALTIME | CLOCK_BOOTTIME
    ) {
        return Err(Errno::EINVAL);
    }
    let f = crate::fs::timerfd::new(clock as u32, flags & O_NONBLOCK);
    install(f, flags & O_CLOEXEC != 0)
}

// SAFETY: `__kernel_itimerspec` is four i64s.
unsafe impl usercopy::Pod for __kernel_itimerspec {}

fn to_ns(ts: &__kernel_timespec) -> Result<u64, Errno> {
    if ts.tv_sec < 0 || !(0..NS as i64).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok((ts.tv_sec as u64)
        .saturating_mul(NS)
        .saturating_add(ts.tv_nsec as u64))
}

fn to_timespec(ns: u64) -> __kernel_timespec {
    __kernel_timespec {
        tv_sec: (ns / NS) as i64,
        tv_nsec: (ns % NS) as i64,
    }
}

fn itimerspec((value, interval): (u64, u64)) -> __kernel_itimerspec {
    __kernel_itimerspec {
        it_interval: to_timespec(interval),
        it_value: to_timespec(value),
    }
}

/// The timer behind descriptor `fd`: `EBADF`, or `EINVAL` for another file.
fn timer(fd: u64) -> Result<Arc<OpenFile>, Errno> {
    let f = file(fd)?;
    f.ops.timerfd().ok_or(Errno::EINVAL)?;
    Ok(f)
}

/// `timerfd_settime(fd, flags, new, old)`.
pub fn timerfd_settime(fd: u64, flags: u64, new: u64, old: u64) -> SysResult {
    let flags = flags as u32;
    let mm = crate::process::current().process.mm();
    let spec: __kernel_itimerspec = usercopy::read(&mm, UserRef::new(new))?;
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(Errno::EINVAL);
    }
    let value = to_ns(&spec.it_value)?;
    let interval = to_ns(&spec.it_interval)?;
    let f = timer(fd)?;
    let t = f.ops.timerfd().ok_or(Errno::EINVAL)?;
    if flags & TFD_TIMER_CANCEL_ON_SET != 0
        && (flags & TFD_TIMER_ABSTIME == 0 || t.clock() != CLOCK_REALTIME)
    {
        return Err(Errno::EINVAL);
    }
    let first = if value == 0 {
        None
    } else if flags & TFD_TIMER_ABSTIME == 0 {
        Some(crate::time::now_ns().saturating_add(value))
    } else if t.clock() == CLOCK_REALTIME {
        Some(crate::time::monotonic_from_realtime(value))
    } else {
        Some(value)
    };
    let previous = t.set(first, interval);
    if old != 0 {
        usercopy::write(&mm, UserRef::new(old), &itimerspec(previous))?;
    }
    Ok(0)
}

/// `timerfd_gettime(fd, cur)`.
pub fn timerfd_gettime(fd: u64, cur: u64) -> SysResult {
    let f = timer(fd)?;
    let t = f.ops.timerfd().ok_or(Errno::EINVAL)?;
    let mm = crate::process::current().process.mm();
    usercopy::write(&mm, UserRef::new(cur), &itimerspec(t.get()))?;
    Ok(0)
}
