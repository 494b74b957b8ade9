//! Kernel threads: their state, their stack, and the context switch.
//!
//! A switched-out thread's registers live on its own stack: `switch_stack` pushes the
//! callee-saved registers and RFLAGS, stores RSP in the thread, loads the next thread's
//! RSP and pops the same. Caller-saved registers (including every XMM register) need no
//! saving across what is, to the compiler, a function call. A thread preempted by an
//! interrupt keeps its full register and SSE state in the interrupt frame on its stack
//! (see `arch::entry`), so it resumes exactly.
//!
//! # The FPU image of a switch
//! Below the registers, the frame has room for an `fxsave64` image, which holds what the
//! entry path does not save: the x87 state of a thread of a process (its user's, which
//! stays in the CPU while the kernel runs). Kernel code never executes x87 instructions and
//! always runs with the default MXCSR, so kernel threads and the idle thread have no FPU
//! state of their own, and under TCG `fxsave64`/`fxrstor64` are costly (emulated field by
//! field). So `switch_stack` saves the image only when the thread leaving is a process's
//! ([`FpuSwitch::SAVE`]), and restores it only when the thread arriving is a process's whose
//! state the CPU does not hold already ([`FpuSwitch::RESTORE`]): a server's thread that
//! blocks, lets the CPU idle and is woken again gets its x87 state saved once and never
//! reloaded (`cpu::fpu_switch` decides, with `fpu_cpu` here and the CPU's holder).
use alloc::boxed::Box;
use alloc::string::String;
use core::arch::global_asm;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};

use wakeq::{WakeLink, Wakeable};

use super::wait::WaitQueue;
use crate::mm::stack::KernelStack;
use crate::mm::MemError;

/// Size of a kernel thread's stack.
pub const STACK_SIZE: usize = 64 * 1024;

/// Where a thread is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// On a CPU now.
    Running = 0,
    /// Runnable, waiting in a run queue (or just woken, about to be queued).
    Ready = 1,
    /// Waiting for a wake-up (a wait queue, a sleep deadline, a join).
    Blocked = 2,
    /// Finished; its stack is freed once nothing refers to the thread.
    Exited = 3,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            0 => State::Running,
            1 => State::Ready,
            2 => State::Blocked,
            _ => State::Exited,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Ready => "ready",
            State::Blocked => "blocked",
            State::Exited => "exited",
        }
    }
}

/// A kernel thread.
pub struct Thread {
    pub id: u64,
    pub name: String,
    state: AtomicU8,
    /// Owned by the scheduler: in a run queue or on a CPU. Whoever sets it may queue the
    /// thread; it is cleared only when the thread leaves a CPU blocked (see "Who queues
    /// a thread" in `cpu.rs`).
    pub(super) claimed: AtomicBool,
    /// Its registers are live on a CPU (or being saved). A check only: the claim already
    /// keeps two CPUs from picking the same thread.
    pub(super) on_cpu: AtomicBool,
    /// The CPU whose queues it belongs to.
    pub(super) cpu: AtomicU32,
    /// Never migrated off this CPU (per-CPU threads such as ksoftirqd and idle).
    pub(super) pinned: Option<u32>,
    pub(super) is_idle: bool,
    /// Saved stack pointer while switched out.
    pub(super) rsp: UnsafeCell<u64>,
    _stack: Option<KernelStack>,
    entry: UnsafeCell<Option<Box<dyn FnOnce() + Send>>>,
    pub(super) wake_link: WakeLink<Thread>,
    /// Incremented per sleep, so a stale sleep timer cannot wake a later wait.
    pub(super) sleep_gen: AtomicU64,
    /// Nanoseconds spent on a CPU.
    pub run_ns: AtomicU64,
    /// Times switched in.
    pub switches: AtomicU64,
    /// Tick-sampled user and system time, in nanoseconds (`cputime.rs`).
    pub(super) user_tick_ns: AtomicU64,
    pub(super) system_tick_ns: AtomicU64,
    /// What `getrusage(RUSAGE_THREAD)` last reported.
    pub(super) cputime_prev: super::cputime::PrevLock,
    pub(super) exited: WaitQueue,
    /// Top of its kernel stack (0 for a CPU's boot context, which never enters user mode).
    pub stack_top: u64,
    /// For a thread of a process: the CR3 of its address space (0 for kernel threads,
    /// which run on the kernel's tables). Written only by the thread itself, with
    /// interrupts off (`execve` loads new tables).
    pub user_cr3: AtomicU64,
    /// Its user FS and GS bases while it is switched out (or in the kernel).
    pub(super) user_bases: UnsafeCell<crate::arch::user_mode::SegmentBases>,
    /// The process side of a user thread, set before it first runs.
    pub task: spin::Once<alloc::sync::Arc<crate::process::Task>>,
    /// The CPU that last saved or restored its FPU image (`u32::MAX`: none yet); that
    /// CPU's registers still hold the image while the CPU's holder is this thread.
    pub(super) fpu_cpu: AtomicU32,
}

