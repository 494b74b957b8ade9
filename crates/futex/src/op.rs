//! Decoding `futex(uaddr, op, val, timeout/val2, uaddr2, val3)` into a [`Request`], with
//! Linux's checks in Linux's order (`SYSCALL_DEFINE6(futex)`, `do_futex`,
//! `futex_wait`, `futex_wake`, `futex_requeue`, `get_futex_key`).
//!
//! Supported: `FUTEX_WAIT`, `FUTEX_WAKE`, `FUTEX_REQUEUE`, `FUTEX_CMP_REQUEUE`,
//! `FUTEX_WAIT_BITSET`, `FUTEX_WAKE_BITSET`, each with `FUTEX_PRIVATE_FLAG`, and
//! `FUTEX_CLOCK_REALTIME` where Linux accepts it (`FUTEX_WAIT_BITSET`). That is what
//! glibc, musl and Rust's std use for mutexes, condition variables, thread join (the
//! `CLONE_CHILD_CLEARTID` word) and `pthread_barrier`. The priority-inheritance ops
//! (`FUTEX_LOCK_PI`, `FUTEX_LOCK_PI2`, `FUTEX_UNLOCK_PI`, `FUTEX_TRYLOCK_PI`,
//! `FUTEX_WAIT_REQUEUE_PI`, `FUTEX_CMP_REQUEUE_PI`) and `FUTEX_WAKE_OP` are `ENOSYS`:
//! Linux answers `ENOSYS` for ops it does not know (and for the long-removed `FUTEX_FD`),
//! so a program probing for them sees an older kernel's answer rather than a wrong result.
//! `ENOSYS` is also Linux's answer to `FUTEX_CLOCK_REALTIME` on any other op.

use linux_raw_sys::general::{
    __kernel_timespec, FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_CMP_REQUEUE,
    FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_WAIT,
    FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_WAKE, FUTEX_WAKE_BITSET,
};

use crate::Errno;

/// Nanoseconds per second.
const NSEC_PER_SEC: i64 = 1_000_000_000;

/// The clock of an absolute deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Clock {
    /// `CLOCK_MONOTONIC` (the default).
    Monotonic,
    /// `CLOCK_REALTIME` (`FUTEX_CLOCK_REALTIME`): a `settimeofday` moves the deadline.
    Realtime,
}

/// When a wait gives up with `ETIMEDOUT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// `FUTEX_WAIT`: this many nanoseconds from now; the kernel adds the current
    /// `CLOCK_MONOTONIC` time (saturating) to get the [`Deadline`].
    Relative(u64),
    /// `FUTEX_WAIT_BITSET`: an absolute deadline.
    Absolute(Deadline),
}

/// An absolute deadline: `ns` nanoseconds on `clock` (saturated to `i64::MAX`, Linux's
/// `KTIME_MAX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline {
    /// The clock.
    pub clock: Clock,
    /// Nanoseconds since the clock's epoch.
    pub ns: u64,
}

/// The raw arguments of `futex(2)`, as the kernel received them (with the timeout already
/// copied from user memory when [`takes_timeout`] says the fourth argument is one).
#[derive(Clone, Copy, Debug)]
pub struct Args {
    /// `uaddr`.
    pub uaddr: u64,
    /// `futex_op`.
    pub op: u32,
    /// `val`.
    pub val: u32,
    /// The `struct timespec` at the fourth argument, if [`takes_timeout`] and it is not
    /// NULL.
    pub timeout: Option<__kernel_timespec>,
    /// The fourth argument as a number (`val2`: the requeue count), truncated to 32 bits.
    pub val2: u32,
    /// `uaddr2`.
    pub uaddr2: u64,
    /// `val3`.
    pub val3: u32,
}

