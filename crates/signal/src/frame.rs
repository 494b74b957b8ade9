//! The x86_64 signal frame (`struct rt_sigframe`) that Linux pushes on the user stack to
//! run a handler, and `rt_sigreturn`, which reads it back (`x64_setup_rt_frame`,
//! `get_sigframe`, `restore_sigcontext` in `arch/x86/kernel/signal*.c`,
//! `copy_fpstate_to_sigframe` and `fpu__restore_sig` in `arch/x86/kernel/fpu/signal.c`).
//!
//! From the top of the stack down:
//!
//! ```text
//! rsp at the signal - 128            red zone (or the top of the alternate stack)
//! fpstate, 64-byte aligned           the 512-byte FXSAVE image, software bytes in 464..512
//! padding
//! siginfo (128)                      only written with SA_SIGINFO
//! ucontext (304)                     uc_flags, uc_link, uc_stack, sigcontext, uc_sigmask
//! pretcode (8) = sa_restorer         <- rsp at handler entry; (rsp + 8) % 16 == 0
//! ```
//!
//! Halyard saves FPU state with FXSAVE, so the frame is the one Linux builds on a CPU
//! without XSAVE: `uc_flags` lacks `UC_FP_XSTATE`, the fpstate is the 512-byte image with
//! `FP_XSTATE_MAGIC1` in its software bytes and no `FP_XSTATE_MAGIC2` after it.
//!
//! The layouts of `sigcontext`, `ucontext` and the FP software bytes come from
//! `asm/sigcontext.h` and `asm/ucontext.h`, which `linux-raw-sys` 0.12 does not generate;
//! the offsets below are checked against the C library's `ucontext_t` and against frames
//! the host kernel builds (`tests/linux_frame.rs`).

use alloc::boxed::Box;
use core::mem::size_of;

use linux_raw_sys::general::{self as g, SA_ONSTACK, SA_RESTORER, SA_SIGINFO};

use crate::altstack::STACK_T_SIZE;
use crate::regs::HANDLER_CLEARS;
use crate::{
    AltStack, Errno, Selectors, SigAction, SigInfo, SigSet, Signal, SignalState, StackT, Tid,
    UserRegs, FIX_EFLAGS, SIGINFO_SIZE,
};

/// User memory, as the kernel reaches it (`copy_to_user`/`copy_from_user`). A failure is
/// `EFAULT`; the caller then sends the process SIGSEGV as Linux does.
pub trait UserMemory {
    /// Copies `buf.len()` bytes from user address `addr`.
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno>;
    /// Copies `data` to user address `addr`.
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno>;
}

/// The x86_64 red zone below the stack pointer that a frame must not touch.
pub const RED_ZONE: u64 = 128;
/// The size of the FXSAVE image (`struct fxregs_state`).
pub const FXSAVE_SIZE: usize = 512;
/// `FP_XSTATE_MAGIC1` (`asm/sigcontext.h`): the software bytes describe the fpstate.
pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// `FP_XSTATE_MAGIC2` (`asm/sigcontext.h`): follows an XSAVE area (not written here).
pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
/// `UC_FP_XSTATE` (`asm/ucontext.h`): the fpstate is an XSAVE area (not set here).
pub const UC_FP_XSTATE: u64 = 0x1;
/// `UC_SIGCONTEXT_SS`: `sigcontext.ss` holds SS.
pub const UC_SIGCONTEXT_SS: u64 = 0x2;
/// `UC_STRICT_RESTORE_SS`: `rt_sigreturn` restores SS as saved.
pub const UC_STRICT_RESTORE_SS: u64 = 0x4;

