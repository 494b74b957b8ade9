//! The rest: `prctl`, `reboot`, `sysinfo`, `getcpu`, wall-clock calls, resource usage,
//! interval timers.
use linux_raw_sys::general as g;

use super::{Errno, SysResult};
use crate::process::usercopy::{self, UserAddr, UserRef};
use crate::process::{current, table};

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
        usercopy::write(&mm(), UserRef::<[u64; 2]>::new(tv), &[ns / 1_000_000_000, (ns % 1_000_000_000) / 1000])?;
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

/// `times(buf)`: per-process CPU time is not accounted yet (zeros); the return value is
/// the tick count since boot, as Linux's.
pub fn times(buf: u64) -> SysResult {
    if buf != 0 {
        usercopy::write(&mm(), UserRef::<[u64; 4]>::new(buf), &[0; 4])?;
    }
    Ok(ticks())
}

/// `getrusage(who, usage)`: `EINVAL` for an unknown `who`; usage is not accounted yet
/// (zeros).
pub fn getrusage(who: u64, usage: u64) -> SysResult {
    match who as i32 {
        0 | -1 | 1 => {}
        _ => return Err(Errno::EINVAL),
    }
    usercopy::zero_bytes(&mm(), UserAddr(usage), core::mem::size_of::<g::rusage>())?;
    Ok(0)
}

/// `sysinfo(info)`.
pub fn sysinfo(info: u64) -> SysResult {
    let f = crate::mm::frame_stats();
    let procs = table::with(|p| p.processes.len()) as u16;
    // struct sysinfo on x86_64: uptime, loads[3], totalram, freeram, sharedram, bufferram,
    // totalswap, freeswap (longs), procs (u16 + pad), totalhigh, freehigh, mem_unit (u32).
    let mut raw = [0u8; 112];
    let put = |raw: &mut [u8; 112], at: usize, v: u64| raw[at..at + 8].copy_from_slice(&v.to_le_bytes());
    put(&mut raw, 0, crate::time::now_ns() / 1_000_000_000);
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
    let tid = current().tid;
    if !table::with(|p| p.table.creds(tid).is_some_and(|c| c.privileged())) {
        return Err(Errno::EPERM);
    }
    match cmd as u32 {
        0x4321_fedc | 0xcdef_0123 | 0x0123_4567 => {
            crate::println!("reboot: {}", if cmd as u32 == 0x0123_4567 { "restarting" } else { "power down" });
            crate::arch::qemu::exit(crate::arch::qemu::EXIT_SUCCESS)
        }
        0x89ab_cdef | 0 => Ok(0), // Ctrl-Alt-Del on/off
        _ => Err(Errno::EINVAL),
    }
}

/// `prctl(option, ...)`: the options programs use at start-up; others `EINVAL`.
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
            *task.process.name.lock() = alloc::string::String::from_utf8_lossy(&name[..len]).into_owned();
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
        p::PR_SET_PDEATHSIG => {
            if a2 > 64 {
                return Err(Errno::EINVAL);
            }
            task.process.pdeathsig.store(a2 as u32, core::sync::atomic::Ordering::Relaxed);
            Ok(0)
        }
        p::PR_GET_PDEATHSIG => {
            let v = task.process.pdeathsig.load(core::sync::atomic::Ordering::Relaxed) as i32;
            usercopy::write(&task.process.mm(), UserRef::new(a2), &v)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
