//! Scheduler tests: wakes are never lost, across CPUs, from threads and from interrupts.
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use rand_xoshiro::rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::Verdict;
use crate::arch::percpu;
use crate::sched::{self, WaitQueue};
use crate::sync::{LockClass, Mutex, PreemptOff, SpinLock};
use crate::time;

/// A ring of threads passing a token: thread `i` waits until the token is `i`, then
/// hands it to `i + 1` and wakes it. One lost wake stops the ring for good, which the
/// bounded wait at the end reports. Sleepers with random deadlines run alongside.
pub fn wake_ring() -> Verdict {
    const THREADS: usize = 16;
    const ROUNDS: u64 = 5_000;
    struct Ring {
        token: AtomicUsize,
        passes: AtomicU64,
        queues: Vec<WaitQueue>,
    }
    let ring = Arc::new(Ring {
        token: AtomicUsize::new(0),
        passes: AtomicU64::new(0),
        queues: (0..THREADS).map(|_| WaitQueue::new()).collect(),
    });
    let mut handles = Vec::new();
    for i in 0..THREADS {
        let ring = ring.clone();
        handles.push(sched::spawn(format!("ring{i}"), move || {
            for _ in 0..ROUNDS {
                ring.queues[i].wait_until(|| ring.token.load(Ordering::SeqCst) == i);
                ring.passes.fetch_add(1, Ordering::Relaxed);
                let next = (i + 1) % THREADS;
                ring.token.store(next, Ordering::SeqCst);
                ring.queues[next].wake_all();
            }
        }));
    }
    let sleepers_done = Arc::new(AtomicU64::new(0));
    let early = Arc::new(AtomicU64::new(0));
    for s in 0..8u64 {
        let (done, early) = (sleepers_done.clone(), early.clone());
        handles.push(sched::spawn(format!("sleeper{s}"), move || {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(s);
            for _ in 0..50 {
                let x = rng.next_u64();
                let deadline = time::now_ns() + 100_000 + x % 2_000_000;
                sched::sleep_until(deadline);
                if time::now_ns() < deadline {
                    early.fetch_add(1, Ordering::Relaxed);
                }
            }
            done.fetch_add(1, Ordering::Relaxed);
        }));
    }
    let deadline = time::now_ns() + 60_000_000_000;
    while time::now_ns() < deadline
        && (ring.passes.load(Ordering::Relaxed) != THREADS as u64 * ROUNDS
            || sleepers_done.load(Ordering::Relaxed) != 8)
    {
        sched::sleep_ns(10_000_000);
    }
    let passes = ring.passes.load(Ordering::Relaxed);
    if passes != THREADS as u64 * ROUNDS {
        return Err(format!(
            "ring stalled after {passes} of {} passes: a wake was lost",
            THREADS as u64 * ROUNDS
        ));
    }
    if sleepers_done.load(Ordering::Relaxed) != 8 {
        return Err(format!(
            "{} of 8 sleepers finished",
            sleepers_done.load(Ordering::Relaxed)
        ));
    }
    if early.load(Ordering::Relaxed) != 0 {
        return Err(format!(
            "{} sleeps returned before their deadline",
            early.load(Ordering::Relaxed)
        ));
    }
    for h in &handles {
        sched::join(h);
    }
    let cpus_used = (0..percpu::count())
        .filter(|&c| sched::cpu_counters(c).0 > 0)
        .count();
    crate::info!(
        "wake ring: {passes} token passes over {THREADS} threads, 400 sleeps, switches on {cpus_used} CPUs, wakes {}/{}/{} (requested/delivered/already runnable)",
        sched::WAKES_REQUESTED.load(Ordering::Relaxed),
        sched::WAKES_DELIVERED.load(Ordering::Relaxed),
        sched::WAKES_ALREADY_RUNNABLE.load(Ordering::Relaxed)
    );
    if percpu::count() > 1 && cpus_used < 2 {
        return Err(format!("threads ran on {cpus_used} CPU(s) only"));
    }
    Ok(())
}

static PRODUCED: AtomicU64 = AtomicU64::new(0);
static CONSUMER_QUEUE: WaitQueue = WaitQueue::new();
static PRODUCING: AtomicBool = AtomicBool::new(false);

/// Events the timer hook produces per tick.
const EVENTS_PER_TICK: u64 = 64;

fn produce_in_interrupt() {
    if PRODUCING.load(Ordering::Relaxed) {
        for _ in 0..EVENTS_PER_TICK {
            PRODUCED.fetch_add(1, Ordering::SeqCst);
            CONSUMER_QUEUE.wake_all();
        }
    }
}

