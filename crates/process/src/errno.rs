//! The errno values this crate returns, taken from `linux-raw-sys`.

use linux_raw_sys::errno;

/// A Linux errno (positive, as in `errno.h`); the syscall layer returns its negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(u32);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Self = Self(errno::EPERM);
    /// No such process (or process group).
    pub const ESRCH: Self = Self(errno::ESRCH);
    /// Try again: a process limit (`RLIMIT_NPROC`, threads-max, the pid space) is reached.
    pub const EAGAIN: Self = Self(errno::EAGAIN);
    /// Permission denied (`setpgid` on a child that has called `execve`).
    pub const EACCES: Self = Self(errno::EACCES);
    /// No child process to wait for.
    pub const ECHILD: Self = Self(errno::ECHILD);
    /// Invalid argument.
    pub const EINVAL: Self = Self(errno::EINVAL);

    /// Wraps a raw errno value (e.g. one the kernel's user-memory copy produced).
    pub const fn new(code: u32) -> Self {
        Self(code)
    }

    /// The positive errno value.
    pub const fn code(self) -> u32 {
        self.0
    }
}
