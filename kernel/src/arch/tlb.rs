//! TLB shootdown: making every CPU forget user mappings that changed.
//!
//! A CPU caches translations of the address space it has loaded. When the tables of a
//! user address space lose or restrict a mapping (`munmap`, `mprotect`, copy-on-write at
//! `fork`, `mremap`), the CPU making the change flushes its own entries; every *other*
//! CPU that has the same tables loaded (another thread of the process) gets an IPI and
//! reloads CR3, and the changer waits for all of them before the frames of removed pages
//! go back to the allocator. A CPU that loads the tables after the change reads the new
//! entries (loading CR3 flushes), so only CPUs whose `loaded_cr3` matches are asked.
//!
//! # Lazy TLB
//! Kernel threads and the idle thread run on whatever tables the CPU has loaded ([`keep`]):
//! every address space maps the kernel half alike, and the kernel never dereferences a
//! user address (`process::usercopy`). So a CPU that goes idle while a thread of a
//! process waits, and then runs that thread again (a server answering requests), loads no
//! CR3 at all. Under TCG that matters: QEMU flushes its whole soft TLB and jump cache on
//! every CR3 write (PCID or not), and refilling them cost more than the switch itself.
//! Linux does the same (`enter_lazy_tlb`).
//!
//! A lazily kept address space still receives shootdowns (its `loaded_cr3` matches), and
//! such a CPU answers one by moving to the kernel's tables (it needs no user mappings) so
//! it is not asked again. Before tables are freed, [`release`] makes every CPU that still
//! keeps them move away the same way: a CPU must never hold a freed PML4 in CR3, where its
//! kernel half would be read from a reused frame (the `lazy-tlb` in-kernel test checks it).
use core::sync::atomic::{AtomicU64, Ordering};

use super::{cpu, lapic, percpu};

/// The shootdown IPI's vector.
pub const TLB_VECTOR: u8 = 0xf1;

/// Requests and completions per CPU (index): a CPU has flushed for request `n` once its
/// `DONE` reaches `n`.
static REQUESTED: [AtomicU64; percpu::MAX_CPUS] = [const { AtomicU64::new(0) }; percpu::MAX_CPUS];
static DONE: [AtomicU64; percpu::MAX_CPUS] = [const { AtomicU64::new(0) }; percpu::MAX_CPUS];
/// Shootdowns sent, for the monitor.
pub static SHOOTDOWNS: AtomicU64 = AtomicU64::new(0);

/// Registers the IPI handler. Boot CPU, once.
pub fn init() {
    super::entry::register(TLB_VECTOR, |_| {
        let me = percpu::current();
        if me.lazy_tables.load(Ordering::Relaxed) {
            // Kept for no thread: leave them rather than flush them (see the module docs).
            load(crate::mm::address_space::kernel_root());
        } else {
            // SAFETY: reloading CR3 with its own value only flushes non-global TLB entries.
            unsafe { cpu::write_cr3(cpu::cr3()) };
        }
        let i = me.index as usize;
        DONE[i].store(REQUESTED[i].load(Ordering::Acquire), Ordering::Release);
    });
}

/// Makes every other CPU that has tables `root` loaded flush its TLB (or leave the tables
/// if it keeps them lazily), and waits until they have. Process context (interrupts on:
/// the other CPUs may be sending us one).
pub fn shoot_down(root: u64) {
    let me = percpu::cpu_index() as usize;
    let mut waiting = [0u64; percpu::MAX_CPUS];
    let mut any = false;
    for c in percpu::all() {
        let i = c.index as usize;
        if i == me || c.loaded_cr3.load(Ordering::SeqCst) != root {
            continue;
        }
        waiting[i] = REQUESTED[i].fetch_add(1, Ordering::AcqRel) + 1;
        lapic::send_ipi(
            lapic::Destination::Apic(c.apic_id),
            lapic::Delivery::Fixed(TLB_VECTOR),
        );
        any = true;
    }
    if !any {
        return;
    }
    SHOOTDOWNS.fetch_add(1, Ordering::Relaxed);
    for (i, &want) in waiting.iter().enumerate() {
        while want != 0 && DONE[i].load(Ordering::Acquire) < want {
            core::hint::spin_loop();
        }
    }
}

/// Called before tables `root` are freed: every CPU that still keeps them lazily (this one
/// included) moves to the kernel's tables, and this waits until all have. Process context,
/// like [`shoot_down`].
///
/// A CPU whose running thread still has them (not lazily) would be a bug: `execve` ends
/// the process's other threads and waits until they are off the tables first
/// (`process::de_thread`). It only flushes, and the `WARN` reports it.
pub fn release(root: u64) {
    cpu::without_interrupts(|| {
        let me = percpu::current();
        if me.loaded_cr3.load(Ordering::SeqCst) == root && me.lazy_tables.load(Ordering::Relaxed) {
            load(crate::mm::address_space::kernel_root());
        }
    });
    shoot_down(root);
    if let Some(c) = percpu::all().find(|c| c.loaded_cr3.load(Ordering::SeqCst) == root) {
        crate::warn!(
            "tables {root:#x} freed while a thread on cpu{} still runs on them",
            c.index
        );
    }
}

/// Lets the CPU's current thread (a kernel thread or the idle thread, which need no user
/// mappings) run on whatever tables are loaded. Interrupts off.
pub fn keep() {
    percpu::current().lazy_tables.store(true, Ordering::Relaxed);
}

/// Loads page tables `root` on this CPU (interrupts off), recording them for shootdowns.
pub fn load(root: u64) {
    let me = percpu::current();
    me.lazy_tables.store(false, Ordering::Relaxed);
    me.loaded_cr3.store(root, Ordering::SeqCst);
    if cpu::cr3() & paging::ADDR_MASK != root {
        // SAFETY: every address space maps the kernel half identically (mm::user_tables),
        // so the running code, its stack and data stay mapped.
        unsafe { cpu::write_cr3(root) };
    }
}
