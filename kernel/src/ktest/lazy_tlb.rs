//! Lazy TLB (`arch::tlb`): a CPU keeps a process's tables loaded behind its idle thread
//! and kernel threads, and lets go of them before they are freed.
//!
//! A thread pinned to CPU 1 loads a fresh user address space's tables the way a
//! process's thread does, then blocks: CPU 1 idles with the tables still loaded (the
//! laziness: no CR3 write). CPU 0 then frees the tables. Afterwards CPU 1 must have
//! neither recorded nor actually loaded them (its thread reads CR3 when woken): a freed
//! PML4 left in a CR3 would have its kernel half read from a reused frame.
use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use super::Verdict;
use crate::arch::{cpu, percpu, tlb};
use crate::mm::address_space::kernel_root;
use crate::mm::user_tables::UserTables;
use crate::sched::{self, WaitQueue};
use crate::time;

/// How long a step may take before the test gives up.
const STEP_NS: u64 = 5_000_000_000;

struct Shared {
    /// 1: the tables are loaded on CPU 1; 2: freed, read CR3; 3: CR3 read into `cr3`.
    step: AtomicU64,
    cr3: AtomicU64,
    queue: WaitQueue,
}

pub fn run() -> Verdict {
    if percpu::count() < 2 {
        return Err("needs two CPUs".into());
    }
    let tables = UserTables::new().map_err(|e| format!("no tables: {e}"))?;
    let root = tables.root();
    let shared = Arc::new(Shared {
        step: AtomicU64::new(0),
        cr3: AtomicU64::new(0),
        queue: WaitQueue::new(),
    });
    let other = shared.clone();
    let holder = sched::spawn_pinned("lazy-tlb", 1, move || {
        cpu::without_interrupts(|| tlb::load(root));
        other.step.store(1, Ordering::SeqCst);
        other.queue.wake_all();
        other
            .queue
            .wait_until(|| other.step.load(Ordering::SeqCst) == 2);
        other
            .cr3
            .store(cpu::cr3() & paging::ADDR_MASK, Ordering::SeqCst);
        other.step.store(3, Ordering::SeqCst);
        other.queue.wake_all();
    });
    let step = |n: u64| {
        shared
            .queue
            .wait_until_deadline(Some(time::now_ns() + STEP_NS), || {
                shared.step.load(Ordering::SeqCst) >= n
            })
    };
    if !step(1) {
        return Err("the thread on CPU 1 never loaded the tables".into());
    }
    let cpu1 = percpu::get(1).ok_or("no CPU 1")?;
    // Wait until CPU 1 idles (its thread blocked): the tables must still be loaded.
    let deadline = time::now_ns() + STEP_NS;
    while holder.state() != sched::State::Blocked {
        if time::now_ns() > deadline {
            return Err("the thread on CPU 1 never blocked".into());
        }
        sched::yield_now();
    }
    let kept = cpu1.loaded_cr3.load(Ordering::SeqCst);
    if kept != root {
        return Err(format!(
            "CPU 1 idles on tables {kept:#x}, not the ones its last thread loaded ({root:#x}): no lazy TLB"
        ));
    }
    drop(tables);
    let after = cpu1.loaded_cr3.load(Ordering::SeqCst);
    if after == root {
        return Err(format!(
            "tables {root:#x} freed while CPU 1 still has them loaded"
        ));
    }
    shared.step.store(2, Ordering::SeqCst);
    shared.queue.wake_all();
    if !step(3) {
        return Err("the thread on CPU 1 never read CR3".into());
    }
    sched::join(&holder);
    let cr3 = shared.cr3.load(Ordering::SeqCst);
    if cr3 != kernel_root() {
        return Err(format!(
            "CPU 1 runs on {cr3:#x} after tables {root:#x} were freed, not the kernel's {:#x}",
            kernel_root()
        ));
    }
    Ok(())
}
