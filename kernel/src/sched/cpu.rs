//! Per-CPU scheduling: run queues, the lossless wake path, switching, stealing.
//!
//! # The wake path
//! [`wake`] may be called from any context on any CPU and takes no scheduler lock: it
//! moves the thread from Blocked to Ready with one compare-exchange and pushes it onto
//! the lock-free wake queue (`wakeq` crate) of the CPU it belongs to. A thread is queued
//! at most once (its embedded link has a "queued" flag), so the queue can never overflow
//! and a wake is never dropped. The owning CPU drains its wake queue into its run queue
//! whenever it schedules; a remote CPU that is idle is kicked with an IPI.
//!
//! # Sleeping without losing a wake
//! A thread that waits marks itself Blocked *before* re-checking its condition, then
//! calls [`schedule`]. A waker that made the condition true afterwards finds it Blocked
//! and wakes it; one that ran before finds the condition... already visible to the
//! re-check. If the wake lands while the thread is still on its CPU, `schedule` sees it
//! Ready and keeps it running.
//!
//! # Switching
//! `schedule` runs with interrupts off. The previous thread is only put back on a run
//! queue by `finish_switch`, on the next thread's stack, once its registers are saved,
//! so another CPU can never steal a thread whose context is still being written.
//!
//! # Who queues a thread
//! Several parties may try to queue the same thread: the drain of a wake queue (for each
//! entry, perhaps stale), and `finish_switch` (a thread that was woken while it switched
//! out). Exactly one may succeed, and never while the thread runs. The rule: a thread's
//! `claimed` flag is set by whoever queues it (one atomic swap decides) and stays set
//! while it sits in a run queue, is stolen, and runs; only `finish_switch` clears it, when
//! the thread has left its CPU blocked, and then looks at its state once more so a wake
//! that found it still claimed is not lost.
//!
//! The bug this rule fixed (CI's rare `#PF`/`#DB` crashes): the claim used to be dropped
//! when a thread was taken off a run queue, a few instructions before it was marked as
//! on a CPU. A thread woken while switching out sat in a run queue *and* a wake queue;
//! if an idle CPU stole it from the run queue while its home CPU drained the stale wake
//! entry, the drain saw it neither queued nor running and queued it again, and two CPUs
//! later ran it on one stack. `ktest::sched_storm` reproduces it (with delays injected
//! at these windows by `race_delay`), and `switch_to` now refuses to run a thread that is
//! on a CPU already.
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use spin::Once;
use wakeq::{Wake, WakeQueue};

use super::thread::{switch_stack, FpuSwitch, State, Thread};
use crate::arch::{cpu, interrupts, lapic, percpu};
use crate::sync::{IrqLock, IrqsDisabled, LockClass};
use crate::time;

/// Timer ticks a thread runs before it is preempted (when others are waiting).
const SLICE_TICKS: u32 = 10;
/// Ticks a requested switch may stay pending (the thread kept preemption or bottom
/// halves off at every tick) before preemption points take it too.
const OVERDUE_TICKS: u32 = 10;

pub(super) struct CpuSched {
    pub(super) run_queue: IrqLock<VecDeque<Arc<Thread>>>,
    wakes: WakeQueue<Thread>,
    pub(super) idle_thread: Once<Arc<Thread>>,
    need_resched: AtomicBool,
    /// Ticks since `need_resched` was set without a switch.
    resched_waited: AtomicU32,
    slice_left: AtomicU32,
    idle: AtomicBool,
    switched_in_ns: AtomicU64,
    /// The thread (id) whose FPU image the CPU's registers hold (0: none), see
    /// [`fpu_switch`].
    fpu_holder: AtomicU64,
    pub(super) switches: AtomicU64,
    pub(super) steals: AtomicU64,
}

crate::cpu_local! {
    /// The running thread.
    static CURRENT: CpuLocal<Option<Arc<Thread>>> = None;
}
crate::cpu_local! {
    /// The thread switched away from, for `finish_switch`.
    static PREV: CpuLocal<Option<Arc<Thread>>> = None;
}

static RUN_QUEUE_CLASS: LockClass = LockClass::new("sched.run_queue");

