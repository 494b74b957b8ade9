//! The Linux x86_64 system-call interface: entry, the table, one file per family.
//!
//! `SYSCALL` lands in `arch::entry`, which saves the user registers in an
//! [`InterruptFrame`] at the top of the thread's kernel stack and calls [`entry`]. The
//! number is in the error-code slot (RAX as the program left it), the arguments in RDI,
//! RSI, RDX, R10, R8, R9; the result goes back in RAX (`-errno` on failure).
//!
//! Rules every handler follows (docs/userspace.md): arguments are read in the order given
//! (the order of faults is visible); user memory only through [`crate::process::usercopy`];
//! unknown flag bits are `EINVAL`; nothing a program passes can panic the kernel. A number
//! Halyard does not implement is `ENOSYS`, counted per number and logged once by name
//! ([`counts`]).
mod cred;
mod errno;
mod events;
pub mod fs;
pub mod futex;
pub mod info;
pub mod io;
mod mem;
mod misc;
mod msg;
pub mod net;
mod netdev;
pub mod poll;
mod proc;
mod signal;
mod table;
mod tcp_info;
pub mod time;

use core::sync::atomic::{AtomicU64, Ordering};

pub use errno::{Errno, SysResult};

use crate::arch::entry::InterruptFrame;

/// The six argument registers.
#[derive(Clone, Copy, Debug)]
pub struct Args(pub [u64; 6]);

impl Args {
    fn from_frame(f: &InterruptFrame) -> Args {
        Args([f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9])
    }
}

/// Highest system-call number counted (x86_64 numbers are below 512).
const MAX_NR: usize = 512;

/// Calls per number, and the calls that were `ENOSYS` (unimplemented) per number.
static CALLS: [AtomicU64; MAX_NR] = [const { AtomicU64::new(0) }; MAX_NR];
static MISSING: [AtomicU64; MAX_NR] = [const { AtomicU64::new(0) }; MAX_NR];
/// Numbers outside the table (no such system call on x86_64).
static UNKNOWN: AtomicU64 = AtomicU64::new(0);

/// `strace` on the kernel command line: every system call of every process is logged
/// with its arguments and result (a debugging aid; off by default).
static TRACE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Turns the system-call trace on or off.
pub fn set_trace(on: bool) {
    TRACE.store(on, Ordering::Relaxed);
}

/// A system call from user mode: on the thread's kernel stack, interrupts off.
pub fn entry(frame: &mut InterruptFrame) {
    // SAFETY: a system call runs in its thread's context, holding no lock.
    unsafe { crate::arch::cpu::enable_interrupts() };
    let nr = frame.error_code;
    let args = Args::from_frame(frame);
    let result = match usize::try_from(nr).ok().filter(|&n| n < MAX_NR) {
        Some(n) => {
            CALLS[n].fetch_add(1, Ordering::Relaxed);
            match syscalls::Sysno::new(n) {
                Some(sysno) => table::dispatch(sysno, args, frame).unwrap_or_else(|| {
                    if MISSING[n].fetch_add(1, Ordering::Relaxed) == 0 {
                        crate::info!(
                            "system call {} ({n}) is not implemented: ENOSYS",
                            sysno.name()
                        );
                    }
                    Err(Errno::ENOSYS)
                }),
                None => {
                    UNKNOWN.fetch_add(1, Ordering::Relaxed);
                    Err(Errno::ENOSYS)
                }
            }
        }
        None => {
            UNKNOWN.fetch_add(1, Ordering::Relaxed);
            Err(Errno::ENOSYS)
        }
    };
    frame.rax = match result {
        Ok(v) => v,
        Err(e) => (-i64::from(e.0)) as u64,
    };
    if TRACE.load(Ordering::Relaxed) {
        let name = usize::try_from(nr)
            .ok()
            .and_then(syscalls::Sysno::new)
            .map_or("?", |s| s.name());
        let a = args.0;
        crate::info!(
            "strace {} {name}({:#x}, {:#x}, {:#x}, {:#x}) = {:#x}",
            crate::process::current().tid(),
            a[0],
            a[1],
            a[2],
            a[3],
            frame.rax
        );
    }
    crate::process::return_to_user(frame);
}

/// `(number, name, calls, ENOSYS returns)` for every number called at least once, and the
/// count of numbers unknown to x86_64: for `/proc` and the monitor.
pub fn counts() -> (alloc::vec::Vec<(usize, &'static str, u64, u64)>, u64) {
    let rows = (0..MAX_NR)
        .filter_map(|n| {
            let calls = CALLS[n].load(Ordering::Relaxed);
            (calls > 0).then(|| {
                let name = syscalls::Sysno::new(n).map_or("?", |s| s.name());
                (n, name, calls, MISSING[n].load(Ordering::Relaxed))
            })
        })
        .collect();
    (rows, UNKNOWN.load(Ordering::Relaxed))
}
