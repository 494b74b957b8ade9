//! Processes: programs running in user mode with the Linux x86_64 system-call ABI.
//!
//! - [`table`]: `halyard-process`'s table of pids, tree, groups and sessions, and the
//!   kernel objects it names.
//! - [`mm`]: a process's memory (region map + page tables) and page-fault service.
//! - [`usercopy`]: typed user addresses and fault-free copies (`EFAULT`, never a crash).
//! - [`exec`]: building a program image from an ELF file.
//! - [`signals`]: sending, and delivering on the way back to user mode (`halyard-signal`).
//! - [`fork`], [`exit`], [`wait`]: `clone`, thread and process exit, `wait4`/`waitid`.
//! - [`jobctl`]: the controlling terminal and the foreground process group.
//!
//! A thread of a process is a kernel thread with a [`Task`] ([`crate::sched::Thread::task`]):
//! it runs in the kernel on its own kernel stack (system calls, faults, interrupts from
//! user mode all land at the top of it) and in user mode on its process's page tables.
//! Everything user mode can cause arrives through [`user_exception`], the system-call
//! entry, or an interrupt, and leaves through [`return_to_user`].
pub mod de_thread;
pub mod exec;
pub mod exit;
pub mod file_map;
pub mod fork;
pub mod itimer;
pub mod jobctl;
pub mod mm;
pub mod oom;
pub mod shared;
pub mod signal_lock;
pub mod signals;
pub mod table;
pub mod usercopy;
pub mod wait;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use halyard_signal::{SigInfo, Signal, SignalState};

use crate::arch::entry::{FxArea, InterruptFrame};
use crate::fs::fdtable::FdTable;
use crate::sched::WaitQueue;
use crate::sync::{IrqLock, LockClass, Mutex};
use mm::{Mm, PageError};

pub use jobctl::{
    check_foreground_group, check_terminal_access, current_session, drop_controlling_tty,
    set_controlling_tty,
};
pub use signal_lock::SignalLock;
pub use signals::{send_sigpipe, signal_group, signal_pending, signal_process};

static SIGNALS_CLASS: LockClass = LockClass::new("process.signals");
static NAME_CLASS: LockClass = LockClass::new("process.name");

/// A process: an address space, files and signal actions, shared by its threads.
pub struct Process {
    pub pid: u32,
    /// Name of the program (`comm`): the file name of the last exec.
    pub name: IrqLock<String>,
    /// The path of the program (`/proc/PID/exe`), and its argument strings
    /// (`/proc/PID/cmdline`).
    pub exe: Mutex<(Vec<u8>, Vec<u8>)>,
    mm: Mutex<Arc<Mm>>,
    /// The descriptor table (shared with `CLONE_FILES`).
    pub files: Arc<Mutex<FdTable>>,
    /// Signal actions, queues and masks (`halyard-signal`).
    pub signals: SignalLock,
    /// Threads of this process sleeping in `wait4`/`waitid` wait here for a child event.
    pub child_event: WaitQueue,
    /// Moves at every child event, so a waiter cannot miss one between its look at the
    /// table and its sleep.
    pub child_gen: AtomicU64,
    /// Set when the process is ending (`exit_group`, a fatal signal): its other threads
    /// leave at their next return to user mode.
    pub exiting: AtomicBool,
    /// The thread whose `execve` is ending the others (Linux's
    /// `signal->group_exec_task`; 0: none): they leave at their next return to user mode,
    /// as when [`Self::exiting`] is set ([`de_thread`]).
    pub exec_tid: AtomicU32,
    /// Stopped by a stop signal (job control); its threads wait on `resumed`.
    pub stopped: AtomicBool,
    pub resumed: WaitQueue,
    /// Live threads.
    pub live_threads: AtomicU32,
    /// The wait status the process ends with, once it is ending (-1 before).
    pub exit_status: core::sync::atomic::AtomicI32,
    /// `umask`.
    pub umask: AtomicU32,
    /// Root and working directory.
    pub fs: Mutex<crate::fs::context::FsContext>,
    /// `PR_SET_PDEATHSIG`.
    pub pdeathsig: AtomicU32,
    /// `PR_SET_DUMPABLE` (Linux keeps it on the `mm`): copied by `fork`, set again by
    /// `execve`, cleared when the credentials change (see [`exec`] and
    /// `syscall/cred.rs`); a process that is not dumpable dumps no core, so its signal
    /// deaths never carry the core bit.
    pub dumpable: AtomicBool,
    /// Run time of its threads that have exited, and their tick-sampled user and
    /// system time (ns, see `sched::cputime`).
    pub exited_cpu_ns: AtomicU64,
    pub exited_user_tick_ns: AtomicU64,
    pub exited_system_tick_ns: AtomicU64,
    /// What `times`/`getrusage`/`/proc/PID/stat` last reported for the whole process.
    pub cputime_prev: crate::sched::cputime::PrevLock,
    /// User and system time of its reaped children and of theirs (ns, Linux's
    /// `cutime`/`cstime`).
    pub children_utime_ns: AtomicU64,
    pub children_stime_ns: AtomicU64,
    /// Largest resident set seen, in KiB (`ru_maxrss`), and the children's largest.
    pub maxrss_kb: AtomicU64,
    pub children_maxrss_kb: AtomicU64,
    /// `ITIMER_REAL` (`alarm`, `setitimer`): deadline (monotonic ns, 0 = disarmed) and
    /// interval.
    pub itimer_real: IrqLock<(u64, u64)>,
}

