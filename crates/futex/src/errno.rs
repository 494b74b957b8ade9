//! The errno values this crate returns, taken from `linux-raw-sys`.

use linux_raw_sys::errno;

/// A Linux errno (positive, as in `errno.h`); the syscall layer returns its negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(u32);

impl Errno {
    /// Invalid argument: misaligned address, zero bitset, negative count, bad timeout.
    pub const EINVAL: Self = Self(errno::EINVAL);
    /// Operation not implemented: an unknown op, or one Halyard does not model.
    pub const ENOSYS: Self = Self(errno::ENOSYS);

    /// The positive errno value.
    pub const fn code(self) -> u32 {
        self.0
    }
}
