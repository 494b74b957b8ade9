//! The rest: `prctl`, `reboot`, `sysinfo`, `getcpu`, wall-clock calls, resource usage,
//! interval timers.

use super::{Errno, SysResult};
use crate::process::current;
use crate::process::usercopy::{self, UserAddr, UserRef};

fn mm() -> alloc::sync::Arc<crate::process::mm::Mm> {
    current().process.mm()
}

/// `time(tloc)`.
pub fn time(tloc: u64) -> SysResult {
    let secs = crate::time::realtime_ns() / 1_000_000_000;
    if tloc != 0 {
        usercopy::write(&mm(), UserRef::<u64>::new(tloc), &secs)?;
    }
    Ok(secs)
}

/// `gettimeofday(tv, tz)`: the time zone is always UTC (zeros).
pub fn gettimeofday(tv: u64, tz: u64) -> SysResult {
    let ns = crate::time::realtime_ns();
    if tv != 0 {
        usercopy::write(
            &mm(),
            UserRef::<[u64; 2]>::new(tv),
            &[ns / 1_000_000_000, (ns % 1_000_000_000) / 1000],
        )?;
    }
    if tz != 0 {
        usercopy::write(&mm(), UserRef::<[u32; 2]>::new(tz), &[0, 0])?;
    }
    Ok(0)
}

/// Clock ticks (`CLK_TCK` = 100) since boot.
fn ticks() -> u64 {
    crate::time::now_ns() / 10_000_000
}

/// `times(buf)`: user and system time of the process and of its reaped children, in
/// clock ticks (see `sched::cputime`); the return value is the tick count since boot, as
/// Linux's.
pub fn times(buf: u64) -> SysResult {
    use core::sync::atomic::Ordering::Relaxed;
    use cpustat::cputime::ns_to_clock_t;
    if buf != 0 {
        let p = &current().process;
        let (user, system) = p.times_ns();
        let words = [
            user,
            system,
            p.children_utime_ns.load(Relaxed),
            p.children_stime_ns.load(Relaxed),
        ]
        .map(ns_to_clock_t);
        usercopy::write(&mm(), UserRef::<[u64; 4]>::new(buf), &words)?;
    }
    Ok(ticks())
}

/// `getrusage(who, usage)`: `EINVAL` for an unknown `who`; user and system time (see
/// `sched::cputime`) and the largest resident set; the other fields are not accounted
/// (0).
pub fn getrusage(who: u64, usage: u64) -> SysResult {
    use core::sync::atomic::Ordering::Relaxed;
    let task = current();
    let p = &task.process;
    let ((user, system), rss) = match who as i32 {
        0 => (p.times_ns(), p.note_rss()),
        1 => (
            crate::sched::cputime::thread_times_ns(&crate::sched::current()),
            p.note_rss(),
        ),
        -1 => (
            (
                p.children_utime_ns.load(Relaxed),
                p.children_stime_ns.load(Relaxed),
            ),
            p.children_maxrss_kb.load(Relaxed),
        ),
        _ => return Err(Errno::EINVAL),
    };
    // struct rusage: ru_utime (timeval), ru_stime (timeval), then 14 longs from ru_maxrss.
    let mut words = [0u64; 18];
    words[0] = user / 1_000_000_000;
    words[1] = (user % 1_000_000_000) / 1000;
    words[2] = system / 1_000_000_000;
    words[3] = (system % 1_000_000_000) / 1000;
    words[4] = rss;
    usercopy::write(&mm(), UserRef::new(usage), &words)?;
    Ok(0)
}

