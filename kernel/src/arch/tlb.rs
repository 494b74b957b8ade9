//! TLB shootdown: making every CPU forget user mappings that changed.
//!
//! A CPU caches translations of the address space it has loaded. When the tables of a
//! user address space lose or restrict a mapping (`munmap`, `mprotect`, copy-on-write at
//! `fork`, `mremap`), the CPU making the change flushes its own entries; every *other*
//! CPU that has the same tables loaded (another thread of the process) gets an IPI and
//! reloads CR3, and the changer waits for all of them before the frames of removed pages
//! go back to the allocator. A CPU that loads the tables after the change reads the new
//! entries (loading CR3 flushes), so only CPUs whose `loaded_cr3` matches are asked.
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
        let me = percpu::cpu_index() as usize;
        // SAFETY: reloading CR3 with its own value only flushes non-global TLB entries.
        unsafe { cpu::write_cr3(cpu::cr3()) };
        DONE[me].store(REQUESTED[me].load(Ordering::Acquire), Ordering::Release);
    });
}

/// Makes every other CPU that has tables `root` loaded flush its TLB, and waits until
/// they have. Process context (interrupts on: the other CPUs may be sending us one).
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

/// Loads page tables `root` on this CPU (interrupts off), recording them for shootdowns.
pub fn load(root: u64) {
    percpu::current().loaded_cr3.store(root, Ordering::SeqCst);
    if cpu::cr3() & paging::ADDR_MASK != root {
        // SAFETY: every address space maps the kernel half identically (mm::user_tables),
        // so the running code, its stack and data stay mapped.
        unsafe { cpu::write_cr3(root) };
    }
}
