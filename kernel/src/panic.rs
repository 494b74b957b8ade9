//! Panics and fatal stops: a report that always finishes.
//!
//! A panic prints `KERNEL PANIC` with the message, location and a backtrace; a fatal
//! exception prints its own report (`arch::exceptions`). Then, depending on `panic=` on
//! the command line, the machine halts (for a person at the console) or QEMU exits with
//! status 3 (for tests). A report is useful only if it is complete, so the rules below
//! hold however failures pile up:
//!
//! - **The first CPU to fail reports** ([`Role::Reporter`]). It stops the others with an
//!   NMI; each prints where it was and its backtrace, one at a time, before the report.
//! - **A CPU that fails while another reports** ([`Role::Bystander`]) prints its own
//!   complete report too, in its turn, and then halts. The stop NMI does not cut it short
//!   (a CPU already in a fatal handler ignores it), and the reporter waits for it
//!   (bounded) before leaving QEMU.
//! - **A fault inside a report** ([`Role::Nested`]; a report that dereferences a broken
//!   pointer, a panic message whose formatting faults) gets a complete report of its own,
//!   marked as such; its backtrace runs through the interrupted report into the original
//!   failure. A fault inside *that* prints one fixed line with no formatting at all and
//!   stops: no failure can make the machine hang or loop instead of exiting.
//! - Every wait is bounded, and the console is handed from CPU to CPU by an owner word
//!   that a CPU can take again (its own nested report) and that is taken by force after
//!   a timeout (an owner that died holding it).
use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::arch::{cpu, percpu, qemu};

const NOBODY: u32 = u32::MAX;

static STOPPING: AtomicBool = AtomicBool::new(false);
static REPORTING_CPU: AtomicU32 = AtomicU32::new(NOBODY);
static EXIT_ON_PANIC: AtomicBool = AtomicBool::new(false);
/// Per CPU: fatal handlers entered on it (more than one: a failure inside a report).
static DEPTH: [AtomicU32; percpu::MAX_CPUS] = [const { AtomicU32::new(0) }; percpu::MAX_CPUS];
/// Other CPUs that have printed their part (stopped by the NMI, or their own report).
static STOPPED: AtomicU32 = AtomicU32::new(0);
/// The CPU writing to the console now, among failing CPUs.
static CONSOLE_OWNER: AtomicU32 = AtomicU32::new(NOBODY);

/// How long the reporter waits for the other CPUs to print before it writes its report.
const STOPPED_WAIT_NS: u64 = 200_000_000;
/// How long the reporter waits, after its report, for CPUs still printing their own.
const BYSTANDER_WAIT_NS: u64 = 2_000_000_000;
/// How long a CPU waits for the console before taking it from an owner that died.
const CONSOLE_WAIT_NS: u64 = 2_000_000_000;

/// What to do after a report: `panic=exit` leaves QEMU, `panic=halt` (default) halts.
pub fn set_exit_on_panic(exit: bool) {
    EXIT_ON_PANIC.store(exit, Ordering::Relaxed);
}

/// True once some CPU started a fatal report.
pub fn is_stopping() -> bool {
    STOPPING.load(Ordering::Acquire)
}

/// Which report a failing CPU writes (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The first failure: stops the other CPUs, reports, ends the run.
    Reporter,
    /// A failure on another CPU while `reporter` reports: reports too, then halts.
    Bystander { reporter: u32 },
    /// A failure inside this CPU's own report.
    Nested,
}

impl Role {
    /// Words added to the report's first line.
    pub fn header_suffix(self) -> &'static str {
        match self {
            Role::Reporter => "",
            Role::Bystander { .. } => " while another CPU was reporting",
            Role::Nested => " while writing a fatal report",
        }
    }
}

/// Starts a fatal report on this CPU: masks interrupts, decides its [`Role`], stops the
/// other CPUs (reporter) and takes the console. Any context.
pub fn begin_report() -> Role {
    cpu::disable_interrupts();
    // The validator allocates; a stopped CPU may hold the heap lock.
    crate::sync::set_lockdep_enabled(false);
    let me = percpu::cpu_index();
    let depth = DEPTH[me as usize].fetch_add(1, Ordering::AcqRel);
    if depth >= 2 {
        last_resort(me);
    }
    if depth == 1 {
        take_console(me);
        return Role::Nested;
    }
    match REPORTING_CPU.compare_exchange(NOBODY, me, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            STOPPING.store(true, Ordering::Release);
            crate::arch::interrupts::stop_other_cpus();
            wait_until(STOPPED_WAIT_NS, all_others_stopped);
            take_console(me);
            Role::Reporter
        }
        Err(reporter) => {
            take_console(me);
            Role::Bystander { reporter }
        }
    }
}

