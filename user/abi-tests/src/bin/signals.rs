//! `signals`: handlers and `SA_SIGINFO` fields, masks, pending sets, rt_sigsuspend,
//! rt_sigtimedwait, EINTR against `SA_RESTART` on a blocking pipe read, the siginfo of
//! SIGSEGV (null read, write to a read-only page), sigaltstack, kill/tkill/tgkill
//! errnos, and SIGCHLD on a child's stop, continue and exit.
//!
//! Handlers only store into atomics (async-signal-safe); the main flow prints.

use abi_tests::errno::{cvt, raw, Errno};
use abi_tests::process::{no_core_dumps, run, spawn, wait};
use abi_tests::signal::{code_name, is_member, mask, set_action, set_of, Action, Signal};
use abi_tests::Transcript;
use core::ffi::{c_int, c_long, c_void};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering::SeqCst};

/// Handler calls so far.
static CALLS: AtomicI32 = AtomicI32::new(0);
/// What the last SA_SIGINFO handler saw: signal, code, sender pid, sender uid.
static SIGNO: AtomicI32 = AtomicI32::new(0);
static CODE: AtomicI32 = AtomicI32::new(0);
static PID: AtomicI32 = AtomicI32::new(0);
static UID: AtomicI32 = AtomicI32::new(-1);
/// The fault address the last SIGSEGV handler saw, and the page it unprotects.
static ADDR: AtomicUsize = AtomicUsize::new(1);
static FIX_PAGE: AtomicUsize = AtomicUsize::new(0);
/// Where a handler found its own stack: an address of one of its locals.
static HANDLER_SP: AtomicUsize = AtomicUsize::new(0);
/// sigaltstack's answers from inside a handler: the flags, then the errno of a change.
static ALT_FLAGS: AtomicI32 = AtomicI32::new(-1);
static ALT_CHANGE: AtomicI32 = AtomicI32::new(0);

extern "C" fn count(_: c_int) {
    CALLS.fetch_add(1, SeqCst);
}

extern "C" fn record(sig: c_int, info: *mut libc::siginfo_t, _: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler; the union
    // fields read are those of a kill-type signal.
    let (code, pid, uid) = unsafe { ((*info).si_code, (*info).si_pid(), (*info).si_uid()) };
    SIGNO.store(sig, SeqCst);
    CODE.store(code, SeqCst);
    PID.store(pid, SeqCst);
    UID.store(uid as i32, SeqCst);
    CALLS.fetch_add(1, SeqCst);
}

extern "C" fn segv(sig: c_int, info: *mut libc::siginfo_t, _: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo; si_addr is the fault address of SIGSEGV.
    let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    SIGNO.store(sig, SeqCst);
    CODE.store(code, SeqCst);
    ADDR.store(addr, SeqCst);
    let page = FIX_PAGE.load(SeqCst);
    if page == 0 {
        // Nothing to repair: leave (async-signal-safe) with the code and whether the
        // address was null, as a child does.
        // SAFETY: _exit ends the process at once.
        unsafe { libc::_exit(code | c_int::from(addr == 0) << 4) };
    }
    // SAFETY: `page` is the page this program mapped read-only; making it writable lets
    // the faulting write complete when the handler returns.
    unsafe {
        libc::mprotect(
            page as *mut c_void,
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
        )
    };
}

extern "C" fn on_altstack(_: c_int) {
    let local = 0u8;
    HANDLER_SP.store(&local as *const u8 as usize, SeqCst);
    // SAFETY: stack_t is plain data; sigaltstack only writes `now`.
    let mut now: libc::stack_t = unsafe { core::mem::zeroed() };
    // SAFETY: reads the current alternate stack into `now`.
    unsafe { libc::sigaltstack(core::ptr::null(), &mut now) };
    ALT_FLAGS.store(now.ss_flags, SeqCst);
    let off = libc::stack_t {
        ss_sp: core::ptr::null_mut(),
        ss_flags: libc::SS_DISABLE,
        ss_size: 0,
    };
    // SAFETY: asks to disable the stack this handler runs on: Linux refuses (EPERM).
    let r = unsafe { libc::sigaltstack(&off, core::ptr::null_mut()) };
    ALT_CHANGE.store(if r == 0 { 0 } else { Errno::last().0 }, SeqCst);
}

