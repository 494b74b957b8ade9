//! Running out of memory is an error, not a panic (`test=spawn-exhaust`).
//!
//! Threads that block until released are started with `sched::try_spawn` until it
//! refuses, which must be for free memory below the reserve (before frames run out). Then they are all
//! released and joined: their stacks' frames must come back, and a second round of
//! threads must run on the freed stack ranges (cached or recycled after every CPU's TLB
//! flush) instead of growing the stack region. Frames the heap took to grow during the
//! round (the threads' own structures) are the heap's, kept for reuse, not stack frames:
//! they are counted apart, so the check is about stacks whatever the heap held before.
use alloc::format;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use super::Verdict;
use crate::mm::{self, MemError};
use crate::sched::{self, WaitQueue};
use crate::time;

/// Most threads the first round may start before a refusal is expected (256 MiB of RAM
/// holds about 3,000 stacks of 64 KiB).
const MAX_THREADS: usize = 20_000;
/// Threads of the second round.
const SECOND_ROUND: usize = 500;
/// Frames that may stay away after the first round: the stack cache keeps up to 64 freed
/// stacks mapped (17 frames each with its share of page tables), plus slack.
const FRAME_SLACK: u64 = 64 * 17 + 256;

static RELEASE: WaitQueue = WaitQueue::new();
static RELEASED: AtomicBool = AtomicBool::new(false);

fn hold() {
    RELEASE.wait_until(|| RELEASED.load(Ordering::Acquire));
}

/// Starts held threads until `try_spawn` refuses or `max` run; returns them and the
/// refusal, if there was one.
fn spawn_held(max: usize) -> (Vec<alloc::sync::Arc<sched::Thread>>, Option<MemError>) {
    RELEASED.store(false, Ordering::Release);
    let mut threads = Vec::new();
    while threads.len() < max {
        match sched::try_spawn("held", hold) {
            Ok(t) => threads.push(t),
            Err(e) => return (threads, Some(e)),
        }
    }
    (threads, None)
}

fn release(threads: Vec<alloc::sync::Arc<sched::Thread>>) {
    RELEASED.store(true, Ordering::Release);
    RELEASE.wake_all();
    for t in &threads {
        sched::join(t);
    }
}

/// Frames the heap holds (its initial run and every run it grew).
fn heap_frames() -> u64 {
    mm::heap::usage().claimed as u64 / mm::PAGE_SIZE
}

pub fn spawn_exhaust() -> Verdict {
    let free_before = mm::frame_stats().free;
    let heap_before = heap_frames();
    let (threads, refusal) = spawn_held(MAX_THREADS);
    let started = threads.len();
    let Some(refusal) = refusal else {
        return Err(format!("{MAX_THREADS} threads started without a refusal"));
    };
    let free_at_refusal = mm::frame_stats().free;
    crate::println!(
        "spawn-exhaust: {started} threads started, then refused: {refusal}; free frames \
         {free_before} -> {free_at_refusal}"
    );
    // The reserve must stop it before the frames run out.
    if refusal != MemError::LowMemory {
        return Err(format!("refused for an unexpected reason: {refusal}"));
    }
    release(threads);
    // The scheduler drops its last references once each thread is off its CPU.
    let deadline = time::now_ns() + 2_000_000_000;
    let heap_grew = || heap_frames().saturating_sub(heap_before);
    while mm::frame_stats().free + heap_grew() + FRAME_SLACK < free_before
        && time::now_ns() < deadline
    {
        sched::sleep_ns(10_000_000);
    }
    let free_after = mm::frame_stats().free;
    let grew = heap_grew();
    if free_after + grew + FRAME_SLACK < free_before {
        return Err(format!(
            "frames not given back: {free_before} free before, {free_after} after, \
             {grew} of them now the heap's"
        ));
    }
    // Every CPU ticks (and flushes) within a few milliseconds.
    sched::sleep_ns(20_000_000);
    let region = mm::stack::stack_stats().region_ranges;
    let (second, refusal) = spawn_held(SECOND_ROUND);
    release(second);
    if let Some(e) = refusal {
        return Err(format!("the second round was refused: {e}"));
    }
    let grown = mm::stack::stack_stats().region_ranges - region;
    crate::println!(
        "spawn-exhaust: frames back to {free_after} of {free_before} ({grew} taken by the \
         heap's growth); {SECOND_ROUND} more threads grew the stack region by {grown} ranges"
    );
    if grown > 0 {
        return Err(format!(
            "the second round took {grown} new stack ranges instead of reusing freed ones"
        ));
    }
    Ok(())
}
