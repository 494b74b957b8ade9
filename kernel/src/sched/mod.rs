//! The scheduler: preemptive, per-CPU run queues, lossless wakes, sleeping, joining.
//!
//! - [`thread`]: the thread object and the context switch.
//! - [`cpu`]: run queues, [`wake`], [`schedule`], stealing by idle CPUs, time slices.
//! - [`wait`]: wait queues (prepare-to-wait / check / schedule).
//! - [`sleep`]: deadlines, expired by the TIMER softirq.
//! - [`cputime`]: CPU time per CPU and per thread, sampled at each tick.
//! - [`loadavg`]: the load average and the counts of runnable and live threads.
//!
//! Preemption: the tick ends a thread's slice when others wait (`need_resched`); the
//! switch happens on interrupt exit if the interrupted code is preemptible, or when the
//! thread blocks. If it stays pending for ten ticks (the thread had preemption or bottom
//! halves off at every tick, e.g. taking a lock in a loop), the next point where they
//! come back on switches too (`irq::count::preemption_point`).
//!
//! Each CPU's boot context becomes its idle thread; the boot CPU spawns the monitor and
//! the kernel services as threads and then idles too.
mod cpu;
pub mod cputime;
pub mod loadavg;
mod race_delay;
pub mod sleep;
mod thread;
mod wait;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use preempt::Softirq;

pub use cpu::{
    cpu_time_ns, current, need_resched, preempt_if_needed, resched_overdue, schedule, wake,
    WAKES_ALREADY_RUNNABLE, WAKES_DELIVERED, WAKES_REQUESTED,
};
pub use race_delay::set_enabled as set_race_delays;
pub use thread::{State, Thread, STACK_SIZE};
pub use wait::WaitQueue;

use crate::arch::percpu;
use crate::mm::MemError;
use crate::sync::{IrqLock, LockClass};

static THREADS_CLASS: LockClass = LockClass::new("sched.threads");
/// Every thread that has not exited (and been switched away from) yet, by id.
static THREADS: IrqLock<BTreeMap<u64, Arc<Thread>>> = IrqLock::new(BTreeMap::new(), &THREADS_CLASS);

/// Sets up scheduling on the calling CPU (its boot context becomes its idle thread).
/// Every CPU, once, interrupts off.
pub fn init_cpu() {
    let idle = cpu::init_cpu();
    THREADS.lock().insert(idle.id, idle);
}

/// Registers the scheduler's softirq and IPI handlers. Boot CPU, once.
pub fn init() {
    crate::irq::softirq::register(Softirq::Timer, sleep::expire);
    crate::arch::entry::register(crate::arch::interrupts::RESCHED_VECTOR, |_| {});
    crate::arch::tlb::init();
}

/// The scheduler's part of the timer tick (hardirq context); `user_mode`: the tick
/// interrupted ring 3.
pub fn on_tick(now: u64, user_mode: bool) {
    cpu::tick(now, user_mode);
    loadavg::on_tick(now);
    if sleep::due(now) {
        crate::irq::softirq::raise(Softirq::Timer);
    }
}

fn start(t: Thread) -> Arc<Thread> {
    let t = Arc::new(t);
    THREADS.lock().insert(t.id, t.clone());
    cputime::note_fork();
    // A new thread enters the scheduler the way a woken one does.
    t.set_state(State::Blocked);
    wake(&t);
    t
}

/// The CPU with the shortest run queue (where a new thread starts).
fn least_loaded_cpu() -> u32 {
    (0..percpu::count())
        .min_by_key(|&i| cpu::cpu_sched(i).run_queue.lock().len())
        .unwrap_or(0) as u32
}

/// Starts a kernel thread running `f`, or says why it cannot: no frames for its stack,
/// or free memory below the reserve ([`crate::mm::heap::low_memory`]: the thread's own
/// heap objects must not be what exhausts the heap). Process context.
pub fn try_spawn(
    name: impl Into<String>,
    f: impl FnOnce() + Send + 'static,
) -> Result<Arc<Thread>, MemError> {
    try_start(name.into(), None, least_loaded_cpu(), Box::new(f))
}

fn try_start(
    name: String,
    pinned: Option<u32>,
    cpu: u32,
    f: Box<dyn FnOnce() + Send>,
) -> Result<Arc<Thread>, MemError> {
    if crate::mm::heap::low_memory() {
        return Err(MemError::LowMemory);
    }
    Ok(start(Thread::with_entry(name, pinned, cpu, f)?))
}

