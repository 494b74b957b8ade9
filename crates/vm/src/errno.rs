//! The errno values this crate returns, taken from `linux-raw-sys`.

use linux_raw_sys::errno;

/// A Linux errno (positive, as in `errno.h`); the syscall layer returns its negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(u32);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Self = Self(errno::EPERM);
    /// Bad file descriptor (for [`crate::Backing::file`] implementations).
    pub const EBADF: Self = Self(errno::EBADF);
    /// Try again.
    pub const EAGAIN: Self = Self(errno::EAGAIN);
    /// Out of memory, or an address range that is not (entirely) mapped.
    pub const ENOMEM: Self = Self(errno::ENOMEM);
    /// Permission denied.
    pub const EACCES: Self = Self(errno::EACCES);
    /// Bad address.
    pub const EFAULT: Self = Self(errno::EFAULT);
    /// The range is already mapped (`MAP_FIXED_NOREPLACE`).
    pub const EEXIST: Self = Self(errno::EEXIST);
    /// The file cannot be mapped this way.
    pub const ENODEV: Self = Self(errno::ENODEV);
    /// Invalid argument.
    pub const EINVAL: Self = Self(errno::EINVAL);
    /// File offset plus length does not fit a file position.
    pub const EOVERFLOW: Self = Self(errno::EOVERFLOW);
    /// A flag that `MAP_SHARED_VALIDATE` does not know.
    pub const EOPNOTSUPP: Self = Self(errno::EOPNOTSUPP);

    /// Wraps a raw errno value (e.g. one the caller's file lookup produced).
    pub const fn new(code: u32) -> Self {
        Self(code)
    }

    /// The positive errno value.
    pub const fn code(self) -> u32 {
        self.0
    }
}
