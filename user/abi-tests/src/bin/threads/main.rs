//! `threads`: std threads, a raw `clone` thread joined through `CLONE_CHILD_CLEARTID`, and
//! futex: WAIT/WAKE, WAIT_BITSET/WAKE_BITSET, REQUEUE and CMP_REQUEUE, timeouts on a
//! relative and an absolute deadline, and the errnos (EAGAIN on a value mismatch, …);
//! per-thread FPU state ([`fpu`]); `execve` from a thread other than the leader ([`exec`]).
//!
//! Where a check needs a waiter to be asleep before it wakes it, it retries the wake until
//! the kernel reports one woken, so the transcript does not depend on scheduling.

use abi_tests::errno::{raw, Errno};
use abi_tests::Transcript;
use core::ffi::{c_int, c_long, c_void};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

mod exec;
mod fpu;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(exec::PROBE) {
        exec::probe(&args);
    }
    let t = Transcript::new("threads");
    fpu::fork_inherits(&t);
    fpu::signal_handler(&t);
    std_threads(&t);
    raw_clone_thread(&t);
    futex_errors(&t);
    futex_timeouts(&t);
    wait_wake(&t);
    bitsets(&t);
    requeue(&t);
    fpu::across_switches(&t);
    exec::from_thread(&t, &args[0]);
}

fn gettid() -> c_long {
    // SAFETY: gettid takes no argument and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) }
}

fn std_threads(t: &Transcript) {
    // SAFETY: getpid takes no argument and cannot fail.
    let pid = unsafe { libc::getpid() };
    let main_tid = gettid();
    t.is("main_tid_is_pid", main_tid == c_long::from(pid));
    let workers: Vec<_> = (0..4u64)
        .map(|i| {
            thread::spawn(move || {
                // SAFETY: as above.
                let same_pid = unsafe { libc::getpid() } == pid;
                let sum: u64 = (0..=1000 * i).sum();
                (sum, same_pid, gettid())
            })
        })
        .collect();
    let results: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
    let sums_ok = results.iter().enumerate().all(|(i, r)| {
        r.as_ref()
            .is_ok_and(|(s, _, _)| *s == (0..=1000 * i as u64).sum())
    });
    t.is("std_join_returns_results", sums_ok);
    let pids = results.iter().all(|r| r.as_ref().is_ok_and(|(_, p, _)| *p));
    t.is("threads_share_pid", pids);
    let mut tids: Vec<c_long> = results.iter().flatten().map(|(_, _, tid)| *tid).collect();
    tids.push(main_tid);
    tids.sort_unstable();
    tids.dedup();
    t.eq("distinct_tids", tids.len(), 5);
}

/// The raw thread's shared state.
struct RawThread {
    /// Written by the kernel: the child's tid (CLONE_PARENT_SETTID), then 0 at its exit
    /// (CLONE_CHILD_CLEARTID), with a futex wake.
    ctid: AtomicI32,
    ptid: AtomicI32,
    /// What the child saw of its own tid.
    seen_tid: AtomicI32,
}

extern "C" fn raw_child(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the RawThread the parent keeps alive until this thread has exited
    // (it waits for the CLEARTID word).
    let shared = unsafe { &*(arg as *const RawThread) };
    // The thread shares the parent's TLS (no CLONE_SETTLS), so it calls nothing that
    // touches errno: gettid cannot fail.
    shared.seen_tid.store(gettid() as i32, Ordering::SeqCst);
    0
}

fn raw_clone_thread(t: &Transcript) {
    const STACK: usize = 64 * 1024;
    let mut stack = vec![0u8; STACK];
    let shared = RawThread {
        ctid: AtomicI32::new(-1),
        ptid: AtomicI32::new(0),
        seen_tid: AtomicI32::new(0),
    };
    let flags = libc::CLONE_VM
        | libc::CLONE_FS
        | libc::CLONE_FILES
        | libc::CLONE_SIGHAND
        | libc::CLONE_THREAD
        | libc::CLONE_SYSVSEM
        | libc::CLONE_PARENT_SETTID
        | libc::CLONE_CHILD_SETTID
        | libc::CLONE_CHILD_CLEARTID;
    // SAFETY: the stack is a live buffer the child alone uses (its top, 16-byte aligned),
    // `shared` outlives the thread (joined below on its CLEARTID word), and the child
    // function touches only `shared`.
    let tid = unsafe {
        let top = stack.as_mut_ptr().add(STACK) as usize & !15;
        libc::clone(
            raw_child,
            top as *mut c_void,
            flags,
            &shared as *const RawThread as *mut c_void,
            shared.ptid.as_ptr(),
            core::ptr::null_mut::<c_void>(),
            shared.ctid.as_ptr(),
        )
    };
    t.is("clone_thread_returns_tid", tid > 0);
    if tid <= 0 {
        return;
    }
    t.is(
        "parent_settid_is_tid",
        shared.ptid.load(Ordering::SeqCst) == tid,
    );
    // Join: wait while the word still holds the tid; the kernel zeroes it and wakes us.
    loop {
        let now = shared.ctid.load(Ordering::SeqCst);
        if now == 0 {
            break;
        }
        let _ = futex(
            shared.ctid.as_ptr().cast(),
            libc::FUTEX_WAIT,
            now as u32,
            0,
            0,
            0,
        );
    }
    t.is(
        "child_saw_its_tid",
        shared.seen_tid.load(Ordering::SeqCst) == tid,
    );
    t.eq(
        "cleartid_zeroed_at_exit",
        shared.ctid.load(Ordering::SeqCst),
        0,
    );
    drop(stack);
}