/// Starts a thread of a process: `f` runs first in the kernel on the new thread (it ends
/// by entering user mode), on `cr3`'s tables with `task` as its process side and `bases`
/// as its user FS/GS. Fails like [`try_spawn`].
pub fn try_spawn_user(
    name: impl Into<String>,
    task: Arc<crate::process::Task>,
    cr3: u64,
    bases: crate::arch::user_mode::SegmentBases,
    f: impl FnOnce() + Send + 'static,
) -> Result<Arc<Thread>, MemError> {
    if crate::mm::heap::low_memory() {
        return Err(MemError::LowMemory);
    }
    let t = Thread::with_entry(name.into(), None, least_loaded_cpu(), Box::new(f))?;
    t.user_cr3.store(cr3, Ordering::Relaxed);
    t.init_user_bases(bases);
    t.task.call_once(|| task);
    Ok(start(t))
}

/// [`try_spawn`] for threads the kernel cannot do without (boot-time services, the
/// monitor, tests): a failure is reported as a panic naming the thread.
pub fn spawn(name: impl Into<String>, f: impl FnOnce() + Send + 'static) -> Arc<Thread> {
    let name = name.into();
    try_start(name.clone(), None, least_loaded_cpu(), Box::new(f))
        .unwrap_or_else(|e| panic!("cannot start thread {name}: {e}"))
}

/// Starts a kernel thread that only ever runs on CPU `cpu_index` (like [`spawn`], a
/// failure is a panic).
pub fn spawn_pinned(
    name: impl Into<String>,
    cpu_index: u32,
    f: impl FnOnce() + Send + 'static,
) -> Arc<Thread> {
    let name = name.into();
    try_start(name.clone(), Some(cpu_index), cpu_index, Box::new(f))
        .unwrap_or_else(|e| panic!("cannot start thread {name}: {e}"))
}

/// Ends the calling thread: wakes its joiners and switches away for good.
pub fn exit_current() -> ! {
    // Interrupts off for good: once Exited, a preemption would switch this thread out and
    // forget it mid-exit, leaking the reference below (and with it the thread and its
    // stack) or leaving its joiners asleep.
    crate::arch::cpu::disable_interrupts();
    let me = current();
    me.set_state(State::Exited);
    me.exited.wake_all();
    drop(me);
    schedule();
    unreachable!("an exited thread was scheduled again")
}

/// Called once an exited thread is off its CPU: drops the scheduler's reference.
fn forget_thread(t: &Arc<Thread>) {
    THREADS.lock().remove(&t.id);
}

/// Waits for `t` to exit. Process context; may sleep.
pub fn join(t: &Arc<Thread>) {
    t.exited.wait_until(|| t.state() == State::Exited);
}

/// Waits for `t` to exit until `deadline_ns`; false if it had not exited by then.
pub fn join_until(t: &Arc<Thread>, deadline_ns: u64) -> bool {
    t.exited
        .wait_until_deadline(Some(deadline_ns), || t.state() == State::Exited)
}

/// Blocks the calling thread until `cond()` holds; the caller arranges for a [`wake`]
/// when it may have become true. Process context; may sleep.
pub fn block_until(mut cond: impl FnMut() -> bool) {
    crate::irq::might_sleep();
    let me = current();
    loop {
        if cond() {
            return;
        }
        me.set_state(State::Blocked);
        if cond() {
            me.set_state(State::Running);
            return;
        }
        schedule();
    }
}

/// Lets other ready threads run.
pub fn yield_now() {
    schedule();
}

/// Sleeps until the monotonic clock reads `deadline_ns`. Process context.
pub fn sleep_until(deadline_ns: u64) {
    let never = WaitQueue::new();
    never.wait_until_deadline(Some(deadline_ns), || false);
}

/// Sleeps for `ns` nanoseconds. Process context.
pub fn sleep_ns(ns: u64) {
    sleep_until(crate::time::now_ns() + ns);
}

/// A snapshot of every live thread (for the `threads` monitor command).
pub fn threads() -> Vec<Arc<Thread>> {
    THREADS.lock().values().cloned().collect()
}

/// Per-CPU (switches, steals).
pub fn cpu_counters(index: usize) -> (u64, u64) {
    let c = cpu::cpu_sched(index);
    (
        c.switches.load(Ordering::Relaxed),
        c.steals.load(Ordering::Relaxed),
    )
}

/// The idle loop body: run whatever is ready, else halt until an interrupt.
pub fn idle_loop() -> ! {
    loop {
        crate::arch::cpu::disable_interrupts();
        if cpu::nothing_to_run() {
            // SAFETY: the idle thread holds no locks; `sti; hlt` cannot miss the wake
            // that an interrupt delivers right after the check.
            unsafe { crate::arch::cpu::enable_interrupts_and_halt() };
        } else {
            // SAFETY: as above.
            unsafe { crate::arch::cpu::enable_interrupts() };
            schedule();
        }
    }
}
