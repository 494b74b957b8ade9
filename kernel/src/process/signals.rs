//! Signals in the kernel: sending them to threads and processes, and acting on them on
//! the way back to user mode. What happens is decided by `halyard-signal`'s
//! [`SignalState`] (one per process, under [`Process::signals`]); this file finds the
//! threads, wakes them, and writes and reads the frames.
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use halyard_signal::{
    frame, restart, Delivery, RunState, Selectors, Sent, SigInfo, Signal, Target, UserRegs,
};

use super::usercopy::{self, UserAddr};
use super::{current, table, try_current, Process, Task};
use crate::arch::entry::{FxArea, InterruptFrame};
use crate::syscall::Errno;

/// The user selectors of Halyard's GDT, as frames record them.
pub const SELECTORS: Selectors = Selectors {
    user_cs: crate::arch::gdt::USER_CODE,
    user_ds: crate::arch::gdt::USER_DATA,
};

/// Does the calling thread have a signal to act on (or is its process ending)? Blocking
/// calls check this to end their wait. False for kernel threads.
pub fn signal_pending() -> bool {
    try_current().is_some_and(|t| {
        t.process.ends_thread(t.tid()) || t.process.signals.lock().has_deliverable(t.tid())
    })
}

fn run_state(tid: u32) -> RunState {
    match table::thread(tid) {
        Some(t) if t.state() == crate::sched::State::Running => RunState::Running,
        _ => RunState::Waiting,
    }
}

/// Carries out what a send decided: wake the chosen thread, resume a stopped process,
/// kill a process whose signal is fatal.
fn after_send(process: &Arc<Process>, sent: Sent) {
    if sent.continued && process.stopped.swap(false, Ordering::AcqRel) {
        process.resumed.wake_all();
        super::exit::notify_parent_continued(process);
    }
    if let Some(sig) = sent.group_exit {
        super::exit::begin_group_exit(
            process,
            halyard_signal::ChildEvent::Killed { sig, core: false }.wait_status(),
        );
    }
    if let Some(tid) = sent.wake {
        if let Some(t) = table::thread(tid) {
            crate::sched::wake(&t);
        }
    }
}

/// Sends `info` to thread `tid` (`Target::Thread`) or to the process `tid` leads
/// (`Target::Process`). `ESRCH` when there is no such thread.
pub fn send(target: Target, info: SigInfo) -> Result<(), Errno> {
    let (Target::Thread(tid) | Target::Process(tid)) = target;
    let process = table::with(|p| {
        let pid = p.table.tgid(tid).ok_or(Errno::ESRCH)?;
        p.processes.get(&pid).cloned().ok_or(Errno::ESRCH)
    })?;
    let sent = process
        .signals
        .lock()
        .send(target, info, &run_state)
        .map_err(Errno::from)?;
    after_send(&process, sent);
    Ok(())
}

/// A fault's signal to the faulting thread (`force_sig_info`).
pub fn force(task: &Task, info: SigInfo, _frame: &InterruptFrame) {
    let sent = task
        .process
        .signals
        .lock()
        .force(task.tid(), info, false, &run_state);
    if let Ok(sent) = sent {
        after_send(&task.process, sent);
    }
}

/// `SIGPIPE` to the calling thread (a write to a pipe or socket with no reader).
pub fn send_sigpipe() {
    if let Some(task) = try_current() {
        let _ = send(Target::Thread(task.tid()), SigInfo::kernel(Signal::SIGPIPE));
    }
}

/// `sig` to every process in group `pgid` (the terminal's ^C, ^Z, ^\ and SIGWINCH).
pub fn signal_group(pgid: u32, sig: u32) {
    let Ok(signal) = Signal::new(i64::from(sig)) else {
        return;
    };
    let members: alloc::vec::Vec<u32> = table::with(|p| p.table.group_members(pgid).collect());
    for pid in members {
        let _ = send(Target::Process(pid), SigInfo::kernel(signal));
    }
}

/// Sends `sig` from the kernel to process `pid` (Linux `SEND_SIG_PRIV`).
pub fn signal_process(pid: u32, sig: u32) {
    if let Ok(signal) = Signal::new(i64::from(sig)) {
        let _ = send(Target::Process(pid), SigInfo::kernel(signal));
    }
}

/// The user registers of a frame, in `pt_regs` terms (`orig_rax` is the system call
/// number for a system call, -1 otherwise).
pub fn user_regs(f: &InterruptFrame) -> UserRegs {
    UserRegs {
        r15: f.r15,
        r14: f.r14,
        r13: f.r13,
        r12: f.r12,
        rbp: f.rbp,
        rbx: f.rbx,
        r11: f.r11,
        r10: f.r10,
        r9: f.r9,
        r8: f.r8,
        rax: f.rax,
        rcx: f.rcx,
        rdx: f.rdx,
        rsi: f.rsi,
        rdi: f.rdi,
        orig_rax: if f.vector == crate::arch::entry::SYSCALL_VECTOR {
            f.error_code
        } else {
            UserRegs::NO_SYSCALL
        },
        rip: f.rip,
        cs: f.cs,
        rflags: f.rflags,
        rsp: f.rsp,
        ss: f.ss,
    }
}

