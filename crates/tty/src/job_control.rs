//! Job control at the terminal: what happens when a process in a background process
//! group reads its controlling terminal, writes it under TOSTOP, or changes its settings.
//!
//! Linux's rules (`__tty_check_change` in `drivers/tty/tty_jobctrl.c`, called by
//! `job_control` in `n_tty.c` for reads with SIGTTIN, and by `tty_check_change` with
//! SIGTTOU for writes under TOSTOP and for the ioctls that change the terminal):
//! - a process whose controlling terminal this is not, or whose process group is the
//!   terminal's foreground group, or a terminal with no foreground group: proceed;
//! - the caller blocks or ignores (`SIG_IGN`) the signal: a read fails with `EIO`, a
//!   write or a change proceeds;
//! - the caller's process group is orphaned (POSIX: no member has a parent in another
//!   group of the same session, so nobody could continue a stopped job): `EIO`;
//! - otherwise the signal goes to the caller's whole process group and the call returns
//!   `-ERESTARTSYS`: the default action stops the job, and once it is continued (`fg`)
//!   the call starts again, now from the foreground.
//!
//! `TIOCSPGRP` turns the `EIO` into `ENOTTY` (`tiocspgrp`). Which ioctls count as changes
//! is the kernel's to say (Linux: `TCSETS*`, `TCSETA*`, `TCFLSH`, `TCXONC`, `TIOCSPGRP`,
//! `TIOCSETD` and the break ioctls; not `TIOCSWINSZ`).
//!
//! The discipline knows no processes: the kernel gathers the facts about the caller
//! ([`Caller`]) and carries out the [`Verdict`].

use crate::errno::Errno;
use crate::termios::Termios;
use linux_raw_sys::general as g;

/// What a process is doing to its terminal, as far as job control cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `read(2)`: SIGTTIN.
    Read,
    /// `write(2)`: SIGTTOU, and only when `c_lflag` has TOSTOP.
    Write,
    /// An ioctl that changes the terminal (`TCSETS*`, `TCFLSH`, ...): SIGTTOU.
    Change,
    /// `TIOCSPGRP`: SIGTTOU, with `ENOTTY` where the others get `EIO`.
    SetForeground,
}

impl Access {
    /// The signal a background caller gets for this access under `termios`; `None` when
    /// the access is not subject to job control (a write without TOSTOP).
    pub fn signal(self, termios: &Termios) -> Option<u32> {
        match self {
            Access::Read => Some(g::SIGTTIN),
            Access::Write if termios.c_lflag & g::TOSTOP == 0 => None,
            Access::Write | Access::Change | Access::SetForeground => Some(g::SIGTTOU),
        }
    }
}

/// The facts about the calling process that the rules look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The terminal is the caller's controlling terminal.
    pub controlling: bool,
    /// The caller's process group.
    pub pgrp: u32,
    /// The terminal's foreground process group, 0 for none.
    pub foreground: u32,
    /// The calling thread blocks the signal of [`Access::signal`], or its process ignores
    /// it (`SIG_IGN`; Linux's `is_ignored`).
    pub blocks_or_ignores: bool,
    /// The caller's process group is orphaned.
    pub orphaned: bool,
}

/// What the kernel does with the access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go on with the read, write or ioctl.
    Proceed,
    /// Send this signal to the caller's process group and fail the call with
    /// `-ERESTARTSYS` (restarted once the job is continued, unless a handler without
    /// `SA_RESTART` runs).
    Signal(u32),
    /// Fail the call with this errno.
    Fail(Errno),
}

