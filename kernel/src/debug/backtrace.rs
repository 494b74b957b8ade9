//! Frame-pointer backtraces.
//!
//! The kernel is compiled with `-C force-frame-pointers=yes`, so each of its frames starts
//! with the caller's RBP followed by the return address. The precompiled `core` has no
//! frame pointers; a chain through it ends early, which is acceptable for a report.
//! Every frame address is checked before it is read, so a corrupt chain ends the trace
//! instead of faulting inside the fault report.
use core::fmt::{self, Write};

use super::ksyms;

const MAX_FRAMES: usize = 32;

/// Writes `BACKTRACE` and one `#i 0xADDR symbol+0xoff` line per frame, starting with
/// `first_pc` (the faulting instruction, when known) and then walking from `rbp`.
pub fn write(out: &mut dyn Write, first_pc: Option<u64>, mut rbp: u64) -> fmt::Result {
    writeln!(out, "BACKTRACE")?;
    let mut i = 0;
    if let Some(pc) = first_pc {
        write_frame(out, i, pc)?;
        i += 1;
    }
    while i < MAX_FRAMES {
        if rbp == 0 || !rbp.is_multiple_of(8) || !crate::mm::is_kernel_readable(rbp, 16) {
            break;
        }
        // SAFETY: the two words at rbp were checked to be mapped kernel memory.
        let (next, ret) = unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if ret == 0 {
            break;
        }
        // A return address points after the call; look up the call instruction itself.
        write_frame(out, i, ret - 1)?;
        i += 1;
        if next <= rbp {
            break; // frames grow towards higher addresses; anything else is a loop
        }
        rbp = next;
    }
    Ok(())
}

fn write_frame(out: &mut dyn Write, i: usize, pc: u64) -> fmt::Result {
    match ksyms::lookup(pc) {
        Some((name, off)) => writeln!(out, "#{i} {pc:#018x} {name}+{off:#x}"),
        None => writeln!(out, "#{i} {pc:#018x} ?"),
    }
}