fn main() {
    let t = Transcript::new("signals");
    handlers(&t);
    masks(&t);
    suspend_and_timedwait(&t);
    restart(&t);
    segv_info(&t);
    altstack(&t);
    kill_errors(&t);
    sigchld(&t);
}

fn getpid() -> libc::pid_t {
    // SAFETY: getpid takes no argument and cannot fail.
    unsafe { libc::getpid() }
}

fn gettid() -> c_long {
    // SAFETY: gettid takes no argument and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) }
}

fn kill(pid: libc::pid_t, sig: c_int) -> Result<c_int, Errno> {
    // SAFETY: kill takes no pointer.
    cvt(unsafe { libc::kill(pid, sig) })
}

/// tkill(tid, sig) and tgkill(tgid, tid, sig) through the raw calls.
fn tkill(tid: c_long, sig: c_int) -> Result<c_long, Errno> {
    // SAFETY: tkill takes no pointer.
    unsafe { raw(libc::SYS_tkill, [tid as usize, sig as usize, 0, 0, 0, 0]) }
}

fn tgkill(tgid: c_long, tid: c_long, sig: c_int) -> Result<c_long, Errno> {
    // SAFETY: tgkill takes no pointer.
    unsafe {
        raw(
            libc::SYS_tgkill,
            [tgid as usize, tid as usize, sig as usize, 0, 0, 0],
        )
    }
}

/// The siginfo the `record` handler saw last, as one value.
fn recorded() -> String {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() } as i32;
    let sig = SIGNO.load(SeqCst);
    format!(
        "{} {} pid_matches={} uid_matches={}",
        Signal(sig),
        code_name(sig, CODE.load(SeqCst)),
        PID.load(SeqCst) == getpid(),
        UID.load(SeqCst) == uid
    )
}

fn handlers(t: &Transcript) {
    let _ = set_action(libc::SIGUSR1, Action::Handler(count), 0);
    CALLS.store(0, SeqCst);
    let _ = kill(getpid(), libc::SIGUSR1);
    t.eq("handler_runs_once", CALLS.load(SeqCst), 1);
    let _ = set_action(libc::SIGUSR1, Action::Info(record), 0);
    let _ = kill(getpid(), libc::SIGUSR1);
    t.eq(
        "kill_siginfo",
        recorded(),
        "SIGUSR1 SI_USER pid_matches=true uid_matches=true".into(),
    );
    let _ = tgkill(getpid().into(), gettid(), libc::SIGUSR1);
    t.eq(
        "tgkill_siginfo",
        recorded(),
        "SIGUSR1 SI_TKILL pid_matches=true uid_matches=true".into(),
    );
    let _ = set_action(libc::SIGUSR2, Action::Ignore, 0);
    t.ok("ignored_signal_is_dropped", kill(getpid(), libc::SIGUSR2));
    let _ = set_action(libc::SIGUSR2, Action::Default, 0);
    for (name, sig) in [
        ("sigaction_sigkill", libc::SIGKILL),
        ("sigaction_sigstop", libc::SIGSTOP),
    ] {
        t.errno(
            name,
            set_action(sig, Action::Handler(count), 0),
            libc::EINVAL,
        );
    }
    t.errno(
        "sigaction_signal_0",
        set_action(0, Action::Ignore, 0),
        libc::EINVAL,
    );
    t.errno(
        "sigaction_signal_65",
        set_action(65, Action::Ignore, 0),
        libc::EINVAL,
    );
}

fn pending() -> libc::sigset_t {
    let mut set = set_of(&[]);
    // SAFETY: `set` is a valid sigset_t to write.
    unsafe { libc::sigpending(&mut set) };
    set
}

