//! FPU/SSE state across interrupts: the interrupted code's registers must survive a
//! handler that uses them.
//!
//! A timer hook (run in hardirq context on every tick) overwrites all sixteen XMM
//! registers and MXCSR with garbage, as any compiled kernel code may (kernel code never
//! executes x87 instructions, so the hook leaves the x87 state alone, see
//! `arch/entry.rs`). Meanwhile the test loads a known pattern into every XMM register and
//! a non-default MXCSR, spins, and checks them all, in assembly so the compiler cannot
//! keep copies elsewhere. The entry path's save and restore of XMM0-15 and MXCSR must make
//! the hook invisible. A thread switch from an interrupt keeps the FPU state on the
//! preempted thread's stack the same way.
use alloc::format;
use core::arch::global_asm;
use core::sync::atomic::{AtomicU64, Ordering};

use super::Verdict;
use crate::time;

const TICK_HZ: u64 = 20_000;
const DURATION_NS: u64 = 2_000_000_000;

static HOOK_RUNS: AtomicU64 = AtomicU64::new(0);

global_asm!(
    r#"
    .section .text.sse_probe, "ax"
    .global sse_probe, sse_clobber
/* u64 sse_probe(const u8 pattern[256] (16-byte aligned), u64 spins): loads xmm0-15
   from pattern and a non-default MXCSR (round toward zero, flush to zero), spins, then
   counts the registers (and MXCSR) that no longer hold what was loaded. */
sse_probe:
    sub $8, %rsp
    stmxcsr (%rsp)
    push (%rsp)
    movl $0xff80, (%rsp)
    ldmxcsr (%rsp)
    movdqu 0(%rdi), %xmm0
    movdqu 16(%rdi), %xmm1
    movdqu 32(%rdi), %xmm2
    movdqu 48(%rdi), %xmm3
    movdqu 64(%rdi), %xmm4
    movdqu 80(%rdi), %xmm5
    movdqu 96(%rdi), %xmm6
    movdqu 112(%rdi), %xmm7
    movdqu 128(%rdi), %xmm8
    movdqu 144(%rdi), %xmm9
    movdqu 160(%rdi), %xmm10
    movdqu 176(%rdi), %xmm11
    movdqu 192(%rdi), %xmm12
    movdqu 208(%rdi), %xmm13
    movdqu 224(%rdi), %xmm14
    movdqu 240(%rdi), %xmm15
1:  pause
    dec %rsi
    jnz 1b
    xor %eax, %eax
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    pcmpeqb \n*16(%rdi), %xmm\n
    pmovmskb %xmm\n, %edx
    cmp $0xffff, %edx
    je 3f
    inc %eax
3:
    .endr
    stmxcsr (%rsp)
    cmpl $0xff80, (%rsp)
    je 2f
    inc %eax
2:  pop %rdx
    ldmxcsr (%rsp)
    add $8, %rsp
    ret

/* void sse_clobber(void): garbage into every XMM register and MXCSR. */
sse_clobber:
    pcmpeqb %xmm0, %xmm0
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movdqa %xmm0, %xmm\n
    .endr
    sub $8, %rsp
    movl $0x1f80 | (3 << 13), (%rsp)
    ldmxcsr (%rsp)
    add $8, %rsp
    ret
    .text
"#,
    options(att_syntax)
);

extern "C" {
    fn sse_probe(pattern: *const u8, spins: u64) -> u64;
    fn sse_clobber();
}

fn clobber_hook() {
    HOOK_RUNS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: the function only writes SSE registers and MXCSR, which the interrupt entry
    // path saved and will restore.
    unsafe { sse_clobber() };
}

pub fn run() -> Verdict {
    #[repr(C, align(16))]
    struct Pattern([u8; 256]);
    let mut pattern = Pattern([0; 256]);
    for (i, b) in pattern.0.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    time::set_tick_hook(Some(clobber_hook));
    time::start_tick(TICK_HZ);
    let start = time::now_ns();
    let mut changed = 0u64;
    let mut probes = 0u64;
    while time::now_ns() - start < DURATION_NS {
        // SAFETY: the probe reads 256 bytes from `pattern` and only touches SSE registers
        // and MXCSR, which it restores.
        changed += unsafe { sse_probe(pattern.0.as_ptr(), 20_000) };
        probes += 1;
    }
    time::start_tick(1000);
    time::set_tick_hook(None);
    let hooks = HOOK_RUNS.load(Ordering::Relaxed);
    crate::info!(
        "sse: {probes} probes, {hooks} clobbering interrupts, {changed} registers changed"
    );
    if hooks < 1000 {
        return Err(format!("only {hooks} interrupts ran the clobbering hook"));
    }
    if changed != 0 {
        return Err(format!(
            "{changed} SSE registers or MXCSR changed under interrupts"
        ));
    }
    Ok(())
}
