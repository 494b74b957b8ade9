//! Sessions, controlling terminals and foreground process groups (the kernel side of
//! job control; the rules of groups and sessions are `halyard-process`'s).
use core::sync::atomic::Ordering;

use halyard_signal::{Handler, Signal};
use halyard_tty::{Access, Caller, Termios, Verdict};

use super::{current, signal_group, table, Task};
use crate::syscall::{Errno, SysResult};
use crate::tty::terminal::Terminal;

/// `TIOCSCTTY`: the calling session leader takes `tty` as its controlling terminal
/// (Linux `tiocsctty`). A caller that is not a session leader or already has a
/// controlling terminal is `EPERM`; so is a terminal that belongs to another session,
/// unless root asks to steal it (`arg == 1`).
pub fn set_controlling_tty(tty: &Terminal, arg: u64) -> SysResult {
    let task = current();
    let (sid, pgid, root) = table::with(|p| {
        let sid = p.table.getsid(task.process.pid, 0).unwrap_or(0);
        let pgid = p.table.getpgid(task.process.pid, 0).unwrap_or(0);
        let root = p.table.creds(task.tid()).is_some_and(|c| c.privileged());
        (sid, pgid, root)
    });
    if sid == task.process.pid && tty.session.load(Ordering::Relaxed) == sid as i32 {
        return Ok(0);
    }
    if sid != task.process.pid || crate::tty::of_session(sid).is_some() {
        return Err(Errno::EPERM);
    }
    let owner = tty.session.load(Ordering::Relaxed);
    if owner != 0 && !(arg == 1 && root) {
        return Err(Errno::EPERM);
    }
    tty.session.store(sid as i32, Ordering::Relaxed);
    tty.foreground.store(pgid as i32, Ordering::Relaxed);
    Ok(0)
}

/// Opening a terminal without `O_NOCTTY`: a session leader without a controlling
/// terminal takes `tty` if no session has it (Linux `tty_open_proc_set_tty`).
pub fn acquire_on_open(tty: &Terminal) {
    let task = current();
    let (sid, pgid) = table::with(|p| {
        (
            p.table.getsid(task.process.pid, 0).unwrap_or(0),
            p.table.getpgid(task.process.pid, 0).unwrap_or(0),
        )
    });
    if sid != task.process.pid
        || crate::tty::of_session(sid).is_some()
        || tty.session.load(Ordering::Relaxed) != 0
    {
        return;
    }
    tty.session.store(sid as i32, Ordering::Relaxed);
    tty.foreground.store(pgid as i32, Ordering::Relaxed);
}

/// The exit of process `pid`, a session leader, with its last thread (Linux
/// `disassociate_ctty(1)` from `do_exit`): the foreground group of the session's
/// controlling terminal gets SIGHUP, and the terminal belongs to no session any more.
/// Linux also hangs up a terminal that is not a PTY (`tty_vhangup_session`); Halyard's
/// console is not hung up, so the next login shell finds it as it was.
pub fn session_leader_exit(pid: u32) {
    let Some(tty) = crate::tty::of_session(pid) else {
        return;
    };
    let pgrp = tty.foreground.swap(0, Ordering::AcqRel);
    tty.session.store(0, Ordering::Release);
    if pgrp > 0 {
        signal_group(pgrp as u32, linux_raw_sys::general::SIGHUP);
    }
}

/// `TIOCNOTTY`: the caller gives up its controlling terminal (a session leader's whole
/// session loses it); `ENOTTY` if `tty` is not its controlling terminal.
pub fn drop_controlling_tty(tty: &Terminal) -> SysResult {
    let task = current();
    let sid = table::with(|p| p.table.getsid(task.process.pid, 0).unwrap_or(0));
    if sid == 0 || tty.session.load(Ordering::Relaxed) != sid as i32 {
        return Err(Errno::ENOTTY);
    }
    // A session leader gives it up for the whole session (`disassociate_ctty(0)`): the
    // foreground group gets SIGHUP and SIGCONT.
    if sid == task.process.pid {
        tty.session.store(0, Ordering::Relaxed);
        let pgrp = tty.foreground.swap(0, Ordering::Relaxed);
        if pgrp > 0 {
            signal_group(pgrp as u32, linux_raw_sys::general::SIGHUP);
            signal_group(pgrp as u32, linux_raw_sys::general::SIGCONT);
        }
    }
    Ok(0)
}

/// `TIOCSPGRP`'s checks: the terminal must be the caller's controlling terminal
/// (`ENOTTY`), and `pgrp` a process group of its session (`EPERM`; `ESRCH` if no such
/// group exists).
pub fn check_foreground_group(tty: &Terminal, pgrp: i32) -> Result<(), Errno> {
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
pub fn check_terminal_access(tty: &Terminal, access: Access, termios: &Termios) -> SysResult {
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
        s.blocked(task.tid()).is_ok_and(|m| m.contains(signal))
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

/// The calling process's session id (0 if unknown).
pub fn current_session() -> u32 {
    let task = current();
    table::with(|p| p.table.getsid(task.process.pid, 0).unwrap_or(0))
}
