//! Red-zone stress: code that keeps live data below RSP, interrupted by a fast timer.
//!
//! The precompiled `core` uses the 128-byte red zone; an interrupt entry that pushed its
//! frame onto the current stack would corrupt it (see `arch::entry`). This test runs, for
//! a few seconds under a 20 kHz LAPIC timer: (1) an assembly probe that fills the red
//! zone with a pattern and re-checks it many times without moving RSP, and (2) number
//! formatting and 128-bit division from the precompiled `core`/`compiler_builtins`,
//! compared with results computed before the timer started. Any difference counts as a
//! corruption; the test requires zero, over at least 15,000 timer interrupts landing in
//! that code. It runs until that many have landed (a count, not a rate: an emulated CPU
//! on a loaded host gets fewer ticks per second, not a weaker test), or fails after 30 s.
use alloc::format;
use alloc::string::String;
use core::arch::global_asm;
use core::fmt::Write;

use super::Verdict;
use crate::arch::percpu;
use crate::time;

const TICK_HZ: u64 = 20_000;
/// Timer interrupts that must land in the probed code.
const MIN_TICKS: u64 = 15_000;
/// Give up (and fail) if that takes longer than this.
const LIMIT_NS: u64 = 30_000_000_000;

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
    // The probe counts this CPU's timer interrupts, so it must stay on this CPU.
    let cpu = Some(percpu::cpu_index());
    let worker = super::TestThread::start("redzone".into(), cpu, probe_under_fast_timer);
    crate::sched::join(&worker.thread);
    worker.verdict()
}

fn probe_under_fast_timer() -> Verdict {
    let reference: alloc::vec::Vec<String> = (0..64).map(library_work).collect();
    let ticks_now = || {
        percpu::current()
            .timer_ticks
            .load(core::sync::atomic::Ordering::Relaxed)
    };
    let ticks_before = ticks_now();
    let start = time::now_ns();
    time::start_tick(TICK_HZ);
    let mut corruptions = 0u64;
    let mut rounds = 0u64;
    while ticks_now() - ticks_before < MIN_TICKS && time::now_ns() - start < LIMIT_NS {
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
    let ticks = ticks_now() - ticks_before;
    let rate = ticks * 1_000_000_000 / elapsed.max(1);
    crate::info!(
        "redzone: {rounds} rounds, {ticks} timer interrupts ({rate}/s), {corruptions} corruptions"
    );
    if corruptions != 0 {
        return Err(format!("{corruptions} corruptions in {rounds} rounds"));
    }
    if ticks < MIN_TICKS {
        return Err(format!(
            "only {ticks} timer interrupts in {} s, fewer than the {MIN_TICKS} the test needs",
            LIMIT_NS / 1_000_000_000
        ));
    }
    Ok(())
}