/// A `vfork` parent waits here until its child execs or exits.
pub struct VforkDone {
    pub done: AtomicBool,
    pub queue: WaitQueue,
}

/// A thread's process side.
pub struct Task {
    /// The thread id; it changes once, when a thread other than the leader calls `execve`
    /// and takes over the process id (Linux's `de_thread`, [`exec`]).
    tid: AtomicU32,
    pub process: Arc<Process>,
    /// `set_tid_address`/`CLONE_CHILD_CLEARTID`: zeroed and futex-woken at exit.
    pub clear_child_tid: AtomicU64,
    /// `set_robust_list`: the head and its length.
    pub robust_list: AtomicU64,
    /// For a `vfork` child: the parent to release at exec or exit.
    pub vfork: IrqLock<Option<Arc<VforkDone>>>,
    /// `exit(code)` asked this thread to end with this wait status (-1: not asked).
    pub exit_request: core::sync::atomic::AtomicI32,
    /// The restart block of an interrupted relative sleep: its monotonic deadline, for
    /// `restart_syscall` (0: none).
    pub restart_deadline: AtomicU64,
    /// ... and where it reports the time left.
    pub restart_rem: AtomicU64,
}

static VFORK_CLASS: LockClass = LockClass::new("process.vfork");
static ITIMER_CLASS: LockClass = LockClass::new("process.itimer");

impl Process {
    /// A process with `mm`, `files` and `signals`.
    pub fn new(
        pid: u32,
        name: String,
        mm: Arc<Mm>,
        files: Arc<Mutex<FdTable>>,
        signals: SignalState,
    ) -> Arc<Process> {
        Arc::new(Process {
            pid,
            name: IrqLock::new(name, &NAME_CLASS),
            exe: Mutex::new((Vec::new(), Vec::new())),
            mm: Mutex::new(mm),
            files,
            signals: SignalLock::new(signals, &SIGNALS_CLASS),
            child_event: WaitQueue::new(),
            child_gen: AtomicU64::new(0),
            exiting: AtomicBool::new(false),
            exec_tid: AtomicU32::new(0),
            stopped: AtomicBool::new(false),
            resumed: WaitQueue::new(),
            live_threads: AtomicU32::new(0),
            exit_status: core::sync::atomic::AtomicI32::new(-1),
            umask: AtomicU32::new(0o022),
            fs: Mutex::new(crate::fs::context::FsContext::at_root()),
            pdeathsig: AtomicU32::new(0),
            dumpable: AtomicBool::new(true),
            exited_cpu_ns: AtomicU64::new(0),
            exited_user_tick_ns: AtomicU64::new(0),
            exited_system_tick_ns: AtomicU64::new(0),
            cputime_prev: crate::sched::cputime::new_prev(),
            children_utime_ns: AtomicU64::new(0),
            children_stime_ns: AtomicU64::new(0),
            maxrss_kb: AtomicU64::new(0),
            children_maxrss_kb: AtomicU64::new(0),
            itimer_real: IrqLock::new((0, 0), &ITIMER_CLASS),
        })
    }

