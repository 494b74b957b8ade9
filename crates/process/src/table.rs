//! The process table: thread groups, the parent/child tree, exits, zombies and
//! reaping (Linux's `copy_process`, `do_exit`/`exit_notify`, `forget_original_parent`
//! and `release_task`).
//!
//! A process is a thread group: its pid (tgid) is its first thread's tid, and every
//! thread's tid comes from the same pid space. Children belong to the thread that
//! created them (Linux's `real_parent` is a thread, which `__WNOTHREAD` makes visible);
//! when that thread exits, they move to the first live thread of its group, and when the
//! whole group is gone, to init. A process whose threads have all exited is a zombie,
//! holding its pid and its exit status until its parent reaps it with `wait4`/`waitid`
//! ([`crate::Table::wait`]) or, when the parent ignores `SIGCHLD`, at once.
//!
//! A group leader thread that exits before the others keeps its tid (Linux keeps the
//! task as a zombie leader); the process's exit status is then the leader's, unless an
//! `exit_group` (or a fatal signal) set one for the group, as in Linux's `wait_task_zombie`.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use linux_raw_sys::general::{RLIMIT_NPROC, SIGCHLD};

use crate::config::Config;
use crate::creds::{Credentials, Id};
use crate::pid::{Pid, PidAllocator, INIT_PID};
use crate::rlimit::Rlimits;
use crate::Errno;

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// `exit`/`exit_group` with this code (the low 8 bits of the argument).
    Exited(u8),
    /// Killed by `signal`, with or without a core dump.
    Killed {
        /// The fatal signal.
        signal: u32,
        /// Whether a core dump was written (`WCOREDUMP`).
        core: bool,
    },
}

/// What `clone` creates (the `CLONE_THREAD`/`CLONE_PARENT` part of its flags; the rest
/// is the kernel's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloneKind {
    /// A new process, child of the caller, that reports its end with `exit_signal`
    /// (`SIGCHLD` for `fork`; another signal, or 0, makes a "clone" child that only
    /// `__WCLONE`/`__WALL` waits see).
    Process {
        /// The signal sent to the parent when the child ends.
        exit_signal: u32,
    },
    /// `CLONE_PARENT`: a new process whose parent is the caller's parent, with the
    /// caller's exit signal (Linux ignores the requested one). `EINVAL` from init.
    Sibling,
    /// `CLONE_THREAD`: a new thread in the caller's group.
    Thread,
}

/// Work the kernel must do after a change in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send `signal` to every process in group `pgid` (an orphaned group with stopped
    /// members gets `SIGHUP` then `SIGCONT`, Linux's `kill_orphaned_pgrp`).
    SignalGroup {
        /// The process group.
        pgid: Pid,
        /// The signal.
        signal: u32,
    },
    /// Send `signal` to process `pid` (a child's exit signal, or `SIGCHLD` for a stop or
    /// continue, which the kernel drops when the parent set `SA_NOCLDSTOP`; a parent
    /// ignoring the signal drops it too).
    SignalProcess {
        /// The receiving process.
        pid: Pid,
        /// The signal.
        signal: u32,
    },
    /// Wake the threads of process `pid` sleeping in `wait4`/`waitid`
    /// (`__wake_up_parent`): a child changed state.
    WakeWaiters {
        /// The parent.
        pid: Pid,
    },
    /// Process `child` has a new parent (its parent thread exited); the kernel sends it
    /// its `PR_SET_PDEATHSIG` signal, if it set one.
    Reparented {
        /// The child.
        child: Pid,
        /// Its new parent process.
        parent: Pid,
    },
}

/// The result of a thread's exit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exit {
    /// Whether this was the process's last thread (the process is now a zombie, or gone).
    pub group_dead: bool,
    /// Whether the process was released at once (its parent ignores `SIGCHLD` or set
    /// `SA_NOCLDWAIT`): the kernel frees it now instead of at `wait`.
    pub reaped: bool,
    /// What the kernel must do, in order.
    pub actions: Vec<Action>,
}

/// The result of `execve`'s `de_thread`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exec {
    /// The tid the calling thread had; it is now the process's pid (Linux swaps them).
    pub old_tid: Pid,
    /// The other threads, removed from the table (the kernel has killed them).
    pub removed: Vec<Pid>,
}