/// Reads a `struct itimerval` (interval, value) as nanoseconds; `EINVAL` for a negative
/// or out-of-range field, as Linux's `get_itimerval`.
fn read_itimerval(addr: u64) -> Result<(u64, u64), Errno> {
    let [isec, iusec, vsec, vusec]: [i64; 4] = usercopy::read(&mm(), UserRef::new(addr))?;
    let ns = |sec: i64, usec: i64| {
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        Ok((sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(usec as u64 * 1000))
    };
    Ok((ns(isec, iusec)?, ns(vsec, vusec)?))
}

fn write_itimerval(addr: u64, interval: u64, value: u64) -> Result<(), Errno> {
    // A remaining time is rounded up to a microsecond, never shown as 0 while armed.
    let us = |ns: u64| ns.div_ceil(1000);
    let words = [
        (us(interval) / 1_000_000) as i64,
        (us(interval) % 1_000_000) as i64,
        (us(value) / 1_000_000) as i64,
        (us(value) % 1_000_000) as i64,
    ];
    usercopy::write(&mm(), UserRef::new(addr), &words)
}

/// `ITIMER_VIRTUAL` and `ITIMER_PROF` are not implemented (logged once).
fn real_only(which: u64) -> Result<(), Errno> {
    static WARNED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    match which as i32 {
        0 => Ok(()),
        1 | 2 => {
            if !WARNED.swap(true, core::sync::atomic::Ordering::Relaxed) {
                crate::info!(
                    "setitimer: ITIMER_VIRTUAL and ITIMER_PROF are not implemented: EINVAL"
                );
            }
            Err(Errno::EINVAL)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// `setitimer(which, new, old)`: a NULL `new` disarms (Linux's behaviour since 5.x).
pub fn setitimer(which: u64, new: u64, old: u64) -> SysResult {
    real_only(which)?;
    let (interval, value) = if new != 0 {
        read_itimerval(new)?
    } else {
        (0, 0)
    };
    let (remaining, old_interval) =
        crate::process::itimer::set(&current().process, value, interval);
    if old != 0 {
        write_itimerval(old, old_interval, remaining)?;
    }
    Ok(0)
}

/// `getitimer(which, curr)`.
pub fn getitimer(which: u64, curr: u64) -> SysResult {
    real_only(which)?;
    let (remaining, interval) = crate::process::itimer::get(&current().process);
    write_itimerval(curr, interval, remaining)?;
    Ok(0)
}

/// `alarm(seconds)`: the remaining seconds of the previous alarm, rounded to the nearest
/// second and never 0 while one was pending (Linux's `alarm_setitimer`).
pub fn alarm(seconds: u64) -> SysResult {
    let secs = (seconds as u32).min(i32::MAX as u32);
    let (remaining, _) =
        crate::process::itimer::set(&current().process, u64::from(secs) * 1_000_000_000, 0);
    let (mut s, ns) = (remaining / 1_000_000_000, remaining % 1_000_000_000);
    if (s == 0 && ns != 0) || ns >= 500_000_000 {
        s += 1;
    }
    Ok(s)
}

/// `sysinfo(info)`.
pub fn sysinfo(info: u64) -> SysResult {
    let f = crate::mm::frame_stats();
    // Linux's `nr_threads`: every thread, kernel threads included.
    let procs = crate::sched::loadavg::nr_threads().min(u64::from(u16::MAX)) as u16;
    // struct sysinfo on x86_64: uptime, loads[3], totalram, freeram, sharedram, bufferram,
    // totalswap, freeswap (longs), procs (u16 + pad), totalhigh, freehigh, mem_unit (u32).
    let mut raw = [0u8; 112];
    let put =
        |raw: &mut [u8; 112], at: usize, v: u64| raw[at..at + 8].copy_from_slice(&v.to_le_bytes());
    put(&mut raw, 0, crate::time::now_ns() / 1_000_000_000);
    let loads = crate::sched::loadavg::load_average().sysinfo_loads();
    for (i, load) in loads.into_iter().enumerate() {
        put(&mut raw, 8 + 8 * i, load);
    }
    put(&mut raw, 32, f.total * crate::mm::PAGE_SIZE);
    put(&mut raw, 40, f.free * crate::mm::PAGE_SIZE);
    raw[80..82].copy_from_slice(&procs.to_le_bytes());
    raw[104..108].copy_from_slice(&1u32.to_le_bytes());
    usercopy::write_bytes(&mm(), UserAddr(info), &raw)?;
    Ok(0)
}

/// `getcpu(cpu, node, cache)`.
pub fn getcpu(cpu: u64, node: u64, _cache: u64) -> SysResult {
    let index = crate::arch::percpu::cpu_index();
    if cpu != 0 {
        usercopy::write(&mm(), UserRef::<u32>::new(cpu), &index)?;
    }
    if node != 0 {
        usercopy::write(&mm(), UserRef::<u32>::new(node), &0)?;
    }
    Ok(0)
}

/// `reboot(magic, magic2, cmd, arg)`: Linux's magic numbers (`EINVAL`), root only
/// (`EPERM`). Power-off and halt leave QEMU with status 0, as the monitor's `poweroff`;
/// a restart leaves it too (QEMU runs with `-no-reboot`).
pub fn reboot(magic: u64, magic2: u64, cmd: u64, _arg: u64) -> SysResult {
    const MAGIC1: u32 = 0xfee1_dead;
    const MAGIC2: [u32; 4] = [672_274_793, 85_072_278, 369_367_448, 537_993_216];
    if magic as u32 != MAGIC1 || !MAGIC2.contains(&(magic2 as u32)) {
        return Err(Errno::EINVAL);
    }
    if !super::cred::capable() {
        return Err(Errno::EPERM);
    }
    match cmd as u32 {
        0x4321_fedc | 0xcdef_0123 | 0x0123_4567 => {
            crate::println!(
                "reboot: {}",
                if cmd as u32 == 0x0123_4567 {
                    "restarting"
                } else {
                    "power down"
                }
            );
            crate::arch::qemu::exit(crate::arch::qemu::EXIT_SUCCESS)
        }
        0x89ab_cdef | 0 => Ok(0), // Ctrl-Alt-Del on/off
        _ => Err(Errno::EINVAL),
    }
}

/// `prctl(option, ...)`: the name, `PR_SET_MDWE`, the dumpable flag and the
/// parent-death signal (sent by [`crate::process::exit`] when the parent exits); other
/// options `EINVAL`.
pub fn prctl(option: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> SysResult {
    use linux_raw_sys::prctl as p;
    let task = current();
    match option as u32 {
        p::PR_SET_NAME => {
            let mut name = [0u8; 16];
            for (i, b) in name.iter_mut().enumerate().take(15) {
                let byte: u8 = usercopy::read(&task.process.mm(), UserRef::new(a2 + i as u64))?;
                if byte == 0 {
                    break;
                }
                *b = byte;
            }
            let len = name.iter().position(|&b| b == 0).unwrap_or(15);
            *task.process.name.lock() =
                alloc::string::String::from_utf8_lossy(&name[..len]).into_owned();
            Ok(0)
        }
        p::PR_GET_NAME => {
            let mut name = [0u8; 16];
            let n = task.process.name();
            let len = n.len().min(15);
            name[..len].copy_from_slice(&n.as_bytes()[..len]);
            usercopy::write(&task.process.mm(), UserRef::new(a2), &name)?;
            Ok(0)
        }
        p::PR_SET_MDWE | p::PR_GET_MDWE => {
            let mm = task.process.mm();
            mm.with(|space, _| {
                if option as u32 == p::PR_SET_MDWE {
                    space.prctl_set_mdwe(a2, a3, a4, a5).map(|()| 0)
                } else {
                    space.prctl_get_mdwe(a2, a3, a4, a5)
                }
            })
            .map_err(Errno::from)
        }
        p::PR_SET_DUMPABLE => {
            // SUID_DUMP_DISABLE or SUID_DUMP_USER; SUID_DUMP_ROOT (2) only comes from
            // the `suid_dumpable` sysctl.
            if a2 > 1 {
                return Err(Errno::EINVAL);
            }
            task.process
                .dumpable
                .store(a2 == 1, core::sync::atomic::Ordering::Relaxed);
            Ok(0)
        }
        p::PR_GET_DUMPABLE => Ok(u64::from(
            task.process
                .dumpable
                .load(core::sync::atomic::Ordering::Relaxed),
        )),
        p::PR_SET_PDEATHSIG => {
            if a2 > 64 {
                return Err(Errno::EINVAL);
            }
            task.process
                .pdeathsig
                .store(a2 as u32, core::sync::atomic::Ordering::Relaxed);
            Ok(0)
        }
        p::PR_GET_PDEATHSIG => {
            let v = task
                .process
                .pdeathsig
                .load(core::sync::atomic::Ordering::Relaxed) as i32;
            usercopy::write(&task.process.mm(), UserRef::new(a2), &v)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
