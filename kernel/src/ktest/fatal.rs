//! Fatal reports under pressure: a fault inside a report, and faults on two CPUs at once.
//! Each must still end in complete reports and QEMU's panic status (checked by the
//! xtask, `suite::fatal`).
use alloc::string::String;
use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::Verdict;
use crate::arch::{cpu, percpu};
use crate::sched;

/// The address the panic message's formatting reads: canonical, lower half, never mapped.
pub const REPORT_FAULT_ADDR: u64 = 0xbad_0000_0000;
/// The addresses the two CPUs read in `fault-two-cpus` (CPU n reads the n-th).
pub const CPU_FAULT_ADDRS: [u64; 2] = [0xdea_0000_0000, 0xdea_1000_0000];

/// A value whose formatting faults: the panic report's message faults while printed.
struct FaultingMessage;

impl fmt::Display for FaultingMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deliberate panic whose message faults: ")?;
        // SAFETY: deliberately unsound: the read faults inside the panic report.
        let v = unsafe { core::ptr::read_volatile(REPORT_FAULT_ADDR as *const u64) };
        write!(f, "{v}")
    }
}

/// `fault-in-report`: a panic whose message faults while the report prints it.
pub fn fault_in_report() -> Verdict {
    panic!("{}", FaultingMessage);
}

/// `fault-two-cpus`: a thread on each CPU reads its own unmapped address at the same
/// moment (a shared TSC deadline, so neither waits on the other's memory traffic).
pub fn fault_two_cpus() -> Verdict {
    if percpu::count() < 2 {
        return Err(String::from("needs two CPUs"));
    }
    static READY: AtomicU32 = AtomicU32::new(0);
    let at = AtomicU64::new(0);
    let at = alloc::sync::Arc::new(at);
    for cpu in 0..2u32 {
        let at = at.clone();
        sched::spawn_pinned(alloc::format!("fault{cpu}"), cpu, move || {
            if READY.fetch_add(1, Ordering::AcqRel) == 1 {
                at.store(cpu::rdtsc() + 50_000_000, Ordering::Release);
            }
            let deadline = loop {
                match at.load(Ordering::Acquire) {
                    0 => core::hint::spin_loop(),
                    t => break t,
                }
            };
            while cpu::rdtsc() < deadline {
                core::hint::spin_loop();
            }
            read_unmapped(CPU_FAULT_ADDRS[cpu as usize]);
        });
    }
    sched::sleep_ns(10_000_000_000);
    Err(String::from("neither CPU faulted"))
}

/// Reads `addr`, which faults (a named frame for the report's backtrace).
#[inline(never)]
fn read_unmapped(addr: u64) {
    // SAFETY: deliberately unsound: the read faults, and the reports end the run.
    let v = unsafe { core::ptr::read_volatile(addr as *const u64) };
    core::hint::black_box(v);
}