/// Writes `regs` back into the frame (the vector stays: it says how the thread entered).
pub fn set_user_regs(f: &mut InterruptFrame, r: &UserRegs) {
    f.r15 = r.r15;
    f.r14 = r.r14;
    f.r13 = r.r13;
    f.r12 = r.r12;
    f.rbp = r.rbp;
    f.rbx = r.rbx;
    f.r11 = r.r11;
    f.r10 = r.r10;
    f.r9 = r.r9;
    f.r8 = r.r8;
    f.rax = r.rax;
    f.rcx = r.rcx;
    f.rdx = r.rdx;
    f.rsi = r.rsi;
    f.rdi = r.rdi;
    f.rip = r.rip;
    f.cs = r.cs;
    f.rflags = r.rflags;
    f.rsp = r.rsp;
    f.ss = r.ss;
    if r.orig_rax == UserRegs::NO_SYSCALL {
        f.error_code = u64::MAX;
    }
}

/// User memory for the frame code: copies through [`usercopy`].
pub struct TaskMemory(pub Arc<super::mm::Mm>);

impl halyard_signal::UserMemory for TaskMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), halyard_signal::Errno> {
        usercopy::read_bytes(&self.0, UserAddr(addr), buf).map_err(|_| efault())
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), halyard_signal::Errno> {
        usercopy::write_bytes(&self.0, UserAddr(addr), data).map_err(|_| efault())
    }
}

fn efault() -> halyard_signal::Errno {
    halyard_signal::Errno::new(linux_raw_sys::errno::EFAULT)
}

/// The thread's saved user FPU state (below its entry frame).
fn user_fx() -> *mut FxArea {
    crate::arch::entry::user_fx_area(crate::sched::current().stack_top)
}

/// On the way back to user mode: wait while the process is stopped and run the next
/// signal's action (a handler frame, a stop, or death). `Some(status)` when the thread
/// must exit instead (its process is ending, or it called `exit`): the caller does that
/// with nothing held.
pub fn deliver(frame: &mut InterruptFrame) -> Option<i32> {
    let task = current();
    loop {
        let own = task.exit_request.load(Ordering::Acquire);
        if own >= 0 {
            return Some(own);
        }
        if task.process.ends_thread(task.tid()) {
            return Some(0);
        }
        if task.process.stopped.load(Ordering::Acquire) {
            let p = &task.process;
            p.resumed
                .wait_until(|| !p.stopped.load(Ordering::Acquire) || p.ends_thread(task.tid()));
            continue;
        }
        if !task.process.signals.needs_attention() && !restart::is_restart_code(frame.rax) {
            // The common case, without the lock: nothing pending, no mask to restore,
            // nothing to restart.
            return None;
        }
        let mut regs = user_regs(frame);
        if !task.process.signals.lock().has_deliverable(task.tid()) {
            // The common case, at every return: nothing to do but the restart rules.
            if regs.in_syscall() {
                restart::without_handler(&mut regs);
                set_user_regs(frame, &regs);
            }
            let _ = task
                .process
                .signals
                .lock()
                .restore_saved_sigmask(task.tid());
            return None;
        }
        let orphaned = super::jobctl::own_group_orphaned(&task);
        let delivery = task.process.signals.lock().get_signal(task.tid(), orphaned);
        match delivery {
            Ok(None) | Err(_) => {
                if regs.in_syscall() {
                    restart::without_handler(&mut regs);
                    set_user_regs(frame, &regs);
                }
                let _ = task
                    .process
                    .signals
                    .lock()
                    .restore_saved_sigmask(task.tid());
                return None;
            }
            Ok(Some(Delivery::Handler { info, action })) => {
                if regs.in_syscall() {
                    restart::before_handler(&mut regs, &action);
                }
                let sig = info.signal();
                let (saved_mask, altstack) = {
                    let s = task.process.signals.lock();
                    (
                        s.sigmask_to_save(task.tid()).unwrap_or_default(),
                        s.altstack(task.tid()).unwrap_or_default(),
                    )
                };
                // SAFETY: the entry path saved this thread's user FPU state there.
                let fx = unsafe { &mut *user_fx() };
                crate::arch::fpu::complete_user_image(fx);
                let input = frame::FrameInput {
                    sig,
                    info: &info,
                    action: &action,
                    saved_mask,
                    altstack,
                    fpu: &fx.0,
                    trap: frame::Trap {
                        trapno: if frame.vector < 32 { frame.vector } else { 0 },
                        error_code: if frame.vector < 32 {
                            frame.error_code
                        } else {
                            0
                        },
                        cr2: if frame.vector == 14 { info.addr() } else { 0 },
                    },
                    selectors: SELECTORS,
                };
                let mut mem = TaskMemory(task.process.mm());
                match frame::setup_rt_frame(&mut regs, &input, &mut mem) {
                    Ok(_) => {
                        let _ =
                            task.process
                                .signals
                                .lock()
                                .signal_delivered(task.tid(), sig, &action);
                        set_user_regs(frame, &regs);
                        *fx = FxArea::initial();
                        crate::arch::fpu::load_user_x87(fx);
                        return None;
                    }
                    Err(_) => {
                        let sent =
                            task.process
                                .signals
                                .lock()
                                .force_sigsegv(task.tid(), sig, &run_state);
                        if let Ok(sent) = sent {
                            after_send(&task.process, sent);
                        }
                    }
                }
            }
            Ok(Some(Delivery::Stop(info))) => {
                super::exit::group_stop(&task.process, info.signal());
            }
            Ok(Some(Delivery::Terminate { info, core })) => {
                let sig = info.signal();
                // The core bit says a core dump was written; Halyard writes none, and
                // reports one (the bit) only where Linux would have written it: a
                // dumpable process with a non-zero RLIMIT_CORE. Init's default, like
                // Linux's, is 0.
                let dumpable = task.process.dumpable.load(Ordering::Relaxed);
                let core = core && dumpable && core_limit(&task) > 0;
                if matches!(
                    sig,
                    Signal::SIGSEGV | Signal::SIGBUS | Signal::SIGILL | Signal::SIGFPE
                ) {
                    crate::info!(
                        "process {} ({}): signal {} at rip {:#x}, address {:#x}",
                        task.process.pid,
                        task.process.name(),
                        sig.number(),
                        frame.rip,
                        info.addr()
                    );
                }
                super::exit::begin_group_exit(
                    &task.process,
                    halyard_signal::ChildEvent::Killed { sig, core }.wait_status(),
                );
            }
        }
    }
}

