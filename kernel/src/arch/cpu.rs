//! Single x86_64 instructions the rest of the kernel needs, each wrapped once.
//!
//! Every function here is a thin wrapper over one privileged instruction; the `unsafe`
//! ones document what the caller must guarantee.
use core::arch::asm;

/// Reads a byte from an I/O port.
///
/// # Safety
/// The port must belong to a device whose driver is the caller; reads can have side effects.
pub unsafe fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: forwarded to the caller (see above); `in` touches no memory.
    unsafe {
        asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Writes a byte to an I/O port.
///
/// # Safety
/// As for [`inb`].
pub unsafe fn outb(port: u16, v: u8) {
    // SAFETY: forwarded to the caller.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags))
    };
}

/// Writes a 16-bit value to an I/O port.
///
/// # Safety
/// As for [`inb`].
pub unsafe fn outw(port: u16, v: u16) {
    // SAFETY: forwarded to the caller.
    unsafe {
        asm!("out dx, ax", in("dx") port, in("ax") v, options(nomem, nostack, preserves_flags))
    };
}

/// Writes a 32-bit value to an I/O port.
///
/// # Safety
/// As for [`inb`].
pub unsafe fn outl(port: u16, v: u32) {
    // SAFETY: forwarded to the caller.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags))
    };
}

/// Reads a model-specific register.
///
/// # Safety
/// The MSR must exist on this CPU (else #GP).
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: forwarded to the caller.
    unsafe {
        asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Writes a model-specific register.
///
/// # Safety
/// The MSR must exist and the value must keep the machine in a state the kernel expects.
pub unsafe fn wrmsr(msr: u32, v: u64) {
    // SAFETY: forwarded to the caller.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") v as u32, in("edx") (v >> 32) as u32, options(nostack, preserves_flags))
    };
}

pub const MSR_GS_BASE: u32 = 0xc000_0101;
pub const MSR_APIC_BASE: u32 = 0x1b;

/// The time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: rdtsc only reads the counter (CR4.TSD is clear, so it is allowed at CPL 0).
    unsafe {
        asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// CPUID leaf `leaf`, subleaf `subleaf`: `[eax, ebx, ecx, edx]`.
pub fn cpuid(leaf: u32, subleaf: u32) -> [u32; 4] {
    let r = core::arch::x86_64::__cpuid_count(leaf, subleaf);
    [r.eax, r.ebx, r.ecx, r.edx]
}

/// One RDRAND word, or `None` when the instruction reported no data (CF clear; Intel
/// advises a few retries). The caller must have checked CPUID (leaf 1, ECX bit 30): on a
/// CPU without it the instruction is undefined.
#[inline]
pub fn rdrand64() -> Option<u64> {
    let (v, ok): (u64, u8);
    // SAFETY: rdrand only writes the named register and the flags; callers check CPUID
    // first (see above), so the instruction exists.
    unsafe {
        asm!("rdrand {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok, options(nomem, nostack))
    };
    (ok == 1).then_some(v)
}

/// One RDSEED word, or `None` when the entropy source had none ready (CF clear: common
/// under load, retry after a pause). Needs CPUID leaf 7 EBX bit 18.
#[inline]
pub fn rdseed64() -> Option<u64> {
    let (v, ok): (u64, u8);
    // SAFETY: as for `rdrand64`, with RDSEED's CPUID bit.
    unsafe {
        asm!("rdseed {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok, options(nomem, nostack))
    };
    (ok == 1).then_some(v)
}

/// CR2: the linear address of the last page fault.
pub fn cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// CR3: the physical address of the current top-level page table.
pub fn cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Loads a new top-level page table.
///
/// # Safety
/// `pml4` must be the physical address of a page table that maps the running code, the
/// current stack and everything the kernel references afterwards.
pub unsafe fn write_cr3(pml4: u64) {
    // SAFETY: forwarded to the caller.
    unsafe { asm!("mov cr3, {}", in(reg) pml4, options(nostack, preserves_flags)) };
}

/// Control register 4.
pub fn cr4() -> u64 {
    let v: u64;
    // SAFETY: reading CR4 has no side effects.
    unsafe { asm!("mov {}, cr4", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Writes control register 4.
///
/// # Safety
/// The new value must keep paging, SSE and every feature the kernel relies on enabled.
pub unsafe fn write_cr4(v: u64) {
    // SAFETY: forwarded to the caller.
    unsafe { asm!("mov cr4, {}", in(reg) v, options(nostack, preserves_flags)) };
}

/// Invalidates the TLB entry for one page on this CPU.
pub fn invlpg(va: u64) {
    // SAFETY: invalidating a TLB entry never makes memory accesses unsafe; at worst it
    // costs a page walk.
    unsafe { asm!("invlpg [{}]", in(reg) va, options(nostack, preserves_flags)) };
}

/// True when maskable interrupts are enabled on this CPU (RFLAGS.IF).
#[inline]
pub fn interrupts_enabled() -> bool {
    let flags: u64;
    // SAFETY: pushfq/pop only reads RFLAGS through the stack it balances.
    unsafe { asm!("pushfq", "pop {}", out(reg) flags, options(nomem, preserves_flags)) };
    flags & (1 << 9) != 0
}

/// Disables maskable interrupts on this CPU.
#[inline]
pub fn disable_interrupts() {
    // SAFETY: masking interrupts cannot break memory safety.
    unsafe { asm!("cli", options(nomem, nostack)) };
}

/// Enables maskable interrupts on this CPU.
///
/// # Safety
/// The IDT must be loaded and the caller must not hold state that an interrupt handler
/// on this CPU could also take (see `sync`).
#[inline]
pub unsafe fn enable_interrupts() {
    // SAFETY: forwarded to the caller.
    unsafe { asm!("sti", options(nomem, nostack)) };
}

/// Enables interrupts and halts until the next one, atomically: `sti` takes effect only
/// after the following instruction, so an interrupt that became pending before this call
/// wakes the `hlt` instead of being handled in between and missed.
///
/// # Safety
/// As for [`enable_interrupts`].
#[inline]
pub unsafe fn enable_interrupts_and_halt() {
    // SAFETY: forwarded to the caller.
    unsafe { asm!("sti; hlt", options(nomem, nostack)) };
}

/// Halts until the next interrupt (with interrupts in whatever state they are).
#[inline]
pub fn halt() {
    // SAFETY: hlt only waits.
    unsafe { asm!("hlt", options(nomem, nostack, preserves_flags)) };
}

/// Stops this CPU for good: interrupts off, halt forever (NMIs return to the loop).
pub fn halt_forever() -> ! {
    disable_interrupts();
    loop {
        halt();
    }
}

/// Runs `f` with interrupts disabled on this CPU, restoring the previous state after.
#[inline]
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    let was = interrupts_enabled();
    disable_interrupts();
    let r = f();
    if was {
        // SAFETY: interrupts were enabled when we were called, so the caller's context
        // allows them.
        unsafe { enable_interrupts() };
    }
    r
}

/// The current frame pointer (RBP), for backtraces.
#[inline(always)]
pub fn frame_pointer() -> u64 {
    let v: u64;
    // SAFETY: reading RBP has no side effects.
    unsafe { asm!("mov {}, rbp", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}
