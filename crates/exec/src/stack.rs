//! The initial user stack: the bytes a new program finds above its first `RSP`.
//!
//! The layout is Linux's (`create_elf_tables` and the string copy in `fs/exec.c`) byte for
//! byte, so that C libraries, Rust's std and anything that walks past `envp` to the
//! auxiliary vector behave exactly as on Linux; `tests/linux_oracle.rs` compares the whole
//! image with the one Linux builds for the same program, arguments and environment.
//! From the top down:
//!
//! | what | size |
//! | --- | --- |
//! | zero | 8 bytes at the very top |
//! | strings: `argv[0]` … `argv[n-1]`, `envp[0]` … `envp[m-1]`, the `execve` path (`AT_EXECFN`) | each with its zero byte, ascending |
//! | padding | down to a multiple of 16 |
//! | `"x86_64\0"` (`AT_PLATFORM`) | 7 |
//! | 16 random bytes (`AT_RANDOM`) | 16 |
//! | padding | so that `RSP` is a multiple of 16 |
//! | auxiliary vector: (type, value) pairs ending with `AT_NULL` | 16 each |
//! | `envp` pointers, then 0 | 8 each |
//! | `argv` pointers, then 0 | 8 each |
//! | `argc` | 8, at `RSP` |
//!
//! The auxiliary vector has Linux's entries in Linux's order. The optional ones
//! (`AT_SYSINFO_EHDR` for a vDSO, `AT_MINSIGSTKSZ`, `AT_HWCAP2`, the rseq pair) are
//! written only when the kernel supplies them. Linux also moves the strings down by a
//! random amount below 8 KiB when randomising; the caller randomises `stack_top` instead.

use crate::args::{ExecArgs, TOP_GAP};
use crate::error::ExecError;
use crate::layout::PAGE_SIZE;
use crate::load_plan::LoadPlan;
use alloc::vec::Vec;
use core::ops::Range;
use linux_raw_sys::auxvec::{
    AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP,
    AT_HWCAP2, AT_MINSIGSTKSZ, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PLATFORM,
    AT_RANDOM, AT_RSEQ_ALIGN, AT_RSEQ_FEATURE_SIZE, AT_SECURE, AT_SYSINFO_EHDR, AT_UID,
};

/// `AT_PLATFORM`'s string (`ELF_PLATFORM` on x86-64).
const PLATFORM: &[u8] = b"x86_64\0";
/// `AT_CLKTCK`: clock ticks per second as `times(2)` counts them (`USER_HZ`).
pub const CLOCK_TICKS: u64 = 100;
/// Bytes per stack word.
const WORD: u64 = 8;

/// What the kernel knows about the process and the machine, for the auxiliary vector.
/// The program-specific entries (`AT_PHDR`, `AT_PHENT`, `AT_PHNUM`, `AT_ENTRY`) come from
/// the [`LoadPlan`]; `AT_BASE` is 0 (no interpreter), `AT_FLAGS` 0, `AT_PAGESZ` 4096 and
/// `AT_CLKTCK` [`CLOCK_TICKS`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuxValues {
    /// `AT_HWCAP`: on x86-64 Linux, CPUID leaf 1's EDX.
    pub hwcap: u64,
    /// `AT_HWCAP2` (x86-64 Linux: bit 1 = FSGSBASE usable), omitted when `None`.
    pub hwcap2: Option<u64>,
    /// `AT_UID`.
    pub uid: u32,
    /// `AT_EUID`.
    pub euid: u32,
    /// `AT_GID`.
    pub gid: u32,
    /// `AT_EGID`.
    pub egid: u32,
    /// `AT_SECURE`: the C library must distrust the environment (set-user-ID programs).
    pub secure: bool,
    /// The 16 bytes `AT_RANDOM` points to (stack protector and pointer guard seeds):
    /// fresh from the kernel's CSPRNG for every `execve`.
    pub random: [u8; 16],
    /// `AT_SYSINFO_EHDR`: address of a vDSO, omitted when `None`.
    pub sysinfo_ehdr: Option<u64>,
    /// `AT_MINSIGSTKSZ`: the signal frame size, omitted when `None`.
    pub minsigstksz: Option<u64>,
    /// `AT_RSEQ_FEATURE_SIZE` and `AT_RSEQ_ALIGN`, omitted when `None`.
    pub rseq: Option<RseqAux>,
}

