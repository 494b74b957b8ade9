//! Linux as the oracle for futex(2).
//!
//! - Arguments: every op number with every flag combination, misaligned addresses, zero
//!   bitsets, negative counts, bad timeouts, `FUTEX_CLOCK_REALTIME` on each op: the host's
//!   errno (or success) must be what [`decode`] plus the kernel's value comparison give.
//!   Calls are made so they never sleep (the word never holds the expected value) and
//!   never touch a waiter (nobody waits on these words).
//! - Queues: real threads wait on a real futex word one after another (each is seen
//!   asleep in `futex` in `/proc` before the next starts), then `FUTEX_WAKE`,
//!   `FUTEX_WAKE_BITSET` and `FUTEX_CMP_REQUEUE` run on the host and on [`Futexes`]: the
//!   counts returned and the set of threads woken must be the same.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futex::{decode, Args, Futexes, Key, Request, Waiter};
use linux_raw_sys::general::*;

/// Calls `futex` on the host; `-errno` on failure.
fn host_futex(
    uaddr: *const AtomicU32,
    op: u32,
    val: u32,
    utime: usize,
    uaddr2: *const AtomicU32,
    val3: u32,
) -> i64 {
    // SAFETY: `uaddr`/`uaddr2` point into live atomics (possibly offset by a byte, which
    // the kernel refuses before touching memory); `utime` is NULL, a pointer to a live
    // timespec or, for ops without a timeout, a plain number the kernel does not follow.
    let r = unsafe { libc::syscall(libc::SYS_futex, uaddr, op, val, utime, uaddr2, val3) };
    if r < 0 {
        -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap())
    } else {
        r
    }
}

/// What the crate plus the kernel's value comparison answer, when no thread waits and
/// the word's value is `value`.
fn crate_futex(args: &Args, value: u32) -> i64 {
    let eagain = -i64::from(libc::EAGAIN);
    match decode(args) {
        Err(e) => -i64::from(e.code()),
        Ok(Request::Wait { expected, .. }) if expected != value => eagain,
        Ok(Request::Wait { .. }) => panic!("this case would sleep"),
        Ok(Request::Wake { .. }) => 0,
        Ok(Request::Requeue {
            expected: Some(e), ..
        }) if e != value => eagain,
        Ok(Request::Requeue { .. }) => 0,
    }
}

const PI_OPS: [u32; 7] = [
    FUTEX_WAKE_OP,
    FUTEX_LOCK_PI,
    FUTEX_UNLOCK_PI,
    FUTEX_TRYLOCK_PI,
    FUTEX_WAIT_REQUEUE_PI,
    FUTEX_CMP_REQUEUE_PI,
    FUTEX_LOCK_PI2,
];

