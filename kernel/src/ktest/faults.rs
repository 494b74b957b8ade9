//! Deliberate faults: the exception and panic reports must appear (checked by the xtask).
use alloc::string::String;

use super::Verdict;

/// The address the page-fault test reads: canonical, in the lower half, never mapped.
pub const UNMAPPED: u64 = 0xdea_dbee_f000;

pub fn page_fault() -> Verdict {
    // SAFETY: deliberately unsound: the read faults, and the #PF report ends the run.
    let v = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
    Err(String::from("read of an unmapped address returned ") + if v == 0 { "0" } else { "data" })
}

pub fn divide_error() -> Verdict {
    // SAFETY: `div` by zero raises #DE, whose report ends the run; no memory is touched.
    unsafe {
        core::arch::asm!("xor ecx, ecx", "div ecx", out("eax") _, out("ecx") _, out("edx") _)
    };
    Err(String::from("division by zero did not fault"))
}

/// A thread recurses until it runs off its stack: the guard page below must turn that
/// into a #PF reported as a stack overflow. A first thread runs and exits before, so
/// the overflowing one runs on a reused (cached) stack whose guard page must hold too.
pub fn stack_overflow() -> Verdict {
    let first = crate::sched::spawn("stack-donor", || {});
    crate::sched::join(&first);
    drop(first);
    // The scheduler drops its own reference once the donor is off its CPU.
    let deadline = crate::time::now_ns() + 1_000_000_000;
    while crate::mm::stack::stack_stats().cached == 0 && crate::time::now_ns() < deadline {
        crate::sched::sleep_ns(1_000_000);
    }
    let mapped = crate::mm::stack::stack_stats().mapped;
    // The thread waits for the line below, so the report cannot come first.
    static GO: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    let t = crate::sched::spawn("stack-overflow", || {
        while !GO.load(core::sync::atomic::Ordering::Acquire) {
            crate::sched::sleep_ns(1_000_000);
        }
        recurse(0);
    });
    let reused = crate::mm::stack::stack_stats().mapped == mapped;
    crate::println!(
        "stack-overflow: the thread runs on a {} stack",
        if reused { "reused" } else { "new" }
    );
    GO.store(true, core::sync::atomic::Ordering::Release);
    crate::sched::join(&t);
    Err(String::from("the recursing thread ended without a fault"))
}

/// Uses 1 KiB of stack per call, forever (the depth check is never true).
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; 1024];
    core::hint::black_box(&mut frame);
    if depth == u64::MAX {
        return 0;
    }
    recurse(depth + 1) + u64::from(core::hint::black_box(frame[0]))
}

pub fn panic() -> Verdict {
    panic!("deliberate test panic");
}
