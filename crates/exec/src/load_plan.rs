//! From the bytes of an ELF file to the list of mappings that make up the new image.
//!
//! `execve` has a point of no return: once the old address space is gone, a failure can
//! only kill the process. Linux checks little before that point and learns about broken
//! segments while mapping them, when all it can do is `SIGSEGV` the half-built process.
//! Halyard validates the whole file first, so every malformed image is a clean `ENOEXEC`
//! that the calling program sees and the kernel can explain (see [`NoExecReason`]).
//!
//! The headers are read with the `elf` crate (0.8, no default features): it is
//! `#![forbid(unsafe_code)]`, fuzzed upstream, returns errors instead of panicking,
//! allocates nothing, and exposes the file header and program header table separately, so
//! Halyard never touches the section headers, which Linux ignores too (a stripped or
//! `sstrip`ped program with a bad section table must still run). `xmas-elf` 0.10 was not
//! chosen: it slices the file at offsets taken from the header without checking them (a
//! truncated program header table panics in `parse_program_header`) and casts bytes to
//! structures through the `zero` crate's `unsafe` code.
//!
//! # What is accepted
//! - 64-bit little-endian x86-64 ELF (`EI_VERSION` must be 1, which the `elf` crate checks
//!   and Linux does not; no real linker writes anything else), `ET_EXEC` or `ET_DYN`.
//! - `e_phentsize` = 56 and at most 64 KiB of program headers (1170), as Linux.
//! - No `PT_INTERP`: Halyard has no dynamic linker, so a dynamically linked program is
//!   refused with [`NoExecReason::DynamicallyLinked`], whose message says what to do.
//! - Every `PT_LOAD` with memory: file bytes inside the file, `p_filesz <= p_memsz`,
//!   `p_offset` and `p_vaddr` equal modulo the page size (else it cannot be mapped), pages
//!   inside [`MIN_MAP_ADDR`]`..`[`USER_END`], no two segments sharing a page (a shared page
//!   would need two sets of permissions), and **W^X**: a segment both writable and
//!   executable is refused. Linux runs such files; Halyard refuses them because the issue
//!   asks for W^X, and no toolchain in use emits RWX segments (GNU ld warns about them since
//!   2.39). Linux's own answers for each of these cases are checked in
//!   `tests/linux_oracle.rs`.
//! - `PT_GNU_STACK` with `PF_X` (an executable stack request, e.g. GCC's nested-function
//!   trampolines) is accepted and recorded in [`LoadPlan::executable_stack`]; the last
//!   `PT_GNU_STACK` wins, as in Linux. Linux honours the request and maps the stack RWX.
//!   Halyard's policy is W^X everywhere: the stack stays non-executable and the kernel may
//!   log the request, so such a program faults when it jumps to its stack.
//! - `PT_TLS`, `PT_GNU_RELRO`, `PT_NOTE` and the rest are the C library's business: ignored.
//!
//! # Addresses
//! `ET_EXEC` loads at its own addresses. `ET_DYN` is moved by a load bias derived from the
//! base the caller passes, exactly as Linux derives it from `ELF_ET_DYN_BASE`: the base is
//! rounded down to the largest power-of-two `p_align` of the `PT_LOAD`s, then the first
//! `PT_LOAD`'s `p_vaddr` is subtracted and the result rounded down to a page.
//! [`DEFAULT_DYN_BASE`](crate::DEFAULT_DYN_BASE) explains the recommended base.
//!
//! `AT_PHDR` is computed as Linux (since 5.18) computes it: from the `PT_LOAD` whose file
//! range contains `e_phoff`. When no `PT_LOAD` does, the program headers are not in memory
//! and Linux passes the bare load bias; Halyard uses `PT_PHDR`'s address if the file has
//! one (what Linux did before 5.18), else the bias, like Linux.

