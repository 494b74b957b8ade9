//! `futex(2)`: sleeping on and waking user memory words.
//!
//! `halyard-futex` decodes the call and keeps the queues (keys, bitsets, FIFO order,
//! requeueing); this file compares the word, sleeps and wakes threads. A waiter is queued
//! *before* the kernel reads the word, so a wake between the program's change and our
//! check cannot be lost: the waker finds it queued. If the word differs, the waiter is
//! taken off again and the call returns `EAGAIN` (or 0 if a wake already took it, which
//! looks to the program like an ordinary wake-up).
//!
//! Keys: the address space and the address, for private and shared futexes alike. Shared
//! futexes across processes that map the same memory (`MAP_SHARED`) are therefore not
//! matched across the processes: a documented limit (docs/userspace.md).
use futex_crate::{decode, takes_timeout, Args, Clock, Futexes, Key, Request, Timeout, Waiter};
use linux_raw_sys::general::__kernel_timespec;

use super::{Errno, SysResult};
use crate::process::mm::Mm;
use crate::process::usercopy::{self, UserRef};
use crate::process::{current, table};
use crate::sched::WaitQueue;
use crate::sync::{IrqLock, LockClass};

use halyard_futex as futex_crate;

static FUTEX_CLASS: LockClass = LockClass::new("futex.queues");
static FUTEXES: IrqLock<Option<Futexes>> = IrqLock::new(None, &FUTEX_CLASS);
/// Futex sleepers wait here; each is woken by name ([`wake_all`]) and re-checks whether
/// it is still queued.
static SLEEPERS: WaitQueue = WaitQueue::new();

fn with<R>(f: impl FnOnce(&mut Futexes) -> R) -> R {
    f(FUTEXES.lock().get_or_insert_with(Futexes::new))
}

fn key(mm: &Mm, addr: u64) -> Key {
    Key {
        space: mm as *const Mm as u64,
        addr,
    }
}

/// Wakes exactly the threads the queues gave up. A sleeper's condition is "no longer
/// queued", which is already true for each of them, and `sched::wake` cannot be lost
/// against a sleeper about to block (it finds it Blocked or still Running and makes it
/// Ready either way), so nobody else on [`SLEEPERS`] needs to wake and look: waking them
/// all, as this once did, woke every futex sleeper of the system on every wake.
fn wake_all(waiters: &[Waiter]) {
    for w in waiters {
        if let Some(t) = table::thread(w.0) {
            crate::sched::wake(&t);
        }
    }
}

/// Wakes up to `n` waiters on the word at `addr` of `mm` (thread exit's
/// `CLONE_CHILD_CLEARTID`). Returns how many were woken.
pub fn wake_address(mm: &Mm, addr: u64, n: u32) -> u32 {
    let woken = with(|f| f.wake(key(mm, addr), n, u32::MAX));
    wake_all(&woken);
    woken.len() as u32
}

/// `futex(uaddr, op, val, timeout_or_val2, uaddr2, val3)`.
pub fn futex(uaddr: u64, op: u64, val: u64, a3: u64, uaddr2: u64, val3: u64) -> SysResult {
    let task = current();
    let mm = task.process.mm();
    let timeout = if takes_timeout(op as u32) && a3 != 0 {
        Some(usercopy::read::<__kernel_timespec>(&mm, UserRef::new(a3))?)
    } else {
        None
    };
    let request = decode(&Args {
        uaddr,
        op: op as u32,
        val: val as u32,
        timeout,
        val2: a3 as u32,
        uaddr2,
        val3: val3 as u32,
    })
    .map_err(Errno::from)?;
    match request {
        Request::Wait {
            uaddr,
            expected,
            bitset,
            timeout,
            ..
        } => {
            let me = Waiter(task.tid());
            let k = key(&mm, uaddr);
            let deadline = match timeout {
                None => None,
                Some(Timeout::Relative(ns)) => Some(crate::time::now_ns().saturating_add(ns)),
                Some(Timeout::Absolute(d)) => Some(match d.clock {
                    Clock::Monotonic => d.ns,
                    Clock::Realtime => crate::time::monotonic_from_realtime(d.ns),
                }),
            };
            with(|f| f.wait(k, me, bitset, None));
            let word = usercopy::read::<u32>(&mm, UserRef::new(uaddr));
            if word.as_ref().map_or(true, |&w| w != expected) {
                let was_queued = with(|f| f.cancel(me));
                return match word {
                    Err(e) if was_queued => Err(e),
                    _ if was_queued => Err(Errno::EAGAIN),
                    _ => Ok(0),
                };
            }
            let woken = SLEEPERS.wait_until_deadline(deadline, || {
                !with(|f| f.is_waiting(me)) || crate::process::signal_pending()
            });
            if with(|f| f.cancel(me)) {
                // Still queued: a timeout or a signal ended the sleep.
                return Err(if !woken {
                    Errno::ETIMEDOUT
                } else {
                    Errno::ERESTARTSYS
                });
            }
            Ok(0)
        }
        Request::Wake {
            uaddr,
            count,
            bitset,
            ..
        } => {
            let woken = with(|f| f.wake(key(&mm, uaddr), count, bitset));
            wake_all(&woken);
            Ok(woken.len() as u64)
        }
        Request::Requeue {
            uaddr,
            uaddr2,
            wake,
            requeue,
            expected,
            ..
        } => {
            if let Some(expected) = expected {
                let word = usercopy::read::<u32>(&mm, UserRef::new(uaddr))?;
                if word != expected {
                    return Err(Errno::EAGAIN);
                }
            }
            let (woken, moved) =
                with(|f| f.requeue(key(&mm, uaddr), key(&mm, uaddr2), wake, requeue));
            wake_all(&woken);
            Ok(woken.len() as u64 + u64::from(moved))
        }
    }
}
