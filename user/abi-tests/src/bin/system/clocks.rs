//! `clock_settime` and `settimeofday`, through calls that must fail: bad clocks, bad
//! values, missing privilege. Every call runs in a child that dropped to `nobody`, so
//! even a kernel that accepted one could not set the host's clock; on Linux the value
//! checks come before the privilege check, so the errnos are the same as root's.

use crate::{as_nobody, outcome, BAD_PTR};
use abi_tests::errno::{raw, Errno};
use abi_tests::Transcript;
use core::ffi::c_int;

/// A time that is valid to set: one second after the epoch.
const VALID: libc::timespec = libc::timespec {
    tv_sec: 1,
    tv_nsec: 0,
};

fn clock_settime(clock: c_int, ts: &libc::timespec) -> Result<i64, Errno> {
    // SAFETY: `ts` is a live timespec.
    unsafe {
        raw(
            libc::SYS_clock_settime,
            [clock as usize, ts as *const _ as usize, 0, 0, 0, 0],
        )
    }
}

/// The raw call: glibc's `settimeofday` turns into `clock_settime`.
fn settimeofday(tv: usize) -> Result<i64, Errno> {
    // SAFETY: `tv` is 0, a live timeval, or bad on purpose; no time zone.
    unsafe { raw(libc::SYS_settimeofday, [tv, 0, 0, 0, 0, 0]) }
}

fn expect(t: &Transcript, check: &str, f: impl FnOnce() -> Result<i64, Errno>, want: c_int) {
    t.shows(check, as_nobody(|| outcome(f())), Errno(want));
}

pub fn settime(t: &Transcript) {
    let ns = |tv_sec, tv_nsec| libc::timespec { tv_sec, tv_nsec };
    expect(
        t,
        "clock_settime_realtime_eperm",
        || clock_settime(libc::CLOCK_REALTIME, &VALID),
        libc::EPERM,
    );
    expect(
        t,
        "clock_settime_monotonic_einval",
        || clock_settime(libc::CLOCK_MONOTONIC, &VALID),
        libc::EINVAL,
    );
    expect(
        t,
        "clock_settime_bad_clock_einval",
        || clock_settime(1000, &VALID),
        libc::EINVAL,
    );
    expect(
        t,
        "clock_settime_cputime_einval",
        || clock_settime(libc::CLOCK_PROCESS_CPUTIME_ID, &VALID),
        libc::EINVAL,
    );
    expect(
        t,
        "clock_settime_nsec_out_of_range_einval",
        || clock_settime(libc::CLOCK_REALTIME, &ns(1, 1_000_000_000)),
        libc::EINVAL,
    );
    expect(
        t,
        "clock_settime_negative_nsec_einval",
        || clock_settime(libc::CLOCK_REALTIME, &ns(1, -1)),
        libc::EINVAL,
    );
    expect(
        t,
        "clock_settime_negative_sec_einval",
        || clock_settime(libc::CLOCK_REALTIME, &ns(-1, 0)),
        libc::EINVAL,
    );
    expect(
        t,
        "clock_settime_bad_pointer_efault",
        // SAFETY: the pointer is bad on purpose: the kernel must fail, not fault.
        || unsafe {
            raw(
                libc::SYS_clock_settime,
                [libc::CLOCK_REALTIME as usize, BAD_PTR, 0, 0, 0, 0],
            )
        },
        libc::EFAULT,
    );
    let tv = |tv_sec, tv_usec| libc::timeval { tv_sec, tv_usec };
    let valid = tv(1, 0);
    expect(
        t,
        "settimeofday_eperm",
        || settimeofday(&raw const valid as usize),
        libc::EPERM,
    );
    expect(
        t,
        "settimeofday_null_eperm",
        || settimeofday(0),
        libc::EPERM,
    );
    let big = tv(1, 1_000_000);
    expect(
        t,
        "settimeofday_usec_out_of_range_einval",
        || settimeofday(&raw const big as usize),
        libc::EINVAL,
    );
    let negative = tv(1, -1);
    expect(
        t,
        "settimeofday_negative_usec_einval",
        || settimeofday(&raw const negative as usize),
        libc::EINVAL,
    );
    expect(
        t,
        "settimeofday_bad_pointer_efault",
        || settimeofday(BAD_PTR),
        libc::EFAULT,
    );
}
