//! CPU-time accounting: what each CPU and each thread spent its time on (`/proc/stat`,
//! `/proc/uptime`'s idle time, `/proc/PID/stat`, `times`, `getrusage`).
//!
//! Decision: tick sampling, Linux's default without `CONFIG_VIRT_CPU_ACCOUNTING`
//! (`account_process_tick` in `kernel/sched/cputime.c`). At every timer tick the CPU
//! charges one tick period to what it was doing when the tick came: user mode, a nested
//! interrupt handler, a softirq, its idle thread, or else the kernel (system); the class
//! rule is `cpustat::cputime::Tick::class`. The running thread gets the same tick as user
//! time or (unless it is the idle thread) system time. Nothing is added to the entry and
//! exit paths, and sampling at 1000 Hz is finer than `/proc/stat`'s 100 Hz clock ticks.
//! A thread's exact run time is measured anyway (at every switch, `Thread::run_ns`), so
//! what programs see is that run time split in the sampled user/system ratio
//! (`cpustat::cputime::Prev::adjust`, Linux's `cputime_adjust`): `times`, `getrusage` and
//! `/proc/PID/stat` agree with `CLOCK_*_CPUTIME_ID` and never go back.
//!
//! Nice and guest time stay 0 (there is no `nice` and no guest), as do iowait and steal.
use core::sync::atomic::{AtomicU64, Ordering};

use cpustat::cputime::{Class, CpuTimes, Prev, Tick, CLASSES};

use super::thread::Thread;
use crate::arch::percpu;
use crate::sync::{IrqLock, LockClass};

/// One CPU's time per class, in nanoseconds (Linux's `kernel_cpustat`); written only by
/// its own tick.
struct CpuStat([AtomicU64; CLASSES]);

static STATS: [CpuStat; percpu::MAX_CPUS] =
    [const { CpuStat([const { AtomicU64::new(0) }; CLASSES]) }; percpu::MAX_CPUS];

/// Threads started since boot (`/proc/stat`'s `processes`, Linux's `total_forks`).
static FORKS: AtomicU64 = AtomicU64::new(0);

/// Charges the tick that just came on this CPU, which was running `current`. Hardirq
/// context (the tick's own).
pub(super) fn account_tick(current: &Thread, user_mode: bool, idle: bool) {
    let count = crate::irq::count::current();
    let tick = Tick {
        user_mode,
        nested_hardirq: count.field(preempt::CountField::Hardirq) > 1,
        serving_softirq: count.in_serving_softirq(),
        idle,
    };
    let ns = 1_000_000_000 / crate::time::tick_hz().max(1);
    let class = tick.class();
    STATS[percpu::cpu_index() as usize].0[class as usize].fetch_add(ns, Ordering::Relaxed);
    // The thread's side: user time, or system time (irq and softirq ticks included, as
    // Linux's `account_system_index_time`) unless it is the idle thread.
    if class == Class::User {
        current.user_tick_ns.fetch_add(ns, Ordering::Relaxed);
    } else if !idle {
        current.system_tick_ns.fetch_add(ns, Ordering::Relaxed);
    }
}

/// CPU `index`'s times so far.
pub fn cpu_times(index: usize) -> CpuTimes {
    CpuTimes(STATS[index].0.each_ref().map(|t| t.load(Ordering::Relaxed)))
}

/// Counts a new thread (`processes`).
pub(super) fn note_fork() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// Threads started since boot.
pub fn forks() -> u64 {
    FORKS.load(Ordering::Relaxed)
}

/// The tick-sampled (user, system) time of `t`, in nanoseconds.
pub fn sampled_ns(t: &Thread) -> (u64, u64) {
    (
        t.user_tick_ns.load(Ordering::Relaxed),
        t.system_tick_ns.load(Ordering::Relaxed),
    )
}

/// `t`'s run time split into (user, system) nanoseconds (`RUSAGE_THREAD`).
pub fn thread_times_ns(t: &Thread) -> (u64, u64) {
    let (user, system) = sampled_ns(t);
    let rtime = super::cpu_time_ns(t);
    t.cputime_prev.lock().adjust(rtime, user, system)
}

static PREV_CLASS: LockClass = LockClass::new("sched.cputime_prev");

/// The last (user, system) time reported for a thread or a process (Linux keeps one
/// per thread and one per thread group), behind a lock: readers on several CPUs adjust
/// it.
pub type PrevLock = IrqLock<Prev>;

/// A [`PrevLock`] with nothing reported yet.
pub fn new_prev() -> PrevLock {
    IrqLock::new(Prev::default(), &PREV_CLASS)
}