fn masks(t: &Transcript) {
    let _ = set_action(libc::SIGUSR1, Action::Handler(count), 0);
    let usr1 = set_of(&[libc::SIGUSR1]);
    let _ = mask(libc::SIG_BLOCK, &usr1);
    CALLS.store(0, SeqCst);
    let _ = kill(getpid(), libc::SIGUSR1);
    let _ = kill(getpid(), libc::SIGUSR1);
    t.eq("blocked_signal_not_delivered", CALLS.load(SeqCst), 0);
    t.is(
        "blocked_signal_pending",
        is_member(&pending(), libc::SIGUSR1),
    );
    let _ = mask(libc::SIG_UNBLOCK, &usr1);
    t.eq("standard_signal_coalesces", CALLS.load(SeqCst), 1);
    t.is(
        "pending_cleared_after_delivery",
        !is_member(&pending(), libc::SIGUSR1),
    );
    let rt = libc::SIGRTMIN() + 1;
    let _ = set_action(rt, Action::Handler(count), 0);
    let rtset = set_of(&[rt]);
    let _ = mask(libc::SIG_BLOCK, &rtset);
    CALLS.store(0, SeqCst);
    for _ in 0..3 {
        let _ = kill(getpid(), rt);
    }
    let _ = mask(libc::SIG_UNBLOCK, &rtset);
    t.eq("realtime_signal_queues", CALLS.load(SeqCst), 3);
    let _ = mask(libc::SIG_BLOCK, &set_of(&[libc::SIGKILL, libc::SIGSTOP]));
    let now = mask(libc::SIG_BLOCK, &set_of(&[]));
    let unblockable =
        now.is_ok_and(|m| !is_member(&m, libc::SIGKILL) && !is_member(&m, libc::SIGSTOP));
    t.is("sigkill_sigstop_cannot_be_blocked", unblockable);
    t.errno("sigprocmask_bad_how", mask(99, &usr1), libc::EINVAL);
    let size = 8usize;
    // SAFETY: the mask pointers are valid sigsets; the size is wrong on purpose.
    let r = unsafe {
        raw(
            libc::SYS_rt_sigprocmask,
            [
                libc::SIG_BLOCK as usize,
                &usr1 as *const _ as usize,
                0,
                size * 2,
                0,
                0,
            ],
        )
    };
    t.errno("rt_sigprocmask_bad_sigsetsize", r, libc::EINVAL);
}

fn suspend_and_timedwait(t: &Transcript) {
    let usr1 = set_of(&[libc::SIGUSR1]);
    let _ = mask(libc::SIG_BLOCK, &usr1);
    CALLS.store(0, SeqCst);
    let _ = kill(getpid(), libc::SIGUSR1);
    let empty = set_of(&[]);
    // SAFETY: `empty` is a valid sigset_t.
    let r = cvt(unsafe { libc::sigsuspend(&empty) });
    t.errno("sigsuspend_returns_eintr", r, libc::EINTR);
    t.eq("sigsuspend_ran_handler", CALLS.load(SeqCst), 1);
    let still = mask(libc::SIG_BLOCK, &empty).is_ok_and(|m| is_member(&m, libc::SIGUSR1));
    t.is("sigsuspend_restores_mask", still);
    let _ = set_action(libc::SIGALRM, Action::Handler(count), 0);
    CALLS.store(0, SeqCst);
    let once = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: 0,
            tv_usec: 20_000,
        },
    };
    // SAFETY: `once` is a valid itimerval; no old value is asked for.
    unsafe { libc::setitimer(libc::ITIMER_REAL, &once, core::ptr::null_mut()) };
    // SAFETY: pause takes no argument; the SIGALRM ends it.
    let r = cvt(unsafe { libc::pause() });
    t.errno("pause_returns_eintr", r, libc::EINTR);
    t.eq("pause_ran_handler", CALLS.load(SeqCst), 1);
    let usr2 = set_of(&[libc::SIGUSR2]);
    let _ = mask(libc::SIG_BLOCK, &usr2);
    let _ = kill(getpid(), libc::SIGUSR2);
    // SAFETY: siginfo_t is plain data.
    let mut info: libc::siginfo_t = unsafe { core::mem::zeroed() };
    let short = libc::timespec {
        tv_sec: 0,
        tv_nsec: 10_000_000,
    };
    // SAFETY: valid set, siginfo and timeout.
    let got = cvt(unsafe { libc::sigtimedwait(&usr2, &mut info, &short) });
    t.shows(
        "sigtimedwait_takes_pending",
        got.map(Signal),
        Signal(libc::SIGUSR2),
    );
    t.eq(
        "sigtimedwait_siginfo_code",
        code_name(info.si_signo, info.si_code),
        "SI_USER".into(),
    );
    t.is(
        "sigtimedwait_consumed_it",
        !is_member(&pending(), libc::SIGUSR2),
    );
    // SAFETY: as above.
    let none = cvt(unsafe { libc::sigtimedwait(&usr2, &mut info, &short) });
    t.errno("sigtimedwait_timeout", none, libc::EAGAIN);
    let bad = libc::timespec {
        tv_sec: 0,
        tv_nsec: -1,
    };
    // SAFETY: as above; the timeout is invalid on purpose.
    let r = cvt(unsafe { libc::sigtimedwait(&usr2, &mut info, &bad) });
    t.errno("sigtimedwait_bad_timeout", r, libc::EINVAL);
    let _ = mask(libc::SIG_UNBLOCK, &set_of(&[libc::SIGUSR1, libc::SIGUSR2]));
}