/// Ends a report written by `role` (after its `END-OF-REPORT`): the reporter (or a
/// nested report on its CPU) waits for CPUs still printing, then halts or leaves QEMU;
/// any other CPU hands the console on and halts.
pub fn end_report(role: Role) -> ! {
    let me = percpu::cpu_index();
    let reporting = match role {
        Role::Reporter => true,
        Role::Bystander { .. } => false,
        Role::Nested => REPORTING_CPU.load(Ordering::Acquire) == me,
    };
    release_console(me);
    if !reporting {
        STOPPED.fetch_add(1, Ordering::AcqRel);
        cpu::halt_forever();
    }
    wait_until(BYSTANDER_WAIT_NS, all_others_stopped);
    stop()
}

fn all_others_stopped() -> bool {
    STOPPED.load(Ordering::Acquire) >= percpu::count().saturating_sub(1) as u32
}

/// Spins until `done()` or `ns` nanoseconds have passed.
fn wait_until(ns: u64, done: impl Fn() -> bool) {
    let deadline = crate::time::now_ns() + ns;
    while !done() && crate::time::now_ns() < deadline {
        core::hint::spin_loop();
    }
}

/// Makes this CPU the console's owner among failing CPUs (again, if it already is).
fn take_console(me: u32) {
    let deadline = crate::time::now_ns() + CONSOLE_WAIT_NS;
    loop {
        match CONSOLE_OWNER.compare_exchange(NOBODY, me, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(owner) if owner == me => return,
            Err(_) if crate::time::now_ns() >= deadline => {
                CONSOLE_OWNER.store(me, Ordering::Release);
                return;
            }
            Err(_) => core::hint::spin_loop(),
        }
    }
}

fn release_console(me: u32) {
    let _ = CONSOLE_OWNER.compare_exchange(me, NOBODY, Ordering::AcqRel, Ordering::Relaxed);
}

/// A failure inside a nested report: one fixed line through the UART alone (no
/// formatting, no locks, no memory but the string), then the end of the run.
fn last_resort(me: u32) -> ! {
    let digits = [b'0' + (me / 10 % 10) as u8, b'0' + (me % 10) as u8];
    let serial = crate::console::serial::write_bytes;
    serial(b"\nFATAL: another fault inside the fault report on cpu");
    serial(if me < 10 { &digits[1..] } else { &digits });
    serial(b"; stopping\nEND-OF-REPORT\n");
    stop()
}

/// A CPU that received the stop NMI: prints where it was and its backtrace, in its turn,
/// then halts for good. Returns at once, doing nothing, on a CPU that is itself in a
/// fatal handler: that handler prints its own report. NMI context.
pub fn on_stop_nmi(rip: u64, rbp: u64) {
    let me = percpu::cpu_index();
    if DEPTH[me as usize].load(Ordering::Acquire) > 0 {
        return;
    }
    take_console(me);
    let mut out = crate::console::emergency_writer();
    let _ = writeln!(out, "\ncpu{me} stopped at {rip:#x}");
    let _ = crate::debug::backtrace::write(&mut out, Some(rip), rbp);
    release_console(me);
    STOPPED.fetch_add(1, Ordering::AcqRel);
    cpu::halt_forever()
}

/// Leaves QEMU with status 3 or halts, per `panic=`.
pub fn stop() -> ! {
    if EXIT_ON_PANIC.load(Ordering::Relaxed) {
        qemu::exit(qemu::EXIT_PANIC);
    }
    cpu::halt_forever()
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let role = begin_report();
    let mut out = crate::console::emergency_writer();
    let _ = writeln!(
        out,
        "\nKERNEL PANIC on cpu{}{}: {}",
        percpu::cpu_index(),
        role.header_suffix(),
        info.message()
    );
    if let Some(loc) = info.location() {
        let _ = writeln!(out, "at {}:{}:{}", loc.file(), loc.line(), loc.column());
    }
    let _ = crate::debug::backtrace::write(&mut out, None, cpu::frame_pointer());
    let _ = writeln!(out, "END-OF-REPORT");
    end_report(role)
}