// SAFETY: `rsp` and `entry` are only touched by the CPU that owns the thread at that
// moment (under the scheduler's interrupts-off switch path, or by the thread itself on
// its first run); everything else is atomic or immutable.
unsafe impl Sync for Thread {}
// SAFETY: as above; the boxed entry is `Send`.
unsafe impl Send for Thread {}

// SAFETY: `wake_link` is embedded in the thread and always the same link.
unsafe impl Wakeable for Thread {
    fn wake_link(&self) -> &WakeLink<Self> {
        &self.wake_link
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Thread {
    fn new(
        name: String,
        stack: Option<KernelStack>,
        pinned: Option<u32>,
        is_idle: bool,
        cpu: u32,
    ) -> Thread {
        Thread {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            name,
            state: AtomicU8::new(State::Ready as u8),
            claimed: AtomicBool::new(false),
            on_cpu: AtomicBool::new(false),
            cpu: AtomicU32::new(cpu),
            pinned,
            is_idle,
            rsp: UnsafeCell::new(0),
            _stack: stack,
            entry: UnsafeCell::new(None),
            wake_link: WakeLink::new(),
            sleep_gen: AtomicU64::new(0),
            run_ns: AtomicU64::new(0),
            switches: AtomicU64::new(0),
            user_tick_ns: AtomicU64::new(0),
            system_tick_ns: AtomicU64::new(0),
            cputime_prev: super::cputime::new_prev(),
            exited: WaitQueue::new(),
            stack_top: 0,
            user_cr3: AtomicU64::new(0),
            user_bases: UnsafeCell::new(Default::default()),
            task: spin::Once::new(),
            fpu_cpu: AtomicU32::new(u32::MAX),
        }
    }

    /// The thread that the calling CPU is already running (its boot context), which
    /// becomes that CPU's idle thread.
    pub(super) fn for_boot_context(cpu: u32) -> Thread {
        let t = Thread::new(alloc::format!("idle/{cpu}"), None, Some(cpu), true, cpu);
        t.set_state(State::Running);
        t.on_cpu.store(true, Ordering::Relaxed);
        t
    }

    /// A new thread that will run `f` on its own stack, first on CPU `cpu`; fails when
    /// no stack can be had.
    pub(super) fn with_entry(
        name: String,
        pinned: Option<u32>,
        cpu: u32,
        f: Box<dyn FnOnce() + Send>,
    ) -> Result<Thread, MemError> {
        let stack = KernelStack::new(STACK_SIZE)?;
        let top = stack.top();
        let mut t = Thread::new(name, Some(stack), pinned, false, cpu);
        t.stack_top = top;
        // SAFETY: the thread is not shared yet.
        unsafe { *t.entry.get() = Some(f) };
        // The frame `switch_stack` pops: the FPU state (the initial one), r15..rbp,
        // RFLAGS (interrupts off: `thread_start` enables them), and `thread_start` as the
        // return address.
        let frame: [u64; 8] = [
            0,   // r15
            0,   // r14
            0,   // r13
            0,   // r12
            0,   // rbx
            0,   // rbp
            0x2, // RFLAGS: reserved bit only
            thread_start as *const () as u64,
        ];
        // Below the user-entry area, which only an entry from user mode writes; the FPU
        // image (16-byte aligned, as fxrstor64 needs) right below the registers.
        let regs = top - crate::arch::entry::USER_ENTRY_AREA - (frame.len() as u64) * 8;
        let rsp = regs - core::mem::size_of::<crate::arch::entry::FxArea>() as u64;
        debug_assert_eq!(rsp % 16, 0);
        // SAFETY: the stack's top pages are mapped and belong to this new thread alone;
        // `rsp` is 16-byte aligned (the user-entry area and the frame are multiples of 16).
        unsafe {
            core::ptr::copy_nonoverlapping(frame.as_ptr(), regs as *mut u64, frame.len());
            *(rsp as *mut crate::arch::entry::FxArea) = crate::arch::entry::FxArea::initial();
            *t.rsp.get() = rsp;
        }
        Ok(t)
    }

    pub fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::SeqCst))
    }

    pub(super) fn set_state(&self, s: State) {
        self.state.store(s as u8, Ordering::SeqCst);
    }

    /// Blocked -> Ready, atomically: true if this call did it (and so must queue it).
    pub(super) fn try_wake(&self) -> bool {
        self.state
            .compare_exchange(
                State::Blocked as u8,
                State::Ready as u8,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    }

    /// CPU the thread belongs to.
    pub fn cpu(&self) -> u32 {
        self.cpu.load(Ordering::Relaxed)
    }

    /// Sets the user FS base of the calling thread (`arch_prctl`). Interrupts must not
    /// switch it out between the MSR write and the record: the caller runs with them off
    /// or accepts that the switch saves the new value (it reads the MSR).
    pub fn set_user_fs(&self, fs: u64) {
        crate::arch::cpu::without_interrupts(|| {
            // SAFETY: only the thread itself calls this, with interrupts off, so neither
            // the switch path nor anybody else touches `user_bases` meanwhile.
            unsafe { (*self.user_bases.get()).fs = fs };
            crate::arch::user_mode::SegmentBases {
                fs,
                // SAFETY: as above.
                gs: unsafe { (*self.user_bases.get()).gs },
            }
            .load();
        });
    }

    /// Sets its user GS base (`arch_prctl(ARCH_SET_GS)`); see [`Thread::set_user_fs`].
    pub fn set_user_gs(&self, gs: u64) {
        crate::arch::cpu::without_interrupts(|| {
            // SAFETY: as in `set_user_fs`.
            let bases = unsafe { &mut *self.user_bases.get() };
            bases.gs = gs;
            bases.load();
        });
    }

    /// The user FS and GS bases a new thread of a process starts with (before it runs).
    pub fn init_user_bases(&self, bases: crate::arch::user_mode::SegmentBases) {
        // SAFETY: the thread has not run yet, so nothing else touches `user_bases`.
        unsafe { *self.user_bases.get() = bases };
    }

    /// The calling thread's user bases as they are now.
    pub fn user_bases(&self) -> crate::arch::user_mode::SegmentBases {
        crate::arch::user_mode::SegmentBases::save()
    }

    /// Takes the entry closure (once, on the thread's first run).
    pub(super) fn take_entry(&self) -> Option<Box<dyn FnOnce() + Send>> {
        // SAFETY: only the thread itself calls this, on its first run.
        unsafe { (*self.entry.get()).take() }
    }
}

