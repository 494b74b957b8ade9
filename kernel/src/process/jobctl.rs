//! Sessions, controlling terminals and foreground process groups (the kernel side of
//! job control; the rules of groups and sessions are `halyard-process`'s).
use core::sync::atomic::Ordering;

use halyard_signal::{Handler, Signal};
use halyard_tty::{Access, Caller, Termios, Verdict};

use super::{current, signal_group, table, Task};
use crate::syscall::{Errno, SysResult};
use crate::tty::console::Console;

/// `TIOCSCTTY`: the calling session leader takes `tty` as its controlling terminal. A
/// terminal that belongs to another session is `EPERM`, unless root asks to steal it
/// (`arg == 1`).
pub fn set_controlling_tty(tty: &Console, arg: u64) -> SysResult {
    let task = current();
    let (sid, pgid, root) = table::with(|p| {
        let pid = task.process.pid as i32;
        let sid = p.table.getsid(task.process.pid, 0).unwrap_or(0);
        let pgid = p.table.getpgid(task.process.pid, 0).unwrap_or(0);
        let root = p.table.creds(task.tid).is_some_and(|c| c.privileged());
        let _ = pid;
        (sid, pgid, root)
    });
    if sid != task.process.pid {
        return Err(Errno::EPERM);
    }
    let owner = tty.session.load(Ordering::Relaxed);
    if owner == sid as i32 {
        return Ok(0);
    }
    if owner != 0 && !(arg == 1 && root) {
        return Err(Errno::EPERM);
    }
    tty.session.store(sid as i32, Ordering::Relaxed);
    tty.foreground.store(pgid as i32, Ordering::Relaxed);
    Ok(0)
}

/// `TIOCNOTTY`: the caller gives up its controlling terminal (a session leader's whole
/// session loses it).
pub fn drop_controlling_tty(tty: &Console) -> SysResult {
    let task = current();
    let sid = table::with(|p| p.table.getsid(task.process.pid, 0).unwrap_or(0));
    if tty.session.load(Ordering::Relaxed) != sid as i32 {
        return Err(Errno::ENOTTY);
    }
    if sid == task.process.pid {
        tty.session.store(0, Ordering::Relaxed);
        tty.foreground.store(0, Ordering::Relaxed);
    }
    Ok(0)
}

/// `TIOCSPGRP`'s checks: the terminal must be the caller's controlling terminal
/// (`ENOTTY`), and `pgrp` a process group of its session (`EPERM`; `ESRCH` if no such
/// group exists).
pub fn check_foreground_group(tty: &Console, pgrp: i32) -> Result<(), Errno> {
    let task = current();
    table::with(|p| {
        let sid = p.table.getsid(task.process.pid, 0).unwrap_or(0);
        if tty.session.load(Ordering::Relaxed) != sid as i32 {
            return Err(Errno::ENOTTY);
        }
        let Some(member) = p.table.group_members(pgrp as u32).next() else {
            return Err(Errno::ESRCH);
        };
        if p.table.getsid(member, 0).unwrap_or(0) != sid {
            return Err(Errno::EPERM);
        }
        Ok(())
    })
}

/// Job control for the calling thread's `access` to `tty` (whose settings are `termios`):
/// Linux's `__tty_check_change`, decided by [`halyard_tty::job_control`]. `Ok` to go on;
/// for a background process, SIGTTIN/SIGTTOU to its process group and `ERESTARTSYS` (the
/// call starts again once the stopped job is continued), or `EIO` (`ENOTTY` for
/// `TIOCSPGRP`).
pub fn check_terminal_access(tty: &Console, access: Access, termios: &Termios) -> SysResult {
    let Some(signal) = access
        .signal(termios)
        .and_then(|sig| Signal::new(i64::from(sig)).ok())
    else {
        return Ok(0);
    };
    let task = current();
    let (sid, pgrp, orphaned) = table::with(|p| {
        let sid = p.table.getsid(task.process.pid, 0).unwrap_or(0);
        let pgrp = p.table.getpgid(task.process.pid, 0).unwrap_or(0);
        (sid, pgrp, p.table.is_orphaned_pgrp(pgrp))
    });
    let blocks_or_ignores = {
        let s = task.process.signals.lock();
        s.blocked(task.tid).is_ok_and(|m| m.contains(signal))
            || s.action(signal).handler == Handler::Ignore
    };
    let caller = Caller {
        controlling: sid != 0 && tty.session.load(Ordering::Relaxed) == sid as i32,
        pgrp,
        foreground: u32::try_from(tty.foreground.load(Ordering::Relaxed)).unwrap_or(0),
        blocks_or_ignores,
        orphaned,
    };
    match halyard_tty::job_control(access, termios, &caller) {
        Verdict::Proceed => Ok(0),
        Verdict::Signal(sig) => {
            signal_group(pgrp, sig);
            Err(Errno::ERESTARTSYS)
        }
        Verdict::Fail(e) => Err(Errno::from(e)),
    }
}

/// Is the calling process's group orphaned (no parent in the session outside the group)?
pub fn own_group_orphaned(task: &Task) -> bool {
    table::with(|p| {
        let pgid = p.table.getpgid(task.process.pid, 0).unwrap_or(0);
        p.table.is_orphaned_pgrp(pgid)
    })
}

/// Does the calling process have a controlling terminal (its session owns the console)?
pub fn has_controlling_tty() -> bool {
    let task = current();
    let sid = table::with(|p| p.table.getsid(task.process.pid, 0).unwrap_or(0));
    sid != 0 && crate::tty::console::get().session.load(Ordering::Relaxed) == sid as i32
}
