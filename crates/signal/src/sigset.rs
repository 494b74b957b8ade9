//! The 64-bit signal mask (`sigset_t` as the kernel sees it on x86_64: one `unsigned long`,
//! bit `n - 1` for signal `n`) and the `sigsetsize` check every `rt_sig*` call makes.

use core::mem::size_of;

use linux_raw_sys::general::kernel_sigset_t;

use crate::signal::KERNEL_ONLY;
use crate::{Errno, Signal};

/// The size of the kernel's `sigset_t` (8 bytes): the only `sigsetsize` that
/// `rt_sigaction`, `rt_sigprocmask`, `rt_sigsuspend` and `rt_sigtimedwait` accept.
pub const SIGSET_SIZE: usize = size_of::<kernel_sigset_t>();

/// A set of signals, as in the user's 8-byte `sigset_t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SigSet(u64);

/// `EINVAL` unless `sigsetsize` is 8, as Linux checks before touching user memory.
pub fn check_sigsetsize(sigsetsize: usize) -> Result<(), Errno> {
    if sigsetsize == SIGSET_SIZE {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

impl SigSet {
    /// The empty set.
    pub const EMPTY: Self = Self(0);
    /// Every signal.
    pub const FULL: Self = Self(u64::MAX);

    /// A set from its bits (bit `n - 1` is signal `n`).
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The set a user's `sigset_t` holds (native byte order, little-endian on x86_64).
    pub const fn from_user(bytes: [u8; SIGSET_SIZE]) -> Self {
        Self(u64::from_le_bytes(bytes))
    }

    /// The bytes of the user's `sigset_t`.
    pub const fn to_user(self) -> [u8; SIGSET_SIZE] {
        self.0.to_le_bytes()
    }

    /// A set of one signal.
    pub const fn of(sig: Signal) -> Self {
        Self(sig.mask())
    }

    /// Whether `sig` is in the set.
    pub const fn contains(self, sig: Signal) -> bool {
        self.0 & sig.mask() != 0
    }

    /// Adds `sig`.
    pub fn insert(&mut self, sig: Signal) {
        self.0 |= sig.mask();
    }

    /// Removes `sig`.
    pub fn remove(&mut self, sig: Signal) {
        self.0 &= !sig.mask();
    }

    /// The set without SIGKILL and SIGSTOP, which can never be blocked (what Linux does
    /// to every mask it installs: `sigdelsetmask(&set, sigmask(SIGKILL)|sigmask(SIGSTOP))`).
    pub const fn blockable(self) -> Self {
        Self(self.0 & !KERNEL_ONLY)
    }

    /// Union.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Intersection.
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// The signals of `self` not in `other`.
    pub const fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// The complement.
    pub const fn complement(self) -> Self {
        Self(!self.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The signals in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        Signal::all().filter(move |s| self.contains(*s))
    }
}

/// `rt_sigpending`'s own rule: any `sigsetsize` up to 8 (it copies that many bytes), and
/// `EINVAL` above.
pub fn check_sigpending_size(sigsetsize: usize) -> Result<(), Errno> {
    if sigsetsize <= SIGSET_SIZE {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}