/// futex(uaddr, op, val, timeout-or-val2, uaddr2, val3).
fn futex(
    uaddr: *const u32,
    op: c_int,
    val: u32,
    timeout: usize,
    uaddr2: usize,
    val3: u32,
) -> Result<c_long, Errno> {
    let args = [
        uaddr as usize,
        op as usize,
        val as usize,
        timeout,
        uaddr2,
        val3 as usize,
    ];
    // SAFETY: every caller passes words it owns (or deliberately bad addresses, which the
    // kernel only checks) and timeouts that are null or live timespecs.
    unsafe { raw(libc::SYS_futex, args) }
}

fn timespec_ptr(ts: &libc::timespec) -> usize {
    ts as *const libc::timespec as usize
}

fn futex_errors(t: &Transcript) {
    let word = AtomicU32::new(7);
    let w = word.as_ptr();
    t.errno(
        "wait_value_mismatch",
        futex(w, libc::FUTEX_WAIT, 8, 0, 0, 0),
        libc::EAGAIN,
    );
    let private = libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG;
    t.errno(
        "private_wait_value_mismatch",
        futex(w, private, 8, 0, 0, 0),
        libc::EAGAIN,
    );
    t.shows(
        "wake_without_waiters",
        futex(w, libc::FUTEX_WAKE, 1, 0, 0, 0),
        0,
    );
    let bitset = libc::FUTEX_WAIT_BITSET;
    t.errno(
        "wait_bitset_zero",
        futex(w, bitset, 7, 0, 0, 0),
        libc::EINVAL,
    );
    let unaligned = (w as usize + 1) as *const u32;
    t.errno(
        "wait_unaligned",
        futex(unaligned, libc::FUTEX_WAIT, 7, 0, 0, 0),
        libc::EINVAL,
    );
    let bad = libc::timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000_000,
    };
    let r = futex(w, libc::FUTEX_WAIT, 7, timespec_ptr(&bad), 0, 0);
    t.errno("wait_bad_timeout_nsec", r, libc::EINVAL);
    t.errno("unknown_op", futex(w, 99, 0, 0, 0, 0), libc::ENOSYS);
    let other = AtomicU32::new(0);
    let cmp = futex(w, libc::FUTEX_CMP_REQUEUE, 1, 1, other.as_ptr() as usize, 8);
    t.errno("cmp_requeue_value_mismatch", cmp, libc::EAGAIN);
    let cmp = futex(w, libc::FUTEX_CMP_REQUEUE, 1, 1, other.as_ptr() as usize, 7);
    t.shows("cmp_requeue_without_waiters", cmp, 0);
    let null = futex(core::ptr::null(), libc::FUTEX_WAIT, 0, 0, 0, 0);
    t.errno("wait_null_address", null, libc::EFAULT);
}

fn now(clock: libc::clockid_t) -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts
}

/// `ts` plus `ms` milliseconds.
fn later(ts: libc::timespec, ms: i64) -> libc::timespec {
    let ns = ts.tv_nsec + ms * 1_000_000;
    libc::timespec {
        tv_sec: ts.tv_sec + ns / 1_000_000_000,
        tv_nsec: ns % 1_000_000_000,
    }
}

