//! Process and thread identity, exit, and per-thread CPU state.
use linux_raw_sys::general::ARCH_SET_FS;

use super::{Errno, SysResult};
use crate::process::usercopy::{self, UserRef};

/// `exit(status)`: ends the calling thread (the process when it is the last).
pub fn exit(status: u64) -> SysResult {
    let task = crate::process::current();
    crate::process::exit_group(&task, ((status & 0xff) << 8) as i32)
}

/// `exit_group(status)`: ends every thread of the process.
pub fn exit_group(status: u64) -> SysResult {
    let task = crate::process::current();
    crate::process::exit_group(&task, ((status & 0xff) << 8) as i32)
}

pub fn getpid() -> SysResult {
    Ok(u64::from(crate::process::current().process.pid))
}

pub fn gettid() -> SysResult {
    Ok(u64::from(crate::process::current().tid))
}

pub fn getppid() -> SysResult {
    Ok(0)
}

/// `set_tid_address(tidptr)`: remembered for exit; returns the caller's tid.
pub fn set_tid_address(tidptr: u64) -> SysResult {
    let task = crate::process::current();
    task.clear_child_tid
        .store(tidptr, core::sync::atomic::Ordering::Relaxed);
    Ok(u64::from(task.tid))
}

// `linux-raw-sys` 0.12 has only ARCH_SET_FS of <asm/prctl.h>; the other three codes are
// from the same header (arch/x86/include/uapi/asm/prctl.h).
const ARCH_SET_GS: u32 = 0x1001;
const ARCH_GET_FS: u32 = 0x1003;
const ARCH_GET_GS: u32 = 0x1004;

/// `arch_prctl(code, addr)`: the FS and GS bases. A base must be a user address (Linux
/// `EPERM` for anything at or above `TASK_SIZE`); the kernel relies on that (see
/// `arch::entry`).
pub fn arch_prctl(code: u64, addr: u64) -> SysResult {
    let thread = crate::sched::current();
    match code as u32 {
        ARCH_SET_FS | ARCH_SET_GS if addr >= vm::TASK_SIZE => Err(Errno::EPERM),
        ARCH_SET_FS => {
            thread.set_user_fs(addr);
            Ok(0)
        }
        ARCH_SET_GS => {
            thread.set_user_gs(addr);
            Ok(0)
        }
        ARCH_GET_FS | ARCH_GET_GS => {
            let bases = thread.user_bases();
            let value = if code as u32 == ARCH_GET_FS { bases.fs } else { bases.gs };
            let mm = crate::process::current().process.mm();
            usercopy::write(&mm, UserRef::<u64>::new(addr), &value)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// `sched_yield()`.
pub fn sched_yield() -> SysResult {
    crate::sched::yield_now();
    Ok(0)
}