/// Offsets in `struct sigcontext` (64-bit, 256 bytes).
pub mod sigcontext {
    /// `r8` .. `r15`, `rdi`, `rsi`, `rbp`, `rbx`, `rdx`, `rax`, `rcx`, `rsp`, `rip`,
    /// `eflags`: 18 words from offset 0, in this order.
    pub const GREGS: usize = 0;
    /// `cs`, `gs`, `fs`, `ss`: four 16-bit selectors.
    pub const CS: usize = 144;
    /// `gs` (written 0).
    pub const GS: usize = 146;
    /// `fs` (written 0).
    pub const FS: usize = 148;
    /// `ss` (with `UC_SIGCONTEXT_SS`).
    pub const SS: usize = 150;
    /// `err`: the fault's error code.
    pub const ERR: usize = 152;
    /// `trapno`: the fault's vector.
    pub const TRAPNO: usize = 160;
    /// `oldmask`: the saved mask again.
    pub const OLDMASK: usize = 168;
    /// `cr2`: the page-fault address.
    pub const CR2: usize = 176;
    /// `fpstate`: pointer to the FPU image, 0 for none.
    pub const FPSTATE: usize = 184;
    /// `reserved1[8]`, up to the end; `rt_sigreturn` reads the fields before it.
    pub const RESERVED1: usize = 192;
    /// `sizeof(struct sigcontext)`.
    pub const SIZE: usize = 256;
}

/// Offsets in `struct ucontext` (304 bytes).
pub mod ucontext {
    /// `uc_flags`.
    pub const FLAGS: usize = 0;
    /// `uc_link` (0).
    pub const LINK: usize = 8;
    /// `uc_stack` (`stack_t`).
    pub const STACK: usize = 16;
    /// `uc_mcontext` (`struct sigcontext`).
    pub const MCONTEXT: usize = 40;
    /// `uc_sigmask`: the mask to restore.
    pub const SIGMASK: usize = 296;
    /// `sizeof(struct ucontext)`.
    pub const SIZE: usize = 304;
}

/// Offsets in `struct rt_sigframe` (440 bytes).
pub mod rt_sigframe {
    /// `pretcode`: the handler's return address.
    pub const PRETCODE: usize = 0;
    /// `uc`.
    pub const UC: usize = 8;
    /// `info`.
    pub const INFO: usize = 8 + super::ucontext::SIZE;
    /// `sizeof(struct rt_sigframe)`.
    pub const SIZE: usize = INFO + super::SIGINFO_SIZE;
}

/// Offsets of the software bytes (`struct _fpx_sw_bytes`, 48 bytes) at the end of the
/// FXSAVE image (its `sw_reserved` area).
pub mod fpx_sw_bytes {
    /// Where they start in the image.
    pub const START: usize = 464;
    /// `magic1`.
    pub const MAGIC1: usize = START;
    /// `extended_size`: the fpstate plus `FP_XSTATE_MAGIC2`.
    pub const EXTENDED_SIZE: usize = START + 4;
    /// `xfeatures`.
    pub const XFEATURES: usize = START + 8;
    /// `xstate_size`.
    pub const XSTATE_SIZE: usize = START + 16;
}

/// Offset of `mxcsr` in the FXSAVE image.
const MXCSR: usize = 24;
/// `XFEATURE_MASK_FPSSE`: x87 and SSE state.
const XFEATURES_FPSSE: u64 = 0b11;

/// The trap that raised the signal, as `sigcontext` records it (`thread.trap_nr`,
/// `thread.error_code`, `thread.cr2`; zeros for signals that are not faults).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Trap {
    /// The vector (14 for a page fault).
    pub trapno: u64,
    /// The error code.
    pub error_code: u64,
    /// The faulting address of a page fault.
    pub cr2: u64,
}

/// Everything [`setup_rt_frame`] needs besides the registers.
#[derive(Clone, Copy, Debug)]
pub struct FrameInput<'a> {
    /// The signal.
    pub sig: Signal,
    /// Its information (written to the frame with `SA_SIGINFO`).
    pub info: &'a SigInfo,
    /// The action, as [`crate::Delivery::Handler`] returned it.
    pub action: &'a SigAction,
    /// The mask to restore after the handler ([`crate::SignalState::sigmask_to_save`]).
    pub saved_mask: SigSet,
    /// The thread's alternate stack.
    pub altstack: AltStack,
    /// The thread's FXSAVE image.
    pub fpu: &'a [u8; FXSAVE_SIZE],
    /// The fault, if the signal comes from one.
    pub trap: Trap,
    /// The kernel's user selectors.
    pub selectors: Selectors,
}