use crate::error::{ExecError, NoExecReason};
use crate::layout::{page_align, page_offset, page_start, MIN_MAP_ADDR, PAGE_SIZE, USER_END};
use alloc::vec::Vec;
use core::ops::Range;
use elf::endian::LittleEndian;
use elf::file::{parse_ident, Class, FileHeader};
use elf::segment::{ProgramHeader, SegmentTable};
use linux_raw_sys::elf_uapi::{
    EI_NIDENT, EM_X86_64, ET_DYN, ET_EXEC, PF_R, PF_W, PF_X, PT_GNU_STACK, PT_INTERP, PT_LOAD,
    PT_PHDR,
};

/// Size of an ELF64 program header (`AT_PHENT`).
pub(crate) const PHDR_SIZE: u16 = 56;
/// Largest program header table Linux reads (`load_elf_phdrs`).
const MAX_PHDR_TABLE: usize = 65536;
/// Size of the ELF64 file header.
const EHDR_SIZE: usize = 64;
/// The ELF magic, `e_ident[0..4]`.
const MAGIC: &[u8; 4] = b"\x7fELF";

/// How the image is placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// `ET_EXEC`: at the addresses in the file.
    Exec,
    /// `ET_DYN` without an interpreter (static-pie): moved by the load bias.
    StaticPie,
}

/// Access rights of a segment, from its `p_flags`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Perms {
    /// `PF_R`.
    pub read: bool,
    /// `PF_W`.
    pub write: bool,
    /// `PF_X`.
    pub exec: bool,
}

impl Perms {
    fn from_flags(p_flags: u32) -> Self {
        Self {
            read: p_flags & PF_R != 0,
            write: p_flags & PF_W != 0,
            exec: p_flags & PF_X != 0,
        }
    }
}

/// One `PT_LOAD` segment, as page-aligned memory.
///
/// The bytes [`file`](Self::file) of the file go to the start of [`pages`](Self::pages) (a
/// private mapping of the file, or a copy). Everything from [`zero_from`](Self::zero_from)
/// to the end reads as zero: the rest of the last file page (which a mapping would fill with
/// whatever follows the segment in the file) and then whole anonymous pages, the `.bss`.
/// All of it gets the segment's rights; Linux maps the anonymous part read-write whatever
/// the flags say, which only differs for a read-only or executable segment with a `.bss`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pages: Range<u64>,
    file: Range<u64>,
    perms: Perms,
}

impl Segment {
    /// The pages the segment occupies (addresses include the load bias).
    pub fn pages(&self) -> Range<u64> {
        self.pages.clone()
    }

    /// File offsets copied to the start of [`pages`](Self::pages); the start is
    /// page-aligned. Empty when the segment has no file bytes: then all of it is zero, as
    /// in Linux.
    pub fn file(&self) -> Range<u64> {
        self.file.clone()
    }

    /// Access rights for all of [`pages`](Self::pages).
    pub fn perms(&self) -> Perms {
        self.perms
    }

    /// First address that reads as zero (`p_vaddr + p_filesz`, or `pages.start`).
    pub fn zero_from(&self) -> u64 {
        // Both bounds were checked when the plan was made: cannot overflow.
        self.pages.start + (self.file.end - self.file.start)
    }

    /// Pages with file contents; the last may end in zeroes from [`zero_from`](Self::zero_from).
    pub fn file_pages(&self) -> Range<u64> {
        // `zero_from` is at most `pages.end`, which is page-aligned: cannot overflow.
        self.pages.start..page_start(self.zero_from() + PAGE_SIZE - 1)
    }

    /// Whole pages of zeroes after the file pages (the `.bss` beyond the partial page).
    pub fn anon_pages(&self) -> Range<u64> {
        self.file_pages().end..self.pages.end
    }
}

/// Everything the kernel needs to build the new image of an ELF program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    kind: ImageKind,
    bias: u64,
    entry: u64,
    phdr: u64,
    phnum: u16,
    segments: Vec<Segment>,
    executable_stack: bool,
}

