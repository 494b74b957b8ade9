//! Process groups and sessions: `setpgid`, `getpgid`, `getsid`, `setsid` (Linux's
//! `kernel/sys.c`) and orphaned process groups (`kernel/exit.c`).
//!
//! A process group is orphaned when no member has a parent in another group of the same
//! session (members whose parent is init do not count): nobody is left who could
//! continue its stopped jobs. When an exit or a reparenting orphans a group that has a
//! stopped member, Linux sends the whole group `SIGHUP` and then `SIGCONT`; the table
//! returns those as [`Action::SignalGroup`]s. The kernel also asks
//! [`Table::is_orphaned_pgrp`] before stopping a process with `SIGTSTP`/`SIGTTIN`/
//! `SIGTTOU` (Linux discards those for orphaned groups) and for `EIO` on background
//! terminal reads.

use alloc::vec::Vec;

use linux_raw_sys::general::{SIGCONT, SIGHUP};

use crate::pid::{Pid, INIT_PID};
use crate::table::{Action, Table};
use crate::Errno;

impl Table {
    /// `setpgid(pid, pgid)` by thread `caller`; `pid` 0 is the caller's process,
    /// `pgid` 0 is `pid`.
    ///
    /// Linux's checks in order (`ksys_setpgid`): `EINVAL` for a negative `pgid`; `ESRCH`
    /// when `pid` names no task; `EINVAL` when it names a thread that is not a group
    /// leader; for a child of the caller, `EPERM` when it is in another session and
    /// `EACCES` when it has called `execve`; `ESRCH` for anyone else but the caller's
    /// own process; `EPERM` for a session leader; `EPERM` when `pgid` is not `pid` and
    /// no process of the caller's session is in group `pgid`.
    pub fn setpgid(&mut self, caller: Pid, pid: i32, pgid: i32) -> Result<(), Errno> {
        let me = self.live_thread(caller)?.tgid;
        let pid = if pid == 0 { me as i32 } else { pid };
        let pgid = if pgid == 0 { pid } else { pgid };
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        let (pid, pgid) = (pid as Pid, pgid as Pid);
        let target = self.tgid(pid).ok_or(Errno::ESRCH)?;
        if target != pid {
            return Err(Errno::EINVAL);
        }
        let my_sid = self.procs.get(&me).ok_or(Errno::ESRCH)?.sid;
        let p = self.procs.get(&pid).ok_or(Errno::ESRCH)?;
        if p.parent == me {
            if p.sid != my_sid {
                return Err(Errno::EPERM);
            }
            if p.execed {
                return Err(Errno::EACCES);
            }
        } else if pid != me {
            return Err(Errno::ESRCH);
        }
        if p.sid == pid {
            return Err(Errno::EPERM);
        }
        if pgid != pid {
            let in_session = self
                .group_members(pgid)
                .any(|m| self.procs.get(&m).is_some_and(|m| m.sid == my_sid));
            if !in_session {
                return Err(Errno::EPERM);
            }
        }
        self.join_group(pid, pgid);
        Ok(())
    }

    /// `getpgid(pid)` by thread `caller` (`pid` 0: the caller); any tid of a process
    /// names it. `ESRCH` for no such task.
    pub fn getpgid(&self, caller: Pid, pid: i32) -> Result<Pid, Errno> {
        Ok(self.lookup(caller, pid)?.0)
    }

    /// `getsid(pid)` by thread `caller`, as [`Table::getpgid`].
    pub fn getsid(&self, caller: Pid, pid: i32) -> Result<Pid, Errno> {
        Ok(self.lookup(caller, pid)?.1)
    }

    /// `setsid()` by thread `caller`: its process leads a new session and a new group,
    /// both named by its pid, which is returned. `EPERM` when it already leads a
    /// session, or when a process group with its pid exists (it leads a group). The
    /// kernel detaches the controlling terminal.
    pub fn setsid(&mut self, caller: Pid) -> Result<Pid, Errno> {
        let me = self.live_thread(caller)?.tgid;
        let p = self.procs.get(&me).ok_or(Errno::ESRCH)?;
        if p.sid == me || self.groups.contains_key(&me) {
            return Err(Errno::EPERM);
        }
        self.join_session(me, me);
        Ok(me)
    }

    /// The processes in group `pgid` (zombies included), e.g. for `kill(-pgid, sig)`.
    pub fn group_members(&self, pgid: Pid) -> impl Iterator<Item = Pid> + '_ {
        self.groups.get(&pgid).into_iter().flatten().copied()
    }

    /// Whether group `pgid` is orphaned (Linux's `is_current_pgrp_orphaned` on it):
    /// no member that is alive has a parent, other than init, in another group of the
    /// same session. A group that does not exist counts as orphaned.
    pub fn is_orphaned_pgrp(&self, pgid: Pid) -> bool {
        self.will_become_orphaned(pgid, None)
    }

    /// Linux's `kill_orphaned_pgrp`: `process` left `parent` (its own exit, with
    /// `ignored` = itself) or `parent` left it (its exit reparents it, `ignored` none);
    /// if that cut the last tie of `process`'s group to its session and the group has a
    /// stopped member, the group is sent `SIGHUP` and `SIGCONT`.
    pub(crate) fn kill_orphaned_pgrp(
        &self,
        process: Pid,
        parent: Pid,
        ignored: Option<Pid>,
        actions: &mut Vec<Action>,
    ) {
        let (Some(p), Some(q)) = (self.procs.get(&process), self.procs.get(&parent)) else {
            return;
        };
        let pgid = p.pgid;
        if q.pgid != pgid
            && q.sid == p.sid
            && self.will_become_orphaned(pgid, ignored)
            && self.group_members(pgid).any(|m| self.is_stopped(m))
        {
            for signal in [SIGHUP, SIGCONT] {
                actions.push(Action::SignalGroup { pgid, signal });
            }
        }
    }

    /// Linux's `will_become_orphaned_pgrp`.
    fn will_become_orphaned(&self, pgid: Pid, ignored: Option<Pid>) -> bool {
        !self.group_members(pgid).any(|m| {
            let Some(p) = self.procs.get(&m) else {
                return false;
            };
            if Some(m) == ignored || p.zombie.is_some() || p.parent == INIT_PID {
                return false;
            }
            self.procs
                .get(&p.parent)
                .is_some_and(|q| q.pgid != pgid && q.sid == p.sid)
        })
    }

    /// The (process group, session) of the process that `pid` names (0: the caller's).
    fn lookup(&self, caller: Pid, pid: i32) -> Result<(Pid, Pid), Errno> {
        let tid = if pid == 0 {
            caller
        } else {
            Pid::try_from(pid).map_err(|_| Errno::ESRCH)?
        };
        let tgid = self.tgid(tid).ok_or(Errno::ESRCH)?;
        let p = self.procs.get(&tgid).ok_or(Errno::ESRCH)?;
        Ok((p.pgid, p.sid))
    }
}
