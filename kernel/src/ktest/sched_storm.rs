//! `sched-storm`: the reproducer for the scheduler's double-run race (see the module docs
//! of `sched::cpu`, "Who queues a thread").
//!
//! Before the fix, a thread could be in a CPU's wake queue *and* a run queue at once (a
//! wake that landed while it was switching out). An idle CPU stealing it from the run
//! queue cleared `on_rq` a few instructions before marking it on a CPU; a drain of the
//! stale wake entry on another CPU in that window queued it again, and both CPUs later
//! ran it on the same stack (a page fault, or a #DB from an RFLAGS popped off a stack the
//! other CPU had overwritten). The window is a handful of instructions, so this test
//! widens every ingredient at once, on every CPU, for a bounded time:
//! - many threads waking each other while they are still switching out (stale wakes);
//! - short timed waits (sleep timers firing while their thread is mid-switch);
//! - yields and short spins, so run queues are long and idle CPUs steal;
//! - spawn/exit/join storms, with the stack cache both emptied and overfilled;
//! - a 10 kHz tick on every CPU, so slices end and interrupts preempt constantly.
//!
//! Since the fix, `switch_to` checks that the next thread is not on a CPU already, so a
//! regression is reported by name (`already running on another CPU`) instead of by the
//! corruption it causes.
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rand_xoshiro::rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::Verdict;
use crate::arch::percpu;
use crate::sched::{self, WaitQueue};
use crate::time;

const WORKERS: usize = 3;
const ROUNDS: u64 = 16_000;
/// Threads started at once in a burst: more than the stack cache holds (64), so freed
/// stacks overflow it and take the unmap path.
const BURST: usize = 72;
const BURSTS: usize = 4;
const TICK_HZ: u64 = 10_000;
const DEADLINE_NS: u64 = 90_000_000_000;

struct Storm {
    flags: Vec<AtomicBool>,
    queues: Vec<WaitQueue>,
    rounds: AtomicU64,
    children: AtomicU64,
    timed_out_waits: AtomicU64,
    finished: AtomicU64,
}

pub fn run() -> Verdict {
    let storm = Arc::new(Storm {
        flags: (0..WORKERS).map(|_| AtomicBool::new(false)).collect(),
        queues: (0..WORKERS).map(|_| WaitQueue::new()).collect(),
        rounds: AtomicU64::new(0),
        children: AtomicU64::new(0),
        timed_out_waits: AtomicU64::new(0),
        finished: AtomicU64::new(0),
    });
    set_tick_everywhere(TICK_HZ);
    sched::set_race_delays(true);
    let workers: Vec<_> = (0..WORKERS)
        .map(|i| {
            let storm = storm.clone();
            sched::spawn(format!("storm{i}"), move || worker(&storm, i))
        })
        .collect();
    let bursts = sched::spawn("storm-bursts", || {
        for _ in 0..BURSTS {
            let threads: Vec<_> = (0..BURST)
                .map(|k| {
                    sched::spawn(format!("burst{k}"), move || {
                        sched::sleep_ns(k as u64 * 20_000)
                    })
                })
                .collect();
            for t in &threads {
                sched::join(t);
            }
        }
    });
    let deadline = time::now_ns() + DEADLINE_NS;
    let mut all_joined = sched::join_until(&bursts, deadline);
    for w in &workers {
        all_joined &= sched::join_until(w, deadline);
    }
    sched::set_race_delays(false);
    set_tick_everywhere(1000);
    let (rounds, children, timeouts) = (
        storm.rounds.load(Ordering::Relaxed),
        storm.children.load(Ordering::Relaxed),
        storm.timed_out_waits.load(Ordering::Relaxed),
    );
    let steals: u64 = (0..percpu::count()).map(|c| sched::cpu_counters(c).1).sum();
    crate::info!(
        "sched storm: {rounds} rounds by {WORKERS} workers, {children} short-lived children, {} burst threads, {timeouts} timed-out waits, {steals} steals",
        BURST * BURSTS
    );
    if !all_joined {
        return Err(format!(
            "workers stalled: {} of {WORKERS} finished, {rounds} rounds done",
            storm.finished.load(Ordering::Relaxed)
        ));
    }
    if rounds != WORKERS as u64 * ROUNDS {
        return Err(format!(
            "{rounds} rounds instead of {}",
            WORKERS as u64 * ROUNDS
        ));
    }
    if percpu::count() > 1 && steals == 0 {
        return Err("no CPU ever stole a thread: the storm did not exercise stealing".into());
    }
    Ok(())
}

fn worker(storm: &Storm, me: usize) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(me as u64);
    for round in 0..ROUNDS {
        let x = rng.next_u64();
        // Wake someone, who may be running or switching out right now.
        let other = (x % WORKERS as u64) as usize;
        storm.flags[other].store(true, Ordering::SeqCst);
        storm.queues[other].wake_all();
        match (x >> 8) % 4 {
            0 => sched::yield_now(),
            1 => {
                let until = time::now_ns() + (x >> 16) % 200_000;
                let woken = storm.queues[me].wait_until_deadline(Some(until), || {
                    storm.flags[me].swap(false, Ordering::SeqCst)
                });
                if !woken {
                    storm.timed_out_waits.fetch_add(1, Ordering::Relaxed);
                }
            }
            2 if round % 8 == 0 => {
                let child = sched::spawn("storm-child", || {
                    sched::yield_now();
                    sched::yield_now();
                });
                sched::join(&child);
                storm.children.fetch_add(1, Ordering::Relaxed);
            }
            _ => time::busy_wait_us((x >> 24) % 20),
        }
        storm.rounds.fetch_add(1, Ordering::Relaxed);
    }
    storm.finished.fetch_add(1, Ordering::Relaxed);
}

/// Sets the tick rate on every CPU (each CPU programs its own LAPIC timer).
fn set_tick_everywhere(hz: u64) {
    let setters: Vec<_> = (0..percpu::count() as u32)
        .map(|cpu| sched::spawn_pinned(format!("tick{cpu}"), cpu, move || time::start_tick(hz)))
        .collect();
    for s in &setters {
        sched::join(s);
    }
}
