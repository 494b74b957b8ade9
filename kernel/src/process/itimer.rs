//! `ITIMER_REAL`: `alarm` and `setitimer`, delivering `SIGALRM`.
//!
//! Each process has one real-time timer (deadline and interval, [`Process::itimer_real`]).
//! Armed timers are also in one ordered set of (deadline, pid); a kernel thread,
//! `itimer`, sleeps until the earliest deadline (or until the set changes), sends
//! `SIGALRM` to the processes whose deadline passed and re-arms periodic ones. An entry
//! whose process re-armed or disarmed its timer meanwhile is stale and skipped.
//! `ITIMER_VIRTUAL` and `ITIMER_PROF` (CPU-time timers) are not implemented: `EINVAL`,
//! logged once.
use alloc::collections::BTreeSet;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use halyard_signal::{SigInfo, Signal, Target};

use super::{table, Process};
use crate::sched::WaitQueue;
use crate::sync::{IrqLock, LockClass};

static ARMED_CLASS: LockClass = LockClass::new("itimer.armed");
static ARMED: IrqLock<BTreeSet<(u64, u32)>> = IrqLock::new(BTreeSet::new(), &ARMED_CLASS);
static CHANGED: WaitQueue = WaitQueue::new();
static GENERATION: AtomicU64 = AtomicU64::new(0);
static STARTED: AtomicBool = AtomicBool::new(false);

/// Arms (or with `value` 0 disarms) the real timer of `p`: first expiry `value` ns from
/// now, then every `interval` ns. Returns the previous (remaining, interval).
pub fn set(p: &Process, value: u64, interval: u64) -> (u64, u64) {
    let now = crate::time::now_ns();
    let deadline = if value == 0 {
        0
    } else {
        now.saturating_add(value)
    };
    let old = core::mem::replace(&mut *p.itimer_real.lock(), (deadline, interval));
    if deadline != 0 {
        if !STARTED.swap(true, Ordering::AcqRel) {
            crate::sched::spawn("itimer", run);
        }
        ARMED.lock().insert((deadline, p.pid));
    }
    GENERATION.fetch_add(1, Ordering::AcqRel);
    CHANGED.wake_all();
    let remaining = if old.0 == 0 {
        0
    } else {
        old.0.saturating_sub(now).max(1)
    };
    (remaining, old.1)
}

/// The real timer of `p`: (remaining ns, interval ns).
pub fn get(p: &Process) -> (u64, u64) {
    let (deadline, interval) = *p.itimer_real.lock();
    let remaining = if deadline == 0 {
        0
    } else {
        deadline.saturating_sub(crate::time::now_ns()).max(1)
    };
    (remaining, interval)
}

fn run() {
    loop {
        let seen = GENERATION.load(Ordering::Acquire);
        let now = crate::time::now_ns();
        let due: alloc::vec::Vec<(u64, u32)> = {
            let mut armed = ARMED.lock();
            let due: alloc::vec::Vec<_> = armed
                .iter()
                .copied()
                .take_while(|&(d, _)| d <= now)
                .collect();
            for e in &due {
                armed.remove(e);
            }
            due
        };
        for (deadline, pid) in due {
            let Some(p) = table::process(pid) else {
                continue;
            };
            let rearm = {
                let mut t = p.itimer_real.lock();
                if t.0 != deadline {
                    continue; // re-armed or disarmed since
                }
                t.0 = if t.1 == 0 {
                    0
                } else {
                    now.max(deadline).saturating_add(t.1)
                };
                t.0
            };
            if rearm != 0 {
                ARMED.lock().insert((rearm, pid));
            }
            let _ = super::signals::send(Target::Process(pid), SigInfo::kernel(Signal::SIGALRM));
        }
        let next = ARMED.lock().first().map(|&(d, _)| d);
        CHANGED.wait_until_deadline(next, || GENERATION.load(Ordering::Acquire) != seen);
    }
}
