//! `time`: clock_gettime/clock_getres for each clock (and EINVAL for a bad id), monotonic
//! order, nanosleep and clock_nanosleep (relative and absolute), EINTR with the time
//! remaining, times/getrusage, alarm and setitimer.
//!
//! The clocks are read through the raw system calls: glibc answers most of them from the
//! vDSO without entering the kernel, and the kernel's answers are what is tested.

use abi_tests::errno::{cvt, raw, Errno};
use abi_tests::process::{run, spawn, wait};
use abi_tests::signal::{set_action, Action};
use abi_tests::Transcript;
use core::ffi::c_int;
use std::sync::atomic::{AtomicI32, Ordering::SeqCst};

static ALARMS: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_alarm(_: c_int) {
    ALARMS.fetch_add(1, SeqCst);
}

const CLOCKS: [(&str, libc::clockid_t); 9] = [
    ("realtime", libc::CLOCK_REALTIME),
    ("monotonic", libc::CLOCK_MONOTONIC),
    ("process_cputime", libc::CLOCK_PROCESS_CPUTIME_ID),
    ("thread_cputime", libc::CLOCK_THREAD_CPUTIME_ID),
    ("monotonic_raw", libc::CLOCK_MONOTONIC_RAW),
    ("realtime_coarse", libc::CLOCK_REALTIME_COARSE),
    ("monotonic_coarse", libc::CLOCK_MONOTONIC_COARSE),
    ("boottime", libc::CLOCK_BOOTTIME),
    ("tai", libc::CLOCK_TAI),
];

fn main() {
    let t = Transcript::new("time");
    clocks(&t);
    sleeps(&t);
    interrupted(&t);
    accounting(&t);
    timers(&t);
}

fn ts(sec: i64, nsec: i64) -> libc::timespec {
    libc::timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    }
}

fn gettime(clock: libc::clockid_t) -> Result<libc::timespec, Errno> {
    let mut now = ts(0, 0);
    // SAFETY: `now` is a writable timespec.
    unsafe {
        raw(
            libc::SYS_clock_gettime,
            [clock as usize, &mut now as *mut _ as usize, 0, 0, 0, 0],
        )
    }?;
    Ok(now)
}

fn getres(clock: libc::clockid_t) -> Result<libc::timespec, Errno> {
    let mut res = ts(0, 0);
    // SAFETY: `res` is a writable timespec.
    unsafe {
        raw(
            libc::SYS_clock_getres,
            [clock as usize, &mut res as *mut _ as usize, 0, 0, 0, 0],
        )
    }?;
    Ok(res)
}

fn nanos(t: libc::timespec) -> i128 {
    i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec)
}

fn clocks(t: &Transcript) {
    for (name, id) in CLOCKS {
        let now = gettime(id);
        t.shows(
            &format!("gettime_{name}_valid"),
            now.map(|n| n.tv_sec >= 0 && (0..1_000_000_000).contains(&n.tv_nsec)),
            true,
        );
        let res = getres(id);
        t.shows(
            &format!("getres_{name}_in_0_to_10ms"),
            res.map(|r| r.tv_sec == 0 && r.tv_nsec > 0 && r.tv_nsec <= 10_000_000),
            true,
        );
    }
    t.errno("gettime_bad_clock", gettime(1000), libc::EINVAL);
    t.errno("getres_bad_clock", getres(1000), libc::EINVAL);
    t.errno(
        "gettime_negative_clock_of_no_process",
        gettime(-1_000_000),
        libc::EINVAL,
    );
    let mut last = gettime(libc::CLOCK_MONOTONIC).map_or(0, nanos);
    let mut ordered = true;
    for _ in 0..10_000 {
        let now = gettime(libc::CLOCK_MONOTONIC).map_or(0, nanos);
        ordered &= now >= last;
        last = now;
    }
    t.is("monotonic_never_goes_back", ordered);
    let real = gettime(libc::CLOCK_REALTIME).map_or(0, |r| r.tv_sec);
    t.is("realtime_after_2020", real > 1_577_836_800);
    let boot = gettime(libc::CLOCK_BOOTTIME).map_or(0, nanos);
    let mono = gettime(libc::CLOCK_MONOTONIC).map_or(i128::MAX, nanos);
    t.is(
        "boottime_at_least_monotonic",
        boot <= mono + 1_000_000 && boot > 0,
    );
}

fn elapsed_ms(clock: libc::clockid_t, since: libc::timespec) -> i128 {
    gettime(clock).map_or(0, |now| (nanos(now) - nanos(since)) / 1_000_000)
}