/// A decoded, checked futex operation. The kernel computes the [`crate::Key`]s from the
/// addresses (with the private flag: the address space, else the backing object), does
/// the value comparison (`EAGAIN` on a mismatch, `EFAULT` on a bad address) and calls
/// [`crate::Futexes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// `FUTEX_WAIT`/`FUTEX_WAIT_BITSET`: sleep if `*uaddr == expected`.
    Wait {
        /// The futex word.
        uaddr: u64,
        /// `FUTEX_PRIVATE_FLAG`.
        private: bool,
        /// The value the word must have.
        expected: u32,
        /// The waiter's bitset (all ones for `FUTEX_WAIT`); never 0.
        bitset: u32,
        /// When to give up.
        timeout: Option<Timeout>,
    },
    /// `FUTEX_WAKE`/`FUTEX_WAKE_BITSET`: wake up to `count` waiters whose bitset meets
    /// `bitset`.
    Wake {
        /// The futex word.
        uaddr: u64,
        /// `FUTEX_PRIVATE_FLAG`.
        private: bool,
        /// How many at most: Linux wakes one for a `val` of 0 or a negative `int`.
        count: u32,
        /// Never 0.
        bitset: u32,
    },
    /// `FUTEX_REQUEUE`/`FUTEX_CMP_REQUEUE`: wake `wake`, move up to `requeue` more to
    /// `uaddr2`; with `expected`, only if `*uaddr == expected`.
    Requeue {
        /// The futex word waited on.
        uaddr: u64,
        /// Where the others go.
        uaddr2: u64,
        /// `FUTEX_PRIVATE_FLAG` (for both words).
        private: bool,
        /// Waiters to wake.
        wake: u32,
        /// Waiters to move.
        requeue: u32,
        /// `FUTEX_CMP_REQUEUE`'s `val3`.
        expected: Option<u32>,
    },
}

/// Whether `op`'s fourth argument is a `struct timespec` pointer (Linux's
/// `futex_cmd_has_timeout`); otherwise it is the number `val2`.
pub fn takes_timeout(op: u32) -> bool {
    matches!(
        op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME),
        FUTEX_WAIT | FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI
    )
}

/// Checks and decodes a futex call.
pub fn decode(args: &Args) -> Result<Request, Errno> {
    let cmd = args.op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let private = args.op & FUTEX_PRIVATE_FLAG != 0;
    let realtime = args.op & FUTEX_CLOCK_REALTIME != 0;
    let timeout = match args.timeout.filter(|_| takes_timeout(args.op)) {
        Some(ts) => Some(timeout(cmd, realtime, ts)?),
        None => None,
    };
    if realtime && cmd != FUTEX_WAIT_BITSET {
        // Linux also accepts it on FUTEX_WAIT_REQUEUE_PI and FUTEX_LOCK_PI2, which are
        // ENOSYS here anyway.
        return Err(Errno::ENOSYS);
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT {
                FUTEX_BITSET_MATCH_ANY
            } else {
                args.val3
            };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(Request::Wait {
                uaddr: aligned(args.uaddr)?,
                private,
                expected: args.val,
                bitset,
                timeout,
            })
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE {
                FUTEX_BITSET_MATCH_ANY
            } else {
                args.val3
            };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(Request::Wake {
                uaddr: aligned(args.uaddr)?,
                private,
                count: (args.val as i32).max(1).unsigned_abs(),
                bitset,
            })
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            let (wake, requeue) = (args.val as i32, args.val2 as i32);
            if wake < 0 || requeue < 0 {
                return Err(Errno::EINVAL);
            }
            Ok(Request::Requeue {
                uaddr: aligned(args.uaddr)?,
                uaddr2: aligned(args.uaddr2)?,
                private,
                wake: wake.unsigned_abs(),
                requeue: requeue.unsigned_abs(),
                expected: (cmd == FUTEX_CMP_REQUEUE).then_some(args.val3),
            })
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// `futex_init_timeout`: `EINVAL` unless `0 <= tv_sec` and `0 <= tv_nsec < 1e9`;
/// `FUTEX_WAIT` is relative, the others absolute on the flag's clock.
fn timeout(cmd: u32, realtime: bool, ts: __kernel_timespec) -> Result<Timeout, Errno> {
    if ts.tv_sec < 0 || !(0..NSEC_PER_SEC).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    // timespec64_to_ktime saturates at KTIME_MAX.
    let ns = ts
        .tv_sec
        .checked_mul(NSEC_PER_SEC)
        .and_then(|s| s.checked_add(ts.tv_nsec))
        .unwrap_or(i64::MAX)
        .unsigned_abs();
    if cmd == FUTEX_WAIT {
        return Ok(Timeout::Relative(ns));
    }
    let clock = if realtime {
        Clock::Realtime
    } else {
        Clock::Monotonic
    };
    Ok(Timeout::Absolute(Deadline { clock, ns }))
}

/// `get_futex_key`'s alignment check: a futex word is 4-byte aligned.
fn aligned(addr: u64) -> Result<u64, Errno> {
    if addr.is_multiple_of(4) {
        Ok(addr)
    } else {
        Err(Errno::EINVAL)
    }
}