/// A blocking read of a pipe whose writer sends one byte after `delay_ms`, interrupted
/// by SIGALRM after 20 ms: the read's result and the handler calls.
fn read_interrupted(flags: c_int, delay_ms: u32) -> (Result<isize, Errno>, i32) {
    let _ = set_action(libc::SIGALRM, Action::Handler(count), flags);
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return (Err(Errno::last()), 0);
    }
    let writer = spawn(|| {
        // SAFETY: sleeps, then writes one byte from a live buffer to our pipe.
        unsafe {
            libc::usleep(delay_ms * 1000);
            libc::write(fds[1], b"x".as_ptr().cast(), 1);
        }
        0
    });
    CALLS.store(0, SeqCst);
    let timer = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: 0,
            tv_usec: 20_000,
        },
    };
    let mut b = 0u8;
    // SAFETY: arms a one-shot timer, then reads one byte into `b`.
    let r = unsafe {
        libc::setitimer(libc::ITIMER_REAL, &timer, core::ptr::null_mut());
        cvt(libc::read(fds[0], (&mut b as *mut u8).cast(), 1))
    };
    if let Ok(pid) = writer {
        let _ = wait(pid, 0);
    }
    // SAFETY: closing our pipe.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    (r, CALLS.load(SeqCst))
}

fn restart(t: &Transcript) {
    let (r, calls) = read_interrupted(0, 300);
    t.errno("read_without_sa_restart", r, libc::EINTR);
    t.eq("handler_ran_before_eintr", calls, 1);
    let (r, calls) = read_interrupted(libc::SA_RESTART, 300);
    t.shows("read_with_sa_restart", r, 1);
    t.eq("handler_ran_during_restarted_read", calls, 1);
    let _ = set_action(libc::SIGALRM, Action::Default, 0);
}

fn segv_info(t: &Transcript) {
    let status = run(|| {
        no_core_dumps();
        let _ = set_action(libc::SIGSEGV, Action::Info(segv), 0);
        // SAFETY: not safe by design: the handler ends the child with the fault's code.
        unsafe { core::ptr::read_volatile(core::ptr::null::<u8>()) }.into()
    });
    let seen = status.map(|s| {
        let code = libc::WEXITSTATUS(s.0);
        format!(
            "{} addr_is_null={}",
            code_name(libc::SIGSEGV, code & 15),
            code >> 4 == 1
        )
    });
    t.shows("null_read_siginfo", seen, "SEGV_MAPERR addr_is_null=true");
    // SAFETY: maps one private read-only page that only this function uses.
    let page = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return t.fail("readonly_write_si_code", "a page", Errno::last());
    }
    FIX_PAGE.store(page as usize, SeqCst);
    let _ = set_action(libc::SIGSEGV, Action::Info(segv), 0);
    let target = (page as usize + 8) as *mut u64;
    // SAFETY: the page is ours; the write faults once, the handler makes the page
    // writable, and the write is retried.
    unsafe { core::ptr::write_volatile(target, 0xabcd) };
    t.eq(
        "readonly_write_si_code",
        code_name(SIGNO.load(SeqCst), CODE.load(SeqCst)),
        "SEGV_ACCERR".into(),
    );
    t.is(
        "readonly_write_si_addr_is_target",
        ADDR.load(SeqCst) == target as usize,
    );
    // SAFETY: the page is now readable and writable.
    t.eq(
        "write_completes_after_handler",
        unsafe { core::ptr::read_volatile(target) },
        0xabcd,
    );
    FIX_PAGE.store(0, SeqCst);
    let _ = set_action(libc::SIGSEGV, Action::Default, 0);
    // SAFETY: unmaps the page mapped above.
    unsafe { libc::munmap(page, 4096) };
}

