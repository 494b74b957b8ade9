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
);

impl From<vm::Errno> for Errno {
    fn from(e: vm::Errno) -> Errno {
        Errno(e.code())
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