/// One thread.
#[derive(Clone, Debug)]
pub(crate) struct Thread {
    pub(crate) tgid: Pid,
    pub(crate) creds: Credentials,
    /// Processes whose parent is this thread, in the order they became its children.
    pub(crate) children: Vec<Pid>,
    /// False for a group leader that exited while other threads run.
    pub(crate) alive: bool,
}

/// Job-control state of a process (Linux's `SIGNAL_STOP_*` flags and `group_exit_code`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Job {
    /// Stopped (`SIGNAL_STOP_STOPPED`).
    pub(crate) stopped: bool,
    /// The stop signal not yet reported to a `WUNTRACED` wait (0 once reported).
    pub(crate) stop_code: u32,
    /// A continue not yet reported to a `WCONTINUED` wait (`SIGNAL_STOP_CONTINUED`).
    pub(crate) continued: bool,
}

/// One process (thread group).
#[derive(Clone, Debug)]
pub(crate) struct Process {
    /// The parent process's pid (0 for init).
    pub(crate) parent: Pid,
    /// The parent thread (0 for init).
    pub(crate) parent_thread: Pid,
    /// The threads, leader first, in creation order.
    pub(crate) threads: Vec<Pid>,
    pub(crate) pgid: Pid,
    pub(crate) sid: Pid,
    pub(crate) exit_signal: u32,
    /// Called `execve` since `fork` (clears Linux's `PF_FORKNOEXEC`).
    pub(crate) execed: bool,
    pub(crate) rlimits: Rlimits,
    /// Children are released at exit (`SIGCHLD` ignored or `SA_NOCLDWAIT`).
    pub(crate) autoreap: bool,
    pub(crate) job: Job,
    pub(crate) leader_status: Option<Status>,
    pub(crate) group_status: Option<Status>,
    /// `Some` once every thread has exited.
    pub(crate) zombie: Option<Status>,
}

/// The process table of one pid namespace (Halyard has one).
#[derive(Clone, Debug)]
pub struct Table {
    pub(crate) config: Config,
    pids: PidAllocator,
    pub(crate) threads: BTreeMap<Pid, Thread>,
    pub(crate) procs: BTreeMap<Pid, Process>,
    /// Process group → member processes (zombies included).
    pub(crate) groups: BTreeMap<Pid, BTreeSet<Pid>>,
    /// Session → number of member processes.
    pub(crate) sessions: BTreeMap<Pid, usize>,
    /// Real uid → tasks it owns (Linux's `UCOUNT_RLIMIT_NPROC`, zombies included).
    users: BTreeMap<Id, u32>,
}

impl Table {
    /// A table holding init (pid 1) with `creds`, in process group 0 and session 0
    /// like Linux's init until it calls `setsid`, with init's default limits.
    pub fn new(config: Config, creds: Credentials) -> Self {
        let mut table = Self {
            config,
            pids: PidAllocator::new(config.pid_max),
            threads: BTreeMap::new(),
            procs: BTreeMap::new(),
            groups: BTreeMap::new(),
            sessions: BTreeMap::new(),
            users: BTreeMap::new(),
        };
        let pid = table.alloc_pid().unwrap_or(INIT_PID);
        let process = Process {
            parent: 0,
            parent_thread: 0,
            threads: Vec::new(),
            pgid: 0,
            sid: 0,
            exit_signal: SIGCHLD,
            execed: false,
            rlimits: Rlimits::init(config.threads_max),
            autoreap: false,
            job: Job::default(),
            leader_status: None,
            group_status: None,
            zombie: None,
        };
        table.insert_process(pid, process, creds);
        table
    }

    /// The system-wide limits.
    pub fn config(&self) -> Config {
        self.config
    }

    /// The last pid or tid handed out (`/proc/loadavg`'s last field).
    pub fn last_pid(&self) -> Pid {
        self.pids.last()
    }

    /// Changes the system-wide limits (the sysctls); existing tasks stay.
    pub fn set_config(&mut self, config: Config) {
        self.config = config;
        self.pids = PidAllocator::new(config.pid_max);
    }

    /// Number of tasks (threads, zombie processes and exited leaders), Linux's
    /// `nr_threads`, which `threads_max` bounds.
    pub fn nr_threads(&self) -> usize {
        self.threads.len()
    }

    /// Number of tasks whose real uid is `uid` (what `RLIMIT_NPROC` is checked against).
    pub fn user_tasks(&self, uid: Id) -> u32 {
        self.users.get(&uid).copied().unwrap_or(0)
    }