/// The two rseq entries Linux passes when it supports `rseq(2)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RseqAux {
    /// `AT_RSEQ_FEATURE_SIZE`.
    pub feature_size: u64,
    /// `AT_RSEQ_ALIGN`.
    pub align: u64,
}

/// The initial stack of a new program: copy [`bytes`](Self::bytes) to [`rsp`](Self::rsp)
/// and start the program there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackImage {
    bytes: Vec<u8>,
    rsp: u64,
    args: Range<u64>,
    env: Range<u64>,
}

impl StackImage {
    /// Lays out `args` and the auxiliary vector below `stack_top` (Linux uses a page
    /// boundary). `E2BIG` if the image is larger than the stack limit `args` were copied
    /// under (Linux kills the process after the point of no return in that case: call this
    /// before it), `EFAULT` if it would not fit above address 0.
    pub fn build(
        args: &ExecArgs,
        plan: &LoadPlan,
        aux: &AuxValues,
        stack_top: u64,
    ) -> Result<Self, ExecError> {
        let strings: Vec<&[u8]> = args
            .argv()
            .iter()
            .chain(args.envp())
            .map(Vec::as_slice)
            .chain([args.filename()])
            .collect();
        let strings_size = strings.iter().map(|s| s.len() as u64 + 1).sum::<u64>();
        let below = |addr: u64, size: u64| addr.checked_sub(size).ok_or(ExecError::StackOverflow);
        let strings_start = below(below(stack_top, TOP_GAP)?, strings_size)?;
        let platform = below(strings_start & !15, PLATFORM.len() as u64)?;
        let random = below(platform, aux.random.len() as u64)?;

        // Addresses of the strings, ascending.
        let mut addrs = Vec::with_capacity(strings.len());
        let mut at = strings_start;
        for s in &strings {
            addrs.push(at);
            at += s.len() as u64 + 1;
        }
        let (argc, envc) = (args.argv().len(), args.envp().len());
        let execfn = addrs[argc + envc];
        let auxv = aux_entries(plan, aux, execfn, platform, random);

        let words = 1 + (argc + 1) + (envc + 1) + 2 * (auxv.len() + 1);
        let rsp = below(random, words as u64 * WORD)? & !15;
        if stack_top - rsp > args.stack_limit() {
            return Err(ExecError::TooBig);
        }
        let mut image = Image {
            bytes: alloc::vec![0; (stack_top - rsp) as usize],
            base: rsp,
        };
        let mut table = Vec::with_capacity(words);
        table.push(argc as u64);
        table.extend_from_slice(&addrs[..argc]);
        table.push(0);
        table.extend_from_slice(&addrs[argc..argc + envc]);
        table.push(0);
        for (kind, value) in auxv {
            table.extend([u64::from(kind), value]);
        }
        table.extend([u64::from(AT_NULL), 0]);
        let table: Vec<u8> = table.iter().flat_map(|w| w.to_le_bytes()).collect();
        image.put(rsp, &table);
        image.put(random, &aux.random);
        image.put(platform, PLATFORM);
        for (s, &addr) in strings.iter().zip(&addrs) {
            image.put(addr, s);
        }
        let env_start = addrs.get(argc).copied().unwrap_or(execfn);
        Ok(Self {
            bytes: image.bytes,
            rsp,
            args: strings_start..env_start,
            env: env_start..execfn,
        })
    }

    /// The bytes from [`rsp`](Self::rsp) up to the stack top.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The program's first `RSP`, 16-byte aligned, pointing at `argc`.
    pub fn rsp(&self) -> u64 {
        self.rsp
    }

