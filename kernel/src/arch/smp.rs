//! Bringing up the application processors (INIT-SIPI-SIPI).
//!
//! An AP starts in 16-bit real mode at a page below 1 MiB named by the start-up IPI. The
//! trampoline below is copied to [`TRAMPOLINE_PHYS`]; it climbs to protected mode, then to
//! long mode with the kernel's page tables (whose low identity page for the trampoline
//! exists only during bring-up), loads the stack and argument the boot CPU left in its
//! data slots, and jumps to [`ap_entry`] in the higher half. APs are started one at a
//! time because they share the trampoline's slots.
use alloc::boxed::Box;
use core::arch::global_asm;
use core::sync::atomic::Ordering;

use super::gdt::ist;
use super::lapic::{self, Delivery, Destination};
use super::percpu::{self, PerCpu};
use super::{cpu, idt};
use crate::mm::{self, stack::KernelStack};
use crate::time;

/// Physical page the trampoline runs from (must be free RAM below 1 MiB; the first MiB
/// is never handed out by the frame allocator).
pub const TRAMPOLINE_PHYS: u64 = 0x8000;

global_asm!(
    r#"
    .section .rodata.ap_trampoline, "a"
    .global ap_trampoline_start, ap_trampoline_end, ap_slot_cr3, ap_slot_stack, ap_slot_entry, ap_slot_arg
    .code16
ap_trampoline_start:
    cli
    cld
    xor %ax, %ax
    mov %ax, %ds
    lgdtl {base} + ap_gdtr - ap_trampoline_start
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, ${base} + ap_pm32 - ap_trampoline_start

    .code32
ap_pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4
    mov {base} + ap_slot_cr3 - ap_trampoline_start, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax
    wrmsr
    mov %cr0, %eax
    and $~((1 << 2) | (1 << 3)), %eax
    or $((1 << 31) | (1 << 16) | (1 << 1)), %eax
    mov %eax, %cr0
    ljmp $0x18, ${base} + ap_lm64 - ap_trampoline_start

    .code64
ap_lm64:
    fninit
    mov {base} + ap_slot_stack - ap_trampoline_start, %rsp
    mov {base} + ap_slot_arg - ap_trampoline_start, %rdi
    mov {base} + ap_slot_entry - ap_trampoline_start, %rax
    xor %ebp, %ebp
    call *%rax                  /* a call, so ap_entry sees an ABI-aligned stack */

    .balign 8
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
    .quad 0x00af9a000000ffff    /* 0x18: 64-bit code */
ap_gdtr:
    .word ap_gdtr - ap_gdt - 1
    .long {base} + ap_gdt - ap_trampoline_start
    .balign 8
ap_slot_cr3:   .quad 0
ap_slot_stack: .quad 0
ap_slot_entry: .quad 0
ap_slot_arg:   .quad 0
ap_trampoline_end:
    .text
"#,
    base = const TRAMPOLINE_PHYS,
    options(att_syntax)
);

extern "C" {
    static ap_trampoline_start: u8;
    static ap_trampoline_end: u8;
    static ap_slot_cr3: u8;
    static ap_slot_stack: u8;
    static ap_slot_entry: u8;
    static ap_slot_arg: u8;
}

/// Size of each AP's initial (idle) stack.
const AP_STACK_SIZE: usize = 64 * 1024;

/// Writes `value` into the trampoline copy's slot `slot`.
fn set_slot(slot: *const u8, value: u64) {
    // SAFETY: only addresses of the trampoline symbols are used; the slot lies inside
    // the copy at TRAMPOLINE_PHYS, which is mapped (direct map) and used by no one else.
    unsafe {
        let offset = slot as u64 - &ap_trampoline_start as *const u8 as u64;
        core::ptr::write_volatile(
            mm::phys_to_virt(TRAMPOLINE_PHYS + offset) as *mut u64,
            value,
        );
    }
}

