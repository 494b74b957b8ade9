//! Small ELF programs for tests and fuzz seeds (feature `fixtures`; the kernel never has it).
//!
//! [`ElfImage::exec`] and [`ElfImage::static_pie`] are complete programs that Linux runs:
//! their code is `exit(0)`. Tests change one field at a time to get each malformed case.
//! The headers are written with the `object` crate's ELF structures, not by hand.

use alloc::vec::Vec;
use linux_raw_sys::elf_uapi::{
    ELFCLASS64, ELFDATA2LSB, EM_X86_64, ET_DYN, ET_EXEC, EV_CURRENT, PF_R, PF_W, PF_X,
    PT_GNU_STACK, PT_LOAD, PT_PHDR,
};
use object::elf::{
    DataEncoding, FileClass, FileFlags, FileHeader64, FileType, FileVersion, Ident, Machine, OsAbi,
    ProgramFlags, ProgramHeader64, ProgramType, SymbolSection, ELFMAG,
};
use object::endian::{LittleEndian as LE, U16, U32, U64};
use object::pod::bytes_of;

/// `mov eax, 60; xor edi, edi; syscall`: `exit(0)`.
pub const EXIT_0: &[u8] = &[0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05];

/// One program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phdr {
    /// `p_type`.
    pub p_type: u32,
    /// `p_flags`.
    pub flags: u32,
    /// `p_offset`.
    pub offset: u64,
    /// `p_vaddr` (also written to `p_paddr`).
    pub vaddr: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
    /// `p_align`.
    pub align: u64,
}

impl Phdr {
    /// A `PT_LOAD` with page alignment.
    pub fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Self {
        Self {
            p_type: PT_LOAD,
            flags,
            offset,
            vaddr,
            filesz,
            memsz,
            align: 0x1000,
        }
    }
}

/// An ELF file to be written by [`bytes`](Self::bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfImage {
    /// `e_type`.
    pub e_type: u16,
    /// `e_machine`.
    pub machine: u16,
    /// `e_entry`.
    pub entry: u64,
    /// `e_phoff`.
    pub phoff: u64,
    /// `e_phentsize`.
    pub phentsize: u16,
    /// `e_phnum`, normally `phdrs.len()`.
    pub phnum: u16,
    /// The program headers, written at `phoff` (as far as the file reaches).
    pub phdrs: Vec<Phdr>,
    /// File length; the file is zero except for the headers and the code.
    pub len: usize,
    /// Where [`EXIT_0`] is written.
    pub code_offset: usize,
}

/// Where the fixtures' code is in the file: the second page.
const CODE: u64 = 0x1000;

impl ElfImage {
    /// A static `ET_EXEC` at 0x400000: headers (R), code (RX), data with a `.bss` that ends
    /// in the middle of a page (RW), and a non-executable `PT_GNU_STACK`.
    pub fn exec() -> Self {
        Self::with_base(ET_EXEC as u16, 0x40_0000)
    }

    /// The same program as a static-pie (`ET_DYN` linked at 0).
    pub fn static_pie() -> Self {
        Self::with_base(ET_DYN as u16, 0)
    }

    fn with_base(e_type: u16, base: u64) -> Self {
        let phdrs = alloc::vec![
            Phdr {
                p_type: PT_PHDR,
                flags: PF_R,
                offset: 64,
                vaddr: base + 64,
                filesz: 5 * 56,
                memsz: 5 * 56,
                align: 8,
            },
            Phdr::load(PF_R, 0, base, 0x200, 0x200),
            Phdr::load(PF_R | PF_X, CODE, base + CODE, 0x10, 0x10),
            Phdr::load(PF_R | PF_W, 0x2000, base + 0x2000, 0x123, 0x2345),
            Phdr {
                p_type: PT_GNU_STACK,
                flags: PF_R | PF_W,
                offset: 0,
                vaddr: 0,
                filesz: 0,
                memsz: 0,
                align: 16,
            },
        ];
        Self {
            e_type,
            machine: EM_X86_64 as u16,
            entry: base + CODE,
            phoff: 64,
            phentsize: 56,
            phnum: phdrs.len() as u16,
            phdrs,
            len: 0x2123,
            code_offset: CODE as usize,
        }
    }

    /// The file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let header = FileHeader64::<LE> {
            e_ident: Ident {
                magic: ELFMAG,
                class: FileClass(ELFCLASS64 as u8),
                data: DataEncoding(ELFDATA2LSB as u8),
                version: FileVersion(EV_CURRENT as u8),
                os_abi: OsAbi(0),
                abi_version: 0,
                padding: [0; 7],
            },
            e_type: U16::new(LE, FileType(self.e_type)),
            e_machine: U16::new(LE, Machine(self.machine)),
            e_version: U32::new(LE, EV_CURRENT),
            e_entry: U64::new(LE, self.entry),
            e_phoff: U64::new(LE, self.phoff),
            e_shoff: U64::new(LE, 0),
            e_flags: U32::new(LE, FileFlags(0)),
            e_ehsize: U16::new(LE, 64),
            e_phentsize: U16::new(LE, self.phentsize),
            e_phnum: U16::new(LE, self.phnum),
            e_shentsize: U16::new(LE, 64),
            e_shnum: U16::new(LE, 0),
            e_shstrndx: U16::new(LE, SymbolSection(0)),
        };
        let mut file = alloc::vec![0u8; self.len];
        write(&mut file, 0, bytes_of(&header));
        write(&mut file, self.code_offset, EXIT_0);
        let mut at = usize::try_from(self.phoff).unwrap_or(usize::MAX);
        for ph in &self.phdrs {
            let raw = ProgramHeader64::<LE> {
                p_type: U32::new(LE, ProgramType(ph.p_type)),
                p_flags: U32::new(LE, ProgramFlags(ph.flags)),
                p_offset: U64::new(LE, ph.offset),
                p_vaddr: U64::new(LE, ph.vaddr),
                p_paddr: U64::new(LE, ph.vaddr),
                p_filesz: U64::new(LE, ph.filesz),
                p_memsz: U64::new(LE, ph.memsz),
                p_align: U64::new(LE, ph.align),
            };
            write(&mut file, at, bytes_of(&raw));
            at = at.saturating_add(56);
        }
        file
    }
}

/// Copies as much of `data` to `file[at..]` as fits.
fn write(file: &mut [u8], at: usize, data: &[u8]) {
    if let Some(dest) = file.get_mut(at..) {
        let n = dest.len().min(data.len());
        dest[..n].copy_from_slice(&data[..n]);
    }
}
