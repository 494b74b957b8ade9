//! `execve` in a process with several threads (Linux's `de_thread`).
//!
//! The new program starts with one thread, so before `execve` replaces the address space
//! the other threads must be gone: not only asked to leave, but off their CPUs for good,
//! because a thread still running on the old page tables (even in the kernel, on its way
//! out) would keep freed tables loaded. Linux sends them `SIGKILL` (`zap_other_threads`)
//! and waits until the thread count drops to one; Halyard marks the process with the
//! calling thread's id ([`Process::exec_tid`]), which makes every other thread's blocking
//! wait end as a fatal signal would ([`super::signals::signal_pending`]) and its next
//! return to user mode an exit ([`super::signals::deliver`]), and then joins each of them.
//! A leaving thread moves its CPU to the kernel's tables before it switches away for the
//! last time ([`super::exit::exit_current_thread`]), so once the join returns nothing runs
//! on the old ones.
//!
//! Their exits still touch the old address space (`CLONE_CHILD_CLEARTID`, robust lists),
//! which is why the wait comes before the point of no return, as in Linux (`de_thread`
//! runs before `exec_mmap`). A thread other than the leader then takes over the process
//! id as its thread id ([`take_over_leader`]), as Linux's `exchange_tids`.
//!
//! Two threads calling `execve` at once: the second finds the mark taken and gets
//! `EAGAIN`, and leaves at its return to user mode like the others. A fatal signal or
//! `exit_group` while the others are being ended wins: the exec fails and the caller
//! leaves too (Linux: `-EAGAIN` from `de_thread` once the group is exiting).
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::{table, Process, Task};
use crate::syscall::Errno;

/// Ends every other thread of the caller's process and waits until each is off its CPU
/// for good. `Ok` at once for a single-threaded process, the common case.
pub fn end_other_threads(task: &Task) -> Result<(), Errno> {
    let process = &task.process;
    if process.live_threads.load(Ordering::Acquire) == 1 {
        return Ok(());
    }
    let me = task.tid();
    if process
        .exec_tid
        .compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
        || process.exiting.load(Ordering::Acquire)
    {
        return Err(Errno::EAGAIN);
    }
    // A thread being created by one that is leaving starts, sees the mark and leaves:
    // look again until no other thread is left.
    loop {
        let others = other_threads(process, me);
        if others.is_empty() {
            break;
        }
        for t in &others {
            crate::sched::wake(t);
        }
        process.resumed.wake_all();
        for t in &others {
            crate::sched::join(t);
        }
    }
    if process.exiting.load(Ordering::Acquire) {
        process.exec_tid.store(0, Ordering::Release);
        return Err(Errno::EAGAIN);
    }
    Ok(())
}

/// The kernel threads of `process`'s threads other than `me` that have not exited.
fn other_threads(process: &Process, me: u32) -> Vec<Arc<crate::sched::Thread>> {
    table::with(|p| {
        p.table
            .threads(process.pid)
            .filter(|&tid| tid != me)
            .filter_map(|tid| p.threads.get(&tid).cloned())
            .filter(|t| t.state() != crate::sched::State::Exited)
            .collect()
    })
}

/// After the point of no return: the caller, alone in its process now, takes the
/// process id as its thread id when it had another (the table has already moved it,
/// `halyard_process::Table::exec`), and the other threads' mark is cleared.
pub fn take_over_leader(task: &Task) {
    let process = &task.process;
    let old = task.tid();
    if old != process.pid {
        table::with(|p| {
            if let Some(thread) = p.threads.remove(&old) {
                p.threads.insert(process.pid, thread);
            }
        });
        task.set_tid(process.pid);
    }
    process.exec_tid.store(0, Ordering::Release);
}

/// Is `task` leaving because another thread of its process is in `execve`?
pub fn ended_by_exec(task: &Task) -> bool {
    let exec = task.process.exec_tid.load(Ordering::Acquire);
    exec != 0 && exec != task.tid()
}
