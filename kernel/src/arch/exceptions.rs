//! CPU exceptions (vectors 0-31): a report on the console, then a clean stop.
//!
//! No exception is recoverable yet: there is no user mode to signal and no kernel code
//! expected to fault. The report names the exception, prints every register, the error
//! code, CR2 for page faults, and a symbolised backtrace, so a test (or a person) can see
//! exactly what happened; then [`crate::panic::end_report`] halts or leaves QEMU. How a
//! report survives further faults (its own, or other CPUs') is in [`crate::panic`].
use core::fmt::Write;

use super::cpu;
use super::entry::InterruptFrame;
use crate::debug::backtrace;

/// Mnemonic and name of each architectural exception vector.
fn describe(vector: u64) -> (&'static str, &'static str) {
    match vector {
        0 => ("#DE", "divide error"),
        1 => ("#DB", "debug"),
        2 => ("NMI", "non-maskable interrupt"),
        3 => ("#BP", "breakpoint"),
        4 => ("#OF", "overflow"),
        5 => ("#BR", "bound range exceeded"),
        6 => ("#UD", "invalid opcode"),
        7 => ("#NM", "device not available"),
        8 => ("#DF", "double fault"),
        10 => ("#TS", "invalid TSS"),
        11 => ("#NP", "segment not present"),
        12 => ("#SS", "stack-segment fault"),
        13 => ("#GP", "general protection"),
        14 => ("#PF", "page fault"),
        16 => ("#MF", "x87 floating-point error"),
        17 => ("#AC", "alignment check"),
        18 => ("#MC", "machine check"),
        19 => ("#XM", "SIMD floating-point error"),
        20 => ("#VE", "virtualisation exception"),
        21 => ("#CP", "control protection"),
        _ => ("#??", "reserved vector"),
    }
}

/// Handles exception `frame.vector`. Hardirq-like context, interrupts off.
pub fn handle(frame: &mut InterruptFrame) {
    if frame.vector == 2 && crate::panic::is_stopping() {
        // Another CPU is writing a fatal report: say where this one was, then halt. Returns
        // only if this CPU is in a fatal handler itself (which prints its own report).
        crate::panic::on_stop_nmi(frame.rip, frame.rbp);
        return;
    }
    let (mnemonic, name) = describe(frame.vector);
    let role = crate::panic::begin_report();
    let mut out = crate::console::emergency_writer();
    let _ = write_report(&mut out, frame, mnemonic, name, role.header_suffix());
    crate::panic::end_report(role);
}

fn write_report(
    out: &mut dyn Write,
    f: &InterruptFrame,
    mnemonic: &str,
    name: &str,
    suffix: &str,
) -> core::fmt::Result {
    writeln!(
        out,
        "\nEXCEPTION {mnemonic} ({name}) on cpu{}{suffix}",
        super::percpu::cpu_index()
    )?;
    writeln!(
        out,
        "error code={:#x} RIP={:#018x} CS={:#x} RFLAGS={:#x}",
        f.error_code, f.rip, f.cs, f.rflags
    )?;
    if f.vector == 14 {
        let e = f.error_code;
        writeln!(
            out,
            "CR2={:#x} ({} {} in {} mode{})",
            cpu::cr2(),
            if e & 1 != 0 {
                "protection violation"
            } else {
                "page not present"
            },
            if e & 2 != 0 {
                "on write"
            } else if e & 16 != 0 {
                "on instruction fetch"
            } else {
                "on read"
            },
            if e & 4 != 0 { "user" } else { "kernel" },
            if e & 8 != 0 { ", reserved bit set" } else { "" },
        )?;
        if crate::mm::stack::is_guard_page(cpu::cr2()) {
            writeln!(
                out,
                "KERNEL STACK OVERFLOW: CR2 is in the guard page below a kernel stack"
            )?;
        }
    }
    writeln!(
        out,
        "RAX={:#018x} RBX={:#018x} RCX={:#018x} RDX={:#018x}",
        f.rax, f.rbx, f.rcx, f.rdx
    )?;
    writeln!(
        out,
        "RSI={:#018x} RDI={:#018x} RBP={:#018x} RSP={:#018x}",
        f.rsi, f.rdi, f.rbp, f.rsp
    )?;
    writeln!(
        out,
        "R8 ={:#018x} R9 ={:#018x} R10={:#018x} R11={:#018x}",
        f.r8, f.r9, f.r10, f.r11
    )?;
    writeln!(
        out,
        "R12={:#018x} R13={:#018x} R14={:#018x} R15={:#018x}",
        f.r12, f.r13, f.r14, f.r15
    )?;
    writeln!(out, "SS={:#x} CR3={:#x}", f.ss, cpu::cr3())?;
    backtrace::write(out, Some(f.rip), f.rbp)?;
    writeln!(out, "END-OF-REPORT")
}