fn sleeps(t: &Transcript) {
    let start = gettime(libc::CLOCK_MONOTONIC).unwrap_or(ts(0, 0));
    let req = ts(0, 20_000_000);
    // SAFETY: a valid request; no remainder asked for.
    t.ok(
        "nanosleep_20ms",
        cvt(unsafe { libc::nanosleep(&req, core::ptr::null_mut()) }),
    );
    t.is(
        "nanosleep_slept_at_least_20ms",
        elapsed_ms(libc::CLOCK_MONOTONIC, start) >= 20,
    );
    let bad = ts(0, 1_000_000_000);
    // SAFETY: a readable request, invalid on purpose.
    t.errno(
        "nanosleep_bad_nsec",
        cvt(unsafe { libc::nanosleep(&bad, core::ptr::null_mut()) }),
        libc::EINVAL,
    );
    let neg = ts(-1, 0);
    // SAFETY: as above.
    t.errno(
        "nanosleep_negative",
        cvt(unsafe { libc::nanosleep(&neg, core::ptr::null_mut()) }),
        libc::EINVAL,
    );
    for (name, clock) in [
        ("monotonic", libc::CLOCK_MONOTONIC),
        ("realtime", libc::CLOCK_REALTIME),
    ] {
        let start = gettime(clock).unwrap_or(ts(0, 0));
        // SAFETY: valid requests; clock_nanosleep returns the error number itself.
        let rel = unsafe { libc::clock_nanosleep(clock, 0, &req, core::ptr::null_mut()) };
        t.eq(
            &format!("clock_nanosleep_{name}_relative"),
            Errno(rel).to_string(),
            Errno(0).to_string(),
        );
        let deadline = gettime(clock).map_or(ts(0, 0), |n| {
            let ns = nanos(n) + 20_000_000;
            ts((ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64)
        });
        // SAFETY: as above.
        let abs = unsafe {
            libc::clock_nanosleep(clock, libc::TIMER_ABSTIME, &deadline, core::ptr::null_mut())
        };
        t.eq(
            &format!("clock_nanosleep_{name}_absolute"),
            Errno(abs).to_string(),
            Errno(0).to_string(),
        );
        t.is(
            &format!("clock_nanosleep_{name}_reached_deadline"),
            gettime(clock).is_ok_and(|n| nanos(n) >= nanos(deadline))
                && elapsed_ms(clock, start) >= 40,
        );
    }
    let past = ts(1, 0);
    // SAFETY: as above.
    let r = unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &past,
            core::ptr::null_mut(),
        )
    };
    t.eq("clock_nanosleep_absolute_past_returns_at_once", r, 0);
    // SAFETY: as above.
    let r = unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_THREAD_CPUTIME_ID,
            0,
            &req,
            core::ptr::null_mut(),
        )
    };
    t.eq(
        "clock_nanosleep_thread_cputime",
        Errno(r).to_string(),
        "EINVAL".into(),
    );
    // SAFETY: as above.
    let r = unsafe { libc::clock_nanosleep(1000, 0, &req, core::ptr::null_mut()) };
    t.eq(
        "clock_nanosleep_bad_clock",
        Errno(r).to_string(),
        "EINVAL".into(),
    );
}

fn interrupted(t: &Transcript) {
    let _ = set_action(libc::SIGALRM, Action::Handler(on_alarm), 0);
    ALARMS.store(0, SeqCst);
    // SAFETY: alarm takes no pointer.
    unsafe { libc::alarm(1) };
    let req = ts(5, 0);
    let mut rem = ts(0, 0);
    // SAFETY: valid request and writable remainder.
    let r = cvt(unsafe { libc::nanosleep(&req, &mut rem) });
    t.errno("nanosleep_interrupted", r, libc::EINTR);
    t.eq("alarm_handler_ran", ALARMS.load(SeqCst), 1);
    t.is(
        "remaining_about_4s",
        (3..=4).contains(&rem.tv_sec) && (0..1_000_000_000).contains(&rem.tv_nsec),
    );
    // A stop and continue does not end a sleep early (the child sleeps 100 ms).
    let child = spawn(|| {
        let req = ts(0, 100_000_000);
        // SAFETY: a valid request.
        c_int::from(unsafe { libc::nanosleep(&req, core::ptr::null_mut()) } != 0)
    });
    if let Ok(pid) = child {
        // SAFETY: kill takes no pointer.
        unsafe {
            libc::usleep(20_000);
            libc::kill(pid, libc::SIGSTOP);
            libc::kill(pid, libc::SIGCONT);
        }
        t.shows(
            "sleep_survives_stop_continue",
            wait(pid, 0).map(|(_, s)| s),
            "exited(0)",
        );
    }
}

