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
//!
//! # From user mode
//! An interrupt or exception taken in ring 3 (CS's low bits) swaps GS to the kernel's and
//! continues at the top of the current thread's kernel stack (`PerCpu::kernel_stack_top`,
//! set at every switch), so the frame of a thread's user-mode entry is always at the same
//! place ([`user_frame`]); the way out swaps GS back before `iretq`. `SYSCALL` enters at
//! `syscall_entry`, which builds the same frame (vector [`SYSCALL_VECTOR`], the call
//! number in the error-code slot) and shares the rest of the path. It leaves by `sysretq`
//! when the frame still holds what `SYSRET` restores (RIP in RCX, RFLAGS in R11, see the
//! exit path for the exact conditions), and by `iretq` otherwise; both give the program
//! the same registers, and `iretq` is much slower under software emulation. The kernel
//! never runs with the user's GS except in two windows, the instruction that `SYSCALL`
//! lands on and the instructions from the exit's `swapgs` to its `iretq` or `sysretq`
//! (with interrupts off); NMI and #MC, which can hit them,
//! look at `GS_BASE` (a user value is a lower-half address: `arch_prctl` refuses others)
//! and swap for the handler, marking bit 63 of the error-code word to swap back.
//!
//! # FPU/SSE state
//! Rust handlers (and `core`) use the SSE registers freely, so the common path saves what
//! compiled code may change, XMM0-15 and MXCSR, on the stack (at their places in an
//! `fxsave64` image, [`FxArea`]), loads the kernel's MXCSR (the default, so a user's
//! unmasked exceptions or rounding mode never reach kernel code), and restores them on
//! the way out. The x87 state (control and status words, ST0-7) is not saved here: kernel
//! code never executes x87 instructions, so across an entry it is still the interrupted
//! code's; a thread switch saves and restores the whole FPU state (`switch_stack`), and
//! code that reads or replaces a thread's user FPU image (signal frames, `fork`, `execve`)
//! completes or loads its x87 part through [`super::fpu`]. Under software emulation this
//! matters: `fxsave64`/`fxrstor64` are emulated field by field, which made them most of
//! the cost of a system call (measured with `ubench --only getpid`, docs/bench.md).
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

/// The `vector` of a frame built by `SYSCALL` (no interrupt vector is this large).
pub const SYSCALL_VECTOR: u64 = 256;

impl InterruptFrame {
    /// Was the CPU in user mode (ring 3) when this frame was taken?
    pub fn is_from_user(&self) -> bool {
        self.cs & 3 == 3
    }
}

/// A 512-byte `fxsave64` image (x87, MMX, SSE state).
#[derive(Clone, Copy)]
#[repr(C, align(16))]
pub struct FxArea(pub [u8; 512]);

impl FxArea {
    /// The state after `fninit` with SSE exceptions masked: what a new program starts with
    /// (FCW 0x37f, MXCSR 0x1f80), every data register zero.
    pub const fn initial() -> FxArea {
        let mut a = [0u8; 512];
        a[0] = 0x7f;
        a[1] = 0x03;
        a[24] = 0x80;
        a[25] = 0x1f;
        // MXCSR_MASK: every bit this kernel may load (the bits of MXCSR 0x1f80 and flags).
        a[28] = 0xff;
        a[29] = 0xff;
        FxArea(a)
    }
}

/// Bytes at the top of every kernel stack kept for the user-mode entry frame and the
/// user FPU state below it ([`user_frame`], [`user_fx_area`]); a thread's own frames start
/// below them.
pub const USER_ENTRY_AREA: u64 = core::mem::size_of::<InterruptFrame>() as u64 + 16 + 512;

/// The user-mode entry frame of the thread whose kernel stack ends at `stack_top`: an
/// interrupt, exception or system call from ring 3 always lands exactly here.
pub fn user_frame(stack_top: u64) -> *mut InterruptFrame {
    (stack_top - core::mem::size_of::<InterruptFrame>() as u64) as *mut InterruptFrame
}

/// The user FPU state the entry path saved below [`user_frame`] (after the frame record
/// of two words, 16-byte aligned).
pub fn user_fx_area(stack_top: u64) -> *mut FxArea {
    (user_frame(stack_top) as u64 - 16 - 512) as *mut FxArea
}

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
    testb $3, 24(%rsp)          /* from user mode: on to the thread's kernel stack */
    jnz isr_user
    push %rax
    push %rbx
    mov 56(%rsp), %rax          /* interrupted rsp */
    sub $128, %rax              /* skip the red zone */
    and $~15, %rax
    sub $72, %rax               /* room for nine words */
/* Copies the nine words at RSP to RAX and continues there. */
isr_copy:
    .set off, 64
    .rept 9
    mov off(%rsp), %rbx
    mov %rbx, off(%rax)
    .set off, off - 8
    .endr
    mov %rax, %rsp
    pop %rbx
    pop %rax
    jmp isr_save

/* NMI, #DF, #PF, #MC. From kernel mode they stay on their IST stack (see the module
   docs); from user mode the stack is known good, so they move like the rest, and a user
   page fault may then sleep while it is served. In kernel mode GS may still be the user's
   for the two instructions around SYSCALL's swapgs and the exit's: NMI and #MC check. */
isr_stay:
    testb $3, 24(%rsp)
    jnz isr_user
    cmpq $14, (%rsp)
    je isr_save
    push %rax
    push %rcx
    push %rdx
    mov $0xc0000101, %ecx       /* GS_BASE: a user value has bit 63 clear */
    rdmsr
    test %edx, %edx
    js 1f
    swapgs
    btsq $63, 32(%rsp)          /* error-code bit 63: swap back on the way out */
