//! The errors the discipline returns, as Linux errno values.

use linux_raw_sys::errno;

/// A Linux errno (positive, from `linux_raw_sys::errno`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub u32);

impl Errno {
    /// Invalid argument (a bad `TCFLSH` argument).
    pub const EINVAL: Errno = Errno(errno::EINVAL);
    /// A non-blocking read found nothing to return.
    pub const EAGAIN: Errno = Errno(errno::EAGAIN);
    /// A background process may not use its terminal (job control).
    pub const EIO: Errno = Errno(errno::EIO);
    /// `TIOCSPGRP` from an orphaned background process group.
    pub const ENOTTY: Errno = Errno(errno::ENOTTY);
}
