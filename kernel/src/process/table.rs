//! The process table: `halyard-process`'s bookkeeping plus the kernel objects it names.
//!
//! One lock guards the [`process::Table`] (pids, tree, groups, sessions, limits,
//! credentials, wait selection) and the maps from pid to [`Process`] and from tid to the
//! thread, so a lookup and a decision are atomic together. It is an interrupts-off lock
//! (signals may be sent from any context) and a leaf except for a process's signal state
//! ([`Process::signals`]), which is taken under it, never the other way round.
use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use halyard_process::{Config, Credentials, Table};

use super::Process;
use crate::sched::Thread;
use crate::sync::{IrqLock, LockClass};

/// Everything the table lock guards.
pub struct Procs {
    pub table: Table,
    pub processes: BTreeMap<u32, Arc<Process>>,
    pub threads: BTreeMap<u32, Arc<Thread>>,
}

static PROCS_CLASS: LockClass = LockClass::new("process.table");
static PROCS: IrqLock<Option<Procs>> = IrqLock::new(None, &PROCS_CLASS);

/// Runs `f` on the table (created on first use: init, pid 1, root, with limits sized to
/// the machine's memory).
pub fn with<R>(f: impl FnOnce(&mut Procs) -> R) -> R {
    let mut guard = PROCS.lock();
    let procs = guard.get_or_insert_with(|| {
        let memory = crate::mm::frame_stats().total * crate::mm::PAGE_SIZE;
        // Linux sizes threads-max so task stacks (16 KiB) take at most an eighth of memory;
        // Halyard's kernel stacks are four times larger, so it counts a quarter of memory.
        let stack_scale = crate::sched::STACK_SIZE as u64 / halyard_process::THREAD_SIZE;
        Procs {
            table: Table::new(
                Config::for_memory(memory / stack_scale),
                Credentials::root(),
            ),
            processes: BTreeMap::new(),
            threads: BTreeMap::new(),
        }
    });
    f(procs)
}

/// The process with pid `pid`.
pub fn process(pid: u32) -> Option<Arc<Process>> {
    with(|p| p.processes.get(&pid).cloned())
}

/// The thread with tid `tid`.
pub fn thread(tid: u32) -> Option<Arc<Thread>> {
    with(|p| p.threads.get(&tid).cloned())
}