#[test]
fn arguments_are_checked_as_linux() {
    let words = [AtomicU32::new(7), AtomicU32::new(7)];
    let base = words.as_ptr();
    let byte_off =
        |p: *const AtomicU32, n: usize| p.cast::<u8>().wrapping_add(n).cast::<AtomicU32>();
    let ts = |sec: i64, nsec: i64| libc::timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    };
    let timespecs = [
        None,
        Some(ts(0, 1000)),
        Some(ts(0, 1_000_000_000)),
        Some(ts(0, -1)),
        Some(ts(-1, 0)),
    ];
    let mut compared = 0;
    let mut supported_by_linux = Vec::new();
    for cmd in 0..20u32 {
        for flags in [
            0,
            FUTEX_PRIVATE_FLAG,
            FUTEX_CLOCK_REALTIME,
            FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME,
            0x200,
            0x8000_0000,
        ] {
            let op = cmd | flags;
            for (ts_i, tspec) in timespecs.iter().enumerate() {
                for (val, val3, val2) in [
                    (0, 0, 0),
                    (1, u32::MAX, 1),
                    (u32::MAX, 1, 3),
                    (2, 7, u32::MAX),
                ] {
                    for (off1, off2) in [(0, 4), (1, 4), (0, 2), (0, 0)] {
                        let uaddr = byte_off(base, off1);
                        let uaddr2 = byte_off(base, off2);
                        let has_ts = futex::takes_timeout(op);
                        if !has_ts && ts_i > 0 {
                            continue;
                        }
                        let utime = match tspec {
                            Some(t) if has_ts => t as *const libc::timespec as usize,
                            _ if has_ts => 0,
                            _ => val2 as usize,
                        };
                        let args = Args {
                            uaddr: uaddr as u64,
                            op,
                            val,
                            timeout: tspec.filter(|_| has_ts).map(|t| __kernel_timespec {
                                tv_sec: t.tv_sec,
                                tv_nsec: t.tv_nsec,
                            }),
                            val2: utime as u32,
                            uaddr2: uaddr2 as u64,
                            val3,
                        };
                        let expected = if PI_OPS.contains(&cmd) && flags & 0x8000_0200 == 0 {
                            // Linux implements these; Halyard answers ENOSYS. Record
                            // that Linux does know them, without running them.
                            supported_by_linux.push(cmd);
                            continue;
                        } else {
                            let value = words[0].load(Ordering::Relaxed);
                            crate_futex(&args, value)
                        };
                        // The word holds 7: waits expecting another value never sleep.
                        if matches!(decode(&args), Ok(Request::Wait { expected: 7, .. })) {
                            continue;
                        }
                        let linux = host_futex(uaddr, op, val, utime, uaddr2, val3);
                        assert_eq!(expected, linux, "op {op:#x} val {val} val3 {val3:#x} utime {tspec:?}/{val2} offsets {off1}/{off2}");
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(!supported_by_linux.is_empty());
    println!("{compared} futex calls agreed");
}

/// A thread blocked in `futex(uaddr, FUTEX_WAIT_BITSET|PRIVATE, 0, NULL, NULL, bitset)`.
struct Sleeper {
    tid: i32,
    woke: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<()>,
}

fn sleep_on(word: &'static AtomicU32, bitset: u32) -> Sleeper {
    let woke = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let flag = woke.clone();
    let handle = std::thread::spawn(move || {
        // SAFETY: gettid has no arguments.
        tx.send(unsafe { libc::gettid() }).unwrap();
        while word.load(Ordering::SeqCst) == 0 {
            let op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG;
            let r = host_futex(word, op, 0, 0, std::ptr::null(), bitset);
            if r == 0 {
                break;
            }
        }
        flag.store(true, Ordering::SeqCst);
    });
    let tid = rx.recv().unwrap();
    // Wait until the thread sleeps in futex (syscall 202), so the queue order is known.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let path = format!("/proc/self/task/{tid}/syscall");
        let asleep =
            std::fs::read_to_string(&path).is_ok_and(|s| s.split(' ').next() == Some("202"));
        if asleep {
            break;
        }
        assert!(Instant::now() < deadline, "thread {tid} never slept");
        std::thread::sleep(Duration::from_millis(1));
    }
    Sleeper { tid, woke, handle }
}

/// Waits until `n` of `sleepers` report they woke, and returns which (by tid).
fn woken(sleepers: &[Sleeper], n: usize) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let set: Vec<i32> = sleepers
            .iter()
            .filter(|s| s.woke.load(Ordering::SeqCst))
            .map(|s| s.tid)
            .collect();
        if set.len() >= n {
            // A little longer, to catch one woken too many.
            std::thread::sleep(Duration::from_millis(20));
            return sleepers
                .iter()
                .filter(|s| s.woke.load(Ordering::SeqCst))
                .map(|s| s.tid)
                .collect();
        }
        assert!(Instant::now() < deadline, "only {} of {n} woke", set.len());
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn leak_word() -> &'static AtomicU32 {
    Box::leak(Box::new(AtomicU32::new(0)))
}

#[test]
fn wake_order_counts_and_bitsets_as_linux() {
    let word = leak_word();
    let key = Key {
        space: 1,
        addr: word as *const _ as u64,
    };
    let bitsets = [0b01, 0b10, 0b11, 0b01, 0b10, u32::MAX];
    let sleepers: Vec<Sleeper> = bitsets.iter().map(|&b| sleep_on(word, b)).collect();
    let mut model = Futexes::new();
    for (s, &b) in sleepers.iter().zip(&bitsets) {
        model.wait(key, Waiter(s.tid as u32), b, None);
    }
    let mut all_woken = Vec::new();
    // FUTEX_WAKE with val 0 wakes one; then bitset wakes; then "all".
    let wakes = [
        (FUTEX_WAKE, 0, 0),
        (FUTEX_WAKE_BITSET, 2, 0b10),
        (FUTEX_WAKE_BITSET, 1, 0b100),
        (FUTEX_WAKE_BITSET, 5, 0b01),
        (FUTEX_WAKE, u32::MAX, 0),
        (FUTEX_WAKE, i32::MAX as u32, 0),
    ];
    for (cmd, val, val3) in wakes {
        let op = cmd | FUTEX_PRIVATE_FLAG;
        let args = Args {
            uaddr: key.addr,
            op,
            val,
            timeout: None,
            val2: 0,
            uaddr2: 0,
            val3,
        };
        let Ok(Request::Wake { count, bitset, .. }) = decode(&args) else {
            panic!("{args:?}")
        };
        let expected = model.wake(key, count, bitset);
        let linux = host_futex(word, op, val, 0, std::ptr::null(), val3);
        assert_eq!(linux, expected.len() as i64, "{args:?}");
        all_woken.extend(expected.iter().map(|w| w.0 as i32));
        all_woken.sort_unstable();
        let mut host_woken = woken(&sleepers, all_woken.len());
        host_woken.sort_unstable();
        assert_eq!(host_woken, all_woken, "{args:?}");
    }
    word.store(1, Ordering::SeqCst);
    host_futex(
        word,
        FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
        i32::MAX as u32,
        0,
        std::ptr::null(),
        0,
    );
    for s in sleepers {
        s.handle.join().unwrap();
    }
}

#[test]
fn requeue_as_linux() {
    let (a, b) = (leak_word(), leak_word());
    let key_a = Key {
        space: 1,
        addr: a as *const _ as u64,
    };
    let key_b = Key {
        space: 1,
        addr: b as *const _ as u64,
    };
    let mut sleepers: Vec<Sleeper> = (0..5).map(|_| sleep_on(a, u32::MAX)).collect();
    let mut model = Futexes::new();
    for s in &sleepers {
        model.wait(key_a, Waiter(s.tid as u32), u32::MAX, None);
    }
    // Wake 1, move 2 to b (value matches), then a mismatch, then a same-word requeue.
    let steps = [
        (key_a, key_b, 1, 2, Some(0)),
        (key_a, key_b, 1, 1, Some(5)),
        (key_a, key_a, 1, 3, Some(0)),
    ];
    let mut all_woken = Vec::new();
    for (from, to, wake, requeue, cmp) in steps {
        let (ptr_from, ptr_to) = (
            if from == key_a { a } else { b },
            if to == key_a { a } else { b },
        );
        let op = FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG;
        let linux = host_futex(ptr_from, op, wake, requeue as usize, ptr_to, cmp.unwrap());
        let expected = if cmp == Some(0) {
            let (w, moved) = model.requeue(from, to, wake, requeue);
            all_woken.extend(w.iter().map(|w| w.0 as i32));
            w.len() as i64 + i64::from(moved)
        } else {
            -i64::from(libc::EAGAIN)
        };
        assert_eq!(linux, expected);
        all_woken.sort_unstable();
        let mut host = woken(&sleepers, all_woken.len());
        host.sort_unstable();
        assert_eq!(host, all_woken);
    }
    // Now wake the queue on b one at a time: the requeued threads, oldest first.
    for w in model.waiters(key_b).collect::<Vec<_>>() {
        assert_eq!(
            host_futex(
                b,
                FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
                1,
                0,
                std::ptr::null(),
                0
            ),
            1
        );
        all_woken.push(w.0 as i32);
        all_woken.sort_unstable();
        let mut host = woken(&sleepers, all_woken.len());
        host.sort_unstable();
        assert_eq!(host, all_woken);
    }
    for word in [a, b] {
        word.store(1, Ordering::SeqCst);
        host_futex(
            word,
            FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
            i32::MAX as u32,
            0,
            std::ptr::null(),
            0,
        );
    }
    for s in sleepers.drain(..) {
        s.handle.join().unwrap();
    }
}