    /// The current address space.
    pub fn mm(&self) -> Arc<Mm> {
        self.mm.lock().clone()
    }

    /// Replaces the address space (`execve`); returns the old one.
    pub fn replace_mm(&self, mm: Arc<Mm>) -> Arc<Mm> {
        core::mem::replace(&mut *self.mm.lock(), mm)
    }

    /// Run time, sampled user time and sampled system time of the whole process so far
    /// (ns): exited threads plus live ones.
    fn cpu_samples(&self) -> (u64, u64, u64) {
        let threads = self.sched_threads();
        let mut sum = (
            self.exited_cpu_ns.load(Ordering::Relaxed),
            self.exited_user_tick_ns.load(Ordering::Relaxed),
            self.exited_system_tick_ns.load(Ordering::Relaxed),
        );
        for t in &threads {
            let (user, system) = crate::sched::cputime::sampled_ns(t);
            sum.0 += crate::sched::cpu_time_ns(t);
            sum.1 += user;
            sum.2 += system;
        }
        sum
    }

    /// Its threads' scheduler sides.
    fn sched_threads(&self) -> Vec<Arc<crate::sched::Thread>> {
        table::with(|p| {
            p.table
                .threads(self.pid)
                .filter_map(|t| p.threads.get(&t).cloned())
                .collect()
        })
    }

    /// True when one of its threads is on a CPU or ready to run (`R` in
    /// `/proc/PID/stat`).
    pub fn is_running(&self) -> bool {
        use crate::sched::State;
        self.sched_threads()
            .iter()
            .any(|t| matches!(t.state(), State::Running | State::Ready))
    }

    /// CPU time of the whole process so far (ns).
    pub fn cpu_ns(&self) -> u64 {
        self.cpu_samples().0
    }

    /// The whole process's (user, system) time (ns): its run time split in the sampled
    /// ratio, never going back (Linux's `thread_group_cputime_adjusted`).
    pub fn times_ns(&self) -> (u64, u64) {
        let (rtime, user, system) = self.cpu_samples();
        self.cputime_prev.lock().adjust(rtime, user, system)
    }

    /// Notes the resident set size for `ru_maxrss`; returns the high-water mark (KiB).
    pub fn note_rss(&self) -> u64 {
        let kb = self.mm().resident_pages() * 4;
        self.maxrss_kb.fetch_max(kb, Ordering::Relaxed).max(kb)
    }

    /// Must thread `tid` leave at its next return to user mode: the process is ending,
    /// or another thread's `execve` is ending the others?
    pub fn ends_thread(&self, tid: u32) -> bool {
        let exec = self.exec_tid.load(Ordering::Acquire);
        self.exiting.load(Ordering::Acquire) || (exec != 0 && exec != tid)
    }

    /// `comm` for logs.
    pub fn name(&self) -> String {
        self.name.lock().clone()
    }
}

impl Task {
    pub fn new(tid: u32, process: Arc<Process>) -> Arc<Task> {
        Arc::new(Task {
            tid: AtomicU32::new(tid),
            process,
            clear_child_tid: AtomicU64::new(0),
            robust_list: AtomicU64::new(0),
            vfork: IrqLock::new(None, &VFORK_CLASS),
            exit_request: core::sync::atomic::AtomicI32::new(-1),
            restart_deadline: AtomicU64::new(0),
            restart_rem: AtomicU64::new(0),
        })
    }

    pub fn tid(&self) -> u32 {
        self.tid.load(Ordering::Relaxed)
    }

    /// Only `execve`'s [`de_thread::take_over_leader`] renames a thread.
    fn set_tid(&self, tid: u32) {
        self.tid.store(tid, Ordering::Relaxed);
    }

    /// Releases a `vfork` parent (at exec or exit).
    pub fn release_vfork(&self) {
        if let Some(v) = self.vfork.lock().take() {
            v.done.store(true, Ordering::Release);
            v.queue.wake_all();
        }
    }
}