/// Linux's `__tty_check_change` for `access` by `caller` on a terminal with `termios`.
pub fn check(access: Access, termios: &Termios, caller: &Caller) -> Verdict {
    let Some(sig) = access.signal(termios) else {
        return Verdict::Proceed;
    };
    if !caller.controlling || caller.foreground == 0 || caller.pgrp == caller.foreground {
        return Verdict::Proceed;
    }
    let eio = match access {
        Access::SetForeground => Errno::ENOTTY,
        _ => Errno::EIO,
    };
    if caller.blocks_or_ignores {
        if sig == g::SIGTTIN {
            Verdict::Fail(eio)
        } else {
            Verdict::Proceed
        }
    } else if caller.orphaned {
        Verdict::Fail(eio)
    } else {
        Verdict::Signal(sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::termios::default_termios;
    use crate::Line;

    const ALL: [Access; 4] = [
        Access::Read,
        Access::Write,
        Access::Change,
        Access::SetForeground,
    ];

    fn tostop(on: bool) -> Termios {
        let mut t = default_termios(Line::Serial);
        if on {
            t.c_lflag |= g::TOSTOP;
        }
        t
    }

    fn background() -> Caller {
        Caller {
            controlling: true,
            pgrp: 7,
            foreground: 3,
            blocks_or_ignores: false,
            orphaned: false,
        }
    }

    /// Every combination of the facts, for property-style checks over the whole space.
    fn every_caller() -> impl Iterator<Item = Caller> {
        (0..32u32).map(|bits| Caller {
            controlling: bits & 1 != 0,
            pgrp: 7,
            foreground: [0, 3, 7][(bits >> 1) as usize % 3],
            blocks_or_ignores: bits & 8 != 0,
            orphaned: bits & 16 != 0,
        })
    }

    #[test]
    fn background_read_stops_the_group_with_sigttin() {
        // tty_jobctrl.c: kill_pgrp(pgrp, SIGTTIN, 1); return -ERESTARTSYS.
        let v = check(Access::Read, &tostop(false), &background());
        assert_eq!(v, Verdict::Signal(g::SIGTTIN));
    }

    #[test]
    fn background_read_with_sigttin_blocked_or_ignored_is_eio() {
        let caller = Caller {
            blocks_or_ignores: true,
            ..background()
        };
        let v = check(Access::Read, &tostop(false), &caller);
        assert_eq!(v, Verdict::Fail(Errno::EIO));
    }

    #[test]
    fn background_write_is_checked_only_under_tostop() {
        assert_eq!(
            check(Access::Write, &tostop(false), &background()),
            Verdict::Proceed
        );
        assert_eq!(
            check(Access::Write, &tostop(true), &background()),
            Verdict::Signal(g::SIGTTOU)
        );
    }

    #[test]
    fn sigttou_blocked_or_ignored_lets_writes_and_changes_proceed() {
        let caller = Caller {
            blocks_or_ignores: true,
            ..background()
        };
        for access in [Access::Write, Access::Change, Access::SetForeground] {
            assert_eq!(check(access, &tostop(true), &caller), Verdict::Proceed);
        }
    }

    #[test]
    fn background_change_sends_sigttou_whatever_tostop() {
        for on in [false, true] {
            assert_eq!(
                check(Access::Change, &tostop(on), &background()),
                Verdict::Signal(g::SIGTTOU)
            );
        }
    }

    #[test]
    fn orphaned_group_gets_eio_instead_of_a_stop() {
        let caller = Caller {
            orphaned: true,
            ..background()
        };
        assert_eq!(
            check(Access::Read, &tostop(true), &caller),
            Verdict::Fail(Errno::EIO)
        );
        assert_eq!(
            check(Access::Write, &tostop(true), &caller),
            Verdict::Fail(Errno::EIO)
        );
        assert_eq!(
            check(Access::Change, &tostop(true), &caller),
            Verdict::Fail(Errno::EIO)
        );
        // tiocspgrp: "if (retval == -EIO) return -ENOTTY;"
        assert_eq!(
            check(Access::SetForeground, &tostop(true), &caller),
            Verdict::Fail(Errno::ENOTTY)
        );
    }

    #[test]
    fn ignoring_beats_orphaned() {
        // is_ignored() is tested before is_current_pgrp_orphaned().
        let caller = Caller {
            orphaned: true,
            blocks_or_ignores: true,
            ..background()
        };
        assert_eq!(
            check(Access::Change, &tostop(false), &caller),
            Verdict::Proceed
        );
        assert_eq!(
            check(Access::Read, &tostop(false), &caller),
            Verdict::Fail(Errno::EIO)
        );
    }

    #[test]
    fn foreground_other_terminals_and_no_foreground_group_always_proceed() {
        for access in ALL {
            for on in [false, true] {
                for caller in every_caller() {
                    let exempt = !caller.controlling
                        || caller.foreground == 0
                        || caller.foreground == caller.pgrp;
                    if exempt {
                        assert_eq!(
                            check(access, &tostop(on), &caller),
                            Verdict::Proceed,
                            "{access:?} {caller:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_signal_is_only_ever_the_access_signal_to_a_caller_that_can_be_stopped() {
        for access in ALL {
            for on in [false, true] {
                for caller in every_caller() {
                    let v = check(access, &tostop(on), &caller);
                    if let Verdict::Signal(sig) = v {
                        assert_eq!(Some(sig), access.signal(&tostop(on)));
                        assert!(!caller.orphaned && !caller.blocks_or_ignores);
                    }
                    if access.signal(&tostop(on)).is_none() {
                        assert_eq!(v, Verdict::Proceed);
                    }
                    // Only a read can fail for a caller that blocks or ignores.
                    if caller.blocks_or_ignores && access != Access::Read {
                        assert_eq!(v, Verdict::Proceed, "{access:?} {caller:?}");
                    }
                }
            }
        }
    }
}
