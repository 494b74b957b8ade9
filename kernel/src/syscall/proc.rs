//! Process and thread identity, creation, exit, waiting, groups, limits, credentials and
//! per-thread CPU state.
use linux_raw_sys::general::ARCH_SET_FS;

use super::{Errno, SysResult};
use crate::arch::entry::InterruptFrame;
use crate::process::fork::{clone as do_clone, CloneArgs};
use crate::process::usercopy::{self, UserRef};
use crate::process::{current, table};

/// `exit(status)`: ends the calling thread (the process when it is the last), on its way
/// back to user mode.
pub fn exit(status: u64) -> SysResult {
    current().exit_request.store(
        ((status & 0xff) << 8) as i32,
        core::sync::atomic::Ordering::Release,
    );
    Ok(0)
}

/// `exit_group(status)`: ends every thread of the process.
pub fn exit_group(status: u64) -> SysResult {
    crate::process::exit::begin_group_exit(&current().process, ((status & 0xff) << 8) as i32);
    Ok(0)
}

pub fn getpid() -> SysResult {
    Ok(u64::from(current().process.pid))
}

pub fn gettid() -> SysResult {
    Ok(u64::from(current().tid()))
}

pub fn getppid() -> SysResult {
    let pid = current().process.pid;
    Ok(u64::from(table::with(|p| p.table.parent(pid)).unwrap_or(0)))
}

/// The four id getters: `which` picks real or effective, user or group.
pub fn getid(effective: bool, group: bool) -> SysResult {
    let tid = current().tid();
    let c = table::with(|p| p.table.creds(tid).cloned()).ok_or(Errno::ESRCH)?;
    Ok(u64::from(match (effective, group) {
        (false, false) => c.ruid,
        (true, false) => c.euid,
        (false, true) => c.rgid,
        (true, true) => c.egid,
    }))
}

/// `set_tid_address(tidptr)`: remembered for exit; returns the caller's tid.
pub fn set_tid_address(tidptr: u64) -> SysResult {
    let task = current();
    task.clear_child_tid
        .store(tidptr, core::sync::atomic::Ordering::Relaxed);
    Ok(u64::from(task.tid()))
}