/// The calling thread's task. Only user threads call this (system calls and user faults
/// come from them alone).
pub fn current() -> Arc<Task> {
    crate::sched::current()
        .task
        .get()
        .expect("a kernel thread has no process")
        .clone()
}

/// The calling thread's task, if it belongs to a process.
pub fn try_current() -> Option<Arc<Task>> {
    crate::sched::current().task.get().cloned()
}

/// Registers `task` on a new thread that enters user mode with `regs` and FPU state
/// `fx`; fails with `EAGAIN` when no thread can be had.
pub fn spawn_thread(
    task: Arc<Task>,
    regs: InterruptFrame,
    fx: FxArea,
    fs_base: u64,
) -> Result<(), crate::syscall::Errno> {
    let root = task.process.mm().root();
    let name = task.process.name();
    let tid = task.tid();
    task.process.live_threads.fetch_add(1, Ordering::AcqRel);
    let bases = crate::arch::user_mode::SegmentBases { fs: fs_base, gs: 0 };
    // The thread must be in the table before it can run (and exit).
    let started = table::with(|procs| {
        let t = crate::sched::try_spawn_user(name, task.clone(), root, bases, move || {
            enter_user(regs, fx)
        })
        .map_err(|_| crate::syscall::Errno::EAGAIN)?;
        procs.threads.insert(tid, t);
        Ok(())
    });
    if started.is_err() {
        task.process.live_threads.fetch_sub(1, Ordering::AcqRel);
    }
    started
}

/// Enters user mode with `regs` and FPU state `fx` on the calling thread, whose page
/// tables are loaded (the scheduler loaded them at the switch).
pub fn enter_user(regs: InterruptFrame, fx: FxArea) -> ! {
    crate::arch::cpu::disable_interrupts();
    let top = crate::sched::current().stack_top;
    let frame = crate::arch::entry::user_frame(top);
    let fx_slot = crate::arch::entry::user_fx_area(top);
    // SAFETY: `frame` and `fx_slot` lie in the user-entry area at the top of this
    // thread's own kernel stack, which no kernel code uses (a thread's first frame starts
    // below it: `sched::Thread::with_entry`); `user_enter` abandons this stack.
    unsafe {
        frame.write(regs);
        fx_slot.write(fx);
        crate::arch::entry::enter_user(frame, fx_slot)
    }
}

/// The registers a new program starts with: `rip`, `rsp`, everything else zero.
pub fn initial_regs(rip: u64, rsp: u64) -> InterruptFrame {
    InterruptFrame {
        r15: 0,
        r14: 0,
        r13: 0,
        r12: 0,
        r11: 0,
        r10: 0,
        r9: 0,
        r8: 0,
        rbp: 0,
        rdi: 0,
        rsi: 0,
        rdx: 0,
        rcx: 0,
        rbx: 0,
        rax: 0,
        vector: 0,
        error_code: 0,
        rip,
        cs: u64::from(crate::arch::gdt::USER_CODE),
        rflags: 0x202,
        rsp,
        ss: u64::from(crate::arch::gdt::USER_DATA),
    }
}

/// An exception taken in user mode (on the thread's kernel stack, interrupts off).
pub fn user_exception(frame: &mut InterruptFrame) {
    let cr2 = crate::arch::cpu::cr2();
    // SAFETY: a user exception runs in the faulting thread's context, holding no lock.
    unsafe { crate::arch::cpu::enable_interrupts() };
    serve_exception(frame, cr2);
    return_to_user(frame);
}

