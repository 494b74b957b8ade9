//! `clone`, `clone3`, `fork` and `vfork`: new processes and threads.
//!
//! `halyard-process` allocates the id and checks the limits (a fork bomb meets
//! `RLIMIT_NPROC` or the system-wide task limit: `EAGAIN`); `halyard-vm` and
//! [`super::mm::Mm::fork`] copy the memory copy-on-write; `halyard-signal` copies the
//! actions and mask. The child starts in user mode with the parent's registers (RAX 0) and
//! FPU state, on the new stack if one was given.
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use halyard_process::CloneKind;
use linux_raw_sys::general as g;

use super::usercopy::{self, UserRef};
use super::{current, table, Process, Task, VforkDone};
use crate::arch::entry::InterruptFrame;
use crate::fs::fdtable::FdTable;
use crate::sync::Mutex;
use crate::syscall::{Errno, SysResult};

/// The flags Halyard implements (others are `EINVAL`, counted as unsupported).
const SUPPORTED: u64 = (g::CLONE_VM
    | g::CLONE_FS
    | g::CLONE_FILES
    | g::CLONE_SIGHAND
    | g::CLONE_THREAD
    | g::CLONE_SYSVSEM
    | g::CLONE_SETTLS
    | g::CLONE_PARENT_SETTID
    | g::CLONE_CHILD_SETTID
    | g::CLONE_CHILD_CLEARTID
    | g::CLONE_VFORK
    | g::CLONE_PARENT
    | g::CLONE_DETACHED) as u64;

/// A clone request, from `clone`'s registers or `clone3`'s `struct clone_args`.
pub struct CloneArgs {
    pub flags: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub parent_tid: u64,
    pub child_tid: u64,
    pub tls: u64,
}

/// `clone`: the checks Linux's `copy_process` makes, then the new task.
pub fn clone(frame: &InterruptFrame, a: CloneArgs) -> SysResult {
    let f = a.flags;
    let has = |bit: u32| f & u64::from(bit) != 0;
    if f & !SUPPORTED != 0 {
        crate::info!("clone: unsupported flags {:#x}: EINVAL", f & !SUPPORTED);
        return Err(Errno::EINVAL);
    }
    if (has(g::CLONE_THREAD) && !has(g::CLONE_SIGHAND))
        || (has(g::CLONE_SIGHAND) && !has(g::CLONE_VM))
    {
        return Err(Errno::EINVAL);
    }
    if has(g::CLONE_SIGHAND) && !has(g::CLONE_THREAD) {
        // Signal actions shared between processes: not implemented (rare; glibc and Rust
        // std never ask for it).
        crate::info!("clone: CLONE_SIGHAND without CLONE_THREAD is not supported: EINVAL");
        return Err(Errno::EINVAL);
    }
    if a.exit_signal > u64::from(g::_NSIG) {
        return Err(Errno::EINVAL);
    }
    let parent = current();
    let kind = if has(g::CLONE_THREAD) {
        CloneKind::Thread
    } else if has(g::CLONE_PARENT) {
        CloneKind::Sibling
    } else {
        CloneKind::Process {
            exit_signal: a.exit_signal as u32,
        }
    };
    let tid = table::with(|p| p.table.clone_task(parent.tid(), kind)).map_err(Errno::from)?;
    let built = build_task(&parent, tid, &a);
    let task = match built {
        Ok(task) => task,
        Err(e) => {
            abandon(tid);
            return Err(e);
        }
    };
    if has(g::CLONE_PARENT_SETTID) {
        usercopy::write(
            &parent.process.mm(),
            UserRef::<u32>::new(a.parent_tid),
            &tid,
        )?;
    }
    if has(g::CLONE_CHILD_SETTID) {
        usercopy::write(&task.process.mm(), UserRef::<u32>::new(a.child_tid), &tid)?;
    }
    if has(g::CLONE_CHILD_CLEARTID) {
        task.clear_child_tid.store(a.child_tid, Ordering::Relaxed);
    }
    let vfork = has(g::CLONE_VFORK).then(|| {
        let v = Arc::new(VforkDone {
            done: core::sync::atomic::AtomicBool::new(false),
            queue: crate::sched::WaitQueue::new(),
        });
        *task.vfork.lock() = Some(v.clone());
        v
    });
    let mut regs = *frame;
    regs.rax = 0;
    if a.stack != 0 {
        regs.rsp = a.stack;
    }
    let bases = crate::sched::current().user_bases();
    let fs = if has(g::CLONE_SETTLS) {
        a.tls
    } else {
        bases.fs
    };
    if fs >= vm::TASK_SIZE {
        abandon(tid);
        return Err(Errno::EPERM);
    }
    // SAFETY: the entry path saved the caller's user FPU state there.
    let mut fx = unsafe { *crate::arch::entry::user_fx_area(crate::sched::current().stack_top) };
    crate::arch::fpu::complete_user_image(&mut fx);
    if let Err(e) = super::spawn_thread(task, regs, fx, fs) {
        abandon(tid);
        return Err(e);
    }
    if let Some(v) = vfork {
        // The parent sleeps until the child execs or exits (uninterruptibly, as Linux's
        // killable wait: only a fatal signal would end it, and those end the parent too).
        v.queue.wait_until(|| v.done.load(Ordering::Acquire));
    }
    Ok(u64::from(tid))
}

/// The child's kernel objects: a new process (memory copied or shared, descriptors copied
/// or shared, actions copied) or a new thread of the caller's.
fn build_task(parent: &Task, tid: u32, a: &CloneArgs) -> Result<Arc<Task>, Errno> {
    let has = |bit: u32| a.flags & u64::from(bit) != 0;
    let pp = &parent.process;
    if has(g::CLONE_THREAD) {
        pp.signals
            .lock()
            .add_thread(parent.tid(), tid)
            .map_err(Errno::from)?;
        return Ok(Task::new(tid, pp.clone()));
    }
    let mm = if has(g::CLONE_VM) {
        pp.mm()
    } else {
        Arc::new(pp.mm().fork().map_err(|_| Errno::ENOMEM)?)
    };
    let files = if has(g::CLONE_FILES) {
        pp.files.clone()
    } else {
        let copy: FdTable = pp.files.lock().clone();
        Arc::new(Mutex::new(copy))
    };
    let signals = pp
        .signals
        .lock()
        .fork(parent.tid(), tid)
        .map_err(Errno::from)?;
    let process = Process::new(tid, pp.name(), mm, files, signals);
    *process.exe.lock() = pp.exe.lock().clone();
    process
        .umask
        .store(pp.umask.load(Ordering::Relaxed), Ordering::Relaxed);
    *process.fs.lock() = *pp.fs.lock();
    process
        .dumpable
        .store(pp.dumpable.load(Ordering::Relaxed), Ordering::Relaxed);
    table::with(|p| p.processes.insert(tid, process.clone()));
    Ok(Task::new(tid, process))
}

/// Undoes a `clone_task` whose child could not be built or started.
fn abandon(tid: u32) {
    table::with(|p| {
        let _ = p.table.exit(
            tid,
            halyard_process::Status::Killed {
                signal: g::SIGKILL,
                core: false,
            },
            true,
        );
        p.threads.remove(&tid);
        if p.table.zombie(tid).is_some() {
            if let Some(parent) = p.table.parent(tid) {
                let mut request =
                    halyard_process::WaitRequest::wait4(tid as i32, g::WNOHANG | g::__WALL)
                        .expect("valid options");
                let _ = p.table.wait(parent, &mut request);
            }
        }
        p.processes.remove(&tid);
    });
}
