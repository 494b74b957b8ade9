//! Errors as the kernel returns them, named as Linux names them (`EFAULT`).
//!
//! The names come from glibc's own table (`strerrorname_np`, glibc 2.32+), which the
//! programs carry statically, so a run inside Halyard prints the same names without a
//! table of ours.

use core::ffi::{c_char, c_int, c_long, CStr};
use core::fmt;

extern "C" {
    /// glibc: the macro name of an errno value (`"EFAULT"`), or null for an unknown one.
    fn strerrorname_np(errnum: c_int) -> *const c_char;
}

/// An errno value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub c_int);

impl Errno {
    /// The calling thread's `errno`.
    pub fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: strerrorname_np takes any int and returns null or a pointer to a static
        // NUL-terminated string.
        let name = unsafe { strerrorname_np(self.0) };
        if name.is_null() {
            return write!(f, "errno {}", self.0);
        }
        // SAFETY: non-null: a static NUL-terminated string in glibc's table.
        let name = unsafe { CStr::from_ptr(name) };
        write!(f, "{}", name.to_string_lossy())
    }
}

/// A libc call's result: `-1` means failure with `errno`, anything else success.
pub fn cvt<T: From<i8> + PartialEq>(ret: T) -> Result<T, Errno> {
    if ret == T::from(-1) {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

/// Runs `syscall(nr, args…)` (glibc's generic wrapper: no argument checks of its own).
///
/// # Safety
/// The system call may read or write memory at any pointer argument and change the
/// process as `nr` does: the caller vouches for both.
pub unsafe fn raw(nr: c_long, args: [usize; 6]) -> Result<c_long, Errno> {
    let [a, b, c, d, e, g] = args;
    // SAFETY: the caller's promise; the x86-64 syscall ABI takes six register arguments,
    // so passing all six is correct whatever `nr` reads.
    cvt(unsafe { libc::syscall(nr, a, b, c, d, e, g) })
}