/// Where the frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameLayout {
    /// The frame (`pretcode`): the handler's stack pointer.
    pub frame: u64,
    /// The fpstate image.
    pub fpstate: u64,
}

impl FrameLayout {
    /// Where `siginfo` is (the handler's `rsi`).
    pub const fn info(&self) -> u64 {
        self.frame + rt_sigframe::INFO as u64
    }

    /// Where `ucontext` is (the handler's `rdx`).
    pub const fn ucontext(&self) -> u64 {
        self.frame + rt_sigframe::UC as u64
    }
}

fn put(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(buf: &[u8], at: usize) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(w)
}

fn get16(buf: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([buf[at], buf[at + 1]])
}

/// The general registers in `sigcontext` order.
fn gregs(regs: &mut UserRegs) -> [&mut u64; 18] {
    [
        &mut regs.r8,
        &mut regs.r9,
        &mut regs.r10,
        &mut regs.r11,
        &mut regs.r12,
        &mut regs.r13,
        &mut regs.r14,
        &mut regs.r15,
        &mut regs.rdi,
        &mut regs.rsi,
        &mut regs.rbp,
        &mut regs.rbx,
        &mut regs.rdx,
        &mut regs.rax,
        &mut regs.rcx,
        &mut regs.rsp,
        &mut regs.rip,
        &mut regs.rflags,
    ]
}

/// `get_sigframe`: where the frame and the fpstate go, or `EFAULT` when the frame
/// would overflow the alternate stack it is on or enters (Linux returns the address -1).
pub fn frame_layout(rsp: u64, flags: u64, altstack: &AltStack) -> Result<FrameLayout, Errno> {
    frame_layout_sized(rsp, flags, altstack, FXSAVE_SIZE as u64)
}

/// [`frame_layout`] for an fpstate of `fp_size` bytes (Linux's `xstate_sigframe_size`:
/// an XSAVE area plus `FP_XSTATE_MAGIC2` on CPUs with XSAVE), to compare with frames
/// such a CPU gets.
pub fn frame_layout_sized(
    rsp: u64,
    flags: u64,
    altstack: &AltStack,
    fp_size: u64,
) -> Result<FrameLayout, Errno> {
    let nested = altstack.on_stack(rsp);
    let mut sp = rsp.wrapping_sub(RED_ZONE);
    let mut entering = false;
    if flags & u64::from(SA_ONSTACK) != 0 && altstack.state(sp) == 0 {
        sp = altstack.top();
        entering = true;
    }
    let fpstate = sp.wrapping_sub(fp_size) & !63;
    let frame = (fpstate.wrapping_sub(rt_sigframe::SIZE as u64) & !15).wrapping_sub(8);
    if (nested || entering) && !altstack.contains(frame) {
        return Err(Errno::EFAULT);
    }
    if !entering && frame > rsp {
        // Wrapped below address 0: no user memory there.
        return Err(Errno::EFAULT);
    }
    Ok(FrameLayout { frame, fpstate })
}

/// The fpstate as written to the frame: the FXSAVE image with Linux's software bytes.
pub fn fpstate_image(fpu: &[u8; FXSAVE_SIZE]) -> [u8; FXSAVE_SIZE] {
    let mut image = *fpu;
    image[fpx_sw_bytes::START..].fill(0);
    image[fpx_sw_bytes::MAGIC1..fpx_sw_bytes::MAGIC1 + 4]
        .copy_from_slice(&FP_XSTATE_MAGIC1.to_le_bytes());
    let extended = (FXSAVE_SIZE + size_of::<u32>()) as u32;
    image[fpx_sw_bytes::EXTENDED_SIZE..fpx_sw_bytes::EXTENDED_SIZE + 4]
        .copy_from_slice(&extended.to_le_bytes());
    put(&mut image, fpx_sw_bytes::XFEATURES, XFEATURES_FPSSE);
    image[fpx_sw_bytes::XSTATE_SIZE..fpx_sw_bytes::XSTATE_SIZE + 4]
        .copy_from_slice(&(FXSAVE_SIZE as u32).to_le_bytes());
    image
}

