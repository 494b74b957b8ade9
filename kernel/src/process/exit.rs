//! Ending threads and processes, stopping and continuing them, and telling the parent.
use alloc::sync::Arc;
use core::sync::atomic::{AtomicI32, Ordering};

use halyard_process::{Action, Status};
use halyard_signal::{ChildEvent, SigInfo, Signal, Target, SI_USER};

use super::{table, Process, Task};

/// The wait status a process ends with once it is ending (first one set wins).
const NO_STATUS: i32 = -1;

fn status_slot(process: &Process) -> &AtomicI32 {
    &process.exit_status
}

/// Starts ending the whole process with wait status `status` (`exit_group`, a fatal
/// signal): every thread leaves at its next return to user mode; sleeping ones are woken.
pub fn begin_group_exit(process: &Arc<Process>, status: i32) {
    let _ = status_slot(process).compare_exchange(
        NO_STATUS,
        status,
        Ordering::AcqRel,
        Ordering::Acquire,
    );
    process.exiting.store(true, Ordering::Release);
    let threads: alloc::vec::Vec<u32> = table::with(|p| p.table.threads(process.pid).collect());
    for tid in threads {
        if let Some(t) = table::thread(tid) {
            crate::sched::wake(&t);
        }
    }
    process.resumed.wake_all();
}

/// The wait status of an ending process: the group's, or `exit(code)` of its last thread.
fn status_of(process: &Process, own: i32) -> Status {
    let status = match status_slot(process).load(Ordering::Acquire) {
        NO_STATUS => own,
        s => s,
    };
    if status & 0x7f == 0 {
        Status::Exited((status >> 8) as u8)
    } else {
        Status::Killed {
            signal: (status & 0x7f) as u32,
            core: status & 0x80 != 0,
        }
    }
}

/// Ends the calling thread (`own`: its wait status, for `exit` of the last thread) and,
/// with its last thread, its process. Never returns. Every reference the exit takes is
/// dropped before the final switch: a thread that never runs again cannot drop what its
/// stack still holds, so callers must hold none either (the exit happens at the outermost
/// level of the way back to user mode, [`super::return_to_user`]).
pub fn exit_current_thread(own: i32) -> ! {
    let task = super::current();
    let for_exec = super::de_thread::ended_by_exec(&task);
    finish_thread(task, own);
    if for_exec {
        // The tables this thread ran on go once the `execve` sees it exited.
        leave_user_tables();
    }
    crate::sched::exit_current()
}

/// Moves this CPU to the kernel's tables, for a thread that will not return to user
/// mode and whose process's tables are about to be freed.
fn leave_user_tables() {
    let thread = crate::sched::current();
    crate::arch::cpu::without_interrupts(|| {
        thread.user_cr3.store(0, Ordering::Relaxed);
        crate::arch::tlb::load(crate::mm::address_space::kernel_root());
    });
}

/// The work of a thread's exit.
fn finish_thread(task: Arc<Task>, own: i32) {
    let process = &task.process;
    // CLONE_CHILD_CLEARTID: zero the word and wake one futex waiter (a joining thread).
    let ctid = task.clear_child_tid.swap(0, Ordering::AcqRel);
    if ctid != 0 {
        let mm = process.mm();
        if super::usercopy::write(&mm, super::usercopy::UserRef::<u32>::new(ctid), &0).is_ok() {
            crate::syscall::futex::wake_address(&mm, ctid, 1);
        }
    }
    task.release_vfork();
    process.note_rss();
    let thread = crate::sched::current();
    let (user, system) = crate::sched::cputime::sampled_ns(&thread);
    process
        .exited_cpu_ns
        .fetch_add(crate::sched::cpu_time_ns(&thread), Ordering::Relaxed);
    process
        .exited_user_tick_ns
        .fetch_add(user, Ordering::Relaxed);
    process
        .exited_system_tick_ns
        .fetch_add(system, Ordering::Relaxed);
    drop(thread);
    let last = process.live_threads.fetch_sub(1, Ordering::AcqRel) == 1;
    if last {
        super::itimer::set(process, 0, 0);
    }
    process.signals.lock().remove_thread(task.tid());
    if last {
        // Close every descriptor now: pipe readers see end of file, writers EPIPE.
        let files = core::mem::take(&mut *process.files.lock());
        drop(files);
        // Free the memory now, not when the zombie is reaped (Linux's exit_mm): this CPU
        // moves to the kernel's tables first, as the old ones are about to go.
        leave_user_tables();
        drop(process.replace_mm(super::mm::Mm::empty()));
        // A session leader's controlling terminal goes (Linux: after `exit_files`).
        if table::with(|p| p.table.getsid(process.pid, 0)) == Ok(process.pid) {
            super::jobctl::session_leader_exit(process.pid);
        }
    }
    let status = status_of(process, own);
    let parent_pid = table::with(|p| p.table.parent(process.pid));
    // SIGCHLD disposition of the parent decides reaping at once (SIG_IGN/SA_NOCLDWAIT).
    let parent = parent_pid.and_then(table::process);
    if let (Some(parent), true) = (&parent, last) {
        let notice = parent.signals.lock().child_exit(Some(Signal::SIGCHLD));
        table::with(|p| p.table.set_autoreap(parent.pid, notice.autoreap));
    }
    let exit = table::with(|p| {
        let exit = p.table.exit(task.tid(), status, last);
        p.threads.remove(&task.tid());
        if let Ok(e) = &exit {
            if e.reaped {
                p.processes.remove(&process.pid);
            }
        }
        exit
    });
    match exit {
        Ok(exit) => run_actions(&exit.actions, Some((process, status))),
        // The table refuses only init's last exit; Linux panics there too.
        Err(_) => panic!(
            "Attempted to kill init! exitcode={:#010x}",
            process.exit_status.load(Ordering::Acquire).max(own)
        ),
    }
}

