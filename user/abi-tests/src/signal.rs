//! Signals: their names as Linux spells them, and the `sigaction`/mask plumbing the
//! programs share.

use crate::errno::{cvt, Errno};
use core::ffi::{c_char, c_int, c_void, CStr};
use core::fmt;

extern "C" {
    /// glibc 2.32+: the abbreviation of a signal (`"SEGV"`), or null for an unknown one.
    fn sigabbrev_np(sig: c_int) -> *const c_char;
}

/// A signal number that displays as its name (`SIGSEGV`, `SIGRTMIN+2`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Signal(pub c_int);

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: sigabbrev_np takes any int and returns null or a static C string.
        let name = unsafe { sigabbrev_np(self.0) };
        if !name.is_null() {
            // SAFETY: non-null: a static NUL-terminated string in glibc's table.
            let name = unsafe { CStr::from_ptr(name) };
            return write!(f, "SIG{}", name.to_string_lossy());
        }
        // Real-time signals have no abbreviation; the kernel's SIGRTMIN is 32.
        match self.0 - 32 {
            n if n >= 0 => write!(f, "SIGRTMIN+{n}"),
            _ => write!(f, "signal {}", self.0),
        }
    }
}

/// What a handler does, the three shapes of `sa_sigaction`.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    Default,
    Ignore,
    /// A plain handler (`sa_handler`).
    Handler(extern "C" fn(c_int)),
    /// An `SA_SIGINFO` handler.
    Info(extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void)),
}

/// Installs `action` for `sig` with `flags` (`SA_RESTART`, `SA_ONSTACK`, …) and an empty
/// `sa_mask`; returns the call's result.
pub fn set_action(sig: c_int, action: Action, flags: c_int) -> Result<(), Errno> {
    // SAFETY: sigaction is plain data; zero is a valid bit pattern for it.
    let mut sa: libc::sigaction = unsafe { core::mem::zeroed() };
    let (handler, extra) = match action {
        Action::Default => (libc::SIG_DFL, 0),
        Action::Ignore => (libc::SIG_IGN, 0),
        Action::Handler(h) => (h as libc::sighandler_t, 0),
        Action::Info(h) => (h as libc::sighandler_t, libc::SA_SIGINFO),
    };
    sa.sa_sigaction = handler;
    sa.sa_flags = flags | extra;
    // SAFETY: `sa` is a valid sigaction whose handler, if any, is an extern "C" function
    // of the right shape; the old action is not asked for.
    cvt(unsafe { libc::sigaction(sig, &sa, core::ptr::null_mut()) }).map(drop)
}

/// A signal set holding `sigs`.
pub fn set_of(sigs: &[c_int]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { core::mem::zeroed() };
    // SAFETY: `set` is a valid, writable sigset_t.
    unsafe { libc::sigemptyset(&mut set) };
    for &s in sigs {
        // SAFETY: as above; an invalid signal number is an EINVAL, not undefined.
        unsafe { libc::sigaddset(&mut set, s) };
    }
    set
}

/// `sigprocmask(how, set)`; returns the previous mask.
pub fn mask(how: c_int, set: &libc::sigset_t) -> Result<libc::sigset_t, Errno> {
    let mut old = set_of(&[]);
    // SAFETY: both pointers are to valid sigset_t values owned by this frame.
    cvt(unsafe { libc::sigprocmask(how, set, &mut old) })?;
    Ok(old)
}

/// Whether `sig` is a member of `set`.
pub fn is_member(set: &libc::sigset_t, sig: c_int) -> bool {
    // SAFETY: `set` is a valid sigset_t.
    unsafe { libc::sigismember(set, sig) == 1 }
}

/// The name of `si_code` `code` of signal `signo` (`SI_USER`, `SEGV_ACCERR`, `CLD_EXITED`).
pub fn code_name(signo: c_int, code: c_int) -> String {
    use linux_raw_sys::general::{SEGV_ACCERR, SEGV_MAPERR};
    let name = match (signo, code) {
        (_, libc::SI_USER) => "SI_USER",
        (_, libc::SI_TKILL) => "SI_TKILL",
        (_, libc::SI_QUEUE) => "SI_QUEUE",
        (_, libc::SI_KERNEL) => "SI_KERNEL",
        (libc::SIGSEGV, c) if c == SEGV_MAPERR as c_int => "SEGV_MAPERR",
        (libc::SIGSEGV, c) if c == SEGV_ACCERR as c_int => "SEGV_ACCERR",
        (libc::SIGCHLD, libc::CLD_EXITED) => "CLD_EXITED",
        (libc::SIGCHLD, libc::CLD_KILLED) => "CLD_KILLED",
        (libc::SIGCHLD, libc::CLD_DUMPED) => "CLD_DUMPED",
        (libc::SIGCHLD, libc::CLD_STOPPED) => "CLD_STOPPED",
        (libc::SIGCHLD, libc::CLD_CONTINUED) => "CLD_CONTINUED",
        _ => return format!("si_code {code}"),
    };
    name.to_string()
}