/// What a user exception means: a fault served, or a signal for the thread. Returns with
/// nothing held (the way back to user mode may end the thread).
fn serve_exception(frame: &mut InterruptFrame, cr2: u64) {
    let task = current();
    use halyard_signal::Signal as S;
    use linux_raw_sys::general as g;
    let (sig, code, addr) = match frame.vector {
        14 => {
            let e = frame.error_code;
            let access = if e & 16 != 0 {
                vm::Access::Execute
            } else if e & 2 != 0 {
                vm::Access::Write
            } else {
                vm::Access::Read
            };
            match task.process.mm().fault(cr2, access, e & 1 != 0) {
                Ok(()) => return,
                Err(PageError::Segv(code)) => (S::SIGSEGV, code.si_code() as i32, cr2),
                Err(PageError::OutOfMemory) => {
                    // The OOM killer picks a victim; this thread retries the access.
                    if oom::kill_victim().is_none() && task.process.pid != halyard_process::INIT_PID
                    {
                        (S::SIGKILL, 0, 0)
                    } else {
                        crate::sched::sleep_ns(10_000_000);
                        return;
                    }
                }
                Err(PageError::PastEof) => (S::SIGBUS, g::BUS_ADRERR as i32, cr2),
            }
        }
        0 => (S::SIGFPE, g::FPE_INTDIV as i32, frame.rip),
        16 | 19 => (S::SIGFPE, 0, frame.rip),
        6 => (S::SIGILL, g::ILL_ILLOPN as i32, frame.rip),
        1 | 3 => (S::SIGTRAP, g::SI_KERNEL as i32, 0),
        17 => (S::SIGBUS, g::BUS_ADRALN as i32, 0),
        _ => (S::SIGSEGV, g::SI_KERNEL as i32, 0),
    };
    let info = if sig == S::SIGKILL {
        SigInfo::kernel(sig)
    } else {
        SigInfo::fault(sig, code, addr)
    };
    signals::force(&task, info, frame);
}

/// Work due before a thread returns to user mode: pending exit, stops, signal handlers.
/// Interrupts are off on return.
pub fn return_to_user(frame: &mut InterruptFrame) {
    // After a system call they are on already, and `sti` is not free under emulation
    // (it ends a translation block), so only an interrupt's return turns them on.
    if !crate::arch::cpu::interrupts_enabled() {
        // SAFETY: the thread is on its way back to user mode from its own kernel stack,
        // with no lock held and (after an interrupt) the hardirq already left: it may
        // sleep here.
        unsafe { crate::arch::cpu::enable_interrupts() };
    }
    file_map::close_deferred();
    if let Some(own) = signals::deliver(frame) {
        exit::exit_current_thread(own);
    }
    crate::arch::cpu::disable_interrupts();
}

/// Starts the first process (pid 1) from ELF program `file` at `path` with `argv` and
/// `envp`, its descriptors 0, 1 and 2 on the console.
pub fn start_init(
    file: &crate::syscall::fs::Executable,
    path: &[u8],
    argv: &[&[u8]],
    envp: &[&[u8]],
) -> Result<u32, crate::syscall::Errno> {
    let args = exec::copy_kernel_args(path, argv, envp)?;
    let image = exec::build(file, &args)?;
    let pid = halyard_process::INIT_PID;
    let files = {
        let mut t = FdTable::new();
        let console = crate::tty::console::open(None, linux_raw_sys::general::O_RDWR);
        for _ in 0..3 {
            t.install(console.clone(), false, 1024)?;
        }
        Arc::new(Mutex::new(t))
    };
    let mut signals = SignalState::new(pid, halyard_signal::SigpendingQuota::new(), 1024);
    signals.set_unkillable(true);
    let name = exec::comm(path);
    let process = Process::new(pid, name, image.mm.clone(), files, signals);
    *process.exe.lock() = (path.to_vec(), exec::cmdline(&args));
    let task = Task::new(pid, process.clone());
    table::with(|p| p.processes.insert(pid, process));
    spawn_thread(
        task,
        initial_regs(image.entry, image.rsp),
        FxArea::initial(),
        0,
    )?;
    Ok(pid)
}

/// Starts the program at `path` in the VFS as process 1 (the `init=` word).
pub fn start_init_path(path: &str) -> Result<u32, crate::syscall::Errno> {
    let file = crate::syscall::fs::Executable::open_as_root(path.as_bytes())?;
    start_init(
        &file,
        path.as_bytes(),
        &[path.as_bytes()],
        &[b"HOME=/", b"TERM=linux"],
    )
}

/// A user signal's `Signal`, or `EINVAL`.
pub fn signal_number(sig: u64) -> Result<Signal, crate::syscall::Errno> {
    Signal::new(sig as i64).map_err(crate::syscall::Errno::from)
}
