//! Signal numbers and the classes Linux sorts them into (`include/linux/signal.h`:
//! `SIG_KERNEL_ONLY_MASK`, `SIG_KERNEL_STOP_MASK`, `SIG_KERNEL_IGNORE_MASK`,
//! `SIG_KERNEL_COREDUMP_MASK`, and `kernel/signal.c`'s `SYNCHRONOUS_MASK`), with each
//! signal's default action (signal(7)).

use linux_raw_sys::general as g;

use crate::{Errno, SigSet};

/// A valid signal number, 1 to 64 (`_NSIG`). Signal 0 (kill's permission probe) is not a
/// `Signal`: the syscall layer handles it before anything is generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signal(u8);

/// What happens when a signal with `SIG_DFL` is delivered (signal(7)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// The process is killed.
    Terminate,
    /// The process is killed and dumps core (wait status has the 0x80 bit).
    CoreDump,
    /// The signal is discarded.
    Ignore,
    /// The process stops (group stop).
    Stop,
    /// The process continues if stopped; otherwise the signal is discarded (SIGCONT).
    Continue,
}

const fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// `SIG_KERNEL_ONLY_MASK`: SIGKILL and SIGSTOP cannot be caught, blocked or ignored.
pub(crate) const KERNEL_ONLY: u64 = bit(g::SIGKILL) | bit(g::SIGSTOP);
/// `SIG_KERNEL_STOP_MASK`.
pub(crate) const STOP: u64 = bit(g::SIGSTOP) | bit(g::SIGTSTP) | bit(g::SIGTTIN) | bit(g::SIGTTOU);
/// `SIG_KERNEL_IGNORE_MASK`: ignored by default.
pub(crate) const IGNORE: u64 =
    bit(g::SIGCONT) | bit(g::SIGCHLD) | bit(g::SIGWINCH) | bit(g::SIGURG);
/// `SIG_KERNEL_COREDUMP_MASK`.
const COREDUMP: u64 = bit(g::SIGQUIT)
    | bit(g::SIGILL)
    | bit(g::SIGTRAP)
    | bit(g::SIGABRT)
    | bit(g::SIGFPE)
    | bit(g::SIGSEGV)
    | bit(g::SIGBUS)
    | bit(g::SIGSYS)
    | bit(g::SIGXCPU)
    | bit(g::SIGXFSZ);
/// `SYNCHRONOUS_MASK`: signals an instruction raises, dequeued before all others.
pub(crate) const SYNCHRONOUS: u64 = bit(g::SIGSEGV)
    | bit(g::SIGBUS)
    | bit(g::SIGILL)
    | bit(g::SIGTRAP)
    | bit(g::SIGFPE)
    | bit(g::SIGSYS);