/// Threads on every CPU add to one counter under a sleeping [`Mutex`], yielding inside
/// the critical section so others must block on it; no increment may be lost.
pub fn mutex() -> Verdict {
    const THREADS: u64 = 8;
    const ROUNDS: u64 = 2_000;
    let counter = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let counter = counter.clone();
            sched::spawn(format!("mutex{i}"), move || {
                for _ in 0..ROUNDS {
                    let mut c = counter.lock();
                    let v = *c;
                    sched::yield_now();
                    *c = v + 1;
                }
            })
        })
        .collect();
    let deadline = time::now_ns() + 30_000_000_000;
    for h in &handles {
        if !sched::join_until(h, deadline) {
            for t in sched::threads() {
                crate::println!(
                    "thread {} {} cpu{} {}",
                    t.id,
                    t.name,
                    t.cpu(),
                    t.state().name()
                );
            }
            return Err(format!("{} did not finish: a mutex wake was lost", h.name));
        }
    }
    let total = *counter.lock();
    crate::info!("mutex: {total} increments by {THREADS} threads");
    if total != THREADS * ROUNDS {
        return Err(format!(
            "{total} increments instead of {}",
            THREADS * ROUNDS
        ));
    }
    Ok(())
}

/// Blocking while holding a spin lock: `might_sleep` must panic with a clear message.
pub fn might_sleep() -> Verdict {
    static CLASS: LockClass = LockClass::new("test.held_while_sleeping");
    static LOCK: SpinLock<(), PreemptOff> = SpinLock::new((), &CLASS);
    let mutex = Mutex::new(());
    let _held = LOCK.lock();
    let _m = mutex.lock();
    Err(alloc::string::String::from(
        "blocking with a spin lock held did not panic",
    ))
}

/// A producer in the timer interrupt (20 kHz, 64 events and wakes per tick) and a
/// consumer thread that sleeps whenever it has caught up. At the end every produced
/// event must have been consumed: a lost wake would leave the consumer asleep with
/// events pending.
pub fn interrupt_wakes() -> Verdict {
    const TARGET: u64 = 2_000_000;
    let consumed = Arc::new(AtomicU64::new(0));
    let sleeps = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let consumer = {
        let (consumed, sleeps, stop) = (consumed.clone(), sleeps.clone(), stop.clone());
        sched::spawn("consumer", move || loop {
            let seen = consumed.load(Ordering::Relaxed);
            if seen == PRODUCED.load(Ordering::SeqCst) {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                sleeps.fetch_add(1, Ordering::Relaxed);
                CONSUMER_QUEUE.wait_until(|| {
                    PRODUCED.load(Ordering::SeqCst) != consumed.load(Ordering::Relaxed)
                        || stop.load(Ordering::SeqCst)
                });
                continue;
            }
            consumed.store(PRODUCED.load(Ordering::SeqCst), Ordering::Relaxed);
        })
    };
    time::set_tick_hook(Some(produce_in_interrupt));
    PRODUCING.store(true, Ordering::SeqCst);
    time::start_tick(20_000);
    let deadline = time::now_ns() + 60_000_000_000;
    while PRODUCED.load(Ordering::Relaxed) < TARGET && time::now_ns() < deadline {
        sched::sleep_ns(10_000_000);
    }
    PRODUCING.store(false, Ordering::SeqCst);
    time::start_tick(1000);
    time::set_tick_hook(None);
    // Let the consumer drain (bounded), then stop it.
    let drain_deadline = time::now_ns() + 5_000_000_000;
    while consumed.load(Ordering::Relaxed) != PRODUCED.load(Ordering::SeqCst)
        && time::now_ns() < drain_deadline
    {
        sched::sleep_ns(1_000_000);
    }
    let (p, c) = (
        PRODUCED.load(Ordering::SeqCst),
        consumed.load(Ordering::Relaxed),
    );
    stop.store(true, Ordering::SeqCst);
    CONSUMER_QUEUE.wake_all();
    sched::join(&consumer);
    crate::info!(
        "interrupt wakes: {p} events and wakes from the timer interrupt, consumer slept {} times",
        sleeps.load(Ordering::Relaxed)
    );
    if p < TARGET {
        return Err(format!("only {p} events produced before the deadline"));
    }
    if c != p {
        return Err(format!("consumer saw {c} of {p} events: a wake was lost"));
    }
    if sleeps.load(Ordering::Relaxed) < 100 {
        return Err(format!(
            "consumer slept only {} times: the test did not exercise the wake path",
            sleeps.load(Ordering::Relaxed)
        ));
    }
    Ok(())
}

/// A thread spins for five seconds with preemption disabled while another thread waits
/// for the same CPU: the watchdog must report a soft lockup (and every CPU's backtrace).
pub fn lockup() -> Verdict {
    let spinner = sched::spawn_pinned("spinner", 0, || {
        crate::irq::preempt_disable();
        let until = time::now_ns() + 5_000_000_000;
        while time::now_ns() < until {
            core::hint::spin_loop();
        }
        crate::irq::preempt_enable();
    });
    sched::sleep_ns(100_000_000);
    let waiter = sched::spawn_pinned("waiter", 0, || {});
    sched::join(&spinner);
    sched::join(&waiter);
    Err(alloc::string::String::from(
        "the watchdog did not report a CPU spinning with preemption off",
    ))
}