fn accounting(t: &Transcript) {
    // Burn some CPU so the counters move.
    let mut x = 0u64;
    let start = gettime(libc::CLOCK_PROCESS_CPUTIME_ID).map_or(0, nanos);
    while gettime(libc::CLOCK_PROCESS_CPUTIME_ID).map_or(i128::MAX, nanos) - start < 30_000_000 {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
    // SAFETY: tms is plain data.
    let mut tms: libc::tms = unsafe { core::mem::zeroed() };
    // SAFETY: a writable tms.
    let ticks = unsafe { libc::times(&mut tms) };
    t.is("times_returns_ticks", ticks != -1 as libc::clock_t);
    t.is(
        "times_user_plus_system_positive",
        tms.tms_utime + tms.tms_stime > 0,
    );
    // SAFETY: sysconf takes no pointer.
    t.eq(
        "clock_ticks_per_second",
        unsafe { libc::sysconf(libc::_SC_CLK_TCK) },
        100,
    );
    // SAFETY: rusage is plain data.
    let mut ru: libc::rusage = unsafe { core::mem::zeroed() };
    // SAFETY: a writable rusage.
    t.ok(
        "getrusage_self",
        cvt(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) }),
    );
    let cpu_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1_000_000
        + ru.ru_utime.tv_usec
        + ru.ru_stime.tv_usec;
    t.is("getrusage_cpu_at_least_30ms", cpu_us >= 30_000);
    t.is("getrusage_maxrss_positive", ru.ru_maxrss > 0);
    let _ = run(|| {
        let start = gettime(libc::CLOCK_PROCESS_CPUTIME_ID).map_or(0, nanos);
        while gettime(libc::CLOCK_PROCESS_CPUTIME_ID).map_or(i128::MAX, nanos) - start < 20_000_000
        {
        }
        0
    });
    // SAFETY: a writable rusage.
    let r = cvt(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) });
    let child_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1_000_000
        + ru.ru_utime.tv_usec
        + ru.ru_stime.tv_usec;
    t.shows(
        "getrusage_children_counts_reaped_child",
        r.map(|_| child_us >= 20_000),
        true,
    );
    // SAFETY: a writable rusage; the selector is invalid on purpose.
    t.errno(
        "getrusage_bad_who",
        cvt(unsafe { libc::getrusage(42, &mut ru) }),
        libc::EINVAL,
    );
    std::hint::black_box(x);
}

fn setitimer(which: c_int, value_us: i64, interval_us: i64) -> Result<libc::itimerval, Errno> {
    let tv = |us: i64| libc::timeval {
        tv_sec: us / 1_000_000,
        tv_usec: us % 1_000_000,
    };
    let new = libc::itimerval {
        it_interval: tv(interval_us),
        it_value: tv(value_us),
    };
    let mut old = libc::itimerval {
        it_interval: tv(0),
        it_value: tv(0),
    };
    // SAFETY: valid new and old values.
    cvt(unsafe { libc::setitimer(which, &new, &mut old) })?;
    Ok(old)
}

fn timers(t: &Transcript) {
    // SAFETY: alarm takes no pointer.
    let (first, second) = unsafe { (libc::alarm(100), libc::alarm(0)) };
    t.eq("alarm_first_returns_0", first, 0);
    t.is(
        "alarm_returns_previous_remaining",
        (99..=100).contains(&second),
    );
    ALARMS.store(0, SeqCst);
    // Read before the timer starts, so three 10 ms periods are always 30 ms after it.
    let start = gettime(libc::CLOCK_MONOTONIC).unwrap_or(ts(0, 0));
    t.ok(
        "setitimer_real_periodic",
        setitimer(libc::ITIMER_REAL, 10_000, 10_000),
    );
    while ALARMS.load(SeqCst) < 3 && elapsed_ms(libc::CLOCK_MONOTONIC, start) < 5_000 {
        // SAFETY: pause takes no argument; a signal ends it.
        unsafe { libc::pause() };
    }
    let old = setitimer(libc::ITIMER_REAL, 0, 0);
    t.shows(
        "periodic_timer_fired_3_times",
        Ok::<_, Errno>(ALARMS.load(SeqCst) >= 3),
        true,
    );
    t.is(
        "periodic_timer_took_at_least_30ms",
        elapsed_ms(libc::CLOCK_MONOTONIC, start) >= 30,
    );
    t.shows(
        "old_value_keeps_interval",
        old.map(|o| o.it_interval.tv_usec),
        10_000,
    );
    let mut cur = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
    };
    // SAFETY: a writable itimerval.
    let r = cvt(unsafe { libc::getitimer(libc::ITIMER_REAL, &mut cur) });
    t.shows(
        "getitimer_disarmed",
        r.map(|_| cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0),
        true,
    );
    t.errno("setitimer_bad_which", setitimer(7, 1000, 0), libc::EINVAL);
    t.errno(
        "setitimer_bad_usec",
        setitimer(libc::ITIMER_REAL, 0, 1_000_000).and_then(|_| {
            let bad = libc::itimerval {
                it_interval: libc::timeval {
                    tv_sec: 0,
                    tv_usec: 0,
                },
                it_value: libc::timeval {
                    tv_sec: 0,
                    tv_usec: 2_000_000,
                },
            };
            // SAFETY: a readable itimerval, invalid on purpose.
            cvt(unsafe { libc::setitimer(libc::ITIMER_REAL, &bad, core::ptr::null_mut()) })
                .map(|_| cur)
        }),
        libc::EINVAL,
    );
    let _ = setitimer(libc::ITIMER_REAL, 0, 0);
    let _ = set_action(libc::SIGALRM, Action::Default, 0);
}
