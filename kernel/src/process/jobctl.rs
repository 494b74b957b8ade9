//! Sessions, controlling terminals and foreground process groups (the kernel side of
//! job control; the rules of groups and sessions are `halyard-process`'s).
use core::sync::atomic::Ordering;

use super::{current, table, Task};
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
