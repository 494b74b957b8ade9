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
    EPERM,
    ESRCH,
    EINTR,
    ENXIO,
    E2BIG,
    EBADF,
    EAGAIN,
    ENOMEM,
    EFAULT,
    EBUSY,
    ENOTDIR,
    EISDIR,
    EINVAL,
    EMFILE,
    ENOTTY,
    ENOSPC,
    ESPIPE,
    EPIPE,
    ERANGE,
    ENAMETOOLONG,
    ENOSYS,
    EOPNOTSUPP,
    ETIMEDOUT,
    EOVERFLOW,
    ENODEV,
    EACCES,
    EIO,
);

/// Every user-space crate answers with Linux's errno in its own newtype (each crate
/// stands alone); they all convert here, so `?` carries them to the system call's result.
macro_rules! from_crate_errnos {
    ($($t:ty),* $(,)?) => {
        $(impl From<$t> for Errno {
            fn from(e: $t) -> Errno {
                Errno(e.code())
            }
        })*
    };
}

from_crate_errnos!(
    vm::Errno,
    halyard_process::Errno,
    halyard_signal::Errno,
    halyard_vfs::Errno,
    halyard_futex::Errno,
);

impl From<halyard_exec::ExecError> for Errno {
    fn from(e: halyard_exec::ExecError) -> Errno {
        Errno(e.errno())
    }
}

impl From<halyard_tty::Errno> for Errno {
    fn from(e: halyard_tty::Errno) -> Errno {
        Errno(e.0)
    }
}

impl Errno {
    /// Kernel-internal: restart the call if the signal's handler has `SA_RESTART` (or no
    /// handler runs), else `EINTR` (Linux's `ERESTARTSYS`, from `halyard-signal`).
    pub const ERESTARTSYS: Errno = Errno(halyard_signal::restart::ERESTARTSYS as u32);
    /// Kernel-internal: `EINTR` if a handler runs, else `restart_syscall` continues the
    /// call from its restart block (a sleep with its remaining time).
    pub const ERESTART_RESTARTBLOCK: Errno =
        Errno(halyard_signal::restart::ERESTART_RESTARTBLOCK as u32);
    /// Kernel-internal: `EINTR` if a handler runs, else restart (`ERESTARTNOHAND`).
    pub const ERESTARTNOHAND: Errno = Errno(halyard_signal::restart::ERESTARTNOHAND as u32);
}

/// A system call's outcome: the return value, or an errno.
pub type SysResult = Result<u64, Errno>;
