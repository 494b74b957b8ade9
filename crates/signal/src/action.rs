//! What a process does with each signal: `struct sigaction` as `rt_sigaction` reads and
//! writes it (`kernel_sigaction` on x86_64: handler, flags, restorer, mask; 32 bytes).
//!
//! Linux does not reject unknown `sa_flags` bits: `do_sigaction` clears every bit outside
//! `UAPI_SA_FLAGS` before storing the action, so a program that reads the action back sees
//! which flags the kernel knows (that is how `SA_UNSUPPORTED` and `SA_EXPOSE_TAGBITS` are
//! probed). The flags Linux keeps on x86_64 are [`SA_KNOWN`].

use core::mem::{offset_of, size_of};

use linux_raw_sys::general as g;
use linux_raw_sys::general::kernel_sigaction;

use crate::SigSet;

/// `UAPI_SA_FLAGS` on x86_64: the `sa_flags` bits Linux stores; the others read back as 0.
pub const SA_KNOWN: u64 = (g::SA_NOCLDSTOP
    | g::SA_NOCLDWAIT
    | g::SA_SIGINFO
    | g::SA_ONSTACK
    | g::SA_RESTART
    | g::SA_NODEFER
    | g::SA_RESETHAND
    | g::SA_EXPOSE_TAGBITS
    | g::SA_RESTORER) as u64;

/// The size of the user's `struct sigaction` for `rt_sigaction` (32 bytes).
pub const SIGACTION_SIZE: usize = size_of::<kernel_sigaction>();

/// `sa_handler`: default, ignore, or a function in user space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Handler {
    /// `SIG_DFL` (0): the signal's [`crate::DefaultAction`].
    #[default]
    Default,
    /// `SIG_IGN` (1).
    Ignore,
    /// A handler at this user address.
    Catch(u64),
}

impl Handler {
    /// The handler a user word names.
    pub const fn from_raw(raw: u64) -> Self {
        match raw {
            0 => Self::Default,
            1 => Self::Ignore,
            addr => Self::Catch(addr),
        }
    }

    /// The user word.
    pub const fn raw(self) -> u64 {
        match self {
            Self::Default => 0,
            Self::Ignore => 1,
            Self::Catch(addr) => addr,
        }
    }
}

/// One signal's action (`struct k_sigaction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SigAction {
    /// `sa_handler` / `sa_sigaction`.
    pub handler: Handler,
    /// `sa_flags` (`SA_*`).
    pub flags: u64,
    /// `sa_restorer`: where the handler returns to (the C library's `rt_sigreturn` stub).
    pub restorer: u64,
    /// `sa_mask`: signals blocked while the handler runs.
    pub mask: SigSet,
}

fn word(bytes: &[u8; SIGACTION_SIZE], offset: usize) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(w)
}

impl SigAction {
    /// Reads the user's `struct sigaction` (as `rt_sigaction` copies it in).
    pub fn from_user(bytes: &[u8; SIGACTION_SIZE]) -> Self {
        Self {
            handler: Handler::from_raw(word(
                bytes,
                offset_of!(kernel_sigaction, sa_handler_kernel),
            )),
            flags: word(bytes, offset_of!(kernel_sigaction, sa_flags)),
            restorer: word(bytes, offset_of!(kernel_sigaction, sa_restorer)),
            mask: SigSet::from_bits(word(bytes, offset_of!(kernel_sigaction, sa_mask))),
        }
    }

    /// The user's `struct sigaction` bytes (what `rt_sigaction` copies out as `oldact`).
    pub fn to_user(&self) -> [u8; SIGACTION_SIZE] {
        let mut out = [0; SIGACTION_SIZE];
        let fields = [
            (
                offset_of!(kernel_sigaction, sa_handler_kernel),
                self.handler.raw(),
            ),
            (offset_of!(kernel_sigaction, sa_flags), self.flags),
            (offset_of!(kernel_sigaction, sa_restorer), self.restorer),
            (offset_of!(kernel_sigaction, sa_mask), self.mask.bits()),
        ];
        for (offset, value) in fields {
            out[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
        }
        out
    }

    /// Whether `flag` (an `SA_*` constant) is set.
    pub const fn has(&self, flag: u32) -> bool {
        self.flags & flag as u64 != 0
    }

    /// The action as Linux stores it: unknown flag bits cleared, SIGKILL and SIGSTOP
    /// removed from the mask.
    pub(crate) fn sanitized(mut self) -> Self {
        self.flags &= SA_KNOWN;
        self.mask = self.mask.blockable();
        self
    }
}
