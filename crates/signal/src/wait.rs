//! What a parent learns about a child: the `wait4` status word, `waitid`'s siginfo, and
//! whether the parent is sent SIGCHLD at all (`do_notify_parent`,
//! `do_notify_parent_cldstop`, `wait_task_zombie`, `wait_task_stopped`,
//! `wait_task_continued`).

use linux_raw_sys::general as g;

use crate::{Handler, SigInfo, Signal, SignalState};

/// A change in a child that `wait4`/`waitid` report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildEvent {
    /// `_exit(code)`: the low 8 bits of the code.
    Exited(u8),
    /// Killed by a signal; `core` when it dumped core.
    Killed {
        /// The signal.
        sig: Signal,
        /// A core dump was written (or would have been: the 0x80 bit).
        core: bool,
    },
    /// Stopped by this signal.
    Stopped(Signal),
    /// Resumed by SIGCONT.
    Continued,
}

impl ChildEvent {
    /// The `wait4` status word (`WIFEXITED`/`WEXITSTATUS` and friends): `code << 8`,
    /// `sig | 0x80 if core`, `sig << 8 | 0x7f`, or `0xffff`.
    pub const fn wait_status(self) -> i32 {
        match self {
            Self::Exited(code) => (code as i32) << 8,
            Self::Killed { sig, core } => sig.number() as i32 | if core { 0x80 } else { 0 },
            Self::Stopped(sig) => (sig.number() as i32) << 8 | 0x7f,
            Self::Continued => 0xffff,
        }
    }

    /// `si_code` for `waitid` and SIGCHLD: `CLD_EXITED`, `CLD_KILLED`, `CLD_DUMPED`,
    /// `CLD_STOPPED` or `CLD_CONTINUED`.
    pub const fn cld_code(self) -> u32 {
        match self {
            Self::Exited(_) => g::CLD_EXITED,
            Self::Killed { core: false, .. } => g::CLD_KILLED,
            Self::Killed { core: true, .. } => g::CLD_DUMPED,
            Self::Stopped(_) => g::CLD_STOPPED,
            Self::Continued => g::CLD_CONTINUED,
        }
    }

    /// `si_status`: the exit code, or the signal (SIGCONT for a continue).
    pub const fn si_status(self) -> i32 {
        match self {
            Self::Exited(code) => code as i32,
            Self::Killed { sig, .. } | Self::Stopped(sig) => sig.number() as i32,
            Self::Continued => g::SIGCONT as i32,
        }
    }

    /// The siginfo for this event about child `pid` owned by `uid`, with CPU times in
    /// clock ticks (SIGCHLD carries them; `waitid` copies only
    /// [`SigInfo::waitid_fields`], and Linux's `waitid` passes zero times).
    pub fn siginfo(self, pid: i32, uid: u32, utime: u64, stime: u64) -> SigInfo {
        SigInfo::child(self.cld_code(), pid, uid, self.si_status(), utime, stime)
    }
}

/// What `waitid` writes when `WNOHANG` finds no child ready: the same six fields, zero.
pub fn waitid_none() -> [(usize, [u8; 4]); 6] {
    let mut fields = ChildEvent::Continued.siginfo(0, 0, 0, 0).waitid_fields();
    for (_, bytes) in &mut fields {
        *bytes = [0; 4];
    }
    fields
}

/// What a child's exit does on its parent's side (`do_notify_parent`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitNotice {
    /// Send this signal to the parent (its `exit_signal`, usually SIGCHLD).
    pub signal: Option<Signal>,
    /// Reap the child at once, leaving no zombie: the parent ignores SIGCHLD or set
    /// `SA_NOCLDWAIT`.
    pub autoreap: bool,
}

impl SignalState {
    /// A child of this process exits with `exit_signal` (`None` for a thread or a
    /// clone without one).
    pub fn child_exit(&self, exit_signal: Option<Signal>) -> ExitNotice {
        let chld = self.action(Signal::SIGCHLD);
        let mut notice = ExitNotice {
            signal: exit_signal,
            autoreap: false,
        };
        if exit_signal == Some(Signal::SIGCHLD)
            && (chld.handler == Handler::Ignore || chld.has(g::SA_NOCLDWAIT))
        {
            notice.autoreap = true;
            if chld.handler == Handler::Ignore {
                notice.signal = None;
            }
        }
        notice
    }

    /// A child stopped or continued: whether this parent is sent SIGCHLD for it (not
    /// when SIGCHLD is ignored or has `SA_NOCLDSTOP`).
    pub fn notify_stop_continue(&self) -> bool {
        let chld = self.action(Signal::SIGCHLD);
        chld.handler != Handler::Ignore && !chld.has(g::SA_NOCLDSTOP)
    }
}