/// The 312 bytes of `pretcode` and `ucontext`.
fn ucontext_bytes(regs: &UserRegs, input: &FrameInput, fpstate: u64) -> [u8; rt_sigframe::INFO] {
    let mut buf = [0; rt_sigframe::INFO];
    put(&mut buf, rt_sigframe::PRETCODE, input.action.restorer);
    let uc = rt_sigframe::UC;
    put(
        &mut buf,
        uc + ucontext::FLAGS,
        UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
    );
    let stack = uc + ucontext::STACK;
    buf[stack..stack + STACK_T_SIZE].copy_from_slice(&input.altstack.saved().to_user());
    let sc = uc + ucontext::MCONTEXT;
    let mut copy = *regs;
    for (i, value) in gregs(&mut copy).into_iter().enumerate() {
        put(&mut buf, sc + sigcontext::GREGS + 8 * i, *value);
    }
    buf[sc + sigcontext::CS..sc + sigcontext::CS + 2]
        .copy_from_slice(&(regs.cs as u16).to_le_bytes());
    buf[sc + sigcontext::SS..sc + sigcontext::SS + 2]
        .copy_from_slice(&(regs.ss as u16).to_le_bytes());
    put(&mut buf, sc + sigcontext::ERR, input.trap.error_code);
    put(&mut buf, sc + sigcontext::TRAPNO, input.trap.trapno);
    put(&mut buf, sc + sigcontext::OLDMASK, input.saved_mask.bits());
    put(&mut buf, sc + sigcontext::CR2, input.trap.cr2);
    put(&mut buf, sc + sigcontext::FPSTATE, fpstate);
    put(&mut buf, uc + ucontext::SIGMASK, input.saved_mask.bits());
    buf
}

/// Builds the frame for a handler and sets the registers it starts with: `rdi` = the
/// signal, `rsi` = `&siginfo`, `rdx` = `&ucontext`, `rax` = 0, `rip` = the handler,
/// `rsp` = the frame, user CS and SS, DF/RF/TF clear. Apply [`crate::restart`] first.
///
/// `EFAULT` without `SA_RESTORER` (x86_64 has no other return path), when the frame
/// overflows the alternate stack, or when a write fails; the caller then sends SIGSEGV
/// ([`crate::SignalState::force_sigsegv`]) and `regs` are unchanged. On success the
/// caller calls [`crate::SignalState::signal_delivered`] and resets the FPU to its
/// initial state (the handler starts with a clean FPU).
pub fn setup_rt_frame(
    regs: &mut UserRegs,
    input: &FrameInput,
    mem: &mut dyn UserMemory,
) -> Result<FrameLayout, Errno> {
    if !input.action.has(SA_RESTORER) {
        return Err(Errno::EFAULT);
    }
    let crate::Handler::Catch(handler) = input.action.handler else {
        return Err(Errno::EFAULT);
    };
    let layout = frame_layout(regs.rsp, input.action.flags, &input.altstack)?;
    mem.write(layout.fpstate, &fpstate_image(input.fpu))?;
    mem.write(layout.frame, &ucontext_bytes(regs, input, layout.fpstate))?;
    if input.action.has(SA_SIGINFO) {
        mem.write(layout.info(), &input.info.to_user())?;
    }
    regs.rdi = u64::from(input.sig.number());
    regs.rax = 0;
    regs.rsi = layout.info();
    regs.rdx = layout.ucontext();
    regs.rip = handler;
    regs.rsp = layout.frame;
    regs.cs = u64::from(input.selectors.user_cs);
    regs.ss = u64::from(input.selectors.user_ds);
    regs.rflags &= !HANDLER_CLEARS;
    Ok(layout)
}

/// The FPU state `rt_sigreturn` restores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FpuRestore {
    /// The frame's fpstate pointer was 0: reset the FPU to its initial state.
    Init,
    /// Load this FXSAVE image (FXRSTOR).
    Image(Box<[u8; FXSAVE_SIZE]>),
}