/// Whether at least `ms` milliseconds of `clock` passed since `start`.
fn waited(clock: libc::clockid_t, start: libc::timespec, ms: i64) -> bool {
    let end = now(clock);
    (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1_000_000 >= ms
}

fn futex_timeouts(t: &Transcript) {
    let word = AtomicU32::new(0);
    let w = word.as_ptr();
    let rel = libc::timespec {
        tv_sec: 0,
        tv_nsec: 20_000_000,
    };
    let start = now(libc::CLOCK_MONOTONIC);
    let r = futex(w, libc::FUTEX_WAIT, 0, timespec_ptr(&rel), 0, 0);
    t.errno("wait_relative_timeout", r, libc::ETIMEDOUT);
    t.is(
        "relative_timeout_waited",
        waited(libc::CLOCK_MONOTONIC, start, 20),
    );
    let all = libc::FUTEX_BITSET_MATCH_ANY as u32;
    for (name, clock, flag) in [
        ("wait_bitset_absolute_monotonic", libc::CLOCK_MONOTONIC, 0),
        (
            "wait_bitset_absolute_realtime",
            libc::CLOCK_REALTIME,
            libc::FUTEX_CLOCK_REALTIME,
        ),
    ] {
        let start = now(clock);
        let deadline = later(start, 20);
        let op = libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG | flag;
        let r = futex(w, op, 0, timespec_ptr(&deadline), 0, all);
        t.errno(name, r, libc::ETIMEDOUT);
        t.is(
            &format!("{name}_reached_deadline"),
            waited(clock, start, 20),
        );
    }
    let past = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let op = libc::FUTEX_WAIT_BITSET;
    t.errno(
        "wait_bitset_deadline_in_past",
        futex(w, op, 0, timespec_ptr(&past), 0, all),
        libc::ETIMEDOUT,
    );
}

/// Starts a thread that waits on `word` (expecting 0) with `op` and `bitset`; it returns
/// the futex call's result.
fn waiter(
    word: &Arc<AtomicU32>,
    op: c_int,
    bitset: u32,
) -> thread::JoinHandle<Result<c_long, Errno>> {
    let word = Arc::clone(word);
    thread::spawn(move || futex(word.as_ptr(), op, 0, 0, 0, bitset))
}

/// Repeats `wake` (which returns how many it woke) until it has woken `n` in total.
fn wake_until(n: c_long, mut wake: impl FnMut() -> Result<c_long, Errno>) -> Result<c_long, Errno> {
    let mut total = 0;
    for _ in 0..10_000 {
        total += wake()?;
        if total >= n {
            return Ok(total);
        }
        thread::sleep(Duration::from_millis(1));
    }
    Ok(total)
}

fn wait_wake(t: &Transcript) {
    let word = Arc::new(AtomicU32::new(0));
    let w = word.as_ptr();
    let sleeper = waiter(&word, libc::FUTEX_WAIT, 0);
    let woke = wake_until(1, || futex(w, libc::FUTEX_WAKE, 1, 0, 0, 0));
    t.shows("wake_wakes_the_waiter", woke, 1);
    t.shows("woken_wait_returns_0", sleeper.join().unwrap_or(Ok(-1)), 0);
}

fn bitsets(t: &Transcript) {
    let word = Arc::new(AtomicU32::new(0));
    let w = word.as_ptr();
    let sleeper = waiter(&word, libc::FUTEX_WAIT_BITSET, 0b01);
    thread::sleep(Duration::from_millis(20));
    let mut other_bits = 0;
    let woke = wake_until(1, || {
        other_bits += futex(w, libc::FUTEX_WAKE_BITSET, 1, 0, 0, 0b10)?;
        futex(w, libc::FUTEX_WAKE_BITSET, 1, 0, 0, 0b01)
    });
    t.eq("wake_bitset_other_bits_wake_none", other_bits, 0);
    t.shows("wake_bitset_matching_bits", woke, 1);
    t.shows(
        "woken_wait_bitset_returns_0",
        sleeper.join().unwrap_or(Ok(-1)),
        0,
    );
}

fn requeue(t: &Transcript) {
    let from = Arc::new(AtomicU32::new(0));
    let to = AtomicU32::new(0);
    let (f, to_ptr) = (from.as_ptr(), to.as_ptr());
    let sleepers = [
        waiter(&from, libc::FUTEX_WAIT, 0),
        waiter(&from, libc::FUTEX_WAIT, 0),
    ];
    // REQUEUE: wake none, move up to 2 (val2 travels in the timeout slot).
    let moved = wake_until(2, || {
        futex(f, libc::FUTEX_REQUEUE, 0, 2, to_ptr as usize, 0)
    });
    t.shows("requeue_moves_both_waiters", moved, 2);
    t.shows(
        "wake_on_old_word_finds_none",
        futex(f, libc::FUTEX_WAKE, 2, 0, 0, 0),
        0,
    );
    let woke = futex(to_ptr, libc::FUTEX_WAKE, 2, 0, 0, 0);
    t.shows("wake_on_new_word_wakes_both", woke, 2);
    let results: Vec<_> = sleepers
        .into_iter()
        .map(|s| s.join().unwrap_or(Ok(-1)))
        .collect();
    t.is(
        "requeued_waits_return_0",
        results.iter().all(|r| *r == Ok(0)),
    );
    let sleepers = [
        waiter(&from, libc::FUTEX_WAIT, 0),
        waiter(&from, libc::FUTEX_WAIT, 0),
    ];
    // Both asleep first: gather them on a staging word (REQUEUE counts whom it moves).
    let staging = AtomicU32::new(0);
    let s = staging.as_ptr();
    let gathered = wake_until(2, || futex(f, libc::FUTEX_REQUEUE, 0, 2, s as usize, 0));
    t.shows("requeue_gathers_both", gathered, 2);
    // CMP_REQUEUE: wake 1, requeue up to 1, only if the word still holds 0.
    let cmp = futex(s, libc::FUTEX_CMP_REQUEUE, 1, 1, to_ptr as usize, 0);
    t.shows("cmp_requeue_wakes_one_moves_one", cmp, 2);
    let woke = wake_until(1, || futex(to_ptr, libc::FUTEX_WAKE, 1, 0, 0, 0));
    t.shows("cmp_requeued_waiter_woken", woke, 1);
    let results: Vec<_> = sleepers
        .into_iter()
        .map(|s| s.join().unwrap_or(Ok(-1)))
        .collect();
    t.is(
        "cmp_requeue_waits_return_0",
        results.iter().all(|r| *r == Ok(0)),
    );
}
