//! The PVH boot protocol's `hvm_start_info` structure (Xen public header
//! `arch-x86/hvm/start_info.h`), which QEMU and Xen pass in `%ebx` at the PVH entry point.
//!
//! Layout (all little-endian; a zero address means "not present"):
//!
//! | offset | field            | size |
//! |--------|------------------|------|
//! | 0      | magic 0x336ec578 | 4    |
//! | 4      | version          | 4    |
//! | 8      | flags            | 4    |
//! | 12     | nr_modules       | 4    |
//! | 16     | modlist_paddr    | 8    |
//! | 24     | cmdline_paddr    | 8    |
//! | 32     | rsdp_paddr       | 8    |
//! | 40     | memmap_paddr     | 8    | (version >= 1)
//! | 48     | memmap_entries   | 4    | (version >= 1)
//! | 52     | reserved         | 4    | (version >= 1)
//!
//! Module list entries are 32 bytes (paddr, size, cmdline_paddr, reserved; all u64), memory
//! map entries 24 bytes (addr u64, size u64, type u32, reserved u32).
//!
//! [`StartInfo::read`] copies the fixed part once; the lists are read lazily through
//! iterators so no allocation is needed this early in boot.

mod boot_data;

pub use boot_data::CMDLINE_RESERVE;

use crate::memmap::{MemoryRegion, RegionKind};
use crate::phys::{element_addr, read_array, read_cstr};
use crate::wire::{u32_at, u64_at};
use crate::{FwError, PhysRead};

/// The value of `hvm_start_info.magic`.
pub const START_INFO_MAGIC: u32 = 0x336e_c578;

/// Size of the version-0 structure (up to and including `rsdp_paddr`).
const V0_SIZE: usize = 40;
/// Size of the version-1 structure.
const V1_SIZE: usize = 56;
/// Size of one `hvm_memmap_table_entry`.
const MEMMAP_ENTRY_SIZE: usize = 24;
/// Size of one `hvm_modlist_entry`.
const MODLIST_ENTRY_SIZE: usize = 32;
/// The larger of the two entry sizes.
const MAX_ENTRY_SIZE: usize = 32;

/// The decoded fixed part of `hvm_start_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartInfo {
    /// Structure version (0 has no memory map; 1 adds it).
    pub version: u32,
    /// `SIF_*` flags.
    pub flags: u32,
    /// Number of entries in the module list.
    pub nr_modules: u32,
    /// Physical address of the module list (0: none).
    pub modlist_paddr: u64,
    /// Physical address of the NUL-terminated command line (0: none).
    pub cmdline_paddr: u64,
    /// Physical address of the ACPI RSDP (0: none).
    pub rsdp_paddr: u64,
    /// Physical address of the memory map (0: none; always 0 for version 0).
    pub memmap_paddr: u64,
    /// Number of memory map entries (always 0 for version 0).
    pub memmap_entries: u32,
}

/// One boot module (e.g. an initramfs passed with QEMU's `-initrd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Module {
    /// Physical address of the module's first byte.
    pub paddr: u64,
    /// Size in bytes.
    pub size: u64,
    /// Physical address of the module's NUL-terminated command line (0: none).
    pub cmdline_paddr: u64,
}

impl StartInfo {
    /// Reads and checks the start info at `paddr`.
    ///
    /// Fails on a wrong magic or an unreadable structure. Fields of versions newer than 1
    /// are ignored (the format is backwards compatible).
    pub fn read<M: PhysRead + ?Sized>(mem: &M, paddr: u64) -> Result<Self, FwError> {
        let head: [u8; V0_SIZE] = read_array(mem, paddr)?;
        let field32 = |off| u32_at(&head, off).unwrap_or(0);
        let field64 = |off| u64_at(&head, off).unwrap_or(0);
        let magic = field32(0);
        if magic != START_INFO_MAGIC {
            return Err(FwError::BadMagic { found: magic });
        }
        let version = field32(4);
        let (memmap_paddr, memmap_entries) = if version >= 1 {
            let full: [u8; V1_SIZE] = read_array(mem, paddr)?;
            (
                u64_at(&full, 40).unwrap_or(0),
                u32_at(&full, 48).unwrap_or(0),
            )
        } else {
            (0, 0)
        };
        Ok(StartInfo {
            version,
            flags: field32(8),
            nr_modules: field32(12),
            modlist_paddr: field64(16),
            cmdline_paddr: field64(24),
            rsdp_paddr: field64(32),
            memmap_paddr,
            memmap_entries,
        })
    }

    /// The RSDP's physical address, if the hypervisor provided one.
    pub fn rsdp(&self) -> Option<u64> {
        (self.rsdp_paddr != 0).then_some(self.rsdp_paddr)
    }