impl LoadPlan {
    /// Validates the ELF file `file` (all of it) and plans its mappings.
    ///
    /// `dyn_base` is where a static-pie (`ET_DYN`) program should go, normally
    /// [`DEFAULT_DYN_BASE`](crate::DEFAULT_DYN_BASE) (plus a random offset for ASLR); it is
    /// ignored for `ET_EXEC`. Every failure is [`ExecError::NoExec`].
    pub fn new(file: &[u8], dyn_base: u64) -> Result<Self, ExecError> {
        let table = Self::program_header_range(file)
            .ok()
            .and_then(|r| file.get(usize::try_from(r.start).ok()?..usize::try_from(r.end).ok()?))
            .unwrap_or(&[]);
        Self::from_headers(file, table, file.len() as u64, dyn_base)
    }

    /// Where the program header table of the file starting with `head` lies (file
    /// offsets), so that a caller that does not hold the whole file can read it for
    /// [`from_headers`](Self::from_headers). `head` must hold the ELF file header (64
    /// bytes). The range is at most 64 KiB long: an empty one when the table is larger
    /// than Linux reads or ends past 2^64, which [`from_headers`](Self::from_headers)
    /// refuses whatever it is given.
    pub fn program_header_range(head: &[u8]) -> Result<Range<u64>, ExecError> {
        let ehdr = file_header(head)?;
        let size = usize::from(ehdr.e_phentsize) * usize::from(ehdr.e_phnum);
        let end = ehdr.e_phoff.checked_add(size as u64);
        Ok(match end {
            Some(end) if size <= MAX_PHDR_TABLE => ehdr.e_phoff..end,
            _ => ehdr.e_phoff..ehdr.e_phoff,
        })
    }

    /// [`new`](Self::new) for a file of `file_len` bytes of which the caller read only the
    /// beginning, `head` (at least the ELF file header), and `table`, the bytes at
    /// [`program_header_range`](Self::program_header_range) (shorter when the file ends
    /// first). The segments' bytes are not needed: `execve` maps them from the file.
    pub fn from_headers(
        head: &[u8],
        table: &[u8],
        file_len: u64,
        dyn_base: u64,
    ) -> Result<Self, ExecError> {
        let ehdr = file_header(head)?;
        let kind = match u32::from(ehdr.e_type) {
            ET_EXEC => ImageKind::Exec,
            ET_DYN => ImageKind::StaticPie,
            _ => return Err(NoExecReason::WrongType.into()),
        };
        if u32::from(ehdr.e_machine) != EM_X86_64 {
            return Err(NoExecReason::WrongMachine.into());
        }
        let phdrs = program_headers(&ehdr, table, file_len)?;
        let mut executable_stack = false;
        let mut pt_phdr = None;
        for ph in phdrs.iter() {
            match ph.p_type {
                PT_INTERP => return Err(NoExecReason::DynamicallyLinked.into()),
                PT_GNU_STACK => executable_stack = ph.p_flags & PF_X != 0,
                PT_PHDR => pt_phdr = Some(ph.p_vaddr),
                _ => {}
            }
        }
        let loads = || phdrs.iter().filter(|ph| ph.p_type == PT_LOAD);
        let bias = match kind {
            ImageKind::Exec => 0,
            ImageKind::StaticPie => {
                let first = loads().next().ok_or(NoExecReason::NoLoadSegments)?;
                let base = dyn_base & !(max_alignment(loads()) - 1);
                let biased = base.checked_sub(first.p_vaddr);
                page_start(biased.ok_or(NoExecReason::OutsideUserSpace)?)
            }
        };
        let mut segments = Vec::new();
        for ph in loads() {
            if let Some(segment) = segment(&ph, bias, file_len)? {
                segments.push(segment);
            }
        }
        if segments.is_empty() {
            return Err(NoExecReason::NoLoadSegments.into());
        }
        segments.sort_by_key(|s| s.pages.start);
        if segments
            .windows(2)
            .any(|w| w[0].pages.end > w[1].pages.start)
        {
            return Err(NoExecReason::Overlap.into());
        }
        let relocate = |addr: u64| addr.checked_add(bias).ok_or(NoExecReason::OutsideUserSpace);
        let covering = loads()
            .filter(|ph| ph.p_offset <= ehdr.e_phoff && ehdr.e_phoff - ph.p_offset < ph.p_filesz)
            .last();
        let phdr_vaddr = match covering {
            Some(ph) => (ehdr.e_phoff - ph.p_offset)
                .checked_add(ph.p_vaddr)
                .ok_or(NoExecReason::OutsideUserSpace)?,
            None => pt_phdr.unwrap_or(0),
        };
        Ok(Self {
            kind,
            bias,
            entry: relocate(ehdr.e_entry)?,
            phdr: relocate(phdr_vaddr)?,
            phnum: ehdr.e_phnum,
            segments,
            executable_stack,
        })
    }

