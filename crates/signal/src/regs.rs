//! The user registers a signal frame saves and `rt_sigreturn` restores: Linux's
//! `struct pt_regs` on x86_64, plus the segment selectors the kernel gives user mode.

use linux_raw_sys::ptrace as p;

/// The interrupted user context, as the kernel's entry code saved it (`pt_regs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct UserRegs {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    /// The syscall number on syscall entry; `u64::MAX` (-1) outside a syscall (faults,
    /// interrupts) and after `rt_sigreturn`.
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl UserRegs {
    /// `orig_rax` of a context that is not in a syscall.
    pub const NO_SYSCALL: u64 = u64::MAX;

    /// Whether the context entered the kernel through a syscall (`syscall_get_nr != -1`).
    pub const fn in_syscall(&self) -> bool {
        self.orig_rax != Self::NO_SYSCALL
    }
}

/// The user code and stack segment selectors of the kernel's GDT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selectors {
    /// 64-bit user code (`__USER_CS`).
    pub user_cs: u16,
    /// User data and stack (`__USER_DS`).
    pub user_ds: u16,
}

impl Selectors {
    /// Linux's values (GDT entries 6 and 5 with RPL 3), which programs see in
    /// `uc_mcontext`; a kernel laying out its GDT like Linux shows the same.
    pub const LINUX: Self = Self {
        user_cs: 0x33,
        user_ds: 0x2b,
    };
}

const fn flag(bit: u32) -> u64 {
    1 << bit
}

/// `FIX_EFLAGS`: the RFLAGS bits a program may change through `rt_sigreturn`.
pub const FIX_EFLAGS: u64 = flag(p::X86_EFLAGS_AC_BIT)
    | flag(p::X86_EFLAGS_OF_BIT)
    | flag(p::X86_EFLAGS_DF_BIT)
    | flag(p::X86_EFLAGS_TF_BIT)
    | flag(p::X86_EFLAGS_SF_BIT)
    | flag(p::X86_EFLAGS_ZF_BIT)
    | flag(p::X86_EFLAGS_AF_BIT)
    | flag(p::X86_EFLAGS_PF_BIT)
    | flag(p::X86_EFLAGS_CF_BIT)
    | flag(p::X86_EFLAGS_RF_BIT);

/// The flags cleared on entry to a handler (`handle_signal`): direction, resume, trap.
pub(crate) const HANDLER_CLEARS: u64 =
    flag(p::X86_EFLAGS_DF_BIT) | flag(p::X86_EFLAGS_RF_BIT) | flag(p::X86_EFLAGS_TF_BIT);
