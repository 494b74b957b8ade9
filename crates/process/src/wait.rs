//! `wait4` and `waitid`: which child's state change a wait reports, and reaping
//! (Linux's `kernel_wait4`, `kernel_waitid`, `do_wait`, `wait_consider_task`).
//!
//! A wait looks at the children of the calling thread, then (unless `__WNOTHREAD`) of
//! the other threads of its process in thread order, each thread's children in the
//! order they became its children (fork order; adopted orphans at the end), and reports
//! the first one with something to report:
//! - a zombie, when `WEXITED` is asked (always for `wait4`): reaped, unless `WNOWAIT`;
//! - a stop not yet reported, when `WUNTRACED`/`WSTOPPED` is asked: reported once
//!   (unless `WNOWAIT`), and only while the child is still stopped;
//! - a continue not yet reported, when `WCONTINUED` is asked: reported once.
//!
//! Only children that match the pid specifier count, and of those only "clone" children
//! (exit signal other than `SIGCHLD`) under `__WCLONE`, only the others without it, all
//! of them under `__WALL`. `ECHILD` when no child counts; when some do but have nothing
//! to report, [`WaitOutcome::Nothing`] (`WNOHANG`: return 0) or [`WaitOutcome::Block`]
//! (sleep until an [`crate::Action::WakeWaiters`] for the process, then call again). A
//! zombie that a wait without `WEXITED` meets does not count (Linux then says `ECHILD`
//! if nothing else does).
//!
//! The status encoding (`wstatus`, `siginfo_t`) and resource usage are the kernel's:
//! the table reports a [`ChildEvent`]. Ptrace stops and `P_PIDFD` descriptors are the
//! kernel's too: it resolves the descriptor to a pid ([`WaitRequest::resolve_pidfd`]).

use linux_raw_sys::general::{
    __WALL, __WCLONE, __WNOTHREAD, P_ALL, P_PGID, P_PID, P_PIDFD, SIGCHLD, WCONTINUED, WEXITED,
    WNOHANG, WNOWAIT, WUNTRACED,
};

use crate::creds::Id;
use crate::pid::Pid;
use crate::table::{Status, Table};
use crate::Errno;

/// Which children a wait is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitTarget {
    /// Any child (`-1`, `P_ALL`).
    Any,
    /// The child with this pid (`> 0`, `P_PID`).
    Pid(Pid),
    /// Children in this process group (`< -1`, `P_PGID`).
    Group(Pid),
    /// Children in the caller's process group (`0`); [`Table::wait`] turns it into
    /// [`WaitTarget::Group`] on the first call, as Linux looks the group up once.
    OwnGroup,
    /// The process a pidfd refers to (`P_PIDFD`): the kernel resolves it first.
    Pidfd(i32),
}

/// A validated `wait4`/`waitid` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitRequest {
    /// Which children.
    pub target: WaitTarget,
    /// The options, `WEXITED` added for `wait4`.
    pub options: u32,
}

impl WaitRequest {
    /// `wait4(pid, .., options, ..)`'s checks: options other than `WNOHANG`,
    /// `WUNTRACED`, `WCONTINUED`, `__WNOTHREAD`, `__WCLONE`, `__WALL` are `EINVAL`
    /// (`WEXITED` and `WNOWAIT` included); `pid` `INT_MIN` is `ESRCH`.
    pub fn wait4(pid: i32, options: u32) -> Result<Self, Errno> {
        let known = WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL;
        if options & !known != 0 {
            return Err(Errno::EINVAL);
        }
        let target = match pid {
            i32::MIN => return Err(Errno::ESRCH),
            -1 => WaitTarget::Any,
            0 => WaitTarget::OwnGroup,
            p if p < 0 => WaitTarget::Group(p.unsigned_abs()),
            p => WaitTarget::Pid(p.unsigned_abs()),
        };
        Ok(Self {
            target,
            options: options | WEXITED,
        })
    }

    /// `waitid(which, id, .., options, ..)`'s checks: options other than `WNOHANG`,
    /// `WNOWAIT`, `WEXITED`, `WSTOPPED`, `WCONTINUED`, `__WNOTHREAD`, `__WCLONE`,
    /// `__WALL` are `EINVAL`, and so is asking for none of `WEXITED`, `WSTOPPED`,
    /// `WCONTINUED`; an unknown `which`, a `P_PID` id that is not positive, a
    /// negative `P_PGID` id or pidfd are `EINVAL`. `P_PGID` 0 is the caller's group.
    pub fn waitid(which: u32, id: i32, options: u32) -> Result<Self, Errno> {
        let events = WEXITED | WUNTRACED | WCONTINUED;
        let known = WNOHANG | WNOWAIT | events | __WNOTHREAD | __WCLONE | __WALL;
        if options & !known != 0 || options & events == 0 {
            return Err(Errno::EINVAL);
        }
        let target = match which {
            P_ALL => WaitTarget::Any,
            P_PID if id > 0 => WaitTarget::Pid(id.unsigned_abs()),
            P_PGID if id == 0 => WaitTarget::OwnGroup,
            P_PGID if id > 0 => WaitTarget::Group(id.unsigned_abs()),
            P_PIDFD if id >= 0 => WaitTarget::Pidfd(id),
            _ => return Err(Errno::EINVAL),
        };
        Ok(Self { target, options })
    }

