//! Property tests: no input makes the crate panic, and what it accepts obeys the rules,
//! checked against plain models written independently of the implementation.

mod common;

use common::{parse_stack, Mem};
use halyard_exec::fixtures::{ElfImage, Phdr};
use halyard_exec::{
    ArgCopy, AuxValues, ExecError, LoadPlan, RseqAux, Shebang, StackImage, MAX_ARG_STRLEN,
    MIN_MAP_ADDR, PAGE_SIZE, USER_END,
};
use linux_raw_sys::auxvec::{AT_EXECFN, AT_PHDR, AT_PLATFORM, AT_RANDOM};
use linux_raw_sys::elf_uapi::{PF_W, PF_X, PT_GNU_STACK, PT_LOAD, PT_NOTE};
use proptest::collection::vec;
use proptest::prelude::*;
use std::ops::Range;

/// What every accepted plan guarantees the kernel.
fn check_plan(plan: &LoadPlan, file_len: usize) {
    let segments = plan.segments();
    assert!(!segments.is_empty());
    assert_eq!(plan.bias() % PAGE_SIZE, 0);
    for s in segments {
        let pages = s.pages();
        assert!(pages.start < pages.end, "{s:?}");
        assert_eq!((pages.start % PAGE_SIZE, pages.end % PAGE_SIZE), (0, 0));
        assert!(pages.start >= MIN_MAP_ADDR && pages.end <= USER_END);
        assert!(!(s.perms().write && s.perms().exec));
        let file = s.file();
        assert!(file.start <= file.end && file.end <= file_len as u64);
        assert!(file.is_empty() || file.start % PAGE_SIZE == 0);
        assert!(pages.start <= s.zero_from() && s.zero_from() <= pages.end);
        assert_eq!(s.file_pages().start, pages.start);
        assert_eq!(s.anon_pages().end, pages.end);
        assert!(s.file_pages().end <= s.anon_pages().start + PAGE_SIZE);
    }
    for pair in segments.windows(2) {
        assert!(pair[0].pages().end <= pair[1].pages().start);
    }
    assert_eq!(plan.brk(), segments.last().unwrap().pages().end);
}

/// A segment as the model sees it: pages, file range, `PF_*` flags.
type ModelSegment = (Range<u128>, Range<u128>, u32);

/// The loading rules for `ET_EXEC`, in 128-bit arithmetic so nothing can wrap: the pages
/// and file ranges of the accepted segments, sorted, or `None`.
fn model(phdrs: &[Phdr], file_len: usize) -> Option<Vec<ModelSegment>> {
    let page = u128::from(PAGE_SIZE);
    let mut out = Vec::new();
    for p in phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
        let (offset, vaddr) = (u128::from(p.offset), u128::from(p.vaddr));
        let (filesz, memsz) = (u128::from(p.filesz), u128::from(p.memsz));
        if filesz > memsz {
            return None;
        }
        if memsz == 0 {
            continue;
        }
        if filesz > 0 && (offset + filesz > file_len as u128 || offset % page != vaddr % page) {
            return None;
        }
        let pages = vaddr / page * page..(vaddr + memsz).div_ceil(page) * page;
        if pages.start < u128::from(MIN_MAP_ADDR) || pages.end > u128::from(USER_END) {
            return None;
        }
        if p.flags & PF_W != 0 && p.flags & PF_X != 0 {
            return None;
        }
        let file = if filesz == 0 {
            0..0
        } else {
            offset / page * page..offset + filesz
        };
        out.push((pages, file, p.flags & 7));
    }
    out.sort_by_key(|s| s.0.start);
    let disjoint = out.windows(2).all(|w| w[0].0.end <= w[1].0.start);
    (!out.is_empty() && disjoint).then_some(out)
}

/// Program headers that are mostly loadable (page offsets agree, sizes plausible), with an
/// occasional field replaced by an arbitrary value.
fn phdr() -> impl Strategy<Value = Phdr> {
    let p_type = prop_oneof![4 => Just(PT_LOAD), 1 => Just(PT_NOTE), 1 => Just(PT_GNU_STACK)];
    let field = |small: Range<u64>| prop_oneof![6 => small, 1 => any::<u64>()];
    (
        p_type,
        0u32..8,
        0u64..4,
        0u64..PAGE_SIZE,
        0u64..0x10,
        field(0..0x2000),
        field(0..0x4000),
    )
        .prop_flat_map(
            move |(p_type, flags, file_page, in_page, vpage, filesz, extra)| {
                let offset = file_page * PAGE_SIZE + in_page;
                let vaddr = 0x40_0000 + vpage * PAGE_SIZE + in_page;
                (field(offset..offset + 1), field(vaddr..vaddr + 1)).prop_map(
                    move |(offset, vaddr)| Phdr {
                        p_type,
                        flags,
                        offset,
                        vaddr,
                        filesz,
                        memsz: filesz.saturating_add(extra),
                        align: PAGE_SIZE,
                    },
                )
            },
        )
}

