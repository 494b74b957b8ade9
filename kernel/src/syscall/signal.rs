//! Signal system calls: actions, masks, sending, waiting, the alternate stack, return
//! from a handler. The rules are `halyard-signal`'s; this file reads and writes user
//! memory in Linux's order and maps errors.
use halyard_signal::{
    check_sigpending_size, check_sigsetsize, SigAction, SigInfo, SigSet, StackT, Target,
    SIGACTION_SIZE, SIGINFO_SIZE, SI_TKILL, SI_USER, STACK_T_SIZE,
};

use super::{Errno, SysResult};
use crate::arch::entry::InterruptFrame;
use crate::process::usercopy::{self, UserAddr, UserRef};
use crate::process::{current, table};

fn read_set(mm: &crate::process::mm::Mm, addr: u64) -> Result<SigSet, Errno> {
    Ok(SigSet::from_bits(usercopy::read(
        mm,
        UserRef::<u64>::new(addr),
    )?))
}

/// `rt_sigaction(sig, act, oldact, sigsetsize)`.
pub fn rt_sigaction(sig: u64, act: u64, oldact: u64, size: u64) -> SysResult {
    check_sigsetsize(size as usize).map_err(Errno::from)?;
    let task = current();
    let mm = task.process.mm();
    let new = if act != 0 {
        let bytes: [u8; SIGACTION_SIZE] = usercopy::read(&mm, UserRef::new(act))?;
        Some(SigAction::from_user(&bytes))
    } else {
        None
    };
    let old = task
        .process
        .signals
        .lock()
        .sigaction(sig as i64, new)
        .map_err(Errno::from)?;
    if new.is_some() && sig == u64::from(linux_raw_sys::general::SIGCHLD) {
        let notice = task
            .process
            .signals
            .lock()
            .child_exit(Some(halyard_signal::Signal::SIGCHLD));
        table::with(|p| p.table.set_autoreap(task.process.pid, notice.autoreap));
    }
    if oldact != 0 {
        usercopy::write_bytes(&mm, UserAddr(oldact), &old.to_user())?;
    }
    Ok(0)
}

/// `rt_sigprocmask(how, set, oldset, sigsetsize)`.
pub fn rt_sigprocmask(how: u64, set: u64, oldset: u64, size: u64) -> SysResult {
    check_sigsetsize(size as usize).map_err(Errno::from)?;
    let task = current();
    let mm = task.process.mm();
    let new = if set != 0 {
        Some(read_set(&mm, set)?)
    } else {
        None
    };
    let old = task
        .process
        .signals
        .lock()
        .sigprocmask(task.tid(), how as i32 as i64, new)
        .map_err(Errno::from)?;
    if oldset != 0 {
        usercopy::write(&mm, UserRef::<u64>::new(oldset), &old.bits())?;
    }
    Ok(0)
}

/// `rt_sigpending(set, sigsetsize)`.
pub fn rt_sigpending(set: u64, size: u64) -> SysResult {
    check_sigpending_size(size as usize).map_err(Errno::from)?;
    let task = current();
    let pending = task
        .process
        .signals
        .lock()
        .sigpending(task.tid())
        .map_err(Errno::from)?;
    usercopy::write(
        &task.process.mm(),
        UserRef::<u64>::new(set),
        &pending.bits(),
    )?;
    Ok(0)
}

/// `rt_sigsuspend(mask, sigsetsize)`: waits with `mask` until a signal is delivered;
/// always "fails" with EINTR (`-ERESTARTNOHAND`: a handler sees EINTR).
pub fn rt_sigsuspend(mask: u64, size: u64) -> SysResult {
    check_sigsetsize(size as usize).map_err(Errno::from)?;
    let task = current();
    let set = read_set(&task.process.mm(), mask)?;
    task.process
        .signals
        .lock()
        .sigsuspend(task.tid(), set)
        .map_err(Errno::from)?;
    pause()
}

