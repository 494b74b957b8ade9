//! Restarting interrupted syscalls (`handle_signal` and `arch_do_signal_or_restart` in
//! `arch/x86/kernel/signal.c`).
//!
//! A syscall that sleeps and is woken by a signal returns one of Linux's kernel-internal
//! codes (`include/linux/errno.h`; never seen by programs) instead of `EINTR`. On the way
//! back to user mode the code becomes `EINTR` or a restart: `rip` goes back over the
//! 2-byte `syscall` instruction and `rax` gets the syscall number again.

use linux_raw_sys::general::__NR_restart_syscall;

use crate::{Errno, SigAction, UserRegs};

/// Restart if no handler runs or the handler has `SA_RESTART`; else `EINTR`.
pub const ERESTARTSYS: u64 = 512;
/// Always restart, handler or not.
pub const ERESTARTNOINTR: u64 = 513;
/// Restart if no handler runs; `EINTR` if one does (`rt_sigsuspend`, `pause`, `poll`).
pub const ERESTARTNOHAND: u64 = 514;
/// `ioctl` has no such command (turned into `ENOTTY` by the ioctl layer).
pub const ENOIOCTLCMD: u64 = 515;
/// Restart through `restart_syscall` if no handler runs (the sleep continues with its
/// remaining time); `EINTR` if one does (`nanosleep`, `clock_nanosleep`, `futex` waits).
pub const ERESTART_RESTARTBLOCK: u64 = 516;

/// What happened to the interrupted syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Not a syscall, or not a restart code: nothing changed.
    Unchanged,
    /// The syscall fails with `EINTR`.
    Interrupted,
    /// The syscall runs again (`rip -= 2`, `rax = orig_rax`).
    Restarted,
    /// `restart_syscall` runs (`rip -= 2`, `rax = __NR_restart_syscall`); the kernel
    /// keeps the restart function the interrupted call registered.
    RestartBlock,
}

/// Is `rax` (a system call's return value) one of the kernel-internal restart codes that
/// [`without_handler`] and [`before_handler`] act on? When it is not, and no signal is
/// pending, a thread's registers go back to user mode untouched.
pub fn is_restart_code(rax: u64) -> bool {
    (ERESTARTSYS..=ERESTART_RESTARTBLOCK).contains(&rax.wrapping_neg())
}

fn error(regs: &UserRegs) -> Option<u64> {
    regs.in_syscall().then(|| regs.rax.wrapping_neg())
}

fn restart(regs: &mut UserRegs, rax: u64) {
    regs.rax = rax;
    regs.rip = regs.rip.wrapping_sub(2);
}

/// A handler with `action` is about to run: decide before its frame saves the registers.
pub fn before_handler(regs: &mut UserRegs, action: &SigAction) -> Restart {
    let restart_sys = action.has(linux_raw_sys::general::SA_RESTART);
    match error(regs) {
        Some(ERESTART_RESTARTBLOCK | ERESTARTNOHAND) => {
            regs.rax = u64::from(Errno::EINTR.code()).wrapping_neg();
            Restart::Interrupted
        }
        Some(ERESTARTSYS) if !restart_sys => {
            regs.rax = u64::from(Errno::EINTR.code()).wrapping_neg();
            Restart::Interrupted
        }
        Some(ERESTARTSYS | ERESTARTNOINTR) => {
            restart(regs, regs.orig_rax);
            Restart::Restarted
        }
        _ => Restart::Unchanged,
    }
}

/// No handler runs (no signal, an ignored one, or a stop and continue).
pub fn without_handler(regs: &mut UserRegs) -> Restart {
    match error(regs) {
        Some(ERESTARTNOHAND | ERESTARTSYS | ERESTARTNOINTR) => {
            restart(regs, regs.orig_rax);
            Restart::Restarted
        }
        Some(ERESTART_RESTARTBLOCK) => {
            restart(regs, u64::from(__NR_restart_syscall));
            Restart::RestartBlock
        }
        _ => Restart::Unchanged,
    }
}