    /// Iterates over the memory map (empty when absent). Each entry is read on demand;
    /// an unreadable entry yields an error.
    pub fn memory_map<'m, M: PhysRead + ?Sized>(&self, mem: &'m M) -> MemoryMapIter<'m, M> {
        EntryIter::new(
            mem,
            self.memmap_paddr,
            self.memmap_entries,
            MEMMAP_ENTRY_SIZE,
            decode_memmap_entry,
        )
    }

    /// Copies the memory map into `out`, returning how many entries were written, or the
    /// first error (including [`FwError::OutputFull`] if `out` is too short).
    pub fn memory_map_into<M: PhysRead + ?Sized>(
        &self,
        mem: &M,
        out: &mut [MemoryRegion],
    ) -> Result<usize, FwError> {
        let mut n = 0;
        for region in self.memory_map(mem) {
            *out.get_mut(n).ok_or(FwError::OutputFull)? = region?;
            n += 1;
        }
        Ok(n)
    }

    /// Iterates over the boot modules (empty when absent).
    pub fn modules<'m, M: PhysRead + ?Sized>(&self, mem: &'m M) -> ModuleIter<'m, M> {
        EntryIter::new(
            mem,
            self.modlist_paddr,
            self.nr_modules,
            MODLIST_ENTRY_SIZE,
            decode_module,
        )
    }

    /// Reads the kernel command line into `buf` and returns it; an absent command line
    /// is the empty string. Fails if it is not NUL-terminated within `buf.len()` bytes or
    /// not UTF-8.
    pub fn cmdline<'b, M: PhysRead + ?Sized>(
        &self,
        mem: &M,
        buf: &'b mut [u8],
    ) -> Result<&'b str, FwError> {
        read_optional_cstr(mem, self.cmdline_paddr, buf)
    }
}

impl Module {
    /// Reads the module's command line into `buf` (empty if absent); same rules as
    /// [`StartInfo::cmdline`].
    pub fn cmdline<'b, M: PhysRead + ?Sized>(
        &self,
        mem: &M,
        buf: &'b mut [u8],
    ) -> Result<&'b str, FwError> {
        read_optional_cstr(mem, self.cmdline_paddr, buf)
    }
}

/// Reads a C string whose address may be 0 for "none".
fn read_optional_cstr<'b, M: PhysRead + ?Sized>(
    mem: &M,
    paddr: u64,
    buf: &'b mut [u8],
) -> Result<&'b str, FwError> {
    if paddr == 0 {
        return Ok("");
    }
    read_cstr(mem, paddr, buf)
}

/// Iterator over a PVH table of fixed-size entries, reading one entry per step; an
/// unreadable entry yields its error and ends the iteration.
pub struct EntryIter<'m, M: ?Sized, T> {
    mem: &'m M,
    base: u64,
    next: u32,
    count: u32,
    entry_size: usize,
    decode: fn(&[u8]) -> T,
}

impl<'m, M: ?Sized, T> EntryIter<'m, M, T> {
    /// `count` entries of `entry_size` bytes at physical address `base`; none when the
    /// address is 0 (the table is absent, whatever the count says).
    fn new(mem: &'m M, base: u64, count: u32, entry_size: usize, decode: fn(&[u8]) -> T) -> Self {
        let count = if base == 0 { 0 } else { count };
        EntryIter {
            mem,
            base,
            next: 0,
            count,
            entry_size,
            decode,
        }
    }
}

/// Iterator over the PVH memory map; see [`StartInfo::memory_map`].
pub type MemoryMapIter<'m, M> = EntryIter<'m, M, MemoryRegion>;

/// Iterator over the PVH module list; see [`StartInfo::modules`].
pub type ModuleIter<'m, M> = EntryIter<'m, M, Module>;

impl<M: PhysRead + ?Sized, T> Iterator for EntryIter<'_, M, T> {
    type Item = Result<T, FwError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        let mut raw = [0u8; MAX_ENTRY_SIZE];
        let entry = &mut raw[..self.entry_size];
        let read = element_addr(self.base, index.into(), self.entry_size as u64)
            .and_then(|paddr| self.mem.read(paddr, entry));
        match read {
            Ok(()) => Some(Ok((self.decode)(entry))),
            Err(e) => {
                self.next = self.count;
                Some(Err(e))
            }
        }
    }
}

/// Decodes an `hvm_memmap_table_entry`.
fn decode_memmap_entry(raw: &[u8]) -> MemoryRegion {
    MemoryRegion {
        start: u64_at(raw, 0).unwrap_or(0),
        len: u64_at(raw, 8).unwrap_or(0),
        kind: RegionKind::from_raw(u32_at(raw, 16).unwrap_or(0)),
    }
}

/// Decodes an `hvm_modlist_entry`.
fn decode_module(raw: &[u8]) -> Module {
    Module {
        paddr: u64_at(raw, 0).unwrap_or(0),
        size: u64_at(raw, 8).unwrap_or(0),
        cmdline_paddr: u64_at(raw, 16).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests;
