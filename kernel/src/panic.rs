//! Panics and fatal stops.
//!
//! A panic prints `KERNEL PANIC` with the message, location and a backtrace; a fatal
//! exception prints its own report (`arch::exceptions`). Either way the first CPU to fail
//! stops the others with an NMI so their output cannot interleave with the report, and
//! then, depending on `panic=` on the command line, halts (for a person at the console)
//! or leaves QEMU with status 3 (for tests).
use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::arch::{cpu, percpu, qemu};

static STOPPING: AtomicBool = AtomicBool::new(false);
static REPORTING_CPU: AtomicU32 = AtomicU32::new(u32::MAX);
static EXIT_ON_PANIC: AtomicBool = AtomicBool::new(false);

/// What to do after a report: `panic=exit` leaves QEMU, `panic=halt` (default) halts.
pub fn set_exit_on_panic(exit: bool) {
    EXIT_ON_PANIC.store(exit, Ordering::Relaxed);
}

/// True once some CPU started a fatal report.
pub fn is_stopping() -> bool {
    STOPPING.load(Ordering::Acquire)
}

/// Claims the console for a fatal report and stops the other CPUs. A second failure on
/// another CPU while a report is being written halts that CPU silently; a nested failure
/// on the reporting CPU itself goes on (its report is the useful one).
pub fn begin_report() {
    cpu::disable_interrupts();
    // The validator allocates; a stopped CPU may hold the heap lock.
    crate::sync::set_lockdep_enabled(false);
    let me = percpu::cpu_index();
    match REPORTING_CPU.compare_exchange(u32::MAX, me, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            STOPPING.store(true, Ordering::Release);
            crate::arch::interrupts::stop_other_cpus();
            wait_for_stopped_cpus();
        }
        Err(owner) if owner == me => {}
        Err(_) => cpu::halt_forever(),
    }
}

/// CPUs that printed their state after the stop NMI.
static STOPPED: AtomicU32 = AtomicU32::new(0);
/// Serialises the stopped CPUs' prints.
static PRINTING: AtomicBool = AtomicBool::new(false);

/// Gives the other CPUs up to 200 ms to print where they were (`on_stop_nmi`), so their
/// lines come before the report and do not interleave with it.
fn wait_for_stopped_cpus() {
    let others = percpu::count().saturating_sub(1) as u32;
    let deadline = crate::time::now_ns() + 200_000_000;
    while STOPPED.load(Ordering::Acquire) < others && crate::time::now_ns() < deadline {
        core::hint::spin_loop();
    }
}

/// A CPU that received the stop NMI: print its registers' RIP and backtrace, one CPU at
/// a time, then halt for good. NMI context.
pub fn on_stop_nmi(rip: u64, rbp: u64) -> ! {
    while PRINTING
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    let mut out = crate::console::emergency_writer();
    let _ = writeln!(out, "\ncpu{} stopped at {rip:#x}", percpu::cpu_index());
    let _ = crate::debug::backtrace::write(&mut out, Some(rip), rbp);
    PRINTING.store(false, Ordering::Release);
    STOPPED.fetch_add(1, Ordering::AcqRel);
    cpu::halt_forever()
}

/// Ends a fatal report: leaves QEMU with status 3 or halts, per `panic=`.
pub fn stop() -> ! {
    if EXIT_ON_PANIC.load(Ordering::Relaxed) {
        qemu::exit(qemu::EXIT_PANIC);
    }
    cpu::halt_forever()
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    begin_report();
    let mut out = crate::console::emergency_writer();
    let _ = writeln!(
        out,
        "\nKERNEL PANIC on cpu{}: {}",
        percpu::cpu_index(),
        info.message()
    );
    if let Some(loc) = info.location() {
        let _ = writeln!(out, "at {}:{}:{}", loc.file(), loc.line(), loc.column());
    }
    let _ = crate::debug::backtrace::write(&mut out, None, cpu::frame_pointer());
    let _ = writeln!(out, "END-OF-REPORT");
    stop()
}
