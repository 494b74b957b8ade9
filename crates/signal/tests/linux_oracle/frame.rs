//! The signal frame the host kernel builds for an SA_SIGINFO handler, raised by tgkill
//! with known register values, against the frame the crate builds for the same state.
//! The host has XSAVE, so its fpstate is larger and `uc_flags` has `UC_FP_XSTATE`; the
//! placement is compared with the crate's rule for the host's fpstate size.

use std::mem::offset_of;

use linux_raw_sys::general as g;
use signal::frame::{self, rt_sigframe, sigcontext, ucontext, FrameInput, SigreturnInput, Trap};
use signal::*;

use crate::child::in_child;

const FRAME_BYTES: usize = rt_sigframe::INFO;
static mut FRAME: [u8; FRAME_BYTES] = [0; FRAME_BYTES];
static mut INFO: [u8; SIGINFO_SIZE] = [0; SIGINFO_SIZE];
static mut SW: [u8; 48] = [0; 48];
static mut MAGIC2: u32 = 0;
static mut FRAME_AT: u64 = 0;
static mut IN_HANDLER: [u8; STACK_T_SIZE] = [0; STACK_T_SIZE];
static mut ALT: [u8; 1 << 16] = [0; 1 << 16];

const REGS: [u64; 7] = [0x0808, 0x0909, 0x1010, 0x1212, 0x1313, 0x1414, 0x1515];

extern "C" fn handler(_sig: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    // SAFETY: the kernel passes valid pointers into the frame it built; the statics are
    // this child's own and nothing else runs; sigaltstack only writes `IN_HANDLER`.
    unsafe {
        let frame = uc.cast::<u8>().sub(8);
        FRAME_AT = frame as u64;
        std::ptr::copy_nonoverlapping(frame, (&raw mut FRAME).cast(), FRAME_BYTES);
        std::ptr::copy_nonoverlapping(info.cast::<u8>(), (&raw mut INFO).cast(), SIGINFO_SIZE);
        let fp = *(uc
            .cast::<u8>()
            .add(ucontext::MCONTEXT + sigcontext::FPSTATE)
            .cast::<*const u8>());
        std::ptr::copy_nonoverlapping(fp.add(464), (&raw mut SW).cast(), 48);
        let xstate_size = *(fp.add(464 + 16).cast::<u32>());
        MAGIC2 = fp.add(xstate_size as usize).cast::<u32>().read_unaligned();
        libc::syscall(
            libc::SYS_sigaltstack,
            std::ptr::null::<u8>(),
            (&raw mut IN_HANDLER).cast::<u8>(),
        );
    }
}

fn word(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// One delivery on the host: `alt` is the sigaltstack flags (None: no alternate stack).
fn host_frame(alt: Option<u32>) -> Vec<i64> {
    in_child(|r| {
        // SAFETY: in the child: glibc's sigaction with a valid handler, sigaltstack on a
        // static buffer, and a raw tgkill with the registers named; rbx and rbp cannot be
        // asm operands and are left alone.
        unsafe {
            let mask = 1u64 << (libc::SIGWINCH - 1);
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                2,
                &mask,
                std::ptr::null_mut::<u64>(),
                8,
            );
            // The test harness gives its threads an alternate stack of its own.
            let mut inherited = [0u8; STACK_T_SIZE];
            libc::syscall(
                libc::SYS_sigaltstack,
                std::ptr::null::<u8>(),
                inherited.as_mut_ptr(),
            );
            let mut flags = libc::SA_SIGINFO;
            if let Some(ss_flags) = alt {
                let ss = libc::stack_t {
                    ss_sp: (&raw mut ALT).cast(),
                    ss_flags: ss_flags as i32,
                    ss_size: 1 << 16,
                };
                assert_eq!(libc::sigaltstack(&ss, std::ptr::null_mut()), 0);
                flags |= libc::SA_ONSTACK;
            }
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler as *const () as usize;
            sa.sa_flags = flags;
            libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut());
            let pid = libc::getpid() as u64;
            let ret: u64;
            std::arch::asm!(
                "syscall",
                inlateout("rax") libc::SYS_tgkill as u64 => ret,
                in("rdi") pid,
                in("rsi") pid,
                in("rdx") libc::SIGUSR1 as u64,
                in("r8") REGS[0],
                in("r9") REGS[1],
                in("r10") REGS[2],
                in("r12") REGS[3],
                in("r13") REGS[4],
                in("r14") REGS[5],
                in("r15") REGS[6],
                lateout("rcx") _,
                lateout("r11") _,
            );
            assert_eq!(ret, 0);
            let mut after = [0u8; STACK_T_SIZE];
            libc::syscall(
                libc::SYS_sigaltstack,
                std::ptr::null::<u8>(),
                after.as_mut_ptr(),
            );
            r.push(pid as i64);
            r.push(FRAME_AT as i64);
            r.push(i64::from(MAGIC2));
            r.push((&raw const ALT) as i64);
            let frame = FRAME;
            let info = INFO;
            let sw = SW;
            let in_handler = IN_HANDLER;
            for byte in frame
                .iter()
                .chain(&info)
                .chain(&sw)
                .chain(&in_handler)
                .chain(&after)
                .chain(&inherited)
            {
                r.push(i64::from(*byte));
            }
        }
    })
}