1:  pop %rdx
    pop %rcx
    pop %rax
    jmp isr_save

/* From ring 3: switch GS to the kernel's, copy the seven words to the top of the current
   thread's kernel stack (per-CPU `kernel_stack_top`) and continue there. */
isr_user:
    swapgs
    push %rax
    push %rbx
    mov %gs:{ktop}, %rax
    sub $72, %rax
    jmp isr_copy

/* SYSCALL from ring 3 (LSTAR): RCX = user RIP, R11 = user RFLAGS, interrupts off (FMASK).
   Builds the same frame an interrupt from user mode gets, with vector SYSCALL_VECTOR and
   the system call number in the error-code slot, on the thread's kernel stack. */
    .global syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:{ursp}
    mov %gs:{ktop}, %rsp
    pushq ${user_ss}
    pushq %gs:{ursp}
    push %r11
    pushq ${user_cs}
    push %rcx
    push %rax
    pushq ${syscall_vector}
isr_save:
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
    stmxcsr 24(%rsp)            /* fxsave64 layout: MXCSR at 24, XMMn at 160 + 16n */
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movaps %xmm\n, 160+16*\n(%rsp)
    .endr
    ldmxcsr kernel_mxcsr(%rip)
    cld
    call {dispatch}
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movaps 160+16*\n(%rsp), %xmm\n
    .endr
    ldmxcsr 24(%rsp)
    add $528, %rsp
isr_restore:
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
    testb $3, 24(%rsp)          /* back to user mode? */
    jnz 3f
    btrq $63, 8(%rsp)           /* kernel mode: swap GS back if the entry swapped it */
    jnc 2f
    swapgs
2:  add $16, %rsp               /* vector, error code */
    iretq
3:  /* To user mode. A system call whose return state is what SYSRET produces leaves by
       SYSRET, as Linux's does: RIP = RCX, RFLAGS = R11 (neither TF nor RF, which SYSRET
       would not restore), the standard user selectors, and a canonical lower-half RIP
       (SYSRET to a non-canonical RIP would fault in ring 0). Anything else (signal
       delivery, sigreturn, exec, interrupts, exceptions) leaves by iretq. */
    cmpq ${syscall_vector}, (%rsp)
    jne 4f
    cmp %rcx, 16(%rsp)
    jne 4f
    cmp %r11, 32(%rsp)
    jne 4f
    test $0x10100, %r11         /* RF | TF */
    jnz 4f
    cmpq ${user_cs}, 24(%rsp)
    jne 4f
    cmpq ${user_ss}, 48(%rsp)
    jne 4f
    push %rcx
    shr $47, %rcx               /* canonical lower half: bits 63..47 clear */
    pop %rcx
    jnz 4f
    swapgs                      /* user GS again; interrupts are off until SYSRET */
    mov 40(%rsp), %rsp          /* the user's RSP */
    sysretq
4:  add $16, %rsp
    swapgs                      /* user GS again */
    iretq

/* user_enter(frame, fxsave image): a thread's first entry to user mode. Loads the FPU
   state and every register from the frame (so nothing of the kernel's reaches user
   mode) and returns to ring 3 with iretq. */
    .global user_enter
user_enter:
    fxrstor64 (%rsi)
    mov %rdi, %rsp
    jmp isr_restore             /* pops the registers; CS is the user's: swapgs, iretq */

    .section .rodata
    .balign 4
/* MXCSR while kernel code runs: every exception masked, round to nearest. */
kernel_mxcsr:
    .long 0x1f80
    .text
"#,
    dispatch = sym dispatch,
    ktop = const core::mem::offset_of!(super::percpu::PerCpu, kernel_stack_top),
    ursp = const core::mem::offset_of!(super::percpu::PerCpu, user_rsp),
    user_cs = const super::gdt::USER_CODE as u64,
    user_ss = const super::gdt::USER_DATA as u64,
    syscall_vector = const SYSCALL_VECTOR,
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
    if frame.vector == SYSCALL_VECTOR {
        crate::syscall::entry(frame);
        return;
    }
    let vector = frame.vector as u8;
    if vector < 32 {
        if frame.is_from_user() {
            crate::process::user_exception(frame);
        } else {
            super::exceptions::handle(frame);
        }
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
    if frame.is_from_user() {
        crate::process::return_to_user(frame);
    }
}

extern "C" {
    /// Enters user mode for the first time on this thread with the registers of `frame`
    /// and the FPU state `fx` (`frame` is on the thread's kernel stack, at or below
    /// [`user_frame`]).
    fn user_enter(frame: *const InterruptFrame, fx: *const FxArea) -> !;
    fn syscall_entry();
}

/// Starts user mode with `frame`'s registers (CS and SS must be the user selectors).
///
/// # Safety
/// `frame` and `fx` must be valid; `frame` must lie on the current thread's kernel stack
/// (the stack is abandoned at that point), and the current page tables must be the
/// thread's address space.
pub unsafe fn enter_user(frame: *const InterruptFrame, fx: *const FxArea) -> ! {
    // SAFETY: forwarded to the caller.
    unsafe { user_enter(frame, fx) }
}

/// Address of the `SYSCALL` entry point (for `LSTAR`).
pub fn syscall_entry_address() -> u64 {
    syscall_entry as *const () as u64
}