fn sigaltstack(new: Option<&libc::stack_t>) -> Result<libc::stack_t, Errno> {
    // SAFETY: stack_t is plain data.
    let mut old: libc::stack_t = unsafe { core::mem::zeroed() };
    let new = new.map_or(core::ptr::null(), |n| n as *const libc::stack_t);
    // SAFETY: `new` is null or a valid stack_t; `old` is writable.
    cvt(unsafe { libc::sigaltstack(new, &mut old) })?;
    Ok(old)
}

fn altstack(t: &Transcript) {
    let mut alt = vec![0u8; libc::SIGSTKSZ * 4];
    let (lo, hi) = (alt.as_ptr() as usize, alt.as_ptr() as usize + alt.len());
    let stack = libc::stack_t {
        ss_sp: alt.as_mut_ptr().cast(),
        ss_flags: 0,
        ss_size: alt.len(),
    };
    let previous = sigaltstack(Some(&stack));
    t.ok("sigaltstack_set", previous);
    let back =
        sigaltstack(None).map(|s| (s.ss_sp as usize == lo, s.ss_size == alt.len(), s.ss_flags));
    t.is("sigaltstack_reads_back", back == Ok((true, true, 0)));
    let _ = set_action(
        libc::SIGUSR1,
        Action::Handler(on_altstack),
        libc::SA_ONSTACK,
    );
    let _ = kill(getpid(), libc::SIGUSR1);
    let sp = HANDLER_SP.load(SeqCst);
    t.is("handler_ran_on_altstack", (lo..hi).contains(&sp));
    t.eq(
        "flags_inside_handler",
        ALT_FLAGS.load(SeqCst),
        libc::SS_ONSTACK,
    );
    t.eq(
        "change_while_on_it",
        Errno(ALT_CHANGE.load(SeqCst)).to_string(),
        "EPERM".into(),
    );
    let small = libc::stack_t {
        ss_sp: alt.as_mut_ptr().cast(),
        ss_flags: 0,
        ss_size: libc::MINSIGSTKSZ - 1,
    };
    t.errno(
        "sigaltstack_too_small",
        sigaltstack(Some(&small)),
        libc::ENOMEM,
    );
    let flags = libc::stack_t {
        ss_sp: alt.as_mut_ptr().cast(),
        ss_flags: 0x1234,
        ss_size: alt.len(),
    };
    t.errno(
        "sigaltstack_bad_flags",
        sigaltstack(Some(&flags)),
        libc::EINVAL,
    );
    let off = libc::stack_t {
        ss_sp: core::ptr::null_mut(),
        ss_flags: libc::SS_DISABLE,
        ss_size: 0,
    };
    t.ok("sigaltstack_disable", sigaltstack(Some(&off)));
    t.shows(
        "sigaltstack_reads_disabled",
        sigaltstack(None).map(|s| s.ss_flags),
        libc::SS_DISABLE,
    );
    // Put back the runtime's own alternate stack (its stack-overflow handler uses it).
    if let Ok(old) = previous {
        let _ = sigaltstack(Some(&old));
    }
    let _ = set_action(libc::SIGUSR1, Action::Default, 0);
    drop(alt);
}

