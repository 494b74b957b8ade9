//! Clocks and sleeping.
use linux_raw_sys::general::{
    __kernel_timespec, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE,
    CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_COARSE,
    CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME,
};

use super::{Errno, SysResult};
use crate::process::usercopy::{self, UserRef};

const NS: u64 = 1_000_000_000;

// SAFETY: `__kernel_timespec` is two i64s.
unsafe impl usercopy::Pod for __kernel_timespec {}

fn to_timespec(ns: u64) -> __kernel_timespec {
    __kernel_timespec {
        tv_sec: (ns / NS) as i64,
        tv_nsec: (ns % NS) as i64,
    }
}

/// The clocks Halyard has, in nanoseconds: REALTIME (and TAI, with Linux's default TAI
/// offset of 0) from the RTC at boot plus the monotonic clock; MONOTONIC, its RAW and
/// COARSE forms and BOOTTIME are the TSC clock (the machine never suspends); the CPU-time
/// clocks add up the time the threads spent on a CPU (kernel time included: Halyard does
/// not split user and system time). Another process's CPU clock
/// (`clock_getcpuclockid`'s negative ids) and an unknown clock id are `EINVAL`.
fn clock_ns(clock: u64) -> Result<u64, Errno> {
    match clock as u32 {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_TAI => Ok(crate::time::realtime_ns()),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_COARSE | CLOCK_MONOTONIC_RAW | CLOCK_BOOTTIME => {
            Ok(crate::time::now_ns())
        }
        CLOCK_PROCESS_CPUTIME_ID => Ok(crate::process::current().process.cpu_ns()),
        CLOCK_THREAD_CPUTIME_ID => Ok(crate::sched::cpu_time_ns(&crate::sched::current())),
        _ => Err(Errno::EINVAL),
    }
}

/// `clock_gettime(clock, tp)`.
pub fn clock_gettime(clock: u64, tp: u64) -> SysResult {
    let now = clock_ns(clock)?;
    let mm = crate::process::current().process.mm();
    usercopy::write(&mm, UserRef::new(tp), &to_timespec(now))?;
    Ok(0)
}

/// `clock_getres(clock, res)`: one nanosecond (the TSC-based clock), NULL allowed.
pub fn clock_getres(clock: u64, res: u64) -> SysResult {
    clock_ns(clock)?;
    if res != 0 {
        let mm = crate::process::current().process.mm();
        usercopy::write(&mm, UserRef::new(res), &to_timespec(1))?;
    }
    Ok(0)
}

pub fn read_timespec(addr: u64) -> Result<u64, Errno> {
    let mm = crate::process::current().process.mm();
    let ts: __kernel_timespec = usercopy::read(&mm, UserRef::new(addr))?;
    if ts.tv_sec < 0 || !(0..NS as i64).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok((ts.tv_sec as u64)
        .saturating_mul(NS)
        .saturating_add(ts.tv_nsec as u64))
}

/// Sleeps until monotonic `deadline`; a signal ends it early: `Err(remaining ns)`.
fn sleep_until(deadline: u64) -> Result<(), u64> {
    let never = crate::sched::WaitQueue::new();
    never.wait_until_deadline(Some(deadline), crate::process::signal_pending);
    let now = crate::time::now_ns();
    if now < deadline && crate::process::signal_pending() {
        return Err(deadline - now);
    }
    Ok(())
}

/// `nanosleep(req, rem)`: `EINTR` with the time left in `rem` when a signal's handler
/// runs (Linux restarts it transparently when no handler runs).
pub fn nanosleep(req: u64, rem: u64) -> SysResult {
    let ns = read_timespec(req)?;
    relative_sleep(ns, rem)
}

fn relative_sleep(ns: u64, rem: u64) -> SysResult {
    sleep_to(crate::time::now_ns().saturating_add(ns), rem)
}

/// Sleeps until monotonic `deadline`. Interrupted by a signal, it writes the time left to
/// `rem` (if given) and returns `ERESTART_RESTARTBLOCK`, as Linux's `do_nanosleep`: a
/// handler then sees `EINTR`; without one (a stop and continue, an ignored signal)
/// `restart_syscall` sleeps the rest.
fn sleep_to(deadline: u64, rem: u64) -> SysResult {
    match sleep_until(deadline) {
        Ok(()) => Ok(0),
        Err(left) => {
            if rem != 0 {
                let mm = crate::process::current().process.mm();
                usercopy::write(&mm, UserRef::new(rem), &to_timespec(left))?;
            }
            let task = crate::process::current();
            task.restart_deadline
                .store(deadline, core::sync::atomic::Ordering::Relaxed);
            task.restart_rem
                .store(rem, core::sync::atomic::Ordering::Relaxed);
            Err(Errno::ERESTART_RESTARTBLOCK)
        }
    }
}

/// `restart_syscall()`: continues the interrupted sleep of the calling thread (`EINTR`
/// when there is none, as Linux's `do_no_restart_syscall`).
pub fn restart_syscall() -> SysResult {
    let task = crate::process::current();
    let deadline = task
        .restart_deadline
        .swap(0, core::sync::atomic::Ordering::Relaxed);
    if deadline == 0 {
        return Err(Errno::EINTR);
    }
    let rem = task.restart_rem.load(core::sync::atomic::Ordering::Relaxed);
    sleep_to(deadline, rem)
}

/// `clock_nanosleep(clock, flags, req, rem)`.
pub fn clock_nanosleep(clock: u64, flags: u64, req: u64, rem: u64) -> SysResult {
    let now = clock_ns(clock)?;
    if flags & !u64::from(TIMER_ABSTIME) != 0 {
        return Err(Errno::EINVAL);
    }
    let ns = read_timespec(req)?;
    if flags & u64::from(TIMER_ABSTIME) != 0 {
        let deadline = crate::time::now_ns() + ns.saturating_sub(now);
        // An absolute sleep is restarted whatever the handler (Linux: ERESTARTNOHAND).
        sleep_until(deadline).map_err(|_| Errno::ERESTARTNOHAND)?;
        Ok(0)
    } else {
        relative_sleep(ns, rem)
    }
}

/// `clock_settime(clock, tp)`: only `CLOCK_REALTIME` can be set (`EINVAL` for the
/// others, as Linux), by root (`EPERM`, after the value's checks, as Linux).
pub fn clock_settime(clock: u64, tp: u64) -> SysResult {
    if clock as u32 != CLOCK_REALTIME {
        return Err(Errno::EINVAL);
    }
    let ns = read_timespec(tp)?;
    if !super::cred::capable() {
        return Err(Errno::EPERM);
    }
    crate::time::set_realtime_ns(ns);
    Ok(0)
}

/// `settimeofday(tv, tz)`: the time zone is ignored; the privilege check (`EPERM`)
/// comes after the value's and holds for a NULL `tv` too, as Linux's
/// `do_sys_settimeofday64`.
pub fn settimeofday(tv: u64, _tz: u64) -> SysResult {
    let time = if tv != 0 {
        let mm = crate::process::current().process.mm();
        let [sec, usec]: [i64; 2] = usercopy::read(&mm, UserRef::new(tv))?;
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        Some((sec as u64).saturating_mul(NS) + usec as u64 * 1000)
    } else {
        None
    };
    if !super::cred::capable() {
        return Err(Errno::EPERM);
    }
    if let Some(ns) = time {
        crate::time::set_realtime_ns(ns);
    }
    Ok(0)
}