/// What `rt_sigreturn` needs besides the registers and memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigreturnInput {
    /// The kernel's user selectors.
    pub selectors: Selectors,
    /// The CPU's `MXCSR_MASK`: an image with other MXCSR bits would fault in FXRSTOR.
    pub mxcsr_mask: u32,
}

fn read_u64(mem: &mut dyn UserMemory, addr: u64) -> Result<u64, Errno> {
    let mut word = [0; 8];
    mem.read(addr, &mut word)?;
    Ok(u64::from_le_bytes(word))
}

/// `rt_sigreturn`: reads the frame at `regs.rsp - 8` and restores the thread: the mask
/// (without SIGKILL/SIGSTOP), the registers from `sigcontext` with Linux's sanitising
/// (CS and SS get RPL 3; only the [`FIX_EFLAGS`] bits of RFLAGS come from the frame;
/// `orig_rax` = -1 so nothing restarts), the FPU image, then the alternate stack from
/// `uc_stack` (its errors ignored, as Linux does). Returns the FPU state to load; the
/// syscall then returns the restored `rax`.
///
/// On `EFAULT` (a read failed, an MXCSR value FXRSTOR would refuse, or selectors other
/// than Halyard's user ones, with which Linux's IRET would fault) the kernel sends
/// SIGSEGV and the syscall returns 0; as in Linux, what was restored before the failure
/// stays (the mask once both words of the ucontext header were read, the registers once
/// the `sigcontext` was).
pub fn rt_sigreturn(
    state: &mut SignalState,
    tid: Tid,
    regs: &mut UserRegs,
    input: &SigreturnInput,
    mem: &mut dyn UserMemory,
) -> Result<FpuRestore, Errno> {
    let uc = regs
        .rsp
        .wrapping_sub(8)
        .wrapping_add(rt_sigframe::UC as u64);
    let at = |offset: usize| uc.wrapping_add(offset as u64);
    let mask = SigSet::from_bits(read_u64(mem, at(ucontext::SIGMASK))?);
    let uc_flags = read_u64(mem, at(ucontext::FLAGS))?;
    state.set_blocked(tid, mask)?;

    let mut sc = [0; sigcontext::RESERVED1];
    mem.read(at(ucontext::MCONTEXT), &mut sc)?;
    let cs = get16(&sc, sigcontext::CS) | 3;
    let mut ss = get16(&sc, sigcontext::SS) | 3;
    if uc_flags & UC_STRICT_RESTORE_SS == 0 {
        // force_valid_ss: the kernel's one valid user stack segment.
        ss = input.selectors.user_ds;
    }
    if cs != input.selectors.user_cs || ss != input.selectors.user_ds {
        return Err(Errno::EFAULT);
    }
    let old_flags = regs.rflags;
    for (i, value) in gregs(regs).into_iter().enumerate() {
        *value = get(&sc, sigcontext::GREGS + 8 * i);
    }
    regs.rflags = (old_flags & !FIX_EFLAGS) | (regs.rflags & FIX_EFLAGS);
    regs.cs = u64::from(cs);
    regs.ss = u64::from(ss);
    regs.orig_rax = UserRegs::NO_SYSCALL;

    let fpu = match get(&sc, sigcontext::FPSTATE) {
        0 => FpuRestore::Init,
        addr => {
            let mut image = [0; FXSAVE_SIZE];
            mem.read(addr, &mut image)?;
            let mxcsr = u32::from_le_bytes([
                image[MXCSR],
                image[MXCSR + 1],
                image[MXCSR + 2],
                image[MXCSR + 3],
            ]);
            if mxcsr & !input.mxcsr_mask != 0 {
                return Err(Errno::EFAULT);
            }
            FpuRestore::Image(Box::new(image))
        }
    };
    let mut stack = [0; STACK_T_SIZE];
    mem.read(at(ucontext::STACK), &mut stack)?;
    state
        .altstack_mut(tid)?
        .restore(StackT::from_user(&stack), regs.rsp);
    Ok(fpu)
}

const _: () = assert!(rt_sigframe::SIZE == 440 && g::SI_MAX_SIZE as usize == SIGINFO_SIZE);