    /// Where the argument strings are (Linux's `arg_start..arg_end`, what
    /// `/proc/PID/cmdline` shows).
    pub fn args(&self) -> Range<u64> {
        self.args.clone()
    }

    /// Where the environment strings are (`env_start..env_end`, `/proc/PID/environ`).
    pub fn env(&self) -> Range<u64> {
        self.env.clone()
    }
}

/// The auxiliary vector without `AT_NULL`, in the order Linux 6.x writes it on x86-64.
fn aux_entries(
    plan: &LoadPlan,
    aux: &AuxValues,
    execfn: u64,
    platform: u64,
    random: u64,
) -> Vec<(u32, u64)> {
    let optional = |kind: u32, value: Option<u64>| value.map(|value| (kind, value));
    let mut entries = Vec::with_capacity(24);
    entries.extend(optional(AT_SYSINFO_EHDR, aux.sysinfo_ehdr));
    entries.extend(optional(AT_MINSIGSTKSZ, aux.minsigstksz));
    entries.extend([
        (AT_HWCAP, aux.hwcap),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_CLKTCK, CLOCK_TICKS),
        (AT_PHDR, plan.phdr()),
        (AT_PHENT, u64::from(plan.phent())),
        (AT_PHNUM, u64::from(plan.phnum())),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, plan.entry()),
        (AT_UID, u64::from(aux.uid)),
        (AT_EUID, u64::from(aux.euid)),
        (AT_GID, u64::from(aux.gid)),
        (AT_EGID, u64::from(aux.egid)),
        (AT_SECURE, u64::from(aux.secure)),
        (AT_RANDOM, random),
    ]);
    entries.extend(optional(AT_HWCAP2, aux.hwcap2));
    entries.extend([(AT_EXECFN, execfn), (AT_PLATFORM, platform)]);
    if let Some(rseq) = aux.rseq {
        entries.extend([
            (AT_RSEQ_FEATURE_SIZE, rseq.feature_size),
            (AT_RSEQ_ALIGN, rseq.align),
        ]);
    }
    entries
}

/// The stack image under construction: `bytes[0]` is at address `base`.
struct Image {
    bytes: Vec<u8>,
    base: u64,
}