fn kill_errors(t: &Transcript) {
    // pid_max is at most 2^22: this pid never exists.
    let ghost = 1 << 30;
    t.ok("kill_signal_0_self", kill(getpid(), 0));
    t.errno("kill_no_such_process", kill(ghost, 0), libc::ESRCH);
    t.errno("kill_bad_signal", kill(getpid(), 65), libc::EINVAL);
    t.errno("kill_negative_signal", kill(getpid(), -1), libc::EINVAL);
    t.errno("tkill_tid_0", tkill(0, 0), libc::EINVAL);
    t.errno("tkill_no_such_thread", tkill(ghost.into(), 0), libc::ESRCH);
    t.errno("tkill_bad_signal", tkill(gettid(), 65), libc::EINVAL);
    t.errno(
        "tgkill_negative_tgid",
        tgkill(-1, gettid(), 0),
        libc::EINVAL,
    );
    t.errno(
        "tgkill_wrong_tgid",
        tgkill(ghost.into(), gettid(), 0),
        libc::ESRCH,
    );
    t.ok("tgkill_signal_0_self", tgkill(getpid().into(), gettid(), 0));
    let parent = getpid();
    let denied = run(|| {
        // SAFETY: drops this child's privileges; takes no pointer.
        if unsafe { libc::setuid(65534) } != 0 {
            return 1;
        }
        match kill(parent, 0) {
            Err(Errno(libc::EPERM)) => 0,
            _ => 2,
        }
    });
    t.shows("unprivileged_kill_of_root_eperm", denied, "exited(0)");
}

/// The next SIGCHLD's code and status (the signal is blocked and taken synchronously).
fn next_sigchld(set: &libc::sigset_t) -> String {
    // SAFETY: siginfo_t is plain data.
    let mut info: libc::siginfo_t = unsafe { core::mem::zeroed() };
    let limit = libc::timespec {
        tv_sec: 5,
        tv_nsec: 0,
    };
    // SAFETY: valid set, siginfo and timeout.
    match cvt(unsafe { libc::sigtimedwait(set, &mut info, &limit) }) {
        // SAFETY: a SIGCHLD siginfo carries si_status.
        Ok(_) => format!("{} {}", code_name(info.si_signo, info.si_code), unsafe {
            info.si_status()
        }),
        Err(e) => e.to_string(),
    }
}

fn sigchld(t: &Transcript) {
    let chld = set_of(&[libc::SIGCHLD]);
    let _ = mask(libc::SIG_BLOCK, &chld);
    // The child exits only when the parent says so (a byte on `go`): SIGCHLD does not
    // queue, so a child that exited right after SIGCONT could merge its CLD_EXITED into
    // the still-pending CLD_CONTINUED and the third wait would find nothing.
    let mut go = [0 as c_int; 2];
    // SAFETY: a writable array of two fds.
    if unsafe { libc::pipe(go.as_mut_ptr()) } != 0 {
        return t.fail("sigchld_on_stop", "a pipe", Errno::last());
    }
    let child = spawn(move || {
        // SAFETY: stops this child until the parent continues it; then waits for one byte
        // on the pipe the parent writes to (a valid fd and a one-byte buffer).
        unsafe {
            libc::raise(libc::SIGSTOP);
            let mut byte = 0u8;
            libc::read(go[0], (&mut byte as *mut u8).cast(), 1);
        }
        3
    });
    let Ok(child) = child else {
        return t.fail("sigchld_on_stop", "a child", Errno::last());
    };
    t.eq(
        "sigchld_on_stop",
        next_sigchld(&chld),
        format!("CLD_STOPPED {}", libc::SIGSTOP),
    );
    let _ = kill(child, libc::SIGCONT);
    t.eq(
        "sigchld_on_continue",
        next_sigchld(&chld),
        format!("CLD_CONTINUED {}", libc::SIGCONT),
    );
    // SAFETY: writes one byte from a valid buffer to the pipe's write end.
    unsafe { libc::write(go[1], b"x".as_ptr().cast(), 1) };
    t.eq(
        "sigchld_on_exit",
        next_sigchld(&chld),
        "CLD_EXITED 3".into(),
    );
    // SAFETY: closing the two pipe fds this function opened.
    unsafe {
        libc::close(go[0]);
        libc::close(go[1]);
    }
    t.shows(
        "reaped_after_sigchld",
        wait(child, 0).map(|(_, s)| s),
        "exited(3)",
    );
    let _ = mask(libc::SIG_UNBLOCK, &chld);
    let _ = set_action(libc::SIGCHLD, Action::Ignore, 0);
    let status = spawn(|| 0).and_then(|_| wait(-1, 0));
    t.errno("ignored_sigchld_autoreaps", status, libc::ECHILD);
    let _ = set_action(libc::SIGCHLD, Action::Default, 0);
}