/// User memory for `rt_sigreturn`, served from copies made before the signal lock is
/// taken (the lock keeps interrupts off, and a copy from user memory may sleep). A read
/// outside the copies is recorded so the caller can fetch it and run again.
struct Prefetched {
    windows: Vec<(u64, Vec<u8>)>,
    missing: Option<u64>,
}

impl halyard_signal::UserMemory for Prefetched {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), halyard_signal::Errno> {
        for (start, bytes) in &self.windows {
            let off = addr.wrapping_sub(*start);
            if addr >= *start && off + buf.len() as u64 <= bytes.len() as u64 {
                buf.copy_from_slice(&bytes[off as usize..off as usize + buf.len()]);
                return Ok(());
            }
        }
        self.missing = Some(addr);
        Err(efault())
    }
    fn write(&mut self, _addr: u64, _data: &[u8]) -> Result<(), halyard_signal::Errno> {
        Err(efault())
    }
}

/// Bytes fetched around an address `rt_sigreturn` reads: the whole signal frame and the
/// FPU image fit in one window from the frame's start.
const WINDOW: u64 = 4096;

/// The process's soft `RLIMIT_CORE`.
fn core_limit(task: &Task) -> u64 {
    table::with(|p| {
        p.table
            .getrlimit(task.tid(), linux_raw_sys::general::RLIMIT_CORE)
    })
    .map_or(0, |r| r.cur)
}

/// `rt_sigreturn`: restores the registers and mask from the frame at the user stack.
pub fn sigreturn(frame: &mut InterruptFrame) -> Result<u64, Errno> {
    let task = current();
    let mm = task.process.mm();
    let input = frame::SigreturnInput {
        selectors: SELECTORS,
        mxcsr_mask: 0xffff,
    };
    let mut mem = Prefetched {
        windows: Vec::new(),
        missing: Some(frame.rsp.wrapping_sub(8)),
    };
    let mut regs = user_regs(frame);
    let mut result = Err(efault());
    // Each pass fetches what the previous one missed; a frame needs at most three
    // windows (the frame, its FPU image, and a window that straddles the end of a page).
    for _ in 0..4 {
        let Some(addr) = mem.missing.take() else {
            break;
        };
        let mut bytes = alloc::vec![0u8; WINDOW as usize];
        let readable = (0..=WINDOW)
            .rev()
            .step_by(64)
            .find(|&n| usercopy::read_bytes(&mm, UserAddr(addr), &mut bytes[..n as usize]).is_ok())
            .unwrap_or(0);
        if readable == 0 {
            break;
        }
        bytes.truncate(readable as usize);
        mem.windows.push((addr, bytes));
        regs = user_regs(frame);
        let mut s = task.process.signals.lock();
        result = frame::rt_sigreturn(&mut s, task.tid(), &mut regs, &input, &mut mem);
    }
    match result {
        Ok(fpu) => {
            // SAFETY: the entry path saved this thread's user FPU state there; it is
            // restored from there on the way out.
            let fx = unsafe { &mut *user_fx() };
            match fpu {
                frame::FpuRestore::Init => *fx = FxArea::initial(),
                frame::FpuRestore::Image(image) => fx.0 = *image,
            }
            crate::arch::fpu::load_user_x87(fx);
            set_user_regs(frame, &regs);
            Ok(regs.rax)
        }
        Err(_) => {
            set_user_regs(frame, &regs);
            let sent = task.process.signals.lock().force(
                task.tid(),
                SigInfo::kernel(Signal::SIGSEGV),
                false,
                &run_state,
            );
            if let Ok(sent) = sent {
                after_send(&task.process, sent);
            }
            Ok(0)
        }
    }
}
