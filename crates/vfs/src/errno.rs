//! The errno values this crate returns, taken from `linux-raw-sys`.

use linux_raw_sys::errno;

/// A Linux errno (positive, as in `errno.h`); the syscall layer returns its negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(u32);

macro_rules! errnos {
    ($($name:ident: $doc:literal,)*) => {
        impl Errno {
            $(
                #[doc = $doc]
                pub const $name: Self = Self(errno::$name);
            )*
        }
    };
}

errnos! {
    EPERM: "Operation not permitted.",
    ENOENT: "No such file or directory.",
    ENXIO: "No such device or address (opening a socket node).",
    EBADF: "Bad file descriptor (for the kernel's own use).",
    EACCES: "Permission denied.",
    EBUSY: "Device or resource busy (mount points, mount roots).",
    EEXIST: "File exists.",
    EXDEV: "Cross-device link or rename.",
    ENOTDIR: "Not a directory.",
    EISDIR: "Is a directory.",
    EINVAL: "Invalid argument.",
    EFBIG: "File too large.",
    ENOSPC: "No space left on device (the tmpfs size limit).",
    EROFS: "Read-only file system.",
    EMLINK: "Too many links.",
    ENAMETOOLONG: "File name too long.",
    ENOTEMPTY: "Directory not empty.",
    ELOOP: "Too many levels of symbolic links.",
    EOPNOTSUPP: "Operation not supported.",
}

impl Errno {
    /// Wraps a raw errno value (e.g. one a kernel file system produced).
    pub const fn new(code: u32) -> Self {
        Self(code)
    }

    /// The positive errno value.
    pub const fn code(self) -> u32 {
        self.0
    }
}
