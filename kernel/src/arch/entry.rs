//! Interrupt and exception entry: 256 assembly stubs, one common path, one Rust dispatcher.
//!
//! # Why every vector enters on an IST stack and then moves
//! The kernel is built for the linux-gnu target and links that target's precompiled
//! `core`/`alloc`/`compiler_builtins`, which use the 128-byte red zone below RSP. A CPU
//! taking an interrupt in ring 0 without a stack switch pushes its frame right at RSP,
//! on top of that live data (measured: most ticks corrupted something). So every gate
//! names an IST stack, which makes the CPU switch stacks unconditionally; the common path
//! (`isr_move`) then copies the frame to `(interrupted RSP - 128) & !15`, below the red
//! zone, and continues there. Running the handler on the interrupted stack (not on the
//! per-CPU IST stack) keeps nested interrupts and, later, thread switches from an
//! interrupt correct.
//!
//! NMI, #DF, #MC and #PF stay on their own IST stacks (`isr_stay`): they may arrive with
//! a broken stack (a stack overflow into a guard page is a #PF, then possibly a #DF), and
//! in this kernel a kernel-mode page fault is fatal, so their handlers only report.
//! Only ring 0 exists so far; the user-mode entry path comes with processes.
//!
//! # FPU/SSE state
//! The common path saves the interrupted code's x87/SSE state with `fxsave64` on the
//! stack and restores it on the way out, because Rust handlers (and `core`) use SSE
//! registers freely. A thread switch made from an interrupt therefore carries the
//! preempted thread's FPU state with its stack.
use core::arch::global_asm;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Registers saved by the common entry path, lowest address first.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct InterruptFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Size of one stub; stub `v` starts at `isr_stubs + v * STUB_SIZE`.
const STUB_SIZE: u64 = 16;

global_asm!(
    r#"
    .section .text.isr, "ax"
    .balign 16
    .global isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    /* Vectors without a CPU-pushed error code push a zero so the frame is uniform. */
    .if !(vec == 8 || vec == 10 || vec == 11 || vec == 12 || vec == 13 || vec == 14 || vec == 17 || vec == 21 || vec == 29 || vec == 30)
    pushq $0
    .endif
    pushq $vec
    .if vec == 2 || vec == 8 || vec == 14 || vec == 18
    jmp isr_stay
    .else
    jmp isr_move
    .endif
    .set vec, vec + 1
    .endr

/* On the IST stack: vector, error, rip, cs, rflags, rsp, ss. Copy these seven words,
   plus the two scratch registers, below the interrupted stack's red zone. */
isr_move:
    push %rax
    push %rbx
    mov 56(%rsp), %rax          /* interrupted rsp */
    sub $128, %rax              /* skip the red zone */
    and $~15, %rax
    sub $72, %rax               /* room for nine words */
    mov 64(%rsp), %rbx
    mov %rbx, 64(%rax)
    mov 56(%rsp), %rbx
    mov %rbx, 56(%rax)
    mov 48(%rsp), %rbx
    mov %rbx, 48(%rax)
    mov 40(%rsp), %rbx
    mov %rbx, 40(%rax)
    mov 32(%rsp), %rbx
    mov %rbx, 32(%rax)
    mov 24(%rsp), %rbx
    mov %rbx, 24(%rax)
    mov 16(%rsp), %rbx
    mov %rbx, 16(%rax)
    mov 8(%rsp), %rbx
    mov %rbx, 8(%rax)
    mov (%rsp), %rbx
    mov %rbx, (%rax)
    mov %rax, %rsp
    pop %rbx
    pop %rax
isr_stay:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi              /* &InterruptFrame */
    /* A frame record (rip, rbp) so backtraces continue into the interrupted code. */
    pushq 136(%rsp)
    push %rbp
    mov %rsp, %rbp
    sub $512, %rsp
    fxsave64 (%rsp)
    cld
    call {dispatch}
    fxrstor64 (%rsp)
    add $528, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp               /* vector, error code */
    iretq
    .text
"#,
    dispatch = sym dispatch,
    options(att_syntax)
);

extern "C" {
    static isr_stubs: [u8; 0];
}

/// Address of vector `v`'s entry stub.
pub fn stub_address(v: u8) -> u64 {
    // SAFETY: only the address of the symbol is taken.
    let base = unsafe { isr_stubs.as_ptr() } as u64;
    base + u64::from(v) * STUB_SIZE
}

/// A handler for a device or IPI vector. Runs in hardirq context with interrupts off:
/// it must not sleep or take a lock that process context holds with interrupts enabled.
pub type Handler = fn(&mut InterruptFrame);

static HANDLERS: [AtomicUsize; 256] = [const { AtomicUsize::new(0) }; 256];

/// Installs `handler` for `vector` (32..=255).
pub fn register(vector: u8, handler: Handler) {
    assert!(vector >= 32, "vector {vector} is a CPU exception");
    let prev = HANDLERS[vector as usize].swap(handler as usize, Ordering::AcqRel);
    assert!(
        prev == 0 || prev == handler as usize,
        "vector {vector} already has a handler"
    );
}

/// The Rust side of every interrupt and exception. Hardirq context, interrupts off.
/// Device and IPI vectors are bracketed by `hardirq_enter`/`hardirq_exit`, which runs
/// softirqs and preemption on the way out (on the interrupted thread's stack).
extern "C" fn dispatch(frame: &mut InterruptFrame) {
    let vector = frame.vector as u8;
    if vector < 32 {
        super::exceptions::handle(frame);
        return;
    }
    crate::irq::hardirq_enter();
    match HANDLERS[vector as usize].load(Ordering::Acquire) {
        0 => super::interrupts::unexpected(vector),
        f => {
            // SAFETY: only `register` stores into HANDLERS, and it stores `Handler`s.
            let handler: Handler = unsafe { core::mem::transmute::<usize, Handler>(f) };
            handler(frame);
        }
    }
    super::interrupts::end_of_interrupt(vector);
    crate::irq::hardirq_exit();
}
