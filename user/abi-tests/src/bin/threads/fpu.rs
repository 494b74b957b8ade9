//! FPU state is per thread and survives the kernel: the x87 control word, MXCSR and the
//! XMM registers keep their values across system calls, switches to threads that load
//! other values, and `fork`; a signal handler starts from the initial state and the
//! interrupted code gets its own back after `sigreturn` (Linux's `fpu__clear_user_states`
//! and `restore_fpregs_from_user`).

use abi_tests::process;
use abi_tests::signal::{self, Action};
use abi_tests::Transcript;
use core::arch::asm;
use core::ffi::c_int;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

/// The x87 control word and MXCSR (without its sticky exception flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Control(u16, u32);

impl fmt::Display for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fcw={:#06x} mxcsr={:#06x}", self.0, self.1)
    }
}

/// A control word and an MXCSR unlike the defaults (0x37f, 0x1f80): 53-bit precision and
/// round toward zero; and a second pair for the competing thread.
const MINE: Control = Control(0x027f, 0x7f80);
const THEIRS: Control = Control(0x0c7f, 0x3f80);
const DEFAULT: Control = Control(0x037f, 0x1f80);

fn control() -> Control {
    let mut cw: u16 = 0;
    let mut mxcsr: u32 = 0;
    // SAFETY: fnstcw and stmxcsr store into the two locals.
    unsafe {
        asm!("fnstcw [{}]", "stmxcsr [{}]", in(reg) &mut cw, in(reg) &mut mxcsr, options(nostack))
    };
    Control(cw, mxcsr & 0xffc0)
}

fn set_control(Control(cw, mxcsr): Control) {
    // SAFETY: loads a valid control word and an MXCSR with no reserved bit set.
    unsafe { asm!("fldcw [{}]", "ldmxcsr [{}]", in(reg) &cw, in(reg) &mxcsr, options(nostack)) };
}

/// Loads `seed`-derived values into XMM8-15, makes `calls` `sched_yield` system calls,
/// and returns how many of the eight registers changed meanwhile. One `asm!` block, so
/// the compiler keeps nothing of its own in those registers.
fn xmm_survive(seed: u64, calls: u64) -> u64 {
    let changed: u64;
    // SAFETY: the block uses XMM8-15 (declared clobbered), the syscall registers (declared)
    // and a scratch register; sched_yield takes no argument.
    unsafe {
        asm!(
            "movq xmm8, {seed}",
            "pshufd xmm8, xmm8, 0x44",
            "movdqa xmm9, xmm8", "paddq xmm9, xmm8",
            "movdqa xmm10, xmm9", "paddq xmm10, xmm8",
            "movdqa xmm11, xmm10", "paddq xmm11, xmm8",
            "movdqa xmm12, xmm11", "paddq xmm12, xmm8",
            "movdqa xmm13, xmm12", "paddq xmm13, xmm8",
            "movdqa xmm14, xmm13", "paddq xmm14, xmm8",
            "movdqa xmm15, xmm14", "paddq xmm15, xmm8",
            "2:",
            "mov eax, {yield_nr}",
            "syscall",
            "dec {calls}",
            "jnz 2b",
            // Recompute each register's expected value in XMM0 and count mismatches.
            "xor {changed}, {changed}",
            "movq xmm1, {seed}",
            "pshufd xmm1, xmm1, 0x44",
            "movdqa xmm0, xmm1",
            ".irp n, 8,9,10,11,12,13,14,15",
            "movdqa xmm2, xmm\\n",
            "pcmpeqb xmm2, xmm0",
            "pmovmskb {mask:e}, xmm2",
            "cmp {mask:e}, 0xffff",
            "setne {mask:l}",
            "movzx {mask:e}, {mask:l}",
            "add {changed}, {mask}",
            "paddq xmm0, xmm1",
            ".endr",
            seed = in(reg) seed,
            calls = inout(reg) calls.max(1) => _,
            changed = out(reg) changed,
            mask = out(reg) _,
            yield_nr = const libc::SYS_sched_yield,
            out("rax") _, out("rcx") _, out("r11") _,
            out("xmm0") _, out("xmm1") _, out("xmm2") _,
            out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
            out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
        )
    };
    changed
}

/// Before any thread exists: the child of `fork` has the parent's control registers.
pub fn fork_inherits(t: &Transcript) {
    let saved = control();
    set_control(MINE);
    let status = process::run(|| c_int::from(control() != MINE));
    set_control(saved);
    t.eq(
        "fpu_fork_child_inherits_control",
        status
            .map(|s| s.to_string())
            .unwrap_or_else(|e| e.to_string()),
        "exited(0)".to_string(),
    );
}

static IN_HANDLER: AtomicU32 = AtomicU32::new(0);

extern "C" fn record_control(_: c_int) {
    let Control(cw, mxcsr) = control();
    IN_HANDLER.store(u32::from(cw) << 16 | mxcsr, Ordering::Relaxed);
    // Changes that sigreturn must undo.
    set_control(THEIRS);
}

/// A handler starts with the initial FPU state; `sigreturn` brings the program's back.
pub fn signal_handler(t: &Transcript) {
    let saved = control();
    let installed = signal::set_action(libc::SIGUSR2, Action::Handler(record_control), 0);
    set_control(MINE);
    // SAFETY: raise delivers SIGUSR2 to this thread, whose handler is installed above.
    unsafe { libc::raise(libc::SIGUSR2) };
    let after = control();
    set_control(saved);
    let _ = signal::set_action(libc::SIGUSR2, Action::Default, 0);
    let seen = IN_HANDLER.load(Ordering::Relaxed);
    t.is("fpu_handler_installed", installed.is_ok());
    t.eq(
        "fpu_handler_starts_with_default_control",
        Control((seen >> 16) as u16, seen & 0xffc0),
        DEFAULT,
    );
    t.eq("fpu_control_restored_after_sigreturn", after, MINE);
}

/// Two threads with different control words and XMM contents, each making system calls
/// that switch to the other: neither sees the other's values.
pub fn across_switches(t: &Transcript) {
    const CALLS: u64 = 20_000;
    let other = std::thread::spawn(|| {
        set_control(THEIRS);
        let changed = xmm_survive(0x5555_aaaa_0f0f_f0f0, CALLS);
        (changed, control())
    });
    let saved = control();
    set_control(MINE);
    let changed = xmm_survive(0x0123_4567_89ab_cdef, CALLS);
    let mine = control();
    set_control(saved);
    let theirs = other.join();
    t.eq("fpu_xmm_survive_syscalls_and_switches", changed, 0);
    t.eq("fpu_control_survives_switches", mine, MINE);
    t.is(
        "fpu_other_thread_keeps_its_own",
        theirs.is_ok_and(|(c, ctl)| c == 0 && ctl == THEIRS),
    );
}
