//! What the CPU needs to run user code: `SYSCALL` set up, SMEP/SMAP on, and the two
//! user segment bases (FS for thread-local storage, GS) kept per thread.
//!
//! # SMEP and SMAP
//! The kernel never dereferences a user address: user memory is reached through the
//! direct map after the page tables were walked and the access checked (`process::
//! usercopy`). So SMAP (no kernel access to user pages) and SMEP (no kernel execution of
//! user pages) cost nothing and catch any kernel bug that would touch user memory
//! directly: both are switched on when the CPU model has them. The QEMU command lines
//! use `-cpu qemu64,+smep,+smap,+rdrand,+rdseed` (docs/build.md).
use core::arch::x86_64::__cpuid_count;

use super::cpu::{rdmsr, wrmsr};

const MSR_EFER: u32 = 0xc000_0080;
const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_FMASK: u32 = 0xc000_0084;
/// The FS base (user thread pointer; the kernel does not use FS).
pub const MSR_FS_BASE: u32 = 0xc000_0100;
/// While in the kernel, the user's GS base sits here (`swapgs` exchanges it).
pub const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;

const EFER_SCE: u64 = 1;
/// RFLAGS bits cleared on `SYSCALL`: TF, IF, DF, AC, NT (as Linux).
const SYSCALL_MASK: u64 = (1 << 8) | (1 << 9) | (1 << 10) | (1 << 18) | (1 << 14);
const CR4_SMEP: u64 = 1 << 20;
const CR4_SMAP: u64 = 1 << 21;

/// Enables `SYSCALL` and SMEP/SMAP on the calling CPU. Every CPU, once, at bring-up.
pub fn init_cpu() {
    // SAFETY: EFER, STAR, LSTAR and FMASK exist on every x86_64 CPU; STAR's selectors
    // are the GDT's (kernel code 0x08; user base 0x18 gives SS 0x23 and CS 0x2b), LSTAR is
    // the entry stub, and the mask clears IF so the stub runs with interrupts off until
    // it is on the kernel stack.
    unsafe {
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
        let star =
            (u64::from(super::gdt::USER_BASE) << 48) | (u64::from(super::gdt::KERNEL_CODE) << 32);
        wrmsr(MSR_STAR, star);
        wrmsr(MSR_LSTAR, super::entry::syscall_entry_address());
        wrmsr(MSR_FMASK, SYSCALL_MASK);
        wrmsr(MSR_KERNEL_GS_BASE, 0);
    }
    let leaf7 = if core::arch::x86_64::__cpuid(0).eax >= 7 {
        __cpuid_count(7, 0).ebx
    } else {
        0
    };
    let mut cr4 = super::cpu::cr4();
    if leaf7 & (1 << 7) != 0 {
        cr4 |= CR4_SMEP;
    }
    if leaf7 & (1 << 20) != 0 {
        cr4 |= CR4_SMAP;
    }
    // SAFETY: SMEP/SMAP only restrict kernel access to user pages, which the kernel never
    // makes (see the module docs).
    unsafe { super::cpu::write_cr4(cr4) };
}

/// Are SMEP and SMAP on (for the boot log and `/proc/cpuinfo`'s view)?
pub fn smep_smap() -> (bool, bool) {
    let cr4 = super::cpu::cr4();
    (cr4 & CR4_SMEP != 0, cr4 & CR4_SMAP != 0)
}

/// The user segment bases of the thread on this CPU.
#[derive(Clone, Copy, Debug, Default)]
pub struct SegmentBases {
    pub fs: u64,
    pub gs: u64,
}

impl SegmentBases {
    /// Reads the bases of the thread that is switching out (in the kernel, so the user's
    /// GS base is in `KERNEL_GS_BASE`).
    pub fn save() -> SegmentBases {
        // SAFETY: both MSRs exist on every x86_64 CPU.
        unsafe {
            SegmentBases {
                fs: rdmsr(MSR_FS_BASE),
                gs: rdmsr(MSR_KERNEL_GS_BASE),
            }
        }
    }

    /// Loads them for the thread switching in.
    pub fn load(self) {
        // SAFETY: the values are lower-half addresses (`arch_prctl` refuses others), so
        // the GS check of `arch::entry` stays right; the kernel uses neither base.
        unsafe {
            wrmsr(MSR_FS_BASE, self.fs);
            wrmsr(MSR_KERNEL_GS_BASE, self.gs);
        }
    }
}
