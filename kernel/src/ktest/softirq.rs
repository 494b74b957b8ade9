//! Softirq tests: the restart budget hands a flood to ksoftirqd without starving
//! threads, and the seed's scenario in miniature cannot deadlock.
use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use preempt::Softirq;

use super::Verdict;
use crate::arch::percpu;
use crate::irq::softirq;
use crate::sched;
use crate::sync::{BhLock, LockClass};
use crate::time;

/// One softirq's counters summed over every CPU.
struct SoftirqTotals {
    entries: u64,
    exits: u64,
    deferred: u64,
}

fn totals(which: Softirq) -> SoftirqTotals {
    percpu::all().fold(
        SoftirqTotals {
            entries: 0,
            exits: 0,
            deferred: 0,
        },
        |t, c| {
            let s = softirq::cpu_state(c.index as usize)
                .stats()
                .of(which)
                .snapshot();
            SoftirqTotals {
                entries: t.entries + s.entries,
                exits: t.exits + s.exits,
                deferred: t.deferred + s.deferred_to_ksoftirqd,
            }
        },
    )
}

static FLOODING: AtomicBool = AtomicBool::new(false);
static FLOOD_RUNS: AtomicU64 = AtomicU64::new(0);

/// A softirq handler that raises itself again: an endless stream of work.
fn flood_handler() {
    FLOOD_RUNS.fetch_add(1, Ordering::Relaxed);
    if FLOODING.load(Ordering::Relaxed) {
        softirq::raise(Softirq::Tasklet);
    }
}

/// For two seconds the Tasklet softirq re-raises itself forever. The restart budget must
/// defer it to ksoftirqd, and an ordinary thread must keep getting CPU time meanwhile.
pub fn flood() -> Verdict {
    softirq::register(Softirq::Tasklet, flood_handler);
    let worker_progress = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let (progress, stop) = (worker_progress.clone(), stop.clone());
        sched::spawn("worker", move || {
            while !stop.load(Ordering::Relaxed) {
                progress.fetch_add(1, Ordering::Relaxed);
                sched::yield_now();
            }
        })
    };
    FLOODING.store(true, Ordering::SeqCst);
    softirq::raise(Softirq::Tasklet);
    let progress_before = worker_progress.load(Ordering::Relaxed);
    sched::sleep_ns(2_000_000_000);
    let progress_during = worker_progress.load(Ordering::Relaxed) - progress_before;
    FLOODING.store(false, Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    sched::join(&worker);
    sched::sleep_ns(10_000_000);
    let SoftirqTotals {
        entries,
        exits,
        deferred,
    } = totals(Softirq::Tasklet);
    crate::info!(
        "softirq flood: {} handler runs, {deferred} hand-offs to ksoftirqd, worker progressed {progress_during} times",
        FLOOD_RUNS.load(Ordering::Relaxed)
    );
    if deferred == 0 {
        return Err("the flood was never deferred to ksoftirqd".into());
    }
    if progress_during == 0 {
        return Err("the worker thread was starved by the softirq flood".into());
    }
    if entries != exits {
        return Err(format!("softirq entries {entries} != exits {exits}"));
    }
    Ok(())
}

static TABLE_CLASS: LockClass = LockClass::new("test.net_table");
/// Stands for the TCP connection table of the seed: shared by threads and NET_RX.
static TABLE: BhLock<u64> = BhLock::new(0, &TABLE_CLASS);
static SOFTIRQ_TAKES: AtomicU64 = AtomicU64::new(0);
static RAISING: AtomicBool = AtomicBool::new(false);

fn raise_net_rx_from_tick() {
    if RAISING.load(Ordering::Relaxed) {
        softirq::raise(Softirq::NetRx);
    }
}

fn net_rx_handler() {
    *TABLE.lock() += 1;
    SOFTIRQ_TAKES.fetch_add(1, Ordering::Relaxed);
}

/// The seed's deadlock in miniature: on every CPU a thread holds the table lock in a
/// loop while the timer interrupt raises NET_RX, whose handler takes the same lock on the
/// same CPU. With a bottom-half lock this cannot deadlock; the test runs three seconds
/// and then requires progress on both sides and NET_RX entries == exits.
pub fn seed_scenario() -> Verdict {
    softirq::register(Softirq::NetRx, net_rx_handler);
    let stop = Arc::new(AtomicBool::new(false));
    let thread_takes = Arc::new(AtomicU64::new(0));
    let mut workers = alloc::vec::Vec::new();
    for c in percpu::all() {
        let (stop, takes) = (stop.clone(), thread_takes.clone());
        workers.push(sched::spawn_pinned(
            format!("holder{}", c.index),
            c.index,
            move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut t = TABLE.lock();
                    *t += 1;
                    // Hold it for a while so the tick often lands inside.
                    let until = time::now_ns() + 20_000;
                    while time::now_ns() < until {
                        core::hint::spin_loop();
                    }
                    drop(t);
                    takes.fetch_add(1, Ordering::Relaxed);
                }
            },
        ));
    }
    time::set_tick_hook(Some(raise_net_rx_from_tick));
    RAISING.store(true, Ordering::SeqCst);
    time::start_tick(10_000);
    sched::sleep_ns(3_000_000_000);
    RAISING.store(false, Ordering::SeqCst);
    time::start_tick(1000);
    time::set_tick_hook(None);
    stop.store(true, Ordering::SeqCst);
    for w in &workers {
        sched::join(w);
    }
    sched::sleep_ns(10_000_000);
    let SoftirqTotals { entries, exits, .. } = totals(Softirq::NetRx);
    let (t, s) = (
        thread_takes.load(Ordering::Relaxed),
        SOFTIRQ_TAKES.load(Ordering::Relaxed),
    );
    crate::info!("seed scenario: threads took the lock {t} times, NET_RX {s} times; NET_RX entries={entries} exits={exits}");
    if t == 0 || s == 0 {
        return Err(format!("no progress: threads {t}, softirq {s}"));
    }
    if entries != exits {
        return Err(format!("NET_RX entries {entries} != exits {exits}"));
    }
    if *TABLE.lock() != t + s {
        return Err(format!(
            "lost updates: table {} != {}",
            *TABLE.lock(),
            t + s
        ));
    }
    Ok(())
}