global_asm!(
    r#"
    .section .text.switch_stack, "ax"
    .global switch_stack, thread_start
/* switch_stack(u64 *save_rsp, u64 next_rsp, u64 fpu): fpu bit 0 saves the FPU state
   (the user's x87 state lives there), bit 1 restores the next thread's (FpuSwitch) */
switch_stack:
    pushfq
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    sub $512, %rsp              /* 16-byte aligned: the call and seven pushes */
    test $1, %edx
    jz 1f
    fxsave64 (%rsp)
1:  mov %rsp, (%rdi)
    mov %rsi, %rsp
    test $2, %edx
    jz 2f
    fxrstor64 (%rsp)
2:  add $512, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    popfq
    ret

/* First instruction of every new thread (stack 16-byte aligned here). */
thread_start:
    xor %ebp, %ebp
    call {entry}
    ud2
    .text
"#,
    entry = sym super::cpu::thread_entry,
    options(att_syntax)
);

/// What `switch_stack` does with the FPU image (see "The FPU image of a switch").
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(super) struct FpuSwitch(pub(super) u64);

impl FpuSwitch {
    /// Save the leaving thread's image (it is a process's).
    pub(super) const SAVE: u64 = 1;
    /// Restore the arriving thread's image (a process's, not in this CPU's registers).
    pub(super) const RESTORE: u64 = 2;
}

extern "C" {
    /// Saves the current context, storing RSP in `*save_rsp`, and resumes the context
    /// whose RSP is `next_rsp`. Returns when something switches back.
    pub(super) fn switch_stack(save_rsp: *mut u64, next_rsp: u64, fpu: FpuSwitch);
    fn thread_start() -> !;
}