static CPUS: [CpuSched; percpu::MAX_CPUS] = [const {
    CpuSched {
        run_queue: IrqLock::new(VecDeque::new(), &RUN_QUEUE_CLASS),
        wakes: WakeQueue::new(),
        idle_thread: Once::new(),
        need_resched: AtomicBool::new(false),
        resched_waited: AtomicU32::new(0),
        slice_left: AtomicU32::new(SLICE_TICKS),
        idle: AtomicBool::new(false),
        switched_in_ns: AtomicU64::new(0),
        fpu_holder: AtomicU64::new(0),
        switches: AtomicU64::new(0),
        steals: AtomicU64::new(0),
    }
}; percpu::MAX_CPUS];

/// Wake-path counters (monitor `threads`; benchmarks).
pub static WAKES_REQUESTED: AtomicU64 = AtomicU64::new(0);
pub static WAKES_DELIVERED: AtomicU64 = AtomicU64::new(0);
pub static WAKES_ALREADY_RUNNABLE: AtomicU64 = AtomicU64::new(0);

pub(super) fn cpu_sched(index: usize) -> &'static CpuSched {
    &CPUS[index]
}

fn this() -> &'static CpuSched {
    &CPUS[percpu::cpu_index() as usize]
}

/// Makes the calling CPU's current context its idle thread. Once per CPU, before it
/// first schedules.
pub(super) fn init_cpu() -> Arc<Thread> {
    let index = percpu::cpu_index();
    let me = this();
    let idle = Arc::new(Thread::for_boot_context(index));
    me.idle_thread.call_once(|| idle.clone());
    let irqs = IrqsDisabled::new();
    percpu::set_current_thread(Arc::as_ptr(&idle) as u64);
    *CURRENT.borrow_mut(&irqs) = Some(idle.clone());
    me.switched_in_ns.store(time::now_ns(), Ordering::Relaxed);
    idle
}

/// The thread running on this CPU: a new reference to it, made without turning
/// interrupts off (every system call asks, several times).
pub fn current() -> Arc<Thread> {
    let ptr = percpu::current_thread() as *const Thread;
    assert!(!ptr.is_null(), "scheduler not initialised on this CPU");
    // SAFETY: the address is the caller's own thread (see `percpu::current_thread`),
    // set from an `Arc<Thread>` that CURRENT keeps alive while the thread runs (and a
    // run queue while it is preempted), so its count is positive and may be raised.
    unsafe {
        Arc::increment_strong_count(ptr);
        Arc::from_raw(ptr)
    }
}

/// CPU time of `t` in nanoseconds: what it ran until its last switch, plus the slice it
/// is running now if it is the caller (`CLOCK_THREAD_CPUTIME_ID`).
pub fn cpu_time_ns(t: &Thread) -> u64 {
    let irqs = IrqsDisabled::new();
    let mut ns = t.run_ns.load(Ordering::Relaxed);
    let on_this_cpu = CURRENT
        .borrow_mut(&irqs)
        .as_ref()
        .is_some_and(|c| core::ptr::eq(&**c, t));
    if on_this_cpu {
        ns += time::now_ns().saturating_sub(this().switched_in_ns.load(Ordering::Relaxed));
    }
    ns
}

/// True when this CPU should switch threads at the next opportunity.
pub fn need_resched() -> bool {
    this().need_resched.load(Ordering::Relaxed)
}

/// True when a requested switch has been pending for [`OVERDUE_TICKS`] ticks: the
/// running thread is starving the ones waiting on this CPU.
pub fn resched_overdue() -> bool {
    let me = this();
    me.need_resched.load(Ordering::Relaxed)
        && me.resched_waited.load(Ordering::Relaxed) >= OVERDUE_TICKS
}

/// Queues `t` on CPU `index`'s run queue if it is Ready and nobody else owns it (see
/// "Who queues a thread"), and kicks that CPU if idle. Any party may call it for any
/// thread at any time; at most one of them queues it.
fn enqueue(index: usize, t: Arc<Thread>) {
    loop {
        if t.claimed.swap(true, Ordering::SeqCst) {
            return; // queued or running: its owner will run it
        }
        if t.state() == State::Ready {
            break;
        }
        // Not runnable (a stale wake entry of a thread that blocked again): give the claim
        // back, then look again, since a wake may have made it Ready after our look and
        // failed to claim it because we held the claim.
        t.claimed.store(false, Ordering::SeqCst);
        if t.state() != State::Ready {
            return;
        }
    }
    push(index, t);
}

