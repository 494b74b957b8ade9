//! The local APIC (xAPIC, memory-mapped): end-of-interrupt, the per-CPU timer and
//! inter-processor interrupts.
//!
//! QEMU's default `qemu64` CPU has no x2APIC, so the registers are reached through the
//! 4 KiB MMIO page at the address ACPI reports (normally 0xfee00000), mapped uncached.
use spin::Once;

use super::cpu;
use crate::mm::mmio::IoMem;

const ID: u32 = 0x20;
const TPR: u32 = 0x80;
const EOI: u32 = 0xb0;
const SVR: u32 = 0xf0;
const ESR: u32 = 0x280;
const ICR_LOW: u32 = 0x300;
const ICR_HIGH: u32 = 0x310;
const LVT_TIMER: u32 = 0x320;
const LVT_LINT0: u32 = 0x350;
const LVT_LINT1: u32 = 0x360;
const LVT_ERROR: u32 = 0x370;
const TIMER_INITIAL: u32 = 0x380;
const TIMER_CURRENT: u32 = 0x390;
const TIMER_DIVIDE: u32 = 0x3e0;

const LVT_MASKED: u32 = 1 << 16;
const LVT_TIMER_PERIODIC: u32 = 1 << 17;
const ICR_DELIVERY_PENDING: u32 = 1 << 12;

/// The register page, once [`init_bsp`] mapped it.
static REGS: Once<IoMem> = Once::new();

fn regs() -> &'static IoMem {
    REGS.get().expect("LAPIC used before init_bsp")
}

fn read(reg: u32) -> u32 {
    // Every CPU sees its own LAPIC at the same address.
    regs().read(u64::from(reg))
}

fn write(reg: u32, v: u32) {
    regs().write(u64::from(reg), v);
}

/// True once the LAPIC page is mapped.
pub fn is_ready() -> bool {
    REGS.is_completed()
}

/// Records where the LAPIC page is mapped. Boot CPU, once, before [`init_cpu`].
pub fn init_bsp(regs: IoMem) {
    REGS.call_once(|| regs);
}

/// Enables the calling CPU's LAPIC: spurious vector, error vector, LINT pins masked
/// (the legacy PIC is unused), accept all priorities.
pub fn init_cpu() {
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU; setting bit 11 (global enable)
    // keeps the base address unchanged.
    unsafe {
        cpu::wrmsr(
            cpu::MSR_APIC_BASE,
            cpu::rdmsr(cpu::MSR_APIC_BASE) | (1 << 11),
        )
    };
    write(SVR, 0x100 | u32::from(super::interrupts::SPURIOUS_VECTOR));
    write(LVT_LINT0, LVT_MASKED);
    write(LVT_LINT1, LVT_MASKED);
    write(LVT_ERROR, u32::from(super::interrupts::LAPIC_ERROR_VECTOR));
    write(ESR, 0);
    write(ESR, 0);
    write(TPR, 0);
    eoi();
}

/// This CPU's APIC id.
pub fn id() -> u32 {
    read(ID) >> 24
}

/// Signals end of interrupt for the in-service vector.
pub fn eoi() {
    write(EOI, 0);
}

/// Timer divide configuration value for divide-by-16.
const DIVIDE_BY_16: u32 = 0b0011;

/// Starts the timer counting down from `count` (masked, one-shot): for calibration.
pub fn timer_start_count(count: u32) {
    write(TIMER_DIVIDE, DIVIDE_BY_16);
    write(LVT_TIMER, LVT_MASKED);
    write(TIMER_INITIAL, count);
}

/// The timer's current count.
pub fn timer_current() -> u32 {
    read(TIMER_CURRENT)
}

/// Runs the timer periodically, raising `vector` every `ticks` (divide-by-16) ticks.
pub fn timer_periodic(vector: u8, ticks: u32) {
    write(TIMER_DIVIDE, DIVIDE_BY_16);
    write(LVT_TIMER, LVT_TIMER_PERIODIC | u32::from(vector));
    write(TIMER_INITIAL, ticks.max(1));
}

/// Stops the timer.
pub fn timer_stop() {
    write(LVT_TIMER, LVT_MASKED);
    write(TIMER_INITIAL, 0);
}

/// Interrupt Command Register destinations.
#[derive(Clone, Copy)]
pub enum Destination {
    Apic(u32),
    AllButSelf,
}

/// Delivery modes used by the kernel.
#[derive(Clone, Copy)]
pub enum Delivery {
    Fixed(u8),
    Nmi,
    Init,
    /// Start-up IPI: the AP starts in real mode at `page * 4096`.
    Startup(u8),
}

/// Sends an inter-processor interrupt and waits until the LAPIC accepted it.
pub fn send_ipi(dest: Destination, delivery: Delivery) {
    let mode = match delivery {
        Delivery::Fixed(v) => u32::from(v),
        Delivery::Nmi => 0b100 << 8,
        Delivery::Init => (0b101 << 8) | (1 << 14), // level assert
        Delivery::Startup(page) => (0b110 << 8) | u32::from(page),
    };
    let (high, shorthand) = match dest {
        Destination::Apic(id) => (id << 24, 0),
        Destination::AllButSelf => (0, 0b11 << 18),
    };
    cpu::without_interrupts(|| {
        write(ICR_HIGH, high);
        write(ICR_LOW, mode | shorthand);
        while read(ICR_LOW) & ICR_DELIVERY_PENDING != 0 {
            core::hint::spin_loop();
        }
    });
}
