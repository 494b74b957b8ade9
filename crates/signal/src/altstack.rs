//! The alternate signal stack (`sigaltstack(2)`): per thread, where `SA_ONSTACK` handlers
//! run. Linux's `do_sigaltstack`, `on_sig_stack`, `sas_ss_flags` and `restore_altstack`.
//!
//! Linux stores the `ss_flags` the program passed (`SS_ONSTACK` or 0, plus
//! `SS_AUTODISARM`) and writes them unchanged into a signal frame's `uc_stack`; only the
//! `old` value `sigaltstack` returns is computed from the stack pointer.

use core::mem::{offset_of, size_of};

use linux_raw_sys::general as g;
use linux_raw_sys::general::stack_t;

use crate::Errno;

/// `SS_ONSTACK`.
pub const SS_ONSTACK: u32 = g::SS_ONSTACK;
/// `SS_DISABLE`.
pub const SS_DISABLE: u32 = g::SS_DISABLE;
/// `SS_AUTODISARM`: the stack is disabled while a handler runs on it.
pub const SS_AUTODISARM: u32 = g::SS_AUTODISARM;
/// `MINSIGSTKSZ`: smaller stacks are `ENOMEM`.
pub const MINSIGSTKSZ: u64 = g::MINSIGSTKSZ as u64;
/// The size of the user's `stack_t` (24 bytes).
pub const STACK_T_SIZE: usize = size_of::<stack_t>();

/// A `stack_t` as the user passes and reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StackT {
    /// `ss_sp`.
    pub sp: u64,
    /// `ss_flags`.
    pub flags: u32,
    /// `ss_size`.
    pub size: u64,
}

impl StackT {
    /// Reads the user's `stack_t`.
    pub fn from_user(bytes: &[u8; STACK_T_SIZE]) -> Self {
        let word = |at: usize| {
            let mut w = [0; 8];
            w.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(w)
        };
        let mut f = [0; 4];
        let at = offset_of!(stack_t, ss_flags);
        f.copy_from_slice(&bytes[at..at + 4]);
        Self {
            sp: word(offset_of!(stack_t, ss_sp)),
            flags: u32::from_le_bytes(f),
            size: word(offset_of!(stack_t, ss_size)),
        }
    }

    /// The user's `stack_t` bytes (padding zero).
    pub fn to_user(&self) -> [u8; STACK_T_SIZE] {
        let mut out = [0; STACK_T_SIZE];
        let sp = offset_of!(stack_t, ss_sp);
        let flags = offset_of!(stack_t, ss_flags);
        let size = offset_of!(stack_t, ss_size);
        out[sp..sp + 8].copy_from_slice(&self.sp.to_le_bytes());
        out[flags..flags + 4].copy_from_slice(&self.flags.to_le_bytes());
        out[size..size + 8].copy_from_slice(&self.size.to_le_bytes());
        out
    }
}

/// A thread's alternate stack (`sas_ss_sp`, `sas_ss_size`, `sas_ss_flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AltStack {
    sp: u64,
    size: u64,
    flags: u32,
}

impl Default for AltStack {
    /// None: `sas_ss_reset` (`SS_DISABLE`, address and size 0).
    fn default() -> Self {
        Self {
            sp: 0,
            size: 0,
            flags: SS_DISABLE,
        }
    }
}

impl AltStack {
    /// The stored settings, as a signal frame's `uc_stack` records them.
    pub const fn saved(&self) -> StackT {
        StackT {
            sp: self.sp,
            flags: self.flags,
            size: self.size,
        }
    }

    /// `__on_sig_stack`: `sp` lies in `(ss_sp, ss_sp + ss_size]`.
    pub(crate) fn contains(&self, sp: u64) -> bool {
        sp > self.sp && sp - self.sp <= self.size
    }

    /// `on_sig_stack`: never while `SS_AUTODISARM` is set.
    pub fn on_stack(&self, sp: u64) -> bool {
        self.flags & SS_AUTODISARM == 0 && self.contains(sp)
    }

    /// `sas_ss_flags(sp)`: `SS_DISABLE` with no stack, `SS_ONSTACK` on it, else 0.
    pub fn state(&self, sp: u64) -> u32 {
        if self.size == 0 {
            SS_DISABLE
        } else if self.on_stack(sp) {
            SS_ONSTACK
        } else {
            0
        }
    }

    /// The top of the stack, where a handler's frame starts.
    pub(crate) const fn top(&self) -> u64 {
        self.sp.wrapping_add(self.size)
    }

    /// `sigaltstack(new, old)` with the caller's stack pointer `sp`: returns the old
    /// settings (with `SS_ONSTACK`/`SS_DISABLE` from `sp`). Errors: `EPERM` when changing
    /// it while on it, `EINVAL` for an unknown mode, `ENOMEM` below `MINSIGSTKSZ`. The old
    /// value is what Linux would copy out, computed before any change.
    pub fn sigaltstack(&mut self, new: Option<StackT>, sp: u64) -> Result<StackT, Errno> {
        let old = StackT {
            sp: self.sp,
            flags: self.state(sp) | (self.flags & g::SS_FLAG_BITS),
            size: self.size,
        };
        if let Some(new) = new {
            self.set(new, sp)?;
        }
        Ok(old)
    }

    fn set(&mut self, new: StackT, sp: u64) -> Result<(), Errno> {
        if self.on_stack(sp) {
            return Err(Errno::EPERM);
        }
        let mode = new.flags & !g::SS_FLAG_BITS;
        if mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0 {
            return Err(Errno::EINVAL);
        }
        if (self.sp, self.size, self.flags) == (new.sp, new.size, new.flags) {
            return Ok(());
        }
        let (sp, size) = if mode == SS_DISABLE {
            (0, 0)
        } else if new.size < MINSIGSTKSZ {
            return Err(Errno::ENOMEM);
        } else {
            (new.sp, new.size)
        };
        *self = Self {
            sp,
            size,
            flags: new.flags,
        };
        Ok(())
    }

    /// `restore_altstack` in `rt_sigreturn`: sets the frame's `uc_stack`, ignoring every
    /// error (Linux "squashes all but EFAULT").
    pub fn restore(&mut self, saved: StackT, sp: u64) {
        let _ = self.set(saved, sp);
    }

    /// After a handler is entered: `SS_AUTODISARM` disables the stack until
    /// `rt_sigreturn` restores it from the frame.
    pub(crate) fn disarm_if_auto(&mut self) {
        if self.flags & SS_AUTODISARM != 0 {
            *self = Self::default();
        }
    }
}
