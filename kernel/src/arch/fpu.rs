//! A thread's user FPU image and the x87 state the entry path leaves in the CPU.
//!
//! The entry path saves only XMM0-15 and MXCSR into the user FPU image at the top of the
//! kernel stack ([`super::entry::user_fx_area`]); the x87 part of the user's state stays in
//! the CPU while the kernel runs (kernel code never executes x87 instructions, and
//! `switch_stack` saves and restores the whole FPU state with the thread). Code that
//! hands the image on (a signal frame, a forked child) first completes it with
//! [`complete_user_image`]; code that replaces the image (signal delivery and return,
//! `execve`) makes the CPU's x87 state follow with [`load_user_x87`]. The SSE part of the
//! image is loaded by the exit path.
use core::arch::asm;
use core::ops::Range;

use super::entry::FxArea;

/// The x87 bytes of an `fxsave64` image: control, status and tag words, opcode and
/// pointers (0..24), then MXCSR_MASK and ST0-7 (28..160). MXCSR (24..28) and XMM0-15
/// (160..416) are the entry path's.
const X87_PARTS: [Range<usize>; 2] = [0..24, 28..160];

/// Copies the CPU's x87 state (the user's, see the module docs) into `image`.
pub fn complete_user_image(image: &mut FxArea) {
    let mut now = FxArea([0; 512]);
    // SAFETY: `now` is a 512-byte, 16-byte aligned buffer that fxsave64 fills; it reads
    // no memory and changes no register.
    unsafe { asm!("fxsave64 [{}]", in(reg) now.0.as_mut_ptr(), options(nostack)) };
    for part in X87_PARTS {
        image.0[part.clone()].copy_from_slice(&now.0[part]);
    }
}

/// Loads `image`'s x87 state into the CPU (with its SSE part, which the exit path loads
/// again from the same image), then the kernel's MXCSR.
pub fn load_user_x87(image: &FxArea) {
    const KERNEL_MXCSR: u32 = 0x1f80;
    // SAFETY: the image's MXCSR holds only bits fxrstor64 accepts (the initial image, a
    // parent's saved state, or one `halyard-signal` checked against MXCSR_MASK); the XMM
    // registers it overwrites are declared clobbered, and ldmxcsr restores the MXCSR
    // compiled code expects.
    unsafe {
        asm!(
            "fxrstor64 [{image}]",
            "ldmxcsr [{mxcsr}]",
            image = in(reg) image.0.as_ptr(),
            mxcsr = in(reg) &KERNEL_MXCSR,
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
            out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
            out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
            out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
            options(nostack, readonly),
        )
    };
}