    /// For a [`WaitTarget::Pidfd`] request: the process the descriptor refers to, and
    /// whether it was opened `O_NONBLOCK` (which makes the wait `WNOHANG`, as in Linux).
    pub fn resolve_pidfd(&mut self, pid: Pid, nonblocking: bool) {
        self.target = WaitTarget::Pid(pid);
        if nonblocking {
            self.options |= WNOHANG;
        }
    }
}

/// A child's state change, as a wait reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildEvent {
    /// It exited with this code (`CLD_EXITED`).
    Exited(u8),
    /// A signal killed it (`CLD_KILLED`, or `CLD_DUMPED` with `core`).
    Killed {
        /// The signal.
        signal: u32,
        /// Whether it dumped core.
        core: bool,
    },
    /// It stopped on this signal (`CLD_STOPPED`).
    Stopped(u32),
    /// It continued (`CLD_CONTINUED`).
    Continued,
}

impl From<Status> for ChildEvent {
    fn from(status: Status) -> Self {
        match status {
            Status::Exited(code) => Self::Exited(code),
            Status::Killed { signal, core } => Self::Killed { signal, core },
        }
    }
}

/// What a wait found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// A child's state change.
    Reported {
        /// The child's pid.
        pid: Pid,
        /// Its real uid (`si_uid`).
        uid: Id,
        /// What happened.
        event: ChildEvent,
        /// Whether the child was reaped (its pid is free now): the kernel adds its
        /// resource usage to the caller's and frees it.
        reaped: bool,
    },
    /// Children match but have nothing to report, and `WNOHANG` was given: return 0
    /// (`waitid` with a zeroed `siginfo_t`).
    Nothing,
    /// Children match but have nothing to report: sleep until woken, then call again.
    Block,
}

impl Table {
    /// One pass of a wait by thread `caller`: reports (and reaps) a child, or says to
    /// return 0 or to sleep; `ECHILD` when no child matches. `request` is the one made
    /// by [`WaitRequest::wait4`]/[`WaitRequest::waitid`] (with a pidfd resolved), kept
    /// across passes of the same call.
    pub fn wait(&mut self, caller: Pid, request: &mut WaitRequest) -> Result<WaitOutcome, Errno> {
        let me = self.live_thread(caller)?.tgid;
        let process = self.procs.get(&me).ok_or(Errno::ESRCH)?;
        if request.target == WaitTarget::OwnGroup {
            request.target = WaitTarget::Group(process.pgid);
        }
        let options = request.options;
        let exists = match request.target {
            WaitTarget::Any => true,
            WaitTarget::Pid(pid) => self.procs.contains_key(&pid),
            WaitTarget::Group(pgid) => self.groups.contains_key(&pgid),
            WaitTarget::OwnGroup | WaitTarget::Pidfd(_) => false,
        };
        if !exists {
            return Err(Errno::ECHILD);
        }
        let threads = &process.threads;
        let start = threads.iter().position(|&t| t == caller).unwrap_or(0);
        let order = threads[start..].iter().chain(&threads[..start]);
        let take = if options & __WNOTHREAD != 0 {
            1
        } else {
            threads.len()
        };
        let mut eligible = false;
        let mut found = None;
        'threads: for tid in order.take(take) {
            let children = self.threads.get(tid).map(|t| t.children.as_slice());
            for &child in children.unwrap_or(&[]) {
                let Some(c) = self.procs.get(&child) else {
                    continue;
                };
                let matches = match request.target {
                    WaitTarget::Pid(pid) => child == pid,
                    WaitTarget::Group(pgid) => c.pgid == pgid,
                    _ => true,
                };
                let clone_child = c.exit_signal != SIGCHLD;
                let kind_ok = options & __WALL != 0 || clone_child == (options & __WCLONE != 0);
                if !matches || !kind_ok {
                    continue;
                }
                let event = if let Some(status) = c.zombie {
                    if options & WEXITED == 0 {
                        continue;
                    }
                    ChildEvent::from(status)
                } else if options & WUNTRACED != 0 && c.job.stopped && c.job.stop_code != 0 {
                    ChildEvent::Stopped(c.job.stop_code)
                } else if options & WCONTINUED != 0 && c.job.continued {
                    ChildEvent::Continued
                } else {
                    eligible = true;
                    continue;
                };
                found = Some((child, event));
                break 'threads;
            }
        }
        let Some((pid, event)) = found else {
            return match (eligible, options & WNOHANG != 0) {
                (false, _) => Err(Errno::ECHILD),
                (true, true) => Ok(WaitOutcome::Nothing),
                (true, false) => Ok(WaitOutcome::Block),
            };
        };
        let uid = self.creds(pid).map_or(0, |c| c.ruid);
        let consume = options & WNOWAIT == 0;
        let mut reaped = false;
        if consume {
            match event {
                ChildEvent::Exited(_) | ChildEvent::Killed { .. } => {
                    self.release(pid);
                    reaped = true;
                }
                ChildEvent::Stopped(_) => {
                    if let Some(c) = self.procs.get_mut(&pid) {
                        c.job.stop_code = 0;
                    }
                }
                ChildEvent::Continued => {
                    if let Some(c) = self.procs.get_mut(&pid) {
                        c.job.continued = false;
                    }
                }
            }
        }
        Ok(WaitOutcome::Reported {
            pid,
            uid,
            event,
            reaped,
        })
    }
}
