//! x86_64: the only architecture Halyard runs on.
pub mod boot;
pub mod cpu;
pub mod entry;
pub mod exceptions;
pub mod fpu;
pub mod gdt;
pub mod idt;
pub mod interrupts;
pub mod ioapic;
pub mod lapic;
pub mod msi;
pub mod percpu;
pub mod pic;
pub mod pit;
pub mod qemu;
pub mod rtc;
pub mod smp;
pub mod tlb;
pub mod user_mode;

use gdt::ist;
use percpu::PerCpu;

use crate::mm::mmio::IoMem;
use crate::mm::stack::StaticStack;

/// IST stack sizes. The general one only holds a frame for a moment; the others run
/// whole fault reports (formatting, backtraces).
const IST_GENERAL_SIZE: usize = 16 * 1024;
const IST_REPORT_SIZE: usize = 32 * 1024;

static BSP_IST_GENERAL: StaticStack<IST_GENERAL_SIZE> = StaticStack::new();
static BSP_IST_NMI: StaticStack<IST_REPORT_SIZE> = StaticStack::new();
static BSP_IST_DOUBLE_FAULT: StaticStack<IST_REPORT_SIZE> = StaticStack::new();
static BSP_IST_MACHINE_CHECK: StaticStack<IST_REPORT_SIZE> = StaticStack::new();
static BSP_IST_PAGE_FAULT: StaticStack<IST_REPORT_SIZE> = StaticStack::new();

/// Guard pages of every static stack, for `mm::init` to unmap.
pub fn static_stack_guards() -> [u64; 6] {
    [
        crate::mm::stack::BOOT_STACK.guard_page(),
        BSP_IST_GENERAL.guard_page(),
        BSP_IST_NMI.guard_page(),
        BSP_IST_DOUBLE_FAULT.guard_page(),
        BSP_IST_MACHINE_CHECK.guard_page(),
        BSP_IST_PAGE_FAULT.guard_page(),
    ]
}

static mut BSP_PERCPU: Option<PerCpu> = None;

/// Per-CPU data, GDT/TSS with IST stacks and the IDT on the boot CPU.
pub fn init_boot_cpu() {
    let mut ists = [0u64; ist::COUNT];
    ists[(ist::GENERAL - 1) as usize] = BSP_IST_GENERAL.top();
    ists[(ist::NMI - 1) as usize] = BSP_IST_NMI.top();
    ists[(ist::DOUBLE_FAULT - 1) as usize] = BSP_IST_DOUBLE_FAULT.top();
    ists[(ist::MACHINE_CHECK - 1) as usize] = BSP_IST_MACHINE_CHECK.top();
    ists[(ist::PAGE_FAULT - 1) as usize] = BSP_IST_PAGE_FAULT.top();
    // SAFETY: called once, on the boot CPU, before any other CPU runs; nothing else
    // touches BSP_PERCPU, and the block lives forever in a static.
    let block = unsafe {
        let slot = &mut *core::ptr::addr_of_mut!(BSP_PERCPU);
        slot.insert(PerCpu::new(0, 0, ists))
    };
    PerCpu::install(block);
    idt::init();
    idt::load();
    user_mode::init_cpu();
}

/// Legacy PICs off; LAPIC, IOAPIC and the console's interrupt on. Boot CPU, interrupts
/// off, after memory (the controllers' registers are mapped here).
pub fn init_interrupts(platform: &crate::platform::Platform) {
    pic::disable();
    lapic::init_bsp(IoMem::map(platform.local_apic_paddr, crate::mm::PAGE_SIZE));
    lapic::init_cpu();
    let io = platform.ioapic;
    ioapic::init(
        IoMem::map(u64::from(io.address), crate::mm::PAGE_SIZE),
        io.gsi_base,
    );
    interrupts::init();
    let serial_vector = interrupts::ISA_BASE + crate::console::serial::IRQ;
    entry::register(serial_vector, |_| {
        crate::console::input::on_uart_interrupt()
    });
    let (gsi, mode) = platform.isa_irq(crate::console::serial::IRQ);
    ioapic::route(gsi, serial_vector, lapic::id(), mode);
    crate::console::serial::enable_rx_interrupt();
}