    /// The process (thread group id) of thread `tid`, if it exists.
    pub fn tgid(&self, tid: Pid) -> Option<Pid> {
        self.threads.get(&tid).map(|t| t.tgid)
    }

    /// The parent process of `pid` (`getppid`; 0 for init), if `pid` is a process.
    pub fn parent(&self, pid: Pid) -> Option<Pid> {
        self.procs.get(&pid).map(|p| p.parent)
    }

    /// The live threads of process `pid`, leader first.
    pub fn threads(&self, pid: Pid) -> impl Iterator<Item = Pid> + '_ {
        let threads = self.procs.get(&pid).map(|p| p.threads.as_slice());
        threads
            .unwrap_or(&[])
            .iter()
            .copied()
            .filter(|t| self.threads.get(t).is_some_and(|t| t.alive))
    }

    /// The child processes of process `pid` (of all its threads), zombies included.
    pub fn children(&self, pid: Pid) -> Vec<Pid> {
        let threads = self.procs.get(&pid).map(|p| p.threads.as_slice());
        threads
            .unwrap_or(&[])
            .iter()
            .filter_map(|t| self.threads.get(t))
            .flat_map(|t| t.children.iter().copied())
            .collect()
    }

    /// The exit status of process `pid` if it is a zombie.
    pub fn zombie(&self, pid: Pid) -> Option<Status> {
        self.procs.get(&pid).and_then(|p| p.zombie)
    }

    /// Whether `pid` is an existing process (zombies included).
    pub fn is_process(&self, pid: Pid) -> bool {
        self.procs.contains_key(&pid)
    }

    /// Whether a pid number is taken: by a task, or as a process group or session id.
    pub fn pid_in_use(&self, pid: Pid) -> bool {
        self.threads.contains_key(&pid)
            || self.procs.contains_key(&pid)
            || self.groups.contains_key(&pid)
            || self.sessions.contains_key(&pid)
    }

    /// Tells the table whether process `pid` ignores `SIGCHLD` or set `SA_NOCLDWAIT`:
    /// then its children are released as they exit and never become zombies (Linux's
    /// `do_notify_parent`). `fork` copies the setting, as it copies signal handlers.
    pub fn set_autoreap(&mut self, pid: Pid, autoreap: bool) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.autoreap = autoreap;
        }
    }

    /// `fork`/`clone`/`vfork`: creates a thread or a process for thread `caller` and
    /// returns its tid (the pid, for a process).
    ///
    /// Refusals, all Linux's (`copy_process`): `EINVAL` for `CLONE_PARENT` from init;
    /// `EAGAIN` when the caller's real user already has `RLIMIT_NPROC` tasks, unless the
    /// caller is root or privileged; `EAGAIN` when the system has `threads_max` tasks,
    /// whoever the caller is; `EAGAIN` when no pid is free. `ESRCH` for an unknown or
    /// exited caller.
    pub fn clone_task(&mut self, caller: Pid, kind: CloneKind) -> Result<Pid, Errno> {
        let thread = self.live_thread(caller)?;
        let (tgid, creds) = (thread.tgid, thread.creds.clone());
        let process = self.procs.get(&tgid).ok_or(Errno::ESRCH)?.clone();
        if kind == CloneKind::Sibling && tgid == INIT_PID {
            return Err(Errno::EINVAL);
        }
        let nproc = process.rlimits.get(RLIMIT_NPROC)?.cur;
        let exempt = creds.ruid == 0 || creds.privileged();
        if u64::from(self.user_tasks(creds.ruid)) >= nproc && !exempt {
            return Err(Errno::EAGAIN);
        }
        if self.threads.len() >= self.config.threads_max as usize {
            return Err(Errno::EAGAIN);
        }
        let pid = self.alloc_pid().ok_or(Errno::EAGAIN)?;
        let (parent, parent_thread, exit_signal) = match kind {
            CloneKind::Thread => {
                self.add_thread(pid, tgid, creds);
                if let Some(p) = self.procs.get_mut(&tgid) {
                    p.threads.push(pid);
                }
                return Ok(pid);
            }
            CloneKind::Process { exit_signal } => (tgid, caller, exit_signal),
            CloneKind::Sibling => (process.parent, process.parent_thread, process.exit_signal),
        };
        let child = Process {
            parent,
            parent_thread,
            threads: Vec::new(),
            pgid: process.pgid,
            sid: process.sid,
            exit_signal,
            execed: false,
            rlimits: process.rlimits.clone(),
            autoreap: process.autoreap,
            job: Job::default(),
            leader_status: None,
            group_status: None,
            zombie: None,
        };
        self.insert_process(pid, child, creds);
        if let Some(t) = self.threads.get_mut(&parent_thread) {
            t.children.push(pid);
        }
        Ok(pid)
    }

    /// `execve`'s `de_thread` and bookkeeping: every other thread of the caller's process
    /// is removed (the kernel has killed them), the caller takes the process's pid as its
    /// tid, and the process counts as having exec'd (`setpgid` on it from its parent is
    /// then `EACCES`). Children of the removed threads move to the caller.
    pub fn exec(&mut self, tid: Pid) -> Result<Exec, Errno> {
        let thread = self.live_thread(tid)?;
        let tgid = thread.tgid;
        let process = self.procs.get_mut(&tgid).ok_or(Errno::ESRCH)?;
        process.execed = true;
        let others: Vec<Pid> = process
            .threads
            .iter()
            .copied()
            .filter(|&t| t != tid)
            .collect();
        process.threads = Vec::from([tgid]);
        let mut children = Vec::new();
        let mut removed = Vec::new();
        for other in others {
            if let Some(t) = self.remove_thread(other) {
                children.extend(t.children);
                if other != tgid {
                    removed.push(other);
                }
            }
        }
        let Some(mut me) = self.remove_thread(tid) else {
            return Err(Errno::ESRCH);
        };
        me.children.extend(children);
        for &child in &me.children {
            if let Some(c) = self.procs.get_mut(&child) {
                c.parent_thread = tgid;
            }
        }
        self.users_add(me.creds.ruid);
        self.threads.insert(tgid, me);
        Ok(Exec {
            old_tid: tid,
            removed,
        })
    }

    /// A thread's end: `exit` (`group` false) or `exit_group`/a fatal signal (`group`
    /// true: `status` becomes the process's unless a group status was already set; the
    /// kernel then ends the other threads, each with its own call).
    ///
    /// The thread's children move to a live thread of its group, or to init when it was
    /// the last. When the last thread ends the process becomes a zombie, its parent is
    /// signalled and woken (or it is released at once, [`Exit::reaped`]), and process
    /// groups that this orphans while they have stopped members get `SIGHUP` and
    /// `SIGCONT` (Linux's `exit_notify`).
    ///
    /// `EPERM`, changing nothing, for init's last thread: Linux panics ("Attempted to
    /// kill init!") and so must the kernel. `ESRCH` for an unknown or exited thread.
    pub fn exit(&mut self, tid: Pid, status: Status, group: bool) -> Result<Exit, Errno> {
        let tgid = self.live_thread(tid)?.tgid;
        let live = self.threads(tgid).count();
        if tgid == INIT_PID && live == 1 {
            return Err(Errno::EPERM);
        }
        let mut exit = Exit::default();
        let process = self.procs.get_mut(&tgid).ok_or(Errno::ESRCH)?;
        if group && process.group_status.is_none() {
            process.group_status = Some(status);
        }
        if tid == tgid {
            process.leader_status = Some(status);
        }
        let children = self.threads.get_mut(&tid).map(|t| {
            t.alive = false;
            core::mem::take(&mut t.children)
        });
        let children = children.unwrap_or_default();
        let heir = self.threads(tgid).next();
        if let Some(heir) = heir {
            // Another thread of the group adopts the children (Linux's find_alive_thread).
            for &child in &children {
                if let Some(c) = self.procs.get_mut(&child) {
                    c.parent_thread = heir;
                }
                exit.actions.push(Action::Reparented {
                    child,
                    parent: tgid,
                });
            }
            if let Some(t) = self.threads.get_mut(&heir) {
                t.children.extend(children);
            }
            if tid != tgid {
                self.remove_from_group(tgid, tid);
            }
            return Ok(exit);
        }
        exit.group_dead = true;
        self.reparent_to_init(tgid, children, &mut exit.actions);
        let process = self.procs.get_mut(&tgid).ok_or(Errno::ESRCH)?;
        process.job = Job::default();
        let status = process
            .group_status
            .or(process.leader_status)
            .unwrap_or(status);
        process.zombie = Some(status);
        let (parent, exit_signal) = (process.parent, process.exit_signal);
        if tid != tgid {
            self.remove_from_group(tgid, tid);
        }
        self.kill_orphaned_pgrp(tgid, parent, Some(tgid), &mut exit.actions);
        let autoreap =
            exit_signal == SIGCHLD && self.procs.get(&parent).is_some_and(|p| p.autoreap);
        if exit_signal != 0 {
            exit.actions.push(Action::SignalProcess {
                pid: parent,
                signal: exit_signal,
            });
        }
        exit.actions.push(Action::WakeWaiters { pid: parent });
        if autoreap {
            self.release(tgid);
            exit.reaped = true;
        }
        Ok(exit)
    }

    /// Process `pid` stopped on `signal` (the whole group stopped: Linux's
    /// `do_signal_stop` completing). Its parent is told (`SIGCHLD`, `CLD_STOPPED`) and a
    /// `WUNTRACED` wait reports it once.
    pub fn stopped(&mut self, pid: Pid, signal: u32) -> Vec<Action> {
        let Some(p) = self.procs.get_mut(&pid).filter(|p| p.zombie.is_none()) else {
            return Vec::new();
        };
        p.job = Job {
            stopped: true,
            stop_code: signal,
            continued: false,
        };
        Self::notify_cldstop(p.parent)
    }

    /// Process `pid` received `SIGCONT`: if it was stopped, it continues, its parent is
    /// told (`CLD_CONTINUED`) and a `WCONTINUED` wait reports it once; an unreported
    /// stop is forgotten. A process that was not stopped reports nothing.
    pub fn continued(&mut self, pid: Pid) -> Vec<Action> {
        let Some(p) = self.procs.get_mut(&pid).filter(|p| p.job.stopped) else {
            return Vec::new();
        };
        p.job = Job {
            stopped: false,
            stop_code: 0,
            continued: true,
        };
        Self::notify_cldstop(p.parent)
    }

    /// Whether process `pid` is stopped.
    pub fn is_stopped(&self, pid: Pid) -> bool {
        self.procs.get(&pid).is_some_and(|p| p.job.stopped)
    }

    /// The credentials of thread `tid`.
    pub fn creds(&self, tid: Pid) -> Option<&Credentials> {
        self.threads.get(&tid).map(|t| &t.creds)
    }

    /// Runs a credential change (`setuid` & co., see [`Credentials`]) on thread `tid`
    /// and keeps the per-user task counts right when the real uid changes. `None` for
    /// an unknown thread.
    pub fn update_creds<R>(
        &mut self,
        tid: Pid,
        change: impl FnOnce(&mut Credentials) -> R,
    ) -> Option<R> {
        let thread = self.threads.get_mut(&tid)?;
        let old = thread.creds.ruid;
        let result = change(&mut thread.creds);
        let new = thread.creds.ruid;
        if new != old {
            self.users_remove(old);
            self.users_add(new);
        }
        Some(result)
    }

    /// The resource limits of process `pid`.
    pub fn rlimits(&self, pid: Pid) -> Option<&Rlimits> {
        self.procs.get(&pid).map(|p| &p.rlimits)
    }

    /// The thread `tid` if it exists and has not exited.
    pub(crate) fn live_thread(&self, tid: Pid) -> Result<&Thread, Errno> {
        self.threads
            .get(&tid)
            .filter(|t| t.alive)
            .ok_or(Errno::ESRCH)
    }

    /// Frees a zombie process: removes it from its parent, its group and session, and
    /// gives back its pid (Linux's `release_task`).
    pub(crate) fn release(&mut self, pid: Pid) {
        let Some(process) = self.procs.remove(&pid) else {
            return;
        };
        if let Some(t) = self.threads.get_mut(&process.parent_thread) {
            t.children.retain(|&c| c != pid);
        }
        for tid in process.threads {
            self.remove_thread(tid);
        }
        self.leave_group(pid, process.pgid);
        if let Some(n) = self.sessions.get_mut(&process.sid) {
            *n -= 1;
            if *n == 0 {
                self.sessions.remove(&process.sid);
            }
        }
    }

    /// Moves `pid` to process group `pgid` (same session).
    pub(crate) fn join_group(&mut self, pid: Pid, pgid: Pid) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        let old = core::mem::replace(&mut p.pgid, pgid);
        self.leave_group(pid, old);
        self.groups.entry(pgid).or_default().insert(pid);
    }

    /// Moves `pid` to a new session `sid` (and group `sid`).
    pub(crate) fn join_session(&mut self, pid: Pid, sid: Pid) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        let old = core::mem::replace(&mut p.sid, sid);
        if let Some(n) = self.sessions.get_mut(&old) {
            *n -= 1;
            if *n == 0 {
                self.sessions.remove(&old);
            }
        }
        *self.sessions.entry(sid).or_default() += 1;
        self.join_group(pid, sid);
    }

    /// Notifications of a stop or continue to `parent` (Linux's
    /// `do_notify_parent_cldstop`).
    fn notify_cldstop(parent: Pid) -> Vec<Action> {
        Vec::from([
            Action::SignalProcess {
                pid: parent,
                signal: SIGCHLD,
            },
            Action::WakeWaiters { pid: parent },
        ])
    }

    /// Gives an exiting process's children to init (Linux's `forget_original_parent`
    /// with `reparent_leader`): each reports with `SIGCHLD` from now on, a zombie among
    /// them is announced to init (or released, if init ignores `SIGCHLD`), and a group
    /// this orphans with stopped members is hung up.
    fn reparent_to_init(&mut self, father: Pid, children: Vec<Pid>, actions: &mut Vec<Action>) {
        let reaper = self.threads(INIT_PID).next().unwrap_or(INIT_PID);
        let init_autoreap = self.procs.get(&INIT_PID).is_some_and(|p| p.autoreap);
        for child in children {
            let Some(c) = self.procs.get_mut(&child) else {
                continue;
            };
            c.parent = INIT_PID;
            c.parent_thread = reaper;
            c.exit_signal = SIGCHLD;
            let zombie = c.zombie.is_some();
            if let Some(t) = self.threads.get_mut(&reaper) {
                t.children.push(child);
            }
            actions.push(Action::Reparented {
                child,
                parent: INIT_PID,
            });
            if zombie {
                actions.push(Action::SignalProcess {
                    pid: INIT_PID,
                    signal: SIGCHLD,
                });
                actions.push(Action::WakeWaiters { pid: INIT_PID });
                if init_autoreap {
                    self.release(child);
                    continue;
                }
            }
            self.kill_orphaned_pgrp(child, father, None, actions);
        }
    }

    fn alloc_pid(&mut self) -> Option<Pid> {
        let Self {
            pids,
            threads,
            procs,
            groups,
            sessions,
            ..
        } = self;
        pids.alloc(|pid| {
            threads.contains_key(&pid)
                || procs.contains_key(&pid)
                || groups.contains_key(&pid)
                || sessions.contains_key(&pid)
        })
    }

    fn insert_process(&mut self, pid: Pid, mut process: Process, creds: Credentials) {
        process.threads = Vec::from([pid]);
        self.groups.entry(process.pgid).or_default().insert(pid);
        *self.sessions.entry(process.sid).or_default() += 1;
        self.procs.insert(pid, process);
        self.add_thread(pid, pid, creds);
    }

    fn add_thread(&mut self, tid: Pid, tgid: Pid, creds: Credentials) {
        self.users_add(creds.ruid);
        let thread = Thread {
            tgid,
            creds,
            children: Vec::new(),
            alive: true,
        };
        self.threads.insert(tid, thread);
    }

    /// Removes a non-leader thread from its group's list and the table.
    fn remove_from_group(&mut self, tgid: Pid, tid: Pid) {
        if let Some(p) = self.procs.get_mut(&tgid) {
            p.threads.retain(|&t| t != tid);
        }
        self.remove_thread(tid);
    }

    fn remove_thread(&mut self, tid: Pid) -> Option<Thread> {
        let thread = self.threads.remove(&tid)?;
        self.users_remove(thread.creds.ruid);
        Some(thread)
    }

    fn leave_group(&mut self, pid: Pid, pgid: Pid) {
        if let Some(members) = self.groups.get_mut(&pgid) {
            members.remove(&pid);
            if members.is_empty() {
                self.groups.remove(&pgid);
            }
        }
    }

    fn users_add(&mut self, uid: Id) {
        *self.users.entry(uid).or_default() += 1;
    }

    fn users_remove(&mut self, uid: Id) {
        if let Some(n) = self.users.get_mut(&uid) {
            *n -= 1;
            if *n == 0 {
                self.users.remove(&uid);
            }
        }
    }
}