/// Appends a claimed Ready thread to CPU `index`'s run queue and kicks that CPU.
fn push(index: usize, t: Arc<Thread>) {
    t.cpu.store(index as u32, Ordering::Relaxed);
    CPUS[index].run_queue.lock().push_back(t);
    kick(index);
}

/// Makes CPU `index` reschedule soon: locally a flag, remotely an IPI if it idles.
fn kick(index: usize) {
    let target = &CPUS[index];
    target.need_resched.store(true, Ordering::Release);
    if index != percpu::cpu_index() as usize && target.idle.load(Ordering::Acquire) {
        if let Some(p) = percpu::get(index) {
            lapic::send_ipi(
                lapic::Destination::Apic(p.apic_id),
                lapic::Delivery::Fixed(interrupts::RESCHED_VECTOR),
            );
        }
    }
}

/// Wakes `t` if it is blocked. Any context, any CPU; lock-free toward the scheduler.
pub fn wake(t: &Arc<Thread>) {
    WAKES_REQUESTED.fetch_add(1, Ordering::Relaxed);
    if !t.try_wake() {
        WAKES_ALREADY_RUNNABLE.fetch_add(1, Ordering::Relaxed);
        return;
    }
    WAKES_DELIVERED.fetch_add(1, Ordering::Relaxed);
    let index = t.cpu() as usize;
    // The queue holds one reference of its own while the thread is queued.
    let reference = t.clone();
    // SAFETY: the Arc pins the thread in memory; the reference leaked below keeps it
    // alive until the owning CPU drains it (and takes the reference back).
    match unsafe { CPUS[index].wakes.wake(Pin::new_unchecked(&*reference)) } {
        Wake::Enqueued => core::mem::forget(reference),
        Wake::Coalesced => drop(reference),
    }
    kick(index);
}

/// Moves woken threads from this CPU's wake queue to its run queue. Interrupts off.
///
/// An entry may be stale: the thread may have been queued by `finish_switch` meanwhile
/// (a wake that landed while it switched out), run, and even blocked again. `enqueue`
/// decides with the thread's claim, so a stale entry queues nothing.
fn drain_wakes(me: &CpuSched, index: usize) {
    me.wakes.drain(|t| {
        // SAFETY: `wake` leaked one reference for each enqueue; take it back.
        let t = unsafe { Arc::from_raw(t.get_ref() as *const Thread) };
        super::race_delay::window();
        enqueue(index, t);
    });
}

/// Takes a Ready thread from another CPU's run queue (idle balancing).
fn steal(index: usize) -> Option<Arc<Thread>> {
    let count = percpu::count();
    for offset in 1..count {
        let victim = (index + offset) % count;
        let mut rq = CPUS[victim].run_queue.lock();
        if let Some(pos) = rq.iter().rposition(|t| t.pinned.is_none()) {
            let t = rq.remove(pos).expect("position is in range");
            drop(rq);
            CPUS[index].steals.fetch_add(1, Ordering::Relaxed);
            return Some(t);
        }
    }
    None
}

/// Picks the next thread to run, or `None` to keep running the current one.
/// Interrupts off.
fn pick_next(me: &CpuSched, index: usize) -> Option<Arc<Thread>> {
    let local = me.run_queue.lock().pop_front();
    local
        .or_else(|| steal(index))
        .inspect(|_| super::race_delay::window())
}

/// Gives the CPU to another thread if one is ready (or if the current one blocked).
/// Process context; never with a spin lock held.
pub fn schedule() {
    schedule_inner(false);
}

/// `preempted`: called on interrupt exit, not by the thread. A thread preempted after
/// marking itself Blocked but before its final condition check must stay runnable (as
/// Linux keeps a preempted sleeper on the run queue): it may be about to see its
/// condition true, and no waker will come if the condition was made true before it
/// queued itself. So preemption turns Blocked back into Ready, like a wake.
fn schedule_inner(preempted: bool) {
    // Kept across the switch: when this thread runs again (perhaps on another CPU), the
    // guard's drop restores the interrupt state it entered with.
    let irqs = IrqsDisabled::new();
    let index = percpu::cpu_index() as usize;
    let me = &CPUS[index];
    me.need_resched.store(false, Ordering::Relaxed);
    me.resched_waited.store(0, Ordering::Relaxed);
    drain_wakes(me, index);
    let prev = CURRENT.borrow_mut(&irqs).clone();
    let prev = prev.expect("scheduler not initialised on this CPU");
    if preempted {
        prev.try_wake();
    }
    let prev_state = prev.state();
    if prev_state == State::Ready {
        prev.set_state(State::Running); // woken before it could block: keep running
    }
    let prev_runnable = matches!(prev_state, State::Running | State::Ready) && !prev.is_idle;
    let next = match pick_next(me, index) {
        Some(t) => t,
        None if prev_runnable || prev.is_idle => {
            me.slice_left.store(SLICE_TICKS, Ordering::Relaxed);
            return;
        }
        None => me.idle_thread.get().expect("idle thread").clone(),
    };
    if prev_runnable || prev.is_idle {
        prev.set_state(State::Ready);
    }
    switch_to(&irqs, me, index, prev, next);
}