    /// `ET_EXEC` or static-pie.
    pub fn kind(&self) -> ImageKind {
        self.kind
    }

    /// What was added to every address in the file (0 for `ET_EXEC`).
    pub fn bias(&self) -> u64 {
        self.bias
    }

    /// Where the program starts (`AT_ENTRY`, the first `RIP`).
    pub fn entry(&self) -> u64 {
        self.entry
    }

    /// Address of the program headers in memory (`AT_PHDR`).
    pub fn phdr(&self) -> u64 {
        self.phdr
    }

    /// Number of program headers (`AT_PHNUM`).
    pub fn phnum(&self) -> u16 {
        self.phnum
    }

    /// Size of one program header (`AT_PHENT`).
    pub fn phent(&self) -> u16 {
        PHDR_SIZE
    }

    /// The `PT_LOAD` segments with memory, in address order, on distinct pages.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Whether `PT_GNU_STACK` asked for an executable stack (Halyard does not grant it:
    /// see the module documentation).
    pub fn executable_stack(&self) -> bool {
        self.executable_stack
    }

    /// Where the heap starts: the page after the highest segment (Linux's `start_brk`
    /// before randomisation).
    pub fn brk(&self) -> u64 {
        self.segments.iter().map(|s| s.pages.end).max().unwrap_or(0)
    }
}

/// The file header of a 64-bit little-endian ELF file.
fn file_header(file: &[u8]) -> Result<FileHeader<LittleEndian>, NoExecReason> {
    let ident = file
        .get(..EI_NIDENT as usize)
        .ok_or(NoExecReason::UnknownFormat)?;
    if !ident.starts_with(MAGIC) {
        return Err(NoExecReason::UnknownFormat);
    }
    let ident = parse_ident::<LittleEndian>(ident).map_err(|_| NoExecReason::UnsupportedElf)?;
    if ident.1 != Class::ELF64 {
        return Err(NoExecReason::UnsupportedElf);
    }
    let tail = file
        .get(EI_NIDENT as usize..EHDR_SIZE)
        .ok_or(NoExecReason::UnknownFormat)?;
    FileHeader::parse_tail(ident, tail).map_err(|_| NoExecReason::UnsupportedElf)
}

/// The program header table, within Linux's limits: 56-byte entries, at least one and at
/// most 64 KiB of them (1170), entirely inside the file (of `file_len` bytes, whose bytes
/// at `e_phoff` are `table`).
fn program_headers<'a>(
    ehdr: &FileHeader<LittleEndian>,
    table: &'a [u8],
    file_len: u64,
) -> Result<SegmentTable<'a, LittleEndian>, NoExecReason> {
    let size = usize::from(ehdr.e_phentsize) * usize::from(ehdr.e_phnum);
    if ehdr.e_phentsize != PHDR_SIZE || size == 0 || size > MAX_PHDR_TABLE {
        return Err(NoExecReason::BadProgramHeaders);
    }
    let inside = ehdr
        .e_phoff
        .checked_add(size as u64)
        .is_some_and(|end| end <= file_len);
    let table = table
        .get(..size)
        .filter(|_| inside)
        .ok_or(NoExecReason::BadProgramHeaders)?;
    Ok(SegmentTable::new(LittleEndian, Class::ELF64, table))
}

