//! The signals init acts on, blocked and taken one at a time with `sigtimedwait(2)`.
//!
//! SIGCHLD says a child ended (reap it); busybox's `halt`, `poweroff` and `reboot`, run
//! without `-f`, send SIGUSR1, SIGUSR2 and SIGTERM to PID 1 (the protocol of busybox init,
//! `init/halt.c`). Children get an empty signal mask ([`clear_mask`] between `fork` and
//! `exec`): a signal mask survives `exec`, and Rust's `Command` leaves it as it is (since
//! Rust 1.77 it no longer resets it), so without that every program would start with
//! SIGTERM, SIGCHLD, SIGUSR1 and SIGUSR2 blocked.

use crate::shutdown::Action;
use std::io;
use std::mem::MaybeUninit;
use std::time::Duration;

/// What init waits for.
const SIGNALS: [i32; 4] = [libc::SIGCHLD, libc::SIGTERM, libc::SIGUSR1, libc::SIGUSR2];

/// What woke init up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// At least one child has ended.
    Child,
    /// `halt`, `poweroff` or `reboot` asked for the system to stop.
    Shutdown(Action),
    /// The wait's time limit passed (or the wait was interrupted).
    Timeout,
}

impl Event {
    /// The event of signal `signo`.
    pub fn of(signo: i32) -> Event {
        match Action::from_signal(signo) {
            Some(action) => Event::Shutdown(action),
            None if signo == libc::SIGCHLD => Event::Child,
            None => Event::Timeout,
        }
    }
}

fn set() -> io::Result<libc::sigset_t> {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set it points to; sigaddset only writes into that
    // initialised set, and the signal numbers are valid.
    unsafe {
        if libc::sigemptyset(set.as_mut_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        for signo in SIGNALS {
            if libc::sigaddset(set.as_mut_ptr(), signo) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(set.assume_init())
    }
}

/// Blocks [`SIGNALS`] so they wait for [`wait`] instead of being delivered.
pub fn block() -> io::Result<()> {
    let set = set()?;
    // SAFETY: `set` is an initialised signal set; the old mask is not asked for (null).
    let rc = unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Waits for one of [`SIGNALS`], at most `limit` (forever for `None`).
/// Empties the calling thread's signal mask (in a child, before `exec`).
pub fn clear_mask() -> io::Result<()> {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set; sigprocmask reads it and asks for no old mask.
    let rc = unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigprocmask(libc::SIG_SETMASK, set.as_ptr(), std::ptr::null_mut())
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

pub fn wait(limit: Option<Duration>) -> Event {
    let Ok(set) = set() else {
        return Event::Timeout;
    };
    let timeout = limit.map(|d| libc::timespec {
        tv_sec: d.as_secs().try_into().unwrap_or(libc::time_t::MAX),
        tv_nsec: d.subsec_nanos().into(),
    });
    let timeout_ptr = timeout
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `set` is initialised, `timeout_ptr` is null or points to `timeout`, which lives
    // until the call returns, and a null info pointer asks for no details.
    let signo = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), timeout_ptr) };
    if signo < 0 {
        Event::Timeout
    } else {
        Event::of(signo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_signal_maps_to_its_event() {
        assert_eq!(Event::of(libc::SIGCHLD), Event::Child);
        assert_eq!(Event::of(libc::SIGUSR2), Event::Shutdown(Action::PowerOff));
        assert_eq!(Event::of(libc::SIGUSR1), Event::Shutdown(Action::Halt));
        assert_eq!(Event::of(libc::SIGTERM), Event::Shutdown(Action::Reboot));
        assert_eq!(Event::of(libc::SIGHUP), Event::Timeout);
    }

    #[test]
    fn a_pending_blocked_signal_is_taken_by_wait() {
        // SIGUSR1 is blocked first, then raised: it stays pending until `wait` takes it.
        // Only this test's thread blocks it, and the signal goes to this thread.
        block().unwrap();
        // SAFETY: raise sends a signal to the calling thread; it is blocked, so no handler
        // or default action runs.
        assert_eq!(unsafe { libc::raise(libc::SIGUSR1) }, 0);
        assert_eq!(
            wait(Some(Duration::from_secs(5))),
            Event::Shutdown(Action::Halt)
        );
        assert_eq!(wait(Some(Duration::from_millis(10))), Event::Timeout);
    }
}