fn switch_to(
    irqs: &IrqsDisabled,
    me: &CpuSched,
    index: usize,
    prev: Arc<Thread>,
    next: Arc<Thread>,
) {
    let now = time::now_ns();
    prev.run_ns.fetch_add(
        now - me.switched_in_ns.swap(now, Ordering::Relaxed),
        Ordering::Relaxed,
    );
    // Cannot happen while the claim rule holds; if it ever breaks, say so here rather
    // than let two CPUs run on one stack.
    if next.on_cpu.swap(true, Ordering::AcqRel) {
        panic!(
            "thread {} ({}) picked to run on cpu{index} is already running on another CPU",
            next.id, next.name
        );
    }
    next.set_state(State::Running);
    next.cpu.store(index as u32, Ordering::Relaxed);
    next.switches.fetch_add(1, Ordering::Relaxed);
    me.switches.fetch_add(1, Ordering::Relaxed);
    crate::watchdog::progress(now);
    me.slice_left.store(SLICE_TICKS, Ordering::Relaxed);
    me.idle.store(next.is_idle, Ordering::Release);
    switch_address_space(&prev, &next);
    let fpu = fpu_switch(me, index, &prev, &next);
    let save = prev.rsp.get();
    // SAFETY: `next` is switched out (on_cpu was false until we set it), so its saved
    // RSP is valid and nobody else reads or writes it now.
    let next_rsp = unsafe { *next.rsp.get() };
    // `next` is kept alive by CURRENT, `prev` by PREV, across the switch.
    percpu::set_current_thread(Arc::as_ptr(&next) as u64);
    *CURRENT.borrow_mut(irqs) = Some(next);
    *PREV.borrow_mut(irqs) = Some(prev);
    // SAFETY: `save` points into `prev`, alive in PREV until `finish_switch` on the next
    // stack; `next_rsp` is the stack `next` was switched out on (or its initial frame).
    unsafe { switch_stack(save, next_rsp, fpu) };
    finish_switch();
}

/// The FPU work of a switch from `prev` to `next` on this CPU (thread.rs, "The FPU image
/// of a switch"): a process's thread leaving saves its image, one arriving restores its
/// image unless this CPU's registers hold it still: the CPU saved or restored it last, for
/// this thread, and no other process's thread has had the registers since (kernel threads
/// and the idle thread never change the x87 state). Interrupts are off.
fn fpu_switch(me: &CpuSched, index: usize, prev: &Thread, next: &Thread) -> FpuSwitch {
    let index = index as u32;
    let mut work = 0;
    if prev.user_cr3.load(Ordering::Relaxed) != 0 {
        work |= FpuSwitch::SAVE;
        prev.fpu_cpu.store(index, Ordering::Relaxed);
        me.fpu_holder.store(prev.id, Ordering::Relaxed);
    }
    if next.user_cr3.load(Ordering::Relaxed) != 0 {
        let held = me.fpu_holder.load(Ordering::Relaxed) == next.id
            && next.fpu_cpu.load(Ordering::Relaxed) == index;
        if !held {
            work |= FpuSwitch::RESTORE;
            next.fpu_cpu.store(index, Ordering::Relaxed);
            me.fpu_holder.store(next.id, Ordering::Relaxed);
        }
    }
    FpuSwitch(work)
}