/// Linux's `maximum_alignment`: the largest power-of-two `p_align`, at least a page.
fn max_alignment(loads: impl Iterator<Item = ProgramHeader>) -> u64 {
    loads
        .map(|ph| ph.p_align)
        .filter(|align| align.is_power_of_two())
        .fold(PAGE_SIZE, u64::max)
}

/// Validates one `PT_LOAD` and turns it into pages; `None` when it has no memory.
fn segment(ph: &ProgramHeader, bias: u64, file_len: u64) -> Result<Option<Segment>, NoExecReason> {
    if ph.p_filesz > ph.p_memsz {
        return Err(NoExecReason::FileSizeOverMemSize);
    }
    if ph.p_memsz == 0 {
        return Ok(None);
    }
    // Without file bytes nothing is read from the file: `p_offset` does not matter.
    let file = if ph.p_filesz == 0 {
        0..0
    } else {
        let end = ph.p_offset.checked_add(ph.p_filesz);
        let end = end.filter(|&end| end <= file_len);
        let end = end.ok_or(NoExecReason::SegmentBeyondFile)?;
        if page_offset(ph.p_offset) != page_offset(ph.p_vaddr) {
            return Err(NoExecReason::Misaligned);
        }
        page_start(ph.p_offset)..end
    };
    let start = ph.p_vaddr.checked_add(bias);
    let end = start.and_then(|start| page_align(start.checked_add(ph.p_memsz)?));
    let (Some(start), Some(end)) = (start, end) else {
        return Err(NoExecReason::OutsideUserSpace);
    };
    let pages = page_start(start)..end;
    if pages.start < MIN_MAP_ADDR || pages.end > USER_END {
        return Err(NoExecReason::OutsideUserSpace);
    }
    let perms = Perms::from_flags(ph.p_flags);
    if perms.write && perms.exec {
        return Err(NoExecReason::WritableAndExecutable);
    }
    Ok(Some(Segment { pages, file, perms }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{ElfImage, Phdr};
    use crate::layout::DEFAULT_DYN_BASE;
    use linux_raw_sys::elf_uapi::{EM_386, ET_CORE, ET_REL};
    use linux_raw_sys::errno::ENOEXEC;

    fn plan(image: &ElfImage) -> Result<LoadPlan, ExecError> {
        LoadPlan::new(&image.bytes(), DEFAULT_DYN_BASE)
    }

    fn refused(image: &ElfImage) -> NoExecReason {
        match plan(image) {
            Err(ExecError::NoExec(reason)) => reason,
            other => panic!("expected ENOEXEC, got {other:?}"),
        }
    }

    const R: Perms = Perms {
        read: true,
        write: false,
        exec: false,
    };
    const RX: Perms = Perms {
        read: true,
        write: false,
        exec: true,
    };
    const RW: Perms = Perms {
        read: true,
        write: true,
        exec: false,
    };

    /// A static ET_EXEC loads at its own addresses; AT_PHDR comes from the PT_LOAD that
    /// holds e_phoff; .bss is the rest of the last file page plus whole zero pages.
    #[test]
    fn static_exec_plan() {
        let plan = plan(&ElfImage::exec()).unwrap();
        assert_eq!(plan.kind(), ImageKind::Exec);
        assert_eq!((plan.bias(), plan.entry()), (0, 0x40_1000));
        assert_eq!(
            (plan.phdr(), plan.phnum(), plan.phent()),
            (0x40_0040, 5, 56)
        );
        assert!(!plan.executable_stack());
        assert_eq!(plan.brk(), 0x40_5000);
        let s = plan.segments();
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s[0].pages(), s[0].file(), s[0].perms()),
            (0x40_0000..0x40_1000, 0..0x200, R)
        );
        assert_eq!(
            (s[1].pages(), s[1].file(), s[1].perms()),
            (0x40_1000..0x40_2000, 0x1000..0x1010, RX)
        );
        assert_eq!(
            (s[2].pages(), s[2].file(), s[2].perms()),
            (0x40_2000..0x40_5000, 0x2000..0x2123, RW)
        );
        assert_eq!(s[2].zero_from(), 0x40_2123);
        assert_eq!(s[2].file_pages(), 0x40_2000..0x40_3000);
        assert_eq!(s[2].anon_pages(), 0x40_3000..0x40_5000);
        assert_eq!(s[0].anon_pages(), 0x40_1000..0x40_1000);
    }

    /// From the file header and the program header table alone (what `execve` reads),
    /// the plan is the whole file's, wherever the table is; a table the file does not
    /// hold is refused as it is from the whole file.
    #[test]
    fn headers_alone_give_the_same_plan() {
        let split = |image: &ElfImage| {
            let bytes = image.bytes();
            let r = LoadPlan::program_header_range(&bytes[..64]).unwrap();
            let end = (r.end as usize).min(bytes.len());
            let table = bytes.get(r.start as usize..end).unwrap_or(&[]);
            LoadPlan::from_headers(&bytes[..64], table, bytes.len() as u64, DEFAULT_DYN_BASE)
        };
        let mut moved = ElfImage::exec();
        moved.phoff = 0x1800; // past the first page, inside the file
        for image in [ElfImage::exec(), ElfImage::static_pie(), moved] {
            assert_eq!(split(&image), plan(&image));
            assert!(split(&image).is_ok());
        }
        let mut past_end = ElfImage::exec();
        past_end.phoff = 0x2100; // the table runs past the end of the file
        assert_eq!(split(&past_end), plan(&past_end));
        assert!(matches!(
            split(&past_end),
            Err(ExecError::NoExec(NoExecReason::BadProgramHeaders))
        ));
        let mut huge = ElfImage::exec();
        huge.phnum = 2000; // over 64 KiB of headers: no range to read
        let r = LoadPlan::program_header_range(&huge.bytes()).unwrap();
        assert!(r.is_empty());
        assert_eq!(split(&huge), plan(&huge));
        assert_eq!(
            LoadPlan::program_header_range(b"\x7fELF"),
            Err(ExecError::NoExec(NoExecReason::UnknownFormat))
        );
    }

    /// A static-pie moves by the caller's base, rounded to the largest p_align.
    #[test]
    fn static_pie_is_biased() {
        let plan = plan(&ElfImage::static_pie()).unwrap();
        assert_eq!(plan.kind(), ImageKind::StaticPie);
        assert_eq!(plan.bias(), DEFAULT_DYN_BASE);
        assert_eq!(plan.entry(), DEFAULT_DYN_BASE + 0x1000);
        assert_eq!(plan.phdr(), DEFAULT_DYN_BASE + 64);
        assert_eq!(
            plan.segments()[2].pages(),
            DEFAULT_DYN_BASE + 0x2000..DEFAULT_DYN_BASE + 0x5000
        );

        let mut aligned = ElfImage::static_pie();
        aligned.phdrs[2].align = 0x20_0000;
        let plan = LoadPlan::new(&aligned.bytes(), 0x7654_3210_0000 + 0x1234).unwrap();
        assert_eq!(plan.bias(), 0x7654_3200_0000);
        // A base below the first segment's address cannot work.
        let mut high = ElfImage::static_pie();
        high.phdrs[1].vaddr = 0x1_0000_0000;
        assert_eq!(
            LoadPlan::new(&high.bytes(), 0x1000_0000),
            Err(NoExecReason::OutsideUserSpace.into())
        );
    }

    /// A PT_INTERP (dynamically linked program) is ENOEXEC with a message saying so.
    #[test]
    fn dynamic_program_is_refused_clearly() {
        let mut image = ElfImage::exec();
        image.phdrs.insert(
            1,
            Phdr {
                p_type: PT_INTERP,
                flags: PF_R,
                offset: 0x100,
                vaddr: 0x40_0100,
                filesz: 28,
                memsz: 28,
                align: 1,
            },
        );
        image.phnum += 1;
        let err = plan(&image).unwrap_err();
        assert_eq!(err, NoExecReason::DynamicallyLinked.into());
        assert_eq!(err.errno(), ENOEXEC);
        assert!(alloc::format!("{err}").contains("dynamically linked"));
    }

    /// Not ELF, not 64-bit little-endian x86-64, not EXEC/DYN: ENOEXEC.
    #[test]
    fn wrong_header_fields() {
        let good = ElfImage::exec().bytes();
        let with = |at: usize, value: u8| {
            let mut bytes = good.clone();
            bytes[at] = value;
            LoadPlan::new(&bytes, DEFAULT_DYN_BASE)
        };
        assert_eq!(with(0, 0x7e), Err(NoExecReason::UnknownFormat.into()));
        assert_eq!(with(4, 1), Err(NoExecReason::UnsupportedElf.into()));
        assert_eq!(with(5, 2), Err(NoExecReason::UnsupportedElf.into()));
        assert_eq!(with(6, 0), Err(NoExecReason::UnsupportedElf.into()));
        for short in [&good[..0], &good[..4], &good[..63]] {
            assert_eq!(
                LoadPlan::new(short, 0),
                Err(NoExecReason::UnknownFormat.into())
            );
        }
        let mut image = ElfImage::exec();
        image.machine = EM_386 as u16;
        assert_eq!(refused(&image), NoExecReason::WrongMachine);
        for e_type in [ET_REL, ET_CORE, 0xfe00] {
            image = ElfImage::exec();
            image.e_type = e_type as u16;
            assert_eq!(refused(&image), NoExecReason::WrongType);
        }
    }

    /// Linux's load_elf_phdrs: 56-byte entries, 1..=1170 of them, inside the file.
    #[test]
    fn program_header_table_limits() {
        let cases: [fn(&mut ElfImage); 5] = [
            |i| i.phentsize = 32,
            |i| i.phnum = 0,
            |i| i.phnum = 1171,
            |i| i.phoff = 0x2100,
            |i| i.phoff = u64::MAX - 8,
        ];
        for change in cases {
            let mut image = ElfImage::exec();
            change(&mut image);
            assert_eq!(
                refused(&image),
                NoExecReason::BadProgramHeaders,
                "{image:?}"
            );
        }
        // 1170 entries fit in 64 KiB; the extra ones are PT_NULL.
        let mut image = ElfImage::exec();
        image.phnum = 1170;
        image.phoff = 0x3000;
        image.len = 0x3000 + 1170 * 56;
        assert_eq!(plan(&image).map(|p| p.phnum()), Ok(1170));
    }

    /// Section headers are never read: garbage there does not matter (as in Linux).
    #[test]
    fn section_headers_are_ignored() {
        let mut bytes = ElfImage::exec().bytes();
        bytes[40..48].copy_from_slice(&u64::MAX.to_le_bytes()); // e_shoff
        bytes[58..64].fill(0xff); // e_shentsize, e_shnum, e_shstrndx
        assert!(LoadPlan::new(&bytes, 0).is_ok());
    }

    /// Each inconsistent PT_LOAD is ENOEXEC, never a panic or a wrapped address.
    #[test]
    fn inconsistent_segments() {
        type Case = (fn(&mut ElfImage), NoExecReason);
        let cases: [Case; 11] = [
            (
                |i| i.phdrs[3].filesz = 0x124,
                NoExecReason::SegmentBeyondFile,
            ),
            (
                |i| i.phdrs[3].offset = u64::MAX - 0x100,
                NoExecReason::SegmentBeyondFile,
            ),
            (
                |i| i.phdrs[3].filesz = 0x3000,
                NoExecReason::FileSizeOverMemSize,
            ),
            (|i| i.phdrs[3].vaddr += 8, NoExecReason::Misaligned),
            (
                |i| i.phdrs[3].memsz = u64::MAX - 0x40_1000,
                NoExecReason::OutsideUserSpace,
            ),
            (
                |i| i.phdrs[3].vaddr = USER_END - 0x1000,
                NoExecReason::OutsideUserSpace,
            ),
            (|i| i.phdrs[1].vaddr = 0, NoExecReason::OutsideUserSpace),
            (|i| i.phdrs[2].vaddr = 0x40_0000, NoExecReason::Overlap),
            (
                |i| i.phdrs[2].flags = PF_R | PF_W | PF_X,
                NoExecReason::WritableAndExecutable,
            ),
            (
                |i| i.phdrs.iter_mut().for_each(|p| p.p_type = PT_PHDR),
                NoExecReason::NoLoadSegments,
            ),
            (
                |i| {
                    i.phdrs.iter_mut().for_each(|p| {
                        p.memsz = 0;
                        p.filesz = 0
                    })
                },
                NoExecReason::NoLoadSegments,
            ),
        ];
        for (change, reason) in cases {
            let mut image = ElfImage::exec();
            change(&mut image);
            assert_eq!(refused(&image), reason, "{image:?}");
        }
    }

    /// Segments may come in any order; the plan lists them by address. Overlap is found
    /// whatever the order.
    #[test]
    fn unsorted_segments() {
        let mut image = ElfImage::exec();
        image.phdrs.swap(1, 3);
        let starts: Vec<u64> = plan(&image)
            .unwrap()
            .segments()
            .iter()
            .map(|s| s.pages().start)
            .collect();
        assert_eq!(starts, [0x40_0000, 0x40_1000, 0x40_2000]);
        // The RW segment (now first in the table) moved into the RX segment's page.
        image.phdrs[1].vaddr = 0x40_1000;
        image.phdrs[1].offset = 0x1000;
        assert_eq!(refused(&image), NoExecReason::Overlap);
    }

    /// A segment without file bytes is all zero and needs no file alignment.
    #[test]
    fn segment_without_file_bytes() {
        let mut image = ElfImage::exec();
        image.phdrs[3].filesz = 0;
        image.phdrs[3].offset = 0x7777;
        let plan = plan(&image).unwrap();
        let bss = &plan.segments()[2];
        assert_eq!(bss.file(), 0..0);
        assert_eq!(bss.zero_from(), 0x40_2000);
        assert_eq!(bss.file_pages(), 0x40_2000..0x40_2000);
        assert_eq!(bss.anon_pages(), 0x40_2000..0x40_5000);
    }

    /// PT_GNU_STACK with PF_X is accepted and recorded; the last one wins.
    #[test]
    fn executable_stack_request_is_recorded() {
        let mut image = ElfImage::exec();
        image.phdrs[4].flags = PF_R | PF_W | PF_X;
        assert!(plan(&image).unwrap().executable_stack());
        let mut second = image.phdrs[4];
        second.flags = PF_R | PF_W;
        image.phdrs.push(second);
        image.phnum += 1;
        assert!(!plan(&image).unwrap().executable_stack());
    }

    /// AT_PHDR: the PT_LOAD holding e_phoff; else PT_PHDR; else the bare bias (Linux).
    #[test]
    fn phdr_address_sources() {
        // Headers in the second page, which no PT_LOAD maps.
        let mut image = ElfImage::exec();
        image.phoff = 0x1800;
        image.len = 0x3000;
        image.phdrs[3].filesz = 0x1000;
        image.phdrs[0].vaddr = 0x40_1800;
        assert_eq!(plan(&image).unwrap().phdr(), 0x40_1800);
        image.phdrs[0].p_type = PT_NOTE_TYPE;
        assert_eq!(plan(&image).unwrap().phdr(), 0);
        // Headers inside the RX segment's file range: found there.
        image.phdrs[2].filesz = 0x900;
        image.phdrs[2].memsz = 0x900;
        assert_eq!(plan(&image).unwrap().phdr(), 0x40_1800);
    }

    const PT_NOTE_TYPE: u32 = linux_raw_sys::elf_uapi::PT_NOTE;
}
