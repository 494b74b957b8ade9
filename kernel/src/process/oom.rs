//! Out of memory: which process dies.
//!
//! When a page fault finds no memory (user pages stop at the kernel's reserve,
//! [`crate::mm::page_refs`]), the process with the largest resident set is killed with
//! SIGKILL and a log line, as Linux's OOM killer picks by size; init is never chosen.
//! The faulting thread then retries its access after a short sleep, which succeeds once
//! the victim's memory is free (or it is the victim and dies on its way back to user mode).
use alloc::sync::Arc;

use halyard_signal::{SigInfo, Signal, Target};

use super::{table, Process};

/// Kills the biggest process other than init; returns it, or `None` when there is none.
pub fn kill_victim() -> Option<Arc<Process>> {
    let candidates: alloc::vec::Vec<Arc<Process>> = table::with(|p| {
        p.processes
            .values()
            .filter(|q| q.pid != halyard_process::INIT_PID)
            .cloned()
            .collect()
    });
    let victim = candidates
        .into_iter()
        .filter(|q| !q.exiting.load(core::sync::atomic::Ordering::Acquire))
        .max_by_key(|q| q.mm().resident_pages())?;
    crate::warn!(
        "out of memory: killed process {} ({}), {} KiB resident",
        victim.pid,
        victim.name(),
        victim.mm().resident_pages() * 4
    );
    let _ = super::signals::send(
        Target::Process(victim.pid),
        SigInfo::kernel(Signal::SIGKILL),
    );
    Some(victim)
}