/// `set_robust_list(head, len)`: `EINVAL` unless `len` is the size of
/// `struct robust_list_head` (24); the list is remembered (robust futexes are released at
/// exit by the futex layer when it walks it).
pub fn set_robust_list(head: u64, len: u64) -> SysResult {
    if len != 24 {
        return Err(Errno::EINVAL);
    }
    current()
        .robust_list
        .store(head, core::sync::atomic::Ordering::Relaxed);
    Ok(0)
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
            let value = if code as u32 == ARCH_GET_FS {
                bases.fs
            } else {
                bases.gs
            };
            usercopy::write(&current().process.mm(), UserRef::<u64>::new(addr), &value)?;
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

/// `clone(flags, stack, parent_tid, child_tid, tls)` (x86_64 argument order).
pub fn clone(
    frame: &InterruptFrame,
    flags: u64,
    stack: u64,
    ptid: u64,
    ctid: u64,
    tls: u64,
) -> SysResult {
    do_clone(
        frame,
        CloneArgs {
            flags: flags & !0xff,
            exit_signal: flags & 0xff,
            stack,
            parent_tid: ptid,
            child_tid: ctid,
            tls,
        },
    )
}

/// `clone3(args, size)`: `struct clone_args` of at least 64 bytes (`CLONE_ARGS_SIZE_VER0`);
/// fields beyond the ones Halyard knows must be zero (`E2BIG`), a stack is given as base
/// and size.
pub fn clone3(frame: &InterruptFrame, args: u64, size: u64) -> SysResult {
    const VER0: u64 = 64;
    const KNOWN: u64 = 88; // up to cgroup (VER2)
    if size < VER0 {
        return Err(Errno::EINVAL);
    }
    if size > 4096 {
        return Err(Errno::E2BIG);
    }
    let mm = current().process.mm();
    let mut raw = alloc::vec![0u8; size as usize];
    usercopy::read_bytes(&mm, usercopy::UserAddr(args), &mut raw)?;
    if raw[KNOWN.min(size) as usize..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let word = |i: usize| {
        let mut w = [0u8; 8];
        if let Some(s) = raw.get(i * 8..i * 8 + 8) {
            w.copy_from_slice(s);
        }
        u64::from_le_bytes(w)
    };
    let (flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls) = (
        word(0),
        word(1),
        word(2),
        word(3),
        word(4),
        word(5),
        word(6),
        word(7),
    );
    let (set_tid, set_tid_size, cgroup) = (word(8), word(9), word(10));
    // The pidfd field is read only with CLONE_PIDFD, which Halyard refuses with the other
    // unsupported flags.
    let _ = pidfd;
    if flags & 0xff != 0 || exit_signal > 64 {
        return Err(Errno::EINVAL);
    }
    if set_tid != 0 || set_tid_size != 0 || cgroup != 0 {
        crate::info!("clone3: set_tid and cgroups are not supported: EINVAL");
        return Err(Errno::EINVAL);
    }
    if (stack == 0) != (stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    do_clone(
        frame,
        CloneArgs {
            flags,
            exit_signal,
            stack: stack.wrapping_add(stack_size),
            parent_tid,
            child_tid,
            tls,
        },
    )
}

/// `fork()`.
pub fn fork(frame: &InterruptFrame) -> SysResult {
    clone(
        frame,
        u64::from(linux_raw_sys::general::SIGCHLD),
        0,
        0,
        0,
        0,
    )
}

/// `vfork()`.
pub fn vfork(frame: &InterruptFrame) -> SysResult {
    let flags = linux_raw_sys::general::CLONE_VM | linux_raw_sys::general::CLONE_VFORK;
    clone(
        frame,
        u64::from(flags | linux_raw_sys::general::SIGCHLD),
        0,
        0,
        0,
        0,
    )
}

/// `setpgid(pid, pgid)`.
pub fn setpgid(pid: u64, pgid: u64) -> SysResult {
    let me = current().process.pid;
    table::with(|p| p.table.setpgid(me, pid as i32, pgid as i32)).map_err(Errno::from)?;
    Ok(0)
}

/// `getpgid(pid)` (and `getpgrp()` as `getpgid(0)`).
pub fn getpgid(pid: u64) -> SysResult {
    let me = current().process.pid;
    Ok(u64::from(
        table::with(|p| p.table.getpgid(me, pid as i32)).map_err(Errno::from)?,
    ))
}

/// `getsid(pid)`.
pub fn getsid(pid: u64) -> SysResult {
    let me = current().process.pid;
    Ok(u64::from(
        table::with(|p| p.table.getsid(me, pid as i32)).map_err(Errno::from)?,
    ))
}

/// `setsid()`.
pub fn setsid() -> SysResult {
    let me = current().process.pid;
    Ok(u64::from(
        table::with(|p| p.table.setsid(me)).map_err(Errno::from)?,
    ))
}

/// `prlimit64(pid, resource, new, old)`.
pub fn prlimit64(pid: u64, resource: u64, new: u64, old: u64) -> SysResult {
    let task = current();
    let mm = task.process.mm();
    let new = if new != 0 {
        let [cur, max]: [u64; 2] = usercopy::read(&mm, UserRef::new(new))?;
        Some(halyard_process::Rlimit { cur, max })
    } else {
        None
    };
    let prev = table::with(|p| {
        p.table
            .prlimit(task.tid(), pid as i32, resource as u32, new)
    })
    .map_err(Errno::from)?;
    if old != 0 {
        usercopy::write(&mm, UserRef::<[u64; 2]>::new(old), &[prev.cur, prev.max])?;
    }
    Ok(0)
}

/// `getrlimit(resource, rlim)`.
pub fn getrlimit(resource: u64, rlim: u64) -> SysResult {
    prlimit64(0, resource, 0, rlim)
}

/// `setrlimit(resource, rlim)`.
pub fn setrlimit(resource: u64, rlim: u64) -> SysResult {
    prlimit64(0, resource, rlim, 0)
}

/// `sched_getaffinity(pid, len, mask)`: every online CPU; `EINVAL` for a buffer smaller
/// than the kernel's mask (8 bytes) or not a multiple of 8.
pub fn sched_getaffinity(pid: u64, len: u64, mask: u64) -> SysResult {
    if len < 8 || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    if pid != 0 && table::thread(pid as u32).is_none() {
        return Err(Errno::ESRCH);
    }
    let cpus = crate::arch::percpu::count() as u32;
    let bits: u64 = if cpus >= 64 {
        u64::MAX
    } else {
        (1u64 << cpus) - 1
    };
    usercopy::write(&current().process.mm(), UserRef::<u64>::new(mask), &bits)?;
    Ok(8)
}

/// `umask(mask)`.
pub fn umask(mask: u64) -> SysResult {
    let old = current()
        .process
        .umask
        .swap(mask as u32 & 0o777, core::sync::atomic::Ordering::Relaxed);
    Ok(u64::from(old))
}

/// `wait4(pid, wstatus, options, rusage)`.
pub fn wait4(pid: u64, wstatus: u64, options: u64, rusage: u64) -> SysResult {
    crate::process::wait::wait4(pid, wstatus, options, rusage)
}

/// `waitid(which, id, infop, options, rusage)`.
pub fn waitid(which: u64, id: u64, infop: u64, options: u64, rusage: u64) -> SysResult {
    crate::process::wait::waitid(which, id, infop, options, rusage)
}
