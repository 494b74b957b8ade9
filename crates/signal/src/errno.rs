//! The errno values this crate returns, taken from `linux-raw-sys`.

use linux_raw_sys::errno;

/// A Linux errno (positive, as in `errno.h`); the syscall layer returns its negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(u32);

impl Errno {
    /// Operation not permitted (`sigaltstack` while running on the alternate stack).
    pub const EPERM: Self = Self(errno::EPERM);
    /// Interrupted system call (a handler ran and the call is not restarted).
    pub const EINTR: Self = Self(errno::EINTR);
    /// Try again: a real-time signal over `RLIMIT_SIGPENDING`, or `rt_sigtimedwait` timed out.
    pub const EAGAIN: Self = Self(errno::EAGAIN);
    /// Out of memory: an alternate stack smaller than `MINSIGSTKSZ`.
    pub const ENOMEM: Self = Self(errno::ENOMEM);
    /// Bad address: a user-memory callback failed.
    pub const EFAULT: Self = Self(errno::EFAULT);
    /// Invalid argument.
    pub const EINVAL: Self = Self(errno::EINVAL);

    /// Wraps a raw errno value (for example one a [`crate::UserMemory`] callback produced).
    pub const fn new(code: u32) -> Self {
        Self(code)
    }

    /// The positive errno value.
    pub const fn code(self) -> u32 {
        self.0
    }
}