/// Strings without zero bytes.
fn string(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(1u8..=255, 0..max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes: an error or a plan that keeps the rules; never a panic.
    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..700), base in any::<u64>()) {
        if let Ok(plan) = LoadPlan::new(&bytes, base) {
            check_plan(&plan, bytes.len());
        }
        let _ = Shebang::parse(&bytes);
    }

    /// Valid programs with a few header or program header bytes changed; the plan from the
    /// headers alone is the plan from the whole file.
    #[test]
    fn mutated_programs_never_panic(
        pie: bool,
        edits in vec((0usize..0x180, any::<u8>()), 1..8),
        truncate in 0usize..0x2200,
        base in any::<u64>(),
    ) {
        let image = if pie { ElfImage::static_pie() } else { ElfImage::exec() };
        let mut bytes = image.bytes();
        for (at, value) in edits {
            bytes[at] = value;
        }
        bytes.truncate(truncate.max(64));
        let plan = LoadPlan::new(&bytes, base);
        if let Ok(plan) = &plan {
            check_plan(plan, bytes.len());
        }
        // The kernel's way: the file header, then the program header table read apart.
        let head = &bytes[..64];
        let split = LoadPlan::program_header_range(head).and_then(|r| {
            let end = (r.end as usize).min(bytes.len());
            let table = bytes.get(r.start as usize..end).unwrap_or(&[]);
            LoadPlan::from_headers(head, table, bytes.len() as u64, base)
        });
        prop_assert_eq!(split, plan);
    }

    /// Random program headers: accepted exactly when the model accepts, with the model's
    /// segments.
    #[test]
    fn segments_follow_the_model(phdrs in vec(phdr(), 1..7), len in 0x1000usize..0xa000) {
        let mut image = ElfImage::exec();
        image.phoff = 64;
        image.phnum = phdrs.len() as u16;
        image.phdrs = phdrs;
        image.len = len.max(64 + 56 * image.phdrs.len());
        let bytes = image.bytes();
        let expected = model(&image.phdrs, bytes.len());
        match LoadPlan::new(&bytes, 0) {
            Ok(plan) => {
                check_plan(&plan, bytes.len());
                let got: Vec<_> = plan.segments().iter().map(|s| {
                    let p = s.perms();
                    let flags = u32::from(p.read) << 2 | u32::from(p.write) << 1 | u32::from(p.exec);
                    let wide = |r: Range<u64>| u128::from(r.start)..u128::from(r.end);
                    (wide(s.pages()), wide(s.file()), flags)
                }).collect();
                prop_assert_eq!(Some(got), expected);
            }
            Err(err) => {
                prop_assert!(matches!(err, ExecError::NoExec(_)));
                prop_assert_eq!(expected, None, "refused with {:?}", err);
            }
        }
    }

    /// Read back like a C library does, the stack holds exactly what was put in, and
    /// the pointers in the auxiliary vector point at the right bytes.
    #[test]
    fn stack_reads_back(
        argv in vec(string(40), 0..8),
        envp in vec(string(60), 0..8),
        filename in string(30),
        random in any::<[u8; 16]>(),
        ids in any::<[u32; 4]>(),
        optional in any::<(Option<u64>, Option<u64>, Option<u64>, Option<(u64, u64)>)>(),
        top_page in 1u64..(USER_END / PAGE_SIZE),
    ) {
        let mut copy = ArgCopy::new(&filename, argv.len(), envp.len(), u64::MAX).unwrap();
        envp.iter().try_for_each(|s| copy.push_env(s)).unwrap();
        argv.iter().try_for_each(|s| copy.push_arg(s)).unwrap();
        let args = copy.finish().unwrap();
        let plan = LoadPlan::new(&ElfImage::exec().bytes(), 0).unwrap();
        let (sysinfo_ehdr, minsigstksz, hwcap2, rseq) = optional;
        let aux = AuxValues {
            hwcap: 0x178b_fbff,
            hwcap2,
            uid: ids[0], euid: ids[1], gid: ids[2], egid: ids[3],
            secure: ids[0] % 2 == 1,
            random,
            sysinfo_ehdr,
            minsigstksz,
            rseq: rseq.map(|(feature_size, align)| RseqAux { feature_size, align }),
        };
        let top = top_page * PAGE_SIZE;
        let image = match StackImage::build(&args, &plan, &aux, top) {
            Ok(image) => image,
            Err(err) => {
                // Only a stack top too close to 0 can fail.
                prop_assert_eq!(err, ExecError::StackOverflow);
                prop_assert!(top < 0x4000);
                return Ok(());
            }
        };
        prop_assert_eq!(image.rsp() % 16, 0);
        prop_assert_eq!(image.rsp() + image.bytes().len() as u64, top);
        let mem = Mem { base: image.rsp(), bytes: image.bytes() };
        let stack = parse_stack(&mem);
        let expected_argv = if argv.is_empty() { vec![Vec::new()] } else { argv };
        prop_assert_eq!(&stack.argv, &expected_argv);
        prop_assert_eq!(&stack.envp, &envp);
        prop_assert_eq!(mem.c_str(stack.aux(AT_EXECFN).unwrap()), filename);
        prop_assert_eq!(mem.c_str(stack.aux(AT_PLATFORM).unwrap()), b"x86_64");
        prop_assert_eq!(mem.slice(stack.aux(AT_RANDOM).unwrap(), 16), random);
        prop_assert_eq!(stack.aux(AT_PHDR), Some(plan.phdr()));
        prop_assert_eq!(image.args().start, stack.argv_addrs[0]);
        prop_assert_eq!(image.env().end, stack.aux(AT_EXECFN).unwrap());
        prop_assert_eq!(mem.slice(top - 8, 8), [0; 8]);
    }

    /// E2BIG exactly when one of Linux's budgets is exceeded: strings with their zero bytes
    /// plus eight bytes per pointer (at least one for argv) within max(min(r/4, 6 MiB),
    /// 128 KiB); the strings and the 8-byte top gap within the page-rounded stack limit
    /// (at least a page); no string over MAX_ARG_STRLEN.
    #[test]
    fn arg_budget_follows_the_model(
        argv in vec(0usize..6000, 0..12),
        envp in vec(0usize..6000, 0..12),
        filename in 0usize..300,
        rlimit in prop_oneof![0u64..200_000, 0u64..1_000_000],
    ) {
        let ptrs = (argv.len().max(1) + envp.len()) as u64 * 8;
        let strings = [filename].iter().chain(&envp).chain(&argv).map(|n| *n as u64 + 1).sum::<u64>()
            + u64::from(argv.is_empty());
        let budget = (rlimit / 4).clamp(128 << 10, 6 << 20);
        let stack = (rlimit / 4096 * 4096).max(4096);
        let fits = ptrs < budget && strings + ptrs <= budget && strings + 8 <= stack;
        let result = (|| {
            let mut copy = ArgCopy::new(&vec![b'f'; filename], argv.len(), envp.len(), rlimit)?;
            envp.iter().try_for_each(|&n| copy.push_env(&vec![b'e'; n]))?;
            argv.iter().try_for_each(|&n| copy.push_arg(&vec![b'a'; n]))?;
            copy.finish()
        })();
        prop_assert_eq!(result.is_ok(), fits, "{:?}", result.err());
        if let Err(err) = result {
            prop_assert_eq!(err, ExecError::TooBig);
        }
    }

    /// `#!` lines: never a panic; the interpreter is one word; the argument has no zero
    /// byte or newline and does not start with a blank; both lie in the first 256 bytes.
    #[test]
    fn shebang_lines_keep_their_shape(
        line in vec(prop::sample::select(b" \t\n\0a/-".to_vec()), 0..300),
    ) {
        let head = [b"#!".as_slice(), &line].concat();
        if let Ok(Some(script)) = Shebang::parse(&head) {
            let within = |s: &[u8]| {
                let at = s.as_ptr() as usize - head.as_ptr() as usize;
                at + s.len() < 256
            };
            let name = script.interpreter();
            prop_assert!(within(name));
            prop_assert!(!name.iter().any(|c| b" \t\0\n".contains(c)));
            if let Some(arg) = script.argument() {
                prop_assert!(within(arg));
                prop_assert!(!arg.iter().any(|c| b"\0\n".contains(c)));
                prop_assert!(!arg.first().is_some_and(|c| b" \t".contains(c)));
            }
        }
    }
}

/// A string of exactly MAX_ARG_STRLEN bytes with its zero is the longest accepted.
#[test]
fn longest_single_string() {
    let mut copy = ArgCopy::new(b"f", 2, 0, u64::MAX).unwrap();
    copy.push_arg(&vec![b'a'; MAX_ARG_STRLEN - 1]).unwrap();
    assert_eq!(
        copy.push_arg(&vec![b'a'; MAX_ARG_STRLEN]),
        Err(ExecError::TooBig)
    );
}
