//! The load average (`/proc/loadavg`, `sysinfo`) and the thread counts beside it.
//!
//! Linux (`kernel/sched/loadavg.c`) folds the number of active threads into three
//! fixed-point exponential averages every 5 s; the arithmetic is
//! `cpustat::loadavg`. Here the boot CPU's tick takes the sample, counting every thread
//! that is running or ready (the idle threads excepted) by a walk of the thread table
//! every 5 s, rather than keeping per-CPU counts on every switch as Linux does. Linux also
//! counts uninterruptible sleepers (`D` state, mostly block I/O); Halyard's waits are all
//! interruptible or have no I/O behind them, so none are counted.
use core::sync::atomic::{AtomicU64, Ordering};

use cpustat::loadavg::{LoadAvg, LOAD_FREQ_NS};

use super::thread::State;
use crate::arch::percpu;

/// The three averages (fixed point), written only by the boot CPU's tick.
static AVENRUN: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];
/// When the next sample is due (monotonic ns; 0 before the first tick).
static NEXT_SAMPLE_NS: AtomicU64 = AtomicU64::new(0);

/// Takes a sample every [`LOAD_FREQ_NS`] and a tick. Hardirq context, every CPU's tick.
pub(super) fn on_tick(now: u64) {
    if percpu::cpu_index() != 0 {
        return;
    }
    // Linux's `LOAD_FREQ`: 5 s and one tick.
    let period = LOAD_FREQ_NS + 1_000_000_000 / crate::time::tick_hz().max(1);
    let next = NEXT_SAMPLE_NS.load(Ordering::Relaxed);
    if next == 0 {
        NEXT_SAMPLE_NS.store(now + period, Ordering::Relaxed);
        return;
    }
    if now < next {
        return;
    }
    NEXT_SAMPLE_NS.store(next + period, Ordering::Relaxed);
    let mut avg = load_average();
    avg.update(nr_running());
    for (slot, v) in AVENRUN.iter().zip(avg.0) {
        slot.store(v, Ordering::Relaxed);
    }
}

/// The 1-, 5- and 15-minute averages.
pub fn load_average() -> LoadAvg {
    LoadAvg(AVENRUN.each_ref().map(|a| a.load(Ordering::Relaxed)))
}

/// Threads running or ready to run, the idle threads excepted (Linux's `nr_running`).
pub fn nr_running() -> u64 {
    super::THREADS
        .lock()
        .values()
        .filter(|t| !t.is_idle && matches!(t.state(), State::Running | State::Ready))
        .count() as u64
}

/// Live threads, the idle threads excepted (Linux's `nr_threads`).
pub fn nr_threads() -> u64 {
    super::THREADS
        .lock()
        .values()
        .filter(|t| !t.is_idle)
        .count() as u64
}