impl Signal {
    /// SIGHUP.
    pub const SIGHUP: Self = Self(g::SIGHUP as u8);
    /// SIGINT.
    pub const SIGINT: Self = Self(g::SIGINT as u8);
    /// SIGQUIT.
    pub const SIGQUIT: Self = Self(g::SIGQUIT as u8);
    /// SIGILL.
    pub const SIGILL: Self = Self(g::SIGILL as u8);
    /// SIGTRAP.
    pub const SIGTRAP: Self = Self(g::SIGTRAP as u8);
    /// SIGABRT.
    pub const SIGABRT: Self = Self(g::SIGABRT as u8);
    /// SIGBUS.
    pub const SIGBUS: Self = Self(g::SIGBUS as u8);
    /// SIGFPE.
    pub const SIGFPE: Self = Self(g::SIGFPE as u8);
    /// SIGKILL.
    pub const SIGKILL: Self = Self(g::SIGKILL as u8);
    /// SIGUSR1.
    pub const SIGUSR1: Self = Self(g::SIGUSR1 as u8);
    /// SIGSEGV.
    pub const SIGSEGV: Self = Self(g::SIGSEGV as u8);
    /// SIGUSR2.
    pub const SIGUSR2: Self = Self(g::SIGUSR2 as u8);
    /// SIGPIPE.
    pub const SIGPIPE: Self = Self(g::SIGPIPE as u8);
    /// SIGALRM.
    pub const SIGALRM: Self = Self(g::SIGALRM as u8);
    /// SIGTERM.
    pub const SIGTERM: Self = Self(g::SIGTERM as u8);
    /// SIGCHLD.
    pub const SIGCHLD: Self = Self(g::SIGCHLD as u8);
    /// SIGCONT.
    pub const SIGCONT: Self = Self(g::SIGCONT as u8);
    /// SIGSTOP.
    pub const SIGSTOP: Self = Self(g::SIGSTOP as u8);
    /// SIGTSTP.
    pub const SIGTSTP: Self = Self(g::SIGTSTP as u8);
    /// SIGTTIN.
    pub const SIGTTIN: Self = Self(g::SIGTTIN as u8);
    /// SIGTTOU.
    pub const SIGTTOU: Self = Self(g::SIGTTOU as u8);
    /// SIGURG.
    pub const SIGURG: Self = Self(g::SIGURG as u8);
    /// SIGWINCH.
    pub const SIGWINCH: Self = Self(g::SIGWINCH as u8);
    /// SIGSYS.
    pub const SIGSYS: Self = Self(g::SIGSYS as u8);
    /// SIGRTMIN as the kernel counts (32; C libraries reserve the first few).
    pub const SIGRTMIN: Self = Self(g::SIGRTMIN as u8);
    /// The highest signal, `_NSIG` (64).
    pub const SIGRTMAX: Self = Self(g::_NSIG as u8);

    /// A signal number from a syscall argument: `EINVAL` outside 1..=64 (Linux's
    /// `valid_signal(sig) && sig >= 1`).
    pub fn new(sig: i64) -> Result<Self, Errno> {
        if (1..=i64::from(g::_NSIG)).contains(&sig) {
            Ok(Self(sig as u8))
        } else {
            Err(Errno::EINVAL)
        }
    }

    /// The signal number.
    pub const fn number(self) -> u32 {
        self.0 as u32
    }

    /// This signal's bit in a [`SigSet`].
    pub const fn mask(self) -> u64 {
        bit(self.0 as u32)
    }

    /// Real-time signals (32..=64) queue every instance; standard ones coalesce.
    pub const fn is_realtime(self) -> bool {
        self.0 as u32 >= g::SIGRTMIN
    }

    /// SIGKILL or SIGSTOP: never caught, blocked or ignored (`sig_kernel_only`).
    pub const fn is_kernel_only(self) -> bool {
        self.mask() & KERNEL_ONLY != 0
    }

    /// SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU (`sig_kernel_stop`).
    pub const fn is_stop(self) -> bool {
        self.mask() & STOP != 0
    }

    /// Raised by an instruction (fault signals), dequeued first (`SYNCHRONOUS_MASK`).
    pub const fn is_synchronous(self) -> bool {
        self.mask() & SYNCHRONOUS != 0
    }

    /// What `SIG_DFL` does with this signal.
    pub const fn default_action(self) -> DefaultAction {
        let m = self.mask();
        if self.0 as u32 == g::SIGCONT {
            DefaultAction::Continue
        } else if m & IGNORE != 0 {
            DefaultAction::Ignore
        } else if m & STOP != 0 {
            DefaultAction::Stop
        } else if m & COREDUMP != 0 {
            DefaultAction::CoreDump
        } else {
            DefaultAction::Terminate
        }
    }

    /// Ignored when its handler is `SIG_DFL` (`sig_kernel_ignore`; SIGCONT included).
    pub const fn is_default_ignored(self) -> bool {
        self.mask() & IGNORE != 0
    }

    /// Every signal, 1 to 64, in order.
    pub fn all() -> impl Iterator<Item = Signal> {
        (1..=g::_NSIG as u8).map(Signal)
    }

    /// The lowest signal in `set`, if any.
    pub fn lowest(set: SigSet) -> Option<Signal> {
        let bits = set.bits();
        (bits != 0).then(|| Signal(bits.trailing_zeros() as u8 + 1))
    }
}
