//! Deliberate faults: the exception and panic reports must appear (checked by the xtask).
use alloc::string::String;

use super::Verdict;

/// The address the page-fault test reads: canonical, in the lower half, never mapped.
pub const UNMAPPED: u64 = 0xdead_beef_000;

pub fn page_fault() -> Verdict {
    // SAFETY: deliberately unsound: the read faults, and the #PF report ends the run.
    let v = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
    Err(String::from("read of an unmapped address returned ") + if v == 0 { "0" } else { "data" })
}

pub fn divide_error() -> Verdict {
    // SAFETY: `div` by zero raises #DE, whose report ends the run; no memory is touched.
    unsafe { core::arch::asm!("xor ecx, ecx", "div ecx", out("eax") _, out("ecx") _, out("edx") _) };
    Err(String::from("division by zero did not fault"))
}

pub fn panic() -> Verdict {
    panic!("deliberate test panic");
}
