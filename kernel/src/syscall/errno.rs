//! Errors of system calls: Linux's errno values, from `linux-raw-sys`.
use linux_raw_sys::errno;

/// A Linux errno (positive); a system call returns its negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub u32);

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(pub const $name: Errno = Errno(errno::$name);)*
        }
    };
}

errnos!(
    EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, ENOEXEC, EBADF, ECHILD, EAGAIN, ENOMEM,
    EACCES, EFAULT, EBUSY, EEXIST, ENOTDIR, EISDIR, EINVAL, EMFILE, ENOTTY, EFBIG, ENOSPC,
    ESPIPE, EROFS, EPIPE, ERANGE, ENAMETOOLONG, ENOSYS, ENOTEMPTY, ELOOP, EOPNOTSUPP,
    ETIMEDOUT, EOVERFLOW,
);

impl From<vm::Errno> for Errno {
    fn from(e: vm::Errno) -> Errno {
        Errno(e.code())
    }
}

/// A system call's outcome: the return value, or an errno.
pub type SysResult = Result<u64, Errno>;