/// The SIGCHLD siginfo of a child event.
fn child_info(child: &Process, event: ChildEvent) -> SigInfo {
    event.siginfo(child.pid as i32, 0, 0, 0)
}

fn to_signal_event(status: Status) -> ChildEvent {
    match status {
        Status::Exited(code) => ChildEvent::Exited(code),
        Status::Killed { signal, core } => ChildEvent::Killed {
            sig: Signal::new(i64::from(signal)).unwrap_or(Signal::SIGKILL),
            core,
        },
    }
}

/// Carries out the table's actions; `about` is the process whose change caused them.
pub fn run_actions(actions: &[Action], about: Option<(&Arc<Process>, Status)>) {
    for action in actions {
        match *action {
            Action::SignalGroup { pgid, signal } => super::signals::signal_group(pgid, signal),
            Action::SignalProcess { pid, signal } => {
                let Ok(sig) = Signal::new(i64::from(signal)) else {
                    continue;
                };
                let info = match (sig, about) {
                    (Signal::SIGCHLD, Some((child, status))) => {
                        child_info(child, to_signal_event(status))
                    }
                    _ => SigInfo::kernel(sig),
                };
                let _ = super::signals::send(Target::Process(pid), info);
            }
            Action::WakeWaiters { pid } => {
                if let Some(p) = table::process(pid) {
                    p.child_gen.fetch_add(1, Ordering::AcqRel);
                    p.child_event.wake_all();
                }
            }
            // Linux's `forget_original_parent`: the child's `PR_SET_PDEATHSIG` signal,
            // as from the exiting parent (`SEND_SIG_NOINFO`).
            Action::Reparented { child, .. } => {
                let Some(c) = table::process(child) else {
                    continue;
                };
                let sig = c.pdeathsig.load(Ordering::Relaxed);
                if let (Ok(sig), Some((parent, _))) = (Signal::new(i64::from(sig)), about) {
                    let info = SigInfo::user(sig, SI_USER, parent.pid as i32, 0);
                    let _ = super::signals::send(Target::Process(child), info);
                }
            }
        }
    }
}

fn job_actions(actions: &[Action], child: &Arc<Process>, event: ChildEvent) {
    for action in actions {
        match *action {
            Action::SignalProcess { pid, .. } => {
                let notify =
                    table::process(pid).is_some_and(|p| p.signals.lock().notify_stop_continue());
                if notify {
                    let _ = super::signals::send(Target::Process(pid), child_info(child, event));
                }
            }
            _ => run_actions(core::slice::from_ref(action), None),
        }
    }
}

/// A stop signal's default action: the process stops; its parent is told.
pub fn group_stop(process: &Arc<Process>, sig: Signal) {
    if process.stopped.swap(true, Ordering::AcqRel) {
        return;
    }
    let actions = table::with(|p| p.table.stopped(process.pid, sig.number()));
    job_actions(&actions, process, ChildEvent::Stopped(sig));
}

/// SIGCONT resumed a stopped process: its parent is told.
pub fn notify_parent_continued(process: &Arc<Process>) {
    let actions = table::with(|p| p.table.continued(process.pid));
    job_actions(&actions, process, ChildEvent::Continued);
}
