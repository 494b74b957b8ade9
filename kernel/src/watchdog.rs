//! The lockup watchdog: a CPU that stops making progress is reported, not silently hung.
//!
//! Every CPU's timer tick checks the CPU itself: when threads have been waiting on its run
//! queue for more than [`THRESHOLD_NS`] without a single context switch, the CPU is stuck
//! in code that cannot be preempted (a spin lock, a softirq, interrupts turned off and
//! on) — the seed's deadlock looks exactly like this. Each tick also checks the other
//! CPUs' tick counts: one whose ticks stopped for that long has interrupts off for good.
//! Either way the kernel panics; the panic stops the other CPUs with an NMI and each of
//! them prints its backtrace first. On by default; `watchdog=off` disables it.
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::arch::percpu;

/// How long a CPU may fail to make progress.
pub const THRESHOLD_NS: u64 = 2_000_000_000;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// Per CPU: when it last switched threads (or last had nothing waiting).
static LAST_PROGRESS: [AtomicU64; percpu::MAX_CPUS] =
    [const { AtomicU64::new(0) }; percpu::MAX_CPUS];
/// Per CPU: (tick count, when another CPU saw it change).
static SEEN_TICKS: [AtomicU64; percpu::MAX_CPUS] = [const { AtomicU64::new(0) }; percpu::MAX_CPUS];
static SEEN_AT: [AtomicU64; percpu::MAX_CPUS] = [const { AtomicU64::new(0) }; percpu::MAX_CPUS];

/// Starts watching (after every CPU is up).
pub fn enable(on: bool) {
    let now = crate::time::now_ns();
    for i in 0..percpu::count() {
        LAST_PROGRESS[i].store(now, Ordering::Relaxed);
        SEEN_AT[i].store(now, Ordering::Relaxed);
    }
    ENABLED.store(on, Ordering::Release);
}

/// Records that this CPU made progress (it switched threads, or had nothing waiting).
pub fn progress(now: u64) {
    LAST_PROGRESS[percpu::cpu_index() as usize].store(now, Ordering::Relaxed);
}

/// The tick's check. Hardirq context. `waiting` = threads are queued on this CPU.
pub fn on_tick(now: u64, waiting: bool) {
    if !ENABLED.load(Ordering::Acquire) {
        return;
    }
    let me = percpu::cpu_index() as usize;
    if !waiting {
        progress(now);
    } else if now.saturating_sub(LAST_PROGRESS[me].load(Ordering::Relaxed)) > THRESHOLD_NS {
        ENABLED.store(false, Ordering::Release);
        panic!("watchdog: cpu{me} made no progress for 2 s with threads waiting (soft lockup)");
    }
    for cpu in percpu::all() {
        let i = cpu.index as usize;
        if i == me {
            continue;
        }
        let ticks = cpu.timer_ticks.load(Ordering::Relaxed);
        if SEEN_TICKS[i].swap(ticks, Ordering::Relaxed) != ticks {
            SEEN_AT[i].store(now, Ordering::Relaxed);
        } else if now.saturating_sub(SEEN_AT[i].load(Ordering::Relaxed)) > THRESHOLD_NS {
            ENABLED.store(false, Ordering::Release);
            panic!("watchdog: cpu{i} took no timer interrupt for 2 s (hard lockup)");
        }
    }
}