/// Hands the CPU's user-mode state from `prev` to `next`: the kernel stack an entry from
/// user mode lands on, the page tables (kernel threads and the idle thread keep the ones
/// loaded: lazy TLB, see `arch::tlb`), and the user FS/GS bases. Interrupts are off.
fn switch_address_space(prev: &Thread, next: &Thread) {
    use crate::arch::user_mode::SegmentBases;
    if prev.user_cr3.load(Ordering::Relaxed) != 0 {
        // SAFETY: `prev` is this CPU's current thread, interrupts are off: nobody else
        // touches its saved bases now.
        unsafe { *prev.user_bases.get() = SegmentBases::save() };
    }
    percpu::current()
        .kernel_stack_top
        .store(next.stack_top, Ordering::Relaxed);
    let user = next.user_cr3.load(Ordering::Relaxed);
    if user != 0 {
        crate::arch::tlb::load(user);
    } else {
        crate::arch::tlb::keep();
    }
    if user != 0 {
        // SAFETY: `next` is switched out (we own it now), its bases are not touched by
        // anyone else until it runs.
        unsafe { (*next.user_bases.get()).load() };
    }
}

/// Completes a switch on the new thread's stack: the previous thread's registers are
/// saved now, so it may be queued (if still runnable), released (if blocked) or freed
/// (if exited).
fn finish_switch() {
    let index = percpu::cpu_index() as usize;
    let irqs = IrqsDisabled::new();
    let prev = PREV.borrow_mut(&irqs).take();
    let Some(prev) = prev else {
        return;
    };
    prev.on_cpu.store(false, Ordering::Release);
    if prev.is_idle {
        return; // never queued: a CPU runs its idle thread when nothing else is ready
    }
    match prev.state() {
        // Still claimed: straight back on the run queue.
        State::Ready => push(index, prev),
        State::Exited => super::forget_thread(&prev),
        _ => {
            // Blocked: give up the claim; a wake from now on queues it. One that came
            // since `schedule` looked at the state found it claimed and queued nothing,
            // so look again (enqueue re-checks the state under a new claim).
            prev.claimed.store(false, Ordering::SeqCst);
            super::race_delay::window();
            if prev.state() == State::Ready {
                enqueue(index, prev);
            }
        }
    }
}

/// First Rust code of a new thread, entered from `thread_start` with interrupts off.
pub(super) extern "C" fn thread_entry() -> ! {
    finish_switch();
    // SAFETY: a new thread starts with no locks held; the scheduler runs with
    // interrupts enabled outside its critical sections.
    unsafe { cpu::enable_interrupts() };
    // No reference to the thread may live in this frame: `exit_current` never returns, so
    // one held here would keep the thread (and its stack) alive forever.
    let entry = current().take_entry();
    if let Some(f) = entry {
        f();
    }
    super::exit_current()
}

/// Timer tick accounting: charges the tick to what the CPU was doing (`user_mode`: it
/// interrupted ring 3), ends the slice of a thread that ran long enough while others
/// wait. Hardirq context.
pub fn tick(now: u64, user_mode: bool) {
    let me = this();
    let irqs = IrqsDisabled::new();
    let running = CURRENT.borrow_mut(&irqs).clone();
    if let Some(t) = running {
        super::cputime::account_tick(&t, user_mode, t.is_idle);
    }
    let waiting = !me.run_queue.lock().is_empty() || !me.wakes.is_empty();
    crate::watchdog::on_tick(now, waiting);
    if me.idle.load(Ordering::Relaxed) {
        if waiting {
            me.need_resched.store(true, Ordering::Relaxed);
        }
        return;
    }
    if me.need_resched.load(Ordering::Relaxed) && waiting {
        me.resched_waited.fetch_add(1, Ordering::Relaxed);
    }
    if me.slice_left.fetch_sub(1, Ordering::Relaxed) <= 1 && waiting {
        me.need_resched.store(true, Ordering::Relaxed);
    }
}

/// Called with interrupts off where the current context is preemptible: on interrupt
/// exit, and at a preemption point (preemption or bottom halves just re-enabled).
pub fn preempt_if_needed() {
    if this().need_resched.load(Ordering::Relaxed) && current_is_set() {
        schedule_inner(true);
    }
}

fn current_is_set() -> bool {
    let irqs = IrqsDisabled::new();
    let set = CURRENT.borrow_mut(&irqs).is_some();
    set
}

/// True when this CPU has nothing to run but its idle thread.
pub(super) fn nothing_to_run() -> bool {
    let me = this();
    me.run_queue.lock().is_empty()
        && me.wakes.is_empty()
        && !me.need_resched.load(Ordering::Relaxed)
}
