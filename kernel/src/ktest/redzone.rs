//! Red-zone stress: code that keeps live data below RSP, interrupted by a fast timer.
//!
//! The precompiled `core` uses the 128-byte red zone; an interrupt entry that pushed its
//! frame onto the current stack would corrupt it (see `arch::entry`). This test runs, for
//! a few seconds under a 20 kHz LAPIC timer: (1) an assembly probe that fills the red
//! zone with a pattern and re-checks it many times without moving RSP, and (2) number
//! formatting and 128-bit division from the precompiled `core`/`compiler_builtins`,
//! compared with results computed before the timer started. Any difference counts as a
//! corruption; the test requires zero, and at least 5,000 timer interrupts per second.
use alloc::format;
use alloc::string::String;
use core::arch::global_asm;
use core::fmt::Write;

use super::Verdict;
use crate::arch::percpu;
use crate::time;

const TICK_HZ: u64 = 20_000;
const DURATION_NS: u64 = 3_000_000_000;

global_asm!(
    r#"
    .section .text.redzone_probe, "ax"
    .global redzone_probe
/* u64 redzone_probe(u64 seed, u64 rounds): writes 16 words below RSP, re-reads them
   `rounds` times, returns the number of mismatching reads. A leaf: RSP never moves. */
redzone_probe:
    xor %eax, %eax
    mov %rdi, %rdx
    mov $16, %ecx
1:  mov %rdx, -136(%rsp, %rcx, 8)
    add %rdi, %rdx
    dec %ecx
    jnz 1b
2:  mov %rdi, %rdx
    mov $16, %ecx
3:  cmp %rdx, -136(%rsp, %rcx, 8)
    je 4f
    inc %rax
4:  add %rdi, %rdx
    dec %ecx
    jnz 3b
    dec %rsi
    jnz 2b
    ret
    .text
"#,
    options(att_syntax)
);

extern "C" {
    fn redzone_probe(seed: u64, rounds: u64) -> u64;
}

/// Work done by the precompiled libraries, whose output must never change.
fn library_work(i: u64) -> String {
    let big = u128::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    let mut s = String::new();
    let _ = write!(
        s,
        "{big} {} {:.6} {:x}",
        big / 1_000_000_007,
        (i as f64) * 1.5 / 7.0,
        big % 0xffff_fffb
    );
    s
}

pub fn run() -> Verdict {
    let reference: alloc::vec::Vec<String> = (0..64).map(library_work).collect();
    let ticks_before = percpu::current()
        .timer_ticks
        .load(core::sync::atomic::Ordering::Relaxed);
    let start = time::now_ns();
    time::start_tick(TICK_HZ);
    let mut corruptions = 0u64;
    let mut rounds = 0u64;
    while time::now_ns() - start < DURATION_NS {
        let seed = 0x0123_4567_89ab_cdef ^ rounds;
        // SAFETY: the probe only touches the 128 bytes below its own RSP (the red zone
        // the ABI grants a leaf function).
        corruptions += unsafe { redzone_probe(seed | 1, 200) };
        let i = rounds % 64;
        if library_work(i) != reference[i as usize] {
            corruptions += 1;
        }
        rounds += 1;
    }
    let elapsed = time::now_ns() - start;
    time::start_tick(1000);
    let ticks = percpu::current()
        .timer_ticks
        .load(core::sync::atomic::Ordering::Relaxed)
        - ticks_before;
    let rate = ticks * 1_000_000_000 / elapsed.max(1);
    crate::info!(
        "redzone: {rounds} rounds, {ticks} timer interrupts ({rate}/s), {corruptions} corruptions"
    );
    if corruptions != 0 {
        return Err(format!("{corruptions} corruptions in {rounds} rounds"));
    }
    if rate < 5_000 {
        return Err(format!(
            "timer ran at {rate}/s, below the 5000/s the test needs"
        ));
    }
    Ok(())
}