/// User memory for the crate's copy of the frame.
struct Window {
    base: u64,
    bytes: Vec<u8>,
}

impl UserMemory for Window {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let at = addr.checked_sub(self.base).ok_or(Errno::EFAULT)? as usize;
        buf.copy_from_slice(self.bytes.get(at..at + buf.len()).ok_or(Errno::EFAULT)?);
        Ok(())
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let at = addr.checked_sub(self.base).ok_or(Errno::EFAULT)? as usize;
        self.bytes
            .get_mut(at..at + data.len())
            .ok_or(Errno::EFAULT)?
            .copy_from_slice(data);
        Ok(())
    }
}

/// The C library's `ucontext_t` agrees with the crate's offsets.
fn libc_layout() {
    assert_eq!(offset_of!(libc::ucontext_t, uc_flags), ucontext::FLAGS);
    assert_eq!(offset_of!(libc::ucontext_t, uc_link), ucontext::LINK);
    assert_eq!(offset_of!(libc::ucontext_t, uc_stack), ucontext::STACK);
    assert_eq!(
        offset_of!(libc::ucontext_t, uc_mcontext),
        ucontext::MCONTEXT
    );
    assert_eq!(offset_of!(libc::ucontext_t, uc_sigmask), ucontext::SIGMASK);
    assert_eq!(offset_of!(libc::mcontext_t, fpregs), sigcontext::FPSTATE);
    let gregs = [
        (libc::REG_R8, 0),
        (libc::REG_R15, 7),
        (libc::REG_RDI, 8),
        (libc::REG_RSP, 15),
        (libc::REG_RIP, 16),
        (libc::REG_EFL, 17),
        (libc::REG_CSGSFS, sigcontext::CS / 8),
        (libc::REG_ERR, sigcontext::ERR / 8),
        (libc::REG_TRAPNO, sigcontext::TRAPNO / 8),
        (libc::REG_OLDMASK, sigcontext::OLDMASK / 8),
        (libc::REG_CR2, sigcontext::CR2 / 8),
    ];
    for (reg, index) in gregs {
        assert_eq!(reg as usize, index);
    }
}