impl Image {
    /// Writes `data` at `addr`; the layout above keeps every write inside the image.
    fn put(&mut self, addr: u64, data: &[u8]) {
        let at = (addr - self.base) as usize;
        self.bytes[at..at + data.len()].copy_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::ArgCopy;
    use crate::fixtures::ElfImage;
    use crate::layout::STACK_TOP;

    fn word(image: &StackImage, addr: u64) -> u64 {
        let at = (addr - image.rsp()) as usize;
        u64::from_le_bytes(image.bytes()[at..at + 8].try_into().unwrap())
    }

    fn build(argv: &[&[u8]], aux: &AuxValues, top: u64) -> Result<StackImage, ExecError> {
        build_with(argv, &[], u64::MAX, aux, top)
    }

    fn build_with(
        argv: &[&[u8]],
        envp: &[&[u8]],
        rlimit: u64,
        aux: &AuxValues,
        top: u64,
    ) -> Result<StackImage, ExecError> {
        let mut copy = ArgCopy::new(b"/a", argv.len(), envp.len(), rlimit)?;
        for s in envp {
            copy.push_env(s)?;
        }
        for s in argv {
            copy.push_arg(s)?;
        }
        let plan = LoadPlan::new(&ElfImage::exec().bytes(), 0)?;
        StackImage::build(&copy.finish()?, &plan, aux, top)
    }

    /// create_elf_tables, worked by hand for argv ["a"], no environment, "/a": strings at
    /// top - 8 - 5, platform 7 and random 16 bytes below the 16-aligned string start, then
    /// 17 auxv pairs + AT_NULL and argc/argv/NULL/NULL, RSP rounded down to 16.
    #[test]
    fn layout_by_hand() {
        let aux = AuxValues {
            random: [7; 16],
            ..AuxValues::default()
        };
        let image = build(&[b"a"], &aux, STACK_TOP).unwrap();
        assert_eq!(image.rsp(), 0x7fff_ffff_ee90);
        assert_eq!(image.bytes().len(), 0x170);
        assert_eq!(image.args(), 0x7fff_ffff_eff3..0x7fff_ffff_eff5);
        assert_eq!(image.env(), 0x7fff_ffff_eff5..0x7fff_ffff_eff5);
        let top = &image.bytes()[image.bytes().len() - 23..];
        assert_eq!(top, b"x86_64\0\0\0\0a\0/a\0\0\0\0\0\0\0\0\0");
        assert_eq!(word(&image, image.rsp()), 1); // argc
        assert_eq!(word(&image, image.rsp() + 8), 0x7fff_ffff_eff3); // argv[0]
        assert_eq!(word(&image, image.rsp() + 16), 0); // end of argv
        assert_eq!(word(&image, image.rsp() + 24), 0); // end of envp
        assert_eq!(word(&image, image.rsp() + 32), u64::from(AT_HWCAP));
        // The last pair is AT_NULL, right below the padding and the random bytes.
        assert_eq!(word(&image, image.rsp() + 32 + 17 * 16), u64::from(AT_NULL));
        let random = 0x7fff_ffff_efd9;
        assert_eq!(
            &image.bytes()[(random - image.rsp()) as usize..][..16],
            [7; 16]
        );
    }

    /// Optional entries appear only when supplied, in Linux's places: vDSO and
    /// MINSIGSTKSZ first, HWCAP2 after AT_RANDOM, the rseq pair last.
    #[test]
    fn optional_entries_in_linux_order() {
        let aux = AuxValues {
            sysinfo_ehdr: Some(0x7fff_f7fc_1000),
            minsigstksz: Some(3376),
            hwcap2: Some(2),
            rseq: Some(RseqAux {
                feature_size: 28,
                align: 32,
            }),
            ..AuxValues::default()
        };
        let image = build(&[b"a"], &aux, STACK_TOP).unwrap();
        let types: Vec<u64> = (0..22)
            .map(|i| word(&image, image.rsp() + 32 + i * 16))
            .collect();
        let expected = [
            AT_SYSINFO_EHDR,
            AT_MINSIGSTKSZ,
            AT_HWCAP,
            AT_PAGESZ,
            AT_CLKTCK,
            AT_PHDR,
            AT_PHENT,
            AT_PHNUM,
            AT_BASE,
            AT_FLAGS,
            AT_ENTRY,
            AT_UID,
            AT_EUID,
            AT_GID,
            AT_EGID,
            AT_SECURE,
            AT_RANDOM,
            AT_HWCAP2,
            AT_EXECFN,
            AT_PLATFORM,
            AT_RSEQ_FEATURE_SIZE,
            AT_RSEQ_ALIGN,
        ];
        assert_eq!(types, expected.map(u64::from));
        assert_eq!(word(&image, image.rsp() + 32 + 22 * 16), u64::from(AT_NULL));
    }

    /// Strings that fit under the stack limit while the whole image does not: E2BIG
    /// (Linux: SIGSEGV after the point of no return).
    #[test]
    fn image_over_the_stack_limit() {
        let aux = AuxValues::default();
        let fits = alloc::vec![b'e'; 3600];
        assert!(build_with(&[b"a"], &[&fits], 4096, &aux, STACK_TOP).is_ok());
        let too_big = alloc::vec![b'e'; 3800];
        let result = build_with(&[b"a"], &[&too_big], 4096, &aux, STACK_TOP);
        assert_eq!(result.err(), Some(ExecError::TooBig));
    }

    /// A stack top too low for the image is EFAULT, not an underflow.
    #[test]
    fn image_that_does_not_fit() {
        let aux = AuxValues::default();
        for top in [0, 8, 100, 0x150] {
            assert_eq!(
                build(&[b"a"], &aux, top).err(),
                Some(ExecError::StackOverflow)
            );
        }
        assert!(build(&[b"a"], &aux, 0x1000).is_ok());
    }
}