fn copy_trampoline() {
    // SAFETY: the trampoline bytes are read-only data of the kernel image; the
    // destination page is reserved RAM below 1 MiB reached through the direct map.
    unsafe {
        let start = &ap_trampoline_start as *const u8;
        let len = &ap_trampoline_end as *const u8 as usize - start as usize;
        assert!(
            len <= mm::PAGE_SIZE as usize,
            "AP trampoline larger than a page"
        );
        core::ptr::copy_nonoverlapping(start, mm::phys_to_virt(TRAMPOLINE_PHYS) as *mut u8, len);
    }
}

/// Builds the per-CPU block of CPU `index` with freshly allocated, guarded IST stacks.
fn new_percpu(index: u32, apic_id: u32) -> &'static mut PerCpu {
    let mut ists = [0u64; ist::COUNT];
    for (slot, top) in ists.iter_mut().enumerate() {
        let size = if slot as u8 + 1 == ist::GENERAL {
            16 * 1024
        } else {
            32 * 1024
        };
        *top = KernelStack::new(size)
            .unwrap_or_else(|e| panic!("IST stack for CPU {index}: {e}"))
            .leak_top();
    }
    Box::leak(Box::new(PerCpu::new(index, apic_id, ists)))
}

/// Starts every CPU in `apic_ids` other than the boot CPU; returns how many came online.
/// Boot CPU, process context, after memory, LAPIC and timer are up.
pub fn start_aps(apic_ids: &[u32]) -> usize {
    let bsp = lapic::id();
    mm::map_trampoline_identity(TRAMPOLINE_PHYS);
    copy_trampoline();
    let mut started = 0;
    for &apic_id in apic_ids.iter().filter(|&&id| id != bsp) {
        let index = percpu::count() as u32;
        if index as usize >= percpu::MAX_CPUS {
            crate::warn!("more than {} CPUs; ignoring the rest", percpu::MAX_CPUS);
            break;
        }
        let block = new_percpu(index, apic_id);
        let online = &block.online as *const core::sync::atomic::AtomicBool;
        // SAFETY: only symbol addresses are taken.
        unsafe {
            set_slot(&ap_slot_cr3, cpu::cr3());
            set_slot(
                &ap_slot_stack,
                KernelStack::new(AP_STACK_SIZE)
                    .unwrap_or_else(|e| panic!("stack for CPU {index}: {e}"))
                    .leak_top(),
            );
            set_slot(&ap_slot_entry, ap_entry as *const () as u64);
            set_slot(&ap_slot_arg, block as *mut PerCpu as u64);
        }
        lapic::send_ipi(Destination::Apic(apic_id), Delivery::Init);
        time::busy_wait_us(10_000);
        for _ in 0..2 {
            lapic::send_ipi(
                Destination::Apic(apic_id),
                Delivery::Startup((TRAMPOLINE_PHYS >> 12) as u8),
            );
            time::busy_wait_us(200);
        }
        let deadline = time::now_ns() + 2_000_000_000;
        // SAFETY: the block is leaked ('static); `online` is an atomic.
        while !unsafe { &*online }.load(Ordering::Acquire) && time::now_ns() < deadline {
            core::hint::spin_loop();
        }
        // SAFETY: as above.
        if unsafe { &*online }.load(Ordering::Acquire) {
            started += 1;
        } else {
            crate::error!("CPU with APIC id {apic_id} did not come online");
        }
    }
    mm::unmap_trampoline_identity(TRAMPOLINE_PHYS);
    started
}

/// First Rust code on an AP, on its own stack. Interrupts are off.
extern "C" fn ap_entry(block: *mut PerCpu) -> ! {
    // SAFETY: the boot CPU leaked this block for this CPU alone.
    let block = unsafe { &mut *block };
    PerCpu::install(block);
    idt::load();
    super::user_mode::init_cpu();
    lapic::init_cpu();
    crate::sched::init_cpu();
    time::start_tick(time::tick_hz());
    percpu::current().online.store(true, Ordering::Release);
    crate::debug!("online (APIC id {})", lapic::id());
    crate::sched::idle_loop()
}