/// `pause()`: sleeps until a signal is delivered, then `ERESTARTNOHAND` (`EINTR` once a
/// handler ran), as Linux's `sys_pause`.
pub fn pause() -> SysResult {
    let never = crate::sched::WaitQueue::new();
    let _ = crate::fs::wait::interruptible(&never, || false);
    Err(Errno::ERESTARTNOHAND)
}

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)`.
pub fn rt_sigtimedwait(set: u64, info: u64, timeout: u64, size: u64) -> SysResult {
    check_sigsetsize(size as usize).map_err(Errno::from)?;
    let task = current();
    let mm = task.process.mm();
    let wanted = read_set(&mm, set)?;
    let deadline = if timeout != 0 {
        Some(crate::time::now_ns().saturating_add(super::time::read_timespec(timeout)?))
    } else {
        None
    };
    let got = task
        .process
        .signals
        .lock()
        .sigtimedwait_begin(task.tid(), wanted)
        .map_err(Errno::from)?;
    let got = match got {
        Some(info) => Some(info),
        None => {
            let never = crate::sched::WaitQueue::new();
            if deadline != Some(crate::time::now_ns()) {
                never.wait_until_deadline(deadline, crate::process::signal_pending);
            }
            task.process
                .signals
                .lock()
                .sigtimedwait_end(task.tid(), wanted)
                .map_err(Errno::from)?
        }
    };
    let Some(got) = got else {
        return Err(if crate::process::signal_pending() {
            Errno::EINTR
        } else {
            Errno::EAGAIN
        });
    };
    if info != 0 {
        let bytes: [u8; SIGINFO_SIZE] = got.to_user();
        usercopy::write_bytes(&mm, UserAddr(info), &bytes)?;
    }
    Ok(u64::from(got.signal().number()))
}

/// `sigaltstack(ss, old_ss)`.
pub fn sigaltstack(ss: u64, old: u64, frame: &InterruptFrame) -> SysResult {
    let task = current();
    let mm = task.process.mm();
    let new = if ss != 0 {
        let bytes: [u8; STACK_T_SIZE] = usercopy::read(&mm, UserRef::new(ss))?;
        Some(StackT::from_user(&bytes))
    } else {
        None
    };
    let prev = task
        .process
        .signals
        .lock()
        .sigaltstack(task.tid(), new, frame.rsp)
        .map_err(Errno::from)?;
    if old != 0 {
        usercopy::write_bytes(&mm, UserAddr(old), &prev.to_user())?;
    }
    Ok(0)
}

/// `rt_sigreturn()`.
pub fn rt_sigreturn(frame: &mut InterruptFrame) -> SysResult {
    crate::process::signals::sigreturn(frame)
}

fn user_info(sig: halyard_signal::Signal, code: i32) -> SigInfo {
    let task = current();
    SigInfo::user(sig, code, task.process.pid as i32, 0)
}

/// `kill(pid, sig)`: a process (`pid > 0`), the caller's group (0), every process but
/// init and the caller (-1), or group `-pid`. Signal 0 checks only.
pub fn kill(pid: u64, sig: u64) -> SysResult {
    let pid = pid as i32;
    let sig = sig as i32;
    let signal = if sig == 0 {
        None
    } else {
        Some(crate::process::signal_number(sig as u64)?)
    };
    let me = current().process.pid;
    let targets: alloc::vec::Vec<u32> = table::with(|p| match pid {
        p0 if p0 > 0 => {
            if p.table.is_process(p0 as u32) && p.table.zombie(p0 as u32).is_none() {
                alloc::vec![p0 as u32]
            } else if p.table.zombie(p0 as u32).is_some() {
                alloc::vec![]
            } else {
                alloc::vec![u32::MAX]
            }
        }
        0 => {
            let g = p.table.getpgid(me, 0).unwrap_or(0);
            p.table.group_members(g).collect()
        }
        -1 => p
            .processes
            .keys()
            .copied()
            .filter(|&q| q != 1 && q != me)
            .collect(),
        g => p.table.group_members(g.unsigned_abs()).collect(),
    });
    if targets == [u32::MAX] || (targets.is_empty() && pid != -1 && pid <= 0) {
        return Err(Errno::ESRCH);
    }
    // Linux: success if any target could be signalled, else the last error (EPERM).
    let mut result = if targets.is_empty() {
        Ok(0)
    } else {
        Err(Errno::EPERM)
    };
    for t in targets {
        if may_signal(t).is_err() {
            continue;
        }
        result = Ok(0);
        if let Some(signal) = signal {
            let _ = crate::process::signals::send(Target::Process(t), user_info(signal, SI_USER));
        }
    }
    result
}

/// Linux's `kill_ok_by_cred`: root, or a sender whose real or effective uid is the
/// target's real or saved uid.
fn may_signal(target_tid: u32) -> Result<(), Errno> {
    let me = current().tid();
    table::with(|p| {
        let (Some(s), Some(t)) = (p.table.creds(me), p.table.creds(target_tid)) else {
            return Err(Errno::ESRCH);
        };
        if s.privileged()
            || [s.ruid, s.euid]
                .iter()
                .any(|u| *u == t.ruid || *u == t.suid)
        {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    })
}

/// `tgkill(tgid, tid, sig)` (and `tkill`, `tgid` `None`).
pub fn tgkill(tgid: Option<i64>, tid: u64, sig: u64) -> SysResult {
    let tid = tid as i32;
    if tid <= 0 || tgid.is_some_and(|g| g <= 0) {
        return Err(Errno::EINVAL);
    }
    let signal = if sig == 0 {
        None
    } else {
        Some(crate::process::signal_number(sig)?)
    };
    let owner = table::with(|p| p.table.tgid(tid as u32));
    match owner {
        Some(g) if tgid.is_none_or(|want| i64::from(g) == want) => {}
        _ => return Err(Errno::ESRCH),
    }
    may_signal(tid as u32)?;
    if let Some(signal) = signal {
        crate::process::signals::send(Target::Thread(tid as u32), user_info(signal, SI_TKILL))?;
    }
    Ok(0)
}

/// Linux's `set_user_sigmask`: the mask at `mask` (unless 0) replaces the thread's until
/// the call ends ([`end_call_sigmask`]); the old one is kept as `rt_sigsuspend` keeps it,
/// so a handler that interrupts the call runs with the call's mask and returns to the
/// old one. `EINVAL` for a `size` other than the kernel's `sigset_t`.
pub fn begin_call_sigmask(mask: u64, size: u64) -> Result<(), Errno> {
    if mask == 0 {
        return Ok(());
    }
    check_sigsetsize(size as usize).map_err(Errno::from)?;
    let task = current();
    let set = read_set(&task.process.mm(), mask)?;
    let result = task.process.signals.lock().sigsuspend(task.tid(), set);
    result.map_err(Errno::from)
}

/// Linux's `restore_saved_sigmask_unless`: the call is over; unless it was interrupted
/// (`ERESTARTNOHAND`, a signal is being delivered, which restores it), put the mask
/// [`begin_call_sigmask`] replaced back.
pub fn end_call_sigmask(result: &SysResult) {
    if *result != Err(Errno::ERESTARTNOHAND) {
        let task = current();
        let _ = task
            .process
            .signals
            .lock()
            .restore_saved_sigmask(task.tid());
    }
}
