//! One test per rule of futex(2), through the public API.

use futex::*;
use linux_raw_sys::general::*;

fn args(op: u32) -> Args {
    Args {
        uaddr: 0x1000,
        op,
        val: 0,
        timeout: None,
        val2: 0,
        uaddr2: 0x2000,
        val3: 0,
    }
}

fn ts(sec: i64, nsec: i64) -> Option<__kernel_timespec> {
    Some(__kernel_timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    })
}

#[test]
fn wait_timeouts_relative_and_absolute() {
    let wait = Args {
        timeout: ts(1, 5),
        ..args(FUTEX_WAIT)
    };
    assert!(matches!(
        decode(&wait),
        Ok(Request::Wait {
            timeout: Some(Timeout::Relative(1_000_000_005)),
            bitset: u32::MAX,
            ..
        })
    ));
    let abs = Args {
        timeout: ts(2, 0),
        val3: 1,
        ..args(FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME)
    };
    let want = Timeout::Absolute(Deadline {
        clock: Clock::Realtime,
        ns: 2_000_000_000,
    });
    assert!(matches!(decode(&abs), Ok(Request::Wait { timeout: Some(t), .. }) if t == want));
    let mono = Args {
        timeout: ts(i64::MAX, 0),
        val3: 1,
        ..args(FUTEX_WAIT_BITSET)
    };
    let sat = Timeout::Absolute(Deadline {
        clock: Clock::Monotonic,
        ns: i64::MAX as u64,
    });
    assert!(
        matches!(decode(&mono), Ok(Request::Wait { timeout: Some(t), .. }) if t == sat),
        "KTIME_MAX"
    );
    for bad in [ts(-1, 0), ts(0, -1), ts(0, 1_000_000_000)] {
        assert_eq!(
            decode(&Args {
                timeout: bad,
                ..args(FUTEX_WAIT)
            }),
            Err(Errno::EINVAL)
        );
    }
}

#[test]
fn realtime_clock_only_on_wait_bitset() {
    for op in [
        FUTEX_WAIT,
        FUTEX_WAKE,
        FUTEX_REQUEUE,
        FUTEX_CMP_REQUEUE,
        FUTEX_WAKE_BITSET,
    ] {
        assert_eq!(
            decode(&Args {
                val3: 1,
                ..args(op | FUTEX_CLOCK_REALTIME)
            }),
            Err(Errno::ENOSYS)
        );
    }
    // A bad timeout is EINVAL before the clock check (the syscall entry reads it first).
    let bad = Args {
        timeout: ts(0, -1),
        ..args(FUTEX_WAIT | FUTEX_CLOCK_REALTIME)
    };
    assert_eq!(decode(&bad), Err(Errno::EINVAL));
}

#[test]
fn zero_bitset_and_misalignment_are_einval() {
    assert_eq!(decode(&args(FUTEX_WAIT_BITSET)), Err(Errno::EINVAL));
    assert_eq!(decode(&args(FUTEX_WAKE_BITSET)), Err(Errno::EINVAL));
    assert_eq!(
        decode(&Args {
            uaddr: 0x1001,
            ..args(FUTEX_WAKE)
        }),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode(&Args {
            uaddr2: 0x2002,
            ..args(FUTEX_REQUEUE)
        }),
        Err(Errno::EINVAL)
    );
}

#[test]
fn wake_count_zero_or_negative_wakes_one() {
    for val in [0, u32::MAX, 0x8000_0000] {
        assert!(matches!(
            decode(&Args {
                val,
                ..args(FUTEX_WAKE)
            }),
            Ok(Request::Wake { count: 1, .. })
        ));
    }
}

#[test]
fn requeue_counts_and_same_address() {
    assert_eq!(
        decode(&Args {
            val: u32::MAX,
            ..args(FUTEX_REQUEUE)
        }),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode(&Args {
            val2: u32::MAX,
            ..args(FUTEX_CMP_REQUEUE)
        }),
        Err(Errno::EINVAL)
    );
    // Linux refuses uaddr == uaddr2 only for the PI requeue.
    let same = Args {
        uaddr2: 0x1000,
        val3: 9,
        ..args(FUTEX_CMP_REQUEUE)
    };
    assert!(matches!(
        decode(&same),
        Ok(Request::Requeue {
            expected: Some(9),
            ..
        })
    ));
}

#[test]
fn unknown_and_pi_ops_are_enosys() {
    for cmd in [
        FUTEX_FD,
        FUTEX_WAKE_OP,
        FUTEX_LOCK_PI,
        FUTEX_UNLOCK_PI,
        FUTEX_TRYLOCK_PI,
        FUTEX_WAIT_REQUEUE_PI,
        FUTEX_CMP_REQUEUE_PI,
        FUTEX_LOCK_PI2,
        14,
        0x200,
    ] {
        assert_eq!(decode(&args(cmd)), Err(Errno::ENOSYS), "{cmd}");
    }
}

#[test]
fn wake_is_fifo_with_bitsets() {
    let mut f = Futexes::new();
    let k = Key { space: 1, addr: 4 };
    for (tid, bits) in [(1, 0b01), (2, 0b10), (3, 0b11)] {
        f.wait(k, Waiter(tid), bits, None);
    }
    assert_eq!(f.wake(k, 5, 0b10), [Waiter(2), Waiter(3)]);
    assert_eq!(f.wake(k, 5, 0b10), []);
    assert_eq!(f.wake(k, 1, u32::MAX), [Waiter(1)]);
}

#[test]
fn timeouts_and_interrupts_remove_the_waiter() {
    let mut f = Futexes::new();
    let k = Key { space: 1, addr: 4 };
    let d = |ns| {
        Some(Deadline {
            clock: Clock::Monotonic,
            ns,
        })
    };
    f.wait(k, Waiter(1), u32::MAX, d(100));
    f.wait(k, Waiter(2), u32::MAX, d(50));
    f.wait(k, Waiter(3), u32::MAX, None);
    assert_eq!(f.next_deadline(Clock::Monotonic), Some(50));
    assert_eq!(f.expire(Clock::Monotonic, 99), [Waiter(2)]);
    assert!(f.cancel(Waiter(3)), "interrupted by a signal");
    assert!(!f.cancel(Waiter(3)));
    assert_eq!(f.wake(k, 9, u32::MAX), [Waiter(1)]);
    assert!(!f.cancel(Waiter(1)), "already woken: the wait returns 0");
    assert_eq!(f.next_deadline(Clock::Monotonic), None);
}

#[test]
fn requeue_appends_to_the_target_queue() {
    let mut f = Futexes::new();
    let (a, b) = (Key { space: 1, addr: 4 }, Key { space: 1, addr: 8 });
    f.wait(b, Waiter(9), u32::MAX, None);
    for tid in 1..=4 {
        f.wait(a, Waiter(tid), u32::MAX, None);
    }
    assert_eq!(f.requeue(a, b, 1, 2), (vec![Waiter(1)], 2));
    assert_eq!(
        f.waiters(b).collect::<Vec<_>>(),
        [Waiter(9), Waiter(2), Waiter(3)]
    );
    assert_eq!(f.waiters(a).collect::<Vec<_>>(), [Waiter(4)]);
    assert_eq!(f.requeue(a, a, 0, 5), (vec![], 1));
}
