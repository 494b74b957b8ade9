//! Per-CPU data, reached through the GS base register.
//!
//! Each CPU's `GS_BASE` MSR points at its [`PerCpu`] block, whose first word points at
//! itself, so `mov rax, gs:[0]` yields the block without knowing which CPU we are on.
//! Blocks are never freed: a CPU, once online, stays online.
use core::arch::asm;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};

use super::cpu;
use super::gdt::{Gdt, Tss};

/// Most CPUs the kernel manages.
pub const MAX_CPUS: usize = 64;

/// One CPU's private data.
#[repr(C)]
pub struct PerCpu {
    self_ptr: *const PerCpu,
    /// Top of the running thread's kernel stack: where an entry from user mode lands
    /// (`arch::entry`). Set by the scheduler at every switch.
    pub kernel_stack_top: AtomicU64,
    /// Scratch slot for the user RSP during `SYSCALL` entry.
    pub user_rsp: AtomicU64,
    /// The page tables this CPU has loaded (`arch::tlb` asks only CPUs that have them).
    pub loaded_cr3: AtomicU64,
    /// The loaded tables are kept for no thread: the CPU runs its idle thread or a kernel
    /// thread on the tables of the last process it ran (lazy TLB, `arch::tlb`).
    pub lazy_tables: AtomicBool,
    /// The running thread (the scheduler's, as an untyped address; 0 before it starts),
    /// read in one GS-relative instruction by [`current_thread`].
    current_thread: AtomicU64,
    /// Dense CPU number: 0 for the boot CPU, then in bring-up order.
    pub index: u32,
    /// Local APIC id.
    pub apic_id: u32,
    pub tss: Tss,
    pub gdt: Gdt,
    /// Timer interrupts taken on this CPU.
    pub timer_ticks: AtomicU64,
    /// Interrupts of any vector taken on this CPU.
    pub interrupts: AtomicU64,
    pub online: AtomicBool,
}

static CPUS: [AtomicPtr<PerCpu>; MAX_CPUS] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_CPUS];
static CPU_COUNT: AtomicU32 = AtomicU32::new(0);
/// Set once the boot CPU's GS base is valid; before that, [`cpu_index`] reports 0.
static GS_READY: AtomicBool = AtomicBool::new(false);

impl PerCpu {
    /// Creates the block for CPU `index`; `ist_tops` are the tops of its IST stacks.
    pub fn new(index: u32, apic_id: u32, ist_tops: [u64; super::gdt::ist::COUNT]) -> PerCpu {
        let mut tss = Tss::new();
        let mut ist = [0u64; 7];
        ist[..ist_tops.len()].copy_from_slice(&ist_tops);
        tss.ist = ist;
        PerCpu {
            self_ptr: core::ptr::null(),
            kernel_stack_top: AtomicU64::new(0),
            user_rsp: AtomicU64::new(0),
            loaded_cr3: AtomicU64::new(0),
            lazy_tables: AtomicBool::new(false),
            current_thread: AtomicU64::new(0),
            index,
            apic_id,
            tss,
            gdt: Gdt::new(core::ptr::null()),
            timer_ticks: AtomicU64::new(0),
            interrupts: AtomicU64::new(0),
            online: AtomicBool::new(false),
        }
    }

    /// Makes `this` the calling CPU's block: loads its GDT and TSS, points GS at it and
    /// registers it. Called once per CPU, first thing after it reaches Rust.
    pub fn install(this: &'static mut PerCpu) {
        this.self_ptr = this;
        this.gdt = Gdt::new(&this.tss);
        let index = this.index as usize;
        assert!(index < MAX_CPUS, "too many CPUs");
        let ptr: *mut PerCpu = this;
        // SAFETY: `this` is 'static and never moves; GS_BASE accepts any canonical address.
        unsafe {
            (*ptr).gdt.load();
            cpu::wrmsr(cpu::MSR_GS_BASE, ptr as u64);
        }
        CPUS[index].store(ptr, Ordering::Release);
        CPU_COUNT.fetch_max(index as u32 + 1, Ordering::AcqRel);
        GS_READY.store(true, Ordering::Release);
    }
}

/// The calling CPU's block.
pub fn current() -> &'static PerCpu {
    let ptr: *const PerCpu;
    // SAFETY: GS_BASE points at this CPU's PerCpu, whose first word is its own address;
    // callers run after `install` (checked by GS_READY in `cpu_index`, the only early caller).
    unsafe { asm!("mov {}, gs:[0]", out(reg) ptr, options(readonly, nostack, preserves_flags)) };
    // SAFETY: blocks are 'static and never freed.
    unsafe { &*ptr }
}

/// The address the scheduler last gave [`set_current_thread`] on the calling CPU: the
/// running thread. One GS-relative load, so it cannot mix two CPUs' values when the
/// caller migrates (which loading [`current`] and then a field could), and it needs no
/// interrupts off: whichever CPU runs the instruction, the thread it names is the caller.
pub fn current_thread() -> u64 {
    let value: u64;
    // SAFETY: GS_BASE points at this CPU's PerCpu (callers run after the scheduler set
    // the field, which is after `install`); the load reads one aligned word of it.
    unsafe {
        asm!(
            "mov {}, gs:[{off}]",
            out(reg) value,
            off = const core::mem::offset_of!(PerCpu, current_thread),
            options(readonly, nostack, preserves_flags),
        )
    };
    value
}

/// Records the thread now running on the calling CPU (the scheduler, with interrupts off).
pub fn set_current_thread(address: u64) {
    current().current_thread.store(address, Ordering::Relaxed);
}

/// Dense index of the calling CPU (0 before per-CPU data exists).
pub fn cpu_index() -> u32 {
    if GS_READY.load(Ordering::Acquire) {
        current().index
    } else {
        0
    }
}

/// CPU `index`'s block, if that CPU was brought up.
pub fn get(index: usize) -> Option<&'static PerCpu> {
    let p = CPUS.get(index)?.load(Ordering::Acquire);
    // SAFETY: non-null entries point at 'static blocks.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// Number of CPUs that have installed their block.
pub fn count() -> usize {
    CPU_COUNT.load(Ordering::Acquire) as usize
}

/// Iterates over every CPU brought up so far.
pub fn all() -> impl Iterator<Item = &'static PerCpu> {
    (0..count()).filter_map(get)
}
