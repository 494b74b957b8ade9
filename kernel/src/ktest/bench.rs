//! Scheduler and lock benchmarks (run by `cargo xtask bench`, not by the test suite).
//!
//! Prints one `BENCH-CONFIG lockdep=on|off cpus=N` line, then `BENCH name value unit`
//! lines: context-switch cost, wake latency on the same CPU and across CPUs (median and
//! p99), and the cost of an uncontended spin lock round trip. The xtask
//! (`xtask/src/bench/sched.rs`) boots this test once with `lockdep=on` and once with
//! `lockdep=off` per round, so the validator's cost is the ratio of the two boots on every
//! row, not only on the lock: switching the validator at run time while other CPUs hold
//! locks would leave their held-lock stacks out of step with reality.
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::Verdict;
use crate::arch::percpu;
use crate::sched::{self, WaitQueue};
use crate::sync::{LockClass, PreemptOff, SpinLock};
use crate::{println, time};

fn report(name: &str, value: u64, unit: &str) {
    println!("BENCH {name} {value} {unit}");
}

/// Two threads on one CPU yielding to each other: nanoseconds per switch.
fn context_switch() -> u64 {
    const YIELDS: u64 = 20_000;
    let start = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let start = start.clone();
            sched::spawn_pinned(alloc::format!("yield{i}"), 0, move || {
                while !start.load(Ordering::Acquire) {
                    sched::yield_now();
                }
                for _ in 0..YIELDS {
                    sched::yield_now();
                }
            })
        })
        .collect();
    let t0 = time::now_ns();
    start.store(true, Ordering::Release);
    for t in &threads {
        sched::join(t);
    }
    (time::now_ns() - t0) / (2 * YIELDS)
}

/// Wake latency from a waker on CPU 0 to a sleeper on `sleeper_cpu`: (median, p99) ns.
fn wake_latency(sleeper_cpu: u32) -> (u64, u64) {
    const ROUNDS: usize = 2_000;
    struct Shared {
        queue: WaitQueue,
        round: AtomicU64,
        woken_at: AtomicU64,
        acked: AtomicU64,
    }
    let s = Arc::new(Shared {
        queue: WaitQueue::new(),
        round: AtomicU64::new(0),
        woken_at: AtomicU64::new(0),
        acked: AtomicU64::new(0),
    });
    let sleeper = {
        let s = s.clone();
        sched::spawn_pinned("sleeper", sleeper_cpu, move || {
            for r in 1..=ROUNDS as u64 {
                s.queue.wait_until(|| s.round.load(Ordering::SeqCst) >= r);
                s.woken_at.store(time::now_ns(), Ordering::SeqCst);
                s.acked.store(r, Ordering::SeqCst);
            }
        })
    };
    let samples = Arc::new(crate::sync::Mutex::new(Vec::with_capacity(ROUNDS)));
    let waker = {
        let (s, samples) = (s.clone(), samples.clone());
        sched::spawn_pinned("waker", 0, move || {
            for r in 1..=ROUNDS as u64 {
                // Let the sleeper block first.
                sched::sleep_ns(200_000);
                let t0 = time::now_ns();
                s.round.store(r, Ordering::SeqCst);
                s.queue.wake_all();
                while s.acked.load(Ordering::SeqCst) < r {
                    sched::yield_now();
                }
                samples.lock().push(s.woken_at.load(Ordering::SeqCst) - t0);
            }
        })
    };
    sched::join(&waker);
    sched::join(&sleeper);
    let mut v = core::mem::take(&mut *samples.lock());
    v.sort_unstable();
    (v[v.len() / 2], v[v.len() * 99 / 100])
}

/// Nanoseconds per lock + unlock of an uncontended spin lock.
fn lock_round_trip() -> u64 {
    static CLASS: LockClass = LockClass::new("bench.lock");
    static LOCK: SpinLock<u64, PreemptOff> = SpinLock::new(0, &CLASS);
    const N: u64 = 200_000;
    let t0 = time::now_ns();
    for _ in 0..N {
        *LOCK.lock() += 1;
    }
    (time::now_ns() - t0) / N
}

pub fn run() -> Verdict {
    println!(
        "BENCH-CONFIG lockdep={} cpus={}",
        if crate::sync::lockdep_enabled() {
            "on"
        } else {
            "off"
        },
        percpu::count()
    );
    report("context_switch", context_switch(), "ns");
    let (median, p99) = wake_latency(0);
    report("wake_latency_same_cpu_p50", median, "ns");
    report("wake_latency_same_cpu_p99", p99, "ns");
    if percpu::count() > 1 {
        let (median, p99) = wake_latency(1);
        report("wake_latency_cross_cpu_p50", median, "ns");
        report("wake_latency_cross_cpu_p99", p99, "ns");
    }
    report("spin_lock_round_trip", lock_round_trip(), "ns");
    Ok(())
}