pub fn signal_frames() {
    libc_layout();
    for alt in [None, Some(0), Some(SS_AUTODISARM)] {
        let host = host_frame(alt);
        let (pid, frame_at, magic2, alt_base) =
            (host[0], host[1] as u64, host[2] as u32, host[3] as u64);
        let bytes: Vec<u8> = host[4..].iter().map(|b| *b as u8).collect();
        let (hframe, rest) = bytes.split_at(FRAME_BYTES);
        let (hinfo, rest) = rest.split_at(SIGINFO_SIZE);
        let (sw, rest) = rest.split_at(48);
        let (in_handler, rest) = rest.split_at(STACK_T_SIZE);
        let (after, inherited) = rest.split_at(STACK_T_SIZE);
        let sc = rt_sigframe::UC + ucontext::MCONTEXT;
        let greg = |i: usize| word(hframe, sc + 8 * i);

        // Alignment, fpstate software bytes.
        assert_eq!((frame_at + 8) % 16, 0, "(rsp + 8) % 16 at handler entry");
        let fpstate = word(hframe, sc + sigcontext::FPSTATE);
        assert_eq!(fpstate % 64, 0);
        assert_eq!(u32_at(sw, 0), frame::FP_XSTATE_MAGIC1);
        let (extended, xstate) = (u32_at(sw, 4), u32_at(sw, 16));
        assert_eq!(extended, xstate + 4);
        assert_eq!(magic2, frame::FP_XSTATE_MAGIC2);

        // Registers at the crate's offsets.
        let expect = [
            (0, REGS[0]),
            (1, REGS[1]),
            (2, REGS[2]),
            (4, REGS[3]),
            (5, REGS[4]),
            (6, REGS[5]),
            (7, REGS[6]),
        ];
        for (i, v) in expect {
            assert_eq!(greg(i), v, "gregs[{i}]");
        }
        assert_eq!(
            (greg(8), greg(9), greg(12), greg(13)),
            (pid as u64, pid as u64, 10, 0),
            "rdi rsi rdx rax"
        );
        assert_eq!(greg(14), greg(16), "rcx holds the return rip after syscall");
        assert_eq!(greg(3), greg(17), "r11 holds rflags after syscall");

        // The crate's state for the same thread.
        let mut s = SignalState::new(1, SigpendingQuota::new(), 100);
        s.sigprocmask(1, 2, Some(SigSet::of(Signal::SIGWINCH)))
            .unwrap();
        let mut flags = u64::from(g::SA_SIGINFO | g::SA_RESTORER);
        let inherited = StackT::from_user(inherited.try_into().unwrap());
        s.sigaltstack(1, Some(inherited), 0).unwrap();
        if let Some(ss_flags) = alt {
            s.sigaltstack(
                1,
                Some(StackT {
                    sp: alt_base,
                    flags: ss_flags,
                    size: 1 << 16,
                }),
                0,
            )
            .unwrap();
            flags |= u64::from(g::SA_ONSTACK);
        }
        let pretcode = word(hframe, 0);
        let action = SigAction {
            handler: Handler::Catch(0x1000),
            flags,
            restorer: pretcode,
            mask: SigSet::EMPTY,
        };
        let rsp = greg(15);
        let altstack = s.altstack(1).unwrap();
        let layout = frame::frame_layout_sized(rsp, flags, &altstack, u64::from(extended)).unwrap();
        assert_eq!(
            (layout.frame, layout.fpstate),
            (frame_at, fpstate),
            "frame placement"
        );

        // The crate's frame, byte for byte where Linux writes.
        let regs = UserRegs {
            r8: greg(0),
            r9: greg(1),
            r10: greg(2),
            r11: greg(3),
            r12: greg(4),
            r13: greg(5),
            r14: greg(6),
            r15: greg(7),
            rdi: greg(8),
            rsi: greg(9),
            rbp: greg(10),
            rbx: greg(11),
            rdx: greg(12),
            rax: greg(13),
            rcx: greg(14),
            rsp,
            rip: greg(16),
            rflags: greg(17),
            cs: u64::from(u16::from_le_bytes([
                hframe[sc + sigcontext::CS],
                hframe[sc + sigcontext::CS + 1],
            ])),
            ss: u64::from(u16::from_le_bytes([
                hframe[sc + sigcontext::SS],
                hframe[sc + sigcontext::SS + 1],
            ])),
            orig_rax: UserRegs::NO_SYSCALL,
        };
        assert_eq!(
            (regs.cs, regs.ss),
            (
                u64::from(Selectors::LINUX.user_cs),
                u64::from(Selectors::LINUX.user_ds)
            )
        );
        let info = SigInfo::user(Signal::SIGUSR1, SI_TKILL, pid as i32, 0);
        assert_eq!(hinfo, info.to_user(), "siginfo");
        let fpu = [0u8; frame::FXSAVE_SIZE];
        let trap = Trap {
            trapno: word(hframe, sc + sigcontext::TRAPNO),
            error_code: word(hframe, sc + sigcontext::ERR),
            cr2: word(hframe, sc + sigcontext::CR2),
        };
        let input = FrameInput {
            sig: Signal::SIGUSR1,
            info: &info,
            action: &action,
            saved_mask: s.sigmask_to_save(1).unwrap(),
            altstack,
            fpu: &fpu,
            trap,
            selectors: Selectors::LINUX,
        };
        // The frame goes on the alternate stack when there is one, else below rsp.
        let (base, len) = match alt {
            Some(_) => (alt_base, 1 << 16),
            None => (rsp - (1 << 16), 1 << 16),
        };
        let mut mem = Window {
            base,
            bytes: vec![0; len],
        };
        let mut new_regs = regs;
        let ours = frame::setup_rt_frame(&mut new_regs, &input, &mut mem).unwrap();
        let mut built = [0u8; FRAME_BYTES];
        mem.read(ours.frame, &mut built).unwrap();
        let uc_flags = rt_sigframe::UC + ucontext::FLAGS;
        assert_eq!(
            word(hframe, uc_flags),
            word(&built, uc_flags) | frame::UC_FP_XSTATE,
            "uc_flags"
        );
        let skip = [
            uc_flags..uc_flags + 8,
            rt_sigframe::UC + ucontext::STACK + 12..rt_sigframe::UC + ucontext::STACK + 16,
            sc + sigcontext::FPSTATE..sc + sigcontext::FPSTATE + 8,
            sc + sigcontext::RESERVED1..sc + sigcontext::SIZE,
        ];
        for i in 0..FRAME_BYTES {
            if !skip.iter().any(|r| r.contains(&i)) {
                assert_eq!(built[i], hframe[i], "frame byte {i} (alt {alt:?})");
            }
        }
        let mut si = [0; SIGINFO_SIZE];
        mem.read(ours.info(), &mut si).unwrap();
        assert_eq!(si, hinfo);

        // sigaltstack inside the handler and after it returned.
        s.signal_delivered(1, Signal::SIGUSR1, &action).unwrap();
        let inside = s.sigaltstack(1, None, new_regs.rsp).unwrap();
        assert_eq!(
            inside.to_user(),
            in_handler,
            "sigaltstack in the handler (alt {alt:?})"
        );
        new_regs.rsp += 8;
        let back = SigreturnInput {
            selectors: Selectors::LINUX,
            mxcsr_mask: 0xffff,
        };
        frame::rt_sigreturn(&mut s, 1, &mut new_regs, &back, &mut mem).unwrap();
        assert_eq!(new_regs.rip, regs.rip);
        assert_eq!(s.blocked(1).unwrap(), SigSet::of(Signal::SIGWINCH));
        let outside = s.sigaltstack(1, None, new_regs.rsp).unwrap();
        assert_eq!(
            outside.to_user(),
            after,
            "sigaltstack after rt_sigreturn (alt {alt:?})"
        );
    }
    println!("signal frames: 3 deliveries agree with Linux's frame");
}
