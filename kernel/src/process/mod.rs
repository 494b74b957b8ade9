//! Processes: programs running in user mode with the Linux x86_64 system-call ABI.
//!
//! - [`mm`]: a process's memory (region map + page tables) and page-fault service.
//! - [`usercopy`]: typed user addresses and fault-free copies (`EFAULT`, never a crash).
//! - [`exec`]: building a program image from an ELF file.
//!
//! A thread of a process is a kernel thread with a [`Task`] ([`crate::sched::Thread::task`]):
//! it runs in the kernel on its own kernel stack (system calls, faults, interrupts from
//! user mode all land at the top of it) and in user mode on its process's page tables.
//! Everything user mode can cause arrives through [`user_exception`], the system-call
//! entry, or an interrupt, and leaves through [`return_to_user`].
pub mod exec;
pub mod mm;
pub mod usercopy;

use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};

use vm::{Access, SegvCode};

use crate::arch::entry::{FxArea, InterruptFrame};
use crate::arch::user_mode::SegmentBases;
use crate::sync::Mutex;
use mm::{Mm, PageError};

/// A process: an address space and the threads that share it.
pub struct Process {
    pub pid: u32,
    /// Name of the program (`comm`): the file name of the last exec.
    pub name: Mutex<String>,
    mm: Mutex<Arc<Mm>>,
    /// Set when the process is ending (`exit_group`, a fatal signal): its other threads
    /// leave at their next return to user mode.
    pub exiting: AtomicBool,
    /// The wait status it ended with (Linux's encoding), once it has.
    pub exit_status: AtomicI32,
}

/// A thread's process side.
pub struct Task {
    pub tid: u32,
    pub process: Arc<Process>,
    /// `set_tid_address`/`CLONE_CHILD_CLEARTID`: zeroed and futex-woken at exit.
    pub clear_child_tid: AtomicU64,
}

static NEXT_PID: AtomicU32 = AtomicU32::new(1);

impl Process {
    /// The current address space.
    pub fn mm(&self) -> Arc<Mm> {
        self.mm.lock().clone()
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

/// Starts the first process from ELF `file` with `argv` and `envp`.
pub fn start_init(file: &[u8], path: &[u8], argv: &[&[u8]], envp: &[&[u8]]) -> Result<u32, crate::syscall::Errno> {
    let err = |e: halyard_exec::ExecError| crate::syscall::Errno(e.errno());
    let mut copy =
        halyard_exec::ArgCopy::new(path, argv.len(), envp.len(), exec::STACK_LIMIT).map_err(err)?;
    for e in envp {
        copy.push_env(e).map_err(err)?;
    }
    for a in argv {
        copy.push_arg(a).map_err(err)?;
    }
    let args = copy.finish().map_err(err)?;
    let image = exec::build(file, &args, crate::net::secret())?;
    let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
    let name = String::from_utf8_lossy(path.rsplit(|&b| b == b'/').next().unwrap_or(path)).into_owned();
    let process = Arc::new(Process {
        pid,
        name: Mutex::new(name.clone()),
        mm: Mutex::new(image.mm.clone()),
        exiting: AtomicBool::new(false),
        exit_status: AtomicI32::new(0),
    });
    let task = Arc::new(Task {
        tid: pid,
        process,
        clear_child_tid: AtomicU64::new(0),
    });
    let (entry, rsp) = (image.entry, image.rsp);
    crate::sched::try_spawn_user(name, task, image.mm.root(), SegmentBases::default(), move || {
        start_user(entry, rsp, &FxArea::initial())
    })
    .map_err(|_| crate::syscall::Errno::EAGAIN)?;
    Ok(pid)
}

/// Enters user mode at `rip` with stack `rsp`, every other register zero. The calling
/// thread's tables must be loaded (they are: the scheduler loaded them at the switch).
fn start_user(rip: u64, rsp: u64, fx: &FxArea) -> ! {
    crate::arch::cpu::disable_interrupts();
    let top = crate::sched::current().stack_top;
    let frame = crate::arch::entry::user_frame(top);
    let regs = InterruptFrame {
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
    };
    // SAFETY: `frame` is the top of this thread's own kernel stack, below which the
    // current code runs (the closure's frames are far below: the stack grows down from
    // `top` and the frame occupies its last 176 bytes, which nothing uses before a user
    // entry); `user_enter` abandons this stack.
    unsafe {
        frame.write(regs);
        crate::arch::entry::enter_user(frame, fx)
    }
}

/// An exception taken in user mode (on the thread's kernel stack, interrupts off).
pub fn user_exception(frame: &mut InterruptFrame) {
    let cr2 = crate::arch::cpu::cr2();
    // SAFETY: a user exception runs in the faulting thread's context, holding no lock.
    unsafe { crate::arch::cpu::enable_interrupts() };
    let task = current();
    match frame.vector {
        14 => {
            let e = frame.error_code;
            let access = if e & 16 != 0 {
                Access::Execute
            } else if e & 2 != 0 {
                Access::Write
            } else {
                Access::Read
            };
            match task.process.mm().fault(cr2, access, e & 1 != 0) {
                Ok(()) => {}
                Err(PageError::Segv(code)) => fatal_signal(&task, frame, "SIGSEGV", 11, Some((cr2, code))),
                Err(PageError::OutOfMemory) => {
                    crate::warn!(
                        "out of memory: killing process {} ({})",
                        task.process.pid,
                        *task.process.name.lock()
                    );
                    fatal_signal(&task, frame, "SIGKILL", 9, None)
                }
                Err(PageError::Unsupported) => fatal_signal(&task, frame, "SIGBUS", 7, None),
            }
        }
        0 | 16 | 19 => fatal_signal(&task, frame, "SIGFPE", 8, None),
        6 => fatal_signal(&task, frame, "SIGILL", 4, None),
        1 | 3 => fatal_signal(&task, frame, "SIGTRAP", 5, None),
        17 => fatal_signal(&task, frame, "SIGBUS", 7, None),
        _ => fatal_signal(&task, frame, "SIGSEGV", 11, None),
    }
    return_to_user(frame);
}

/// Ends the process with a fatal signal (the default action; handlers come with the
/// signal layer).
fn fatal_signal(task: &Task, frame: &InterruptFrame, name: &str, sig: i32, fault: Option<(u64, SegvCode)>) {
    crate::info!(
        "process {} ({}): {name} at rip {:#x}{}",
        task.process.pid,
        *task.process.name.lock(),
        frame.rip,
        match fault {
            Some((addr, SegvCode::MapErr)) => alloc::format!(", address {addr:#x} not mapped"),
            Some((addr, SegvCode::AccErr)) => alloc::format!(", access to {addr:#x} not allowed"),
            None => String::new(),
        }
    );
    exit_group(task, sig);
}

/// Work due before a thread returns to user mode (interrupts may be on or off; they are
/// off on return).
pub fn return_to_user(_frame: &mut InterruptFrame) {
    let task = current();
    if task.process.exiting.load(Ordering::Acquire) {
        exit_thread(&task);
    }
    crate::arch::cpu::disable_interrupts();
}

/// `exit_group`: the process ends with wait status `status`.
pub fn exit_group(task: &Task, status: i32) -> ! {
    if !task.process.exiting.swap(true, Ordering::AcqRel) {
        task.process.exit_status.store(status, Ordering::Release);
        crate::info!(
            "process {} ({}) exited, status {:#x}",
            task.process.pid,
            *task.process.name.lock(),
            status
        );
    }
    exit_thread(task)
}

/// Ends the calling thread of a process.
pub fn exit_thread(_task: &Task) -> ! {
    crate::sched::exit_current()
}
