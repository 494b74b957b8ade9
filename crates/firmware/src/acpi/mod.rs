//! ACPI: from the RSDP to the tables the kernel needs (MADT, HPET, MCFG).
//!
//! [`AcpiTables::from_rsdp`] validates the RSDP, follows the XSDT (ACPI 2.0+, 64-bit
//! pointers) or else the RSDT (32-bit pointers), checks that table's checksum, and records
//! the signature and address of every table it lists. Individual tables are read and
//! checksummed only when asked for, so a corrupt table the kernel does not use cannot stop
//! boot. Listed tables whose header cannot even be read are counted in
//! [`AcpiTables::unreadable_entries`] and dropped.
//!
//! Tables are copied into a `Vec` before parsing, so parsers work on a bounded, checked
//! byte slice and never chase a length field through physical memory.

mod hpet;
mod madt;
mod mcfg;
mod rsdp;
mod sdt;

use alloc::vec::Vec;

pub use hpet::Hpet;
pub use madt::{Cpu, IoApic, IrqOverride, LocalApicNmi, Madt, NmiSource, Polarity, TriggerMode};
pub use mcfg::McfgEntry;
pub use rsdp::find_rsdp;
pub use sdt::MAX_TABLE_LEN;

use crate::wire::{u32_at, u64_at};
use crate::{FwError, PhysRead};
use rsdp::Rsdp;
use sdt::{read_signature_and_length, read_table, HEADER_LEN};

/// Where one table listed by the RSDT/XSDT lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableRef {
    /// The table's four-byte signature, e.g. `*b"APIC"`.
    pub signature: [u8; 4],
    /// Physical address of the table header.
    pub paddr: u64,
    /// The table's length field (not yet validated).
    pub length: u32,
}

/// The list of ACPI tables reachable from a valid RSDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcpiTables {
    /// RSDP revision (0: ACPI 1.0 with an RSDT; 2 or more: ACPI 2.0+).
    pub revision: u8,
    /// The OEM identifier from the RSDP.
    pub oem_id: [u8; 6],
    /// True if the tables were listed by the XSDT, false for the RSDT.
    pub uses_xsdt: bool,
    /// Number of listed tables whose header could not be read (dropped).
    pub unreadable_entries: u32,
    tables: Vec<TableRef>,
}

impl AcpiTables {
    /// Validates the RSDP at `rsdp_paddr` and the RSDT or XSDT it points to, and lists
    /// their tables.
    pub fn from_rsdp<M: PhysRead + ?Sized>(mem: &M, rsdp_paddr: u64) -> Result<Self, FwError> {
        let rsdp = Rsdp::read(mem, rsdp_paddr)?;
        let uses_xsdt = rsdp.revision >= 2 && rsdp.xsdt_paddr != 0;
        let (root, signature, pointer_size) = if uses_xsdt {
            (rsdp.xsdt_paddr, *b"XSDT", 8)
        } else {
            (u64::from(rsdp.rsdt_paddr), *b"RSDT", 4)
        };
        let root_table = read_table(mem, root, signature)?;
        let pointers = &root_table[HEADER_LEN..];
        if pointers.len() % pointer_size != 0 {
            return Err(FwError::Malformed(
                "RSDT/XSDT length is not a whole number of pointers",
            ));
        }
        let mut tables = Vec::with_capacity(pointers.len() / pointer_size);
        let mut unreadable_entries = 0;
        for off in (0..pointers.len()).step_by(pointer_size) {
            let paddr = if uses_xsdt {
                u64_at(pointers, off)
            } else {
                u32_at(pointers, off).map(u64::from)
            }
            .unwrap_or(0);
            match read_signature_and_length(mem, paddr) {
                Ok((signature, length)) => tables.push(TableRef {
                    signature,
                    paddr,
                    length,
                }),
                Err(_) => unreadable_entries += 1,
            }
        }
        Ok(AcpiTables {
            revision: rsdp.revision,
            oem_id: rsdp.oem_id,
            uses_xsdt,
            unreadable_entries,
            tables,
        })
    }

    /// Every table listed, in RSDT/XSDT order.
    pub fn tables(&self) -> &[TableRef] {
        &self.tables
    }

    /// The first listed table with this signature.
    pub fn find(&self, signature: [u8; 4]) -> Option<&TableRef> {
        self.tables.iter().find(|t| t.signature == signature)
    }

    /// Reads the first table with this signature in full, with its length and checksum
    /// validated. Fails with [`FwError::TableNotFound`] if none is listed.
    pub fn table_bytes<M: PhysRead + ?Sized>(
        &self,
        mem: &M,
        signature: [u8; 4],
    ) -> Result<Vec<u8>, FwError> {
        let table = self
            .find(signature)
            .ok_or(FwError::TableNotFound(signature))?;
        read_table(mem, table.paddr, signature)
    }

    /// Reads and parses the MADT (signature `APIC`), which every SMP x86 system has.
    pub fn madt<M: PhysRead + ?Sized>(&self, mem: &M) -> Result<Madt, FwError> {
        Madt::parse(&self.table_bytes(mem, *b"APIC")?)
    }

    /// Reads and parses the HPET table, `None` if there is none.
    pub fn hpet<M: PhysRead + ?Sized>(&self, mem: &M) -> Result<Option<Hpet>, FwError> {
        self.optional(mem, *b"HPET", Hpet::parse)
    }

    /// Reads the MCFG table's PCI Express configuration regions, `None` if there is no
    /// MCFG (e.g. QEMU's i440fx machine; q35 has one).
    pub fn mcfg<M: PhysRead + ?Sized>(&self, mem: &M) -> Result<Option<Vec<McfgEntry>>, FwError> {
        self.optional(mem, *b"MCFG", mcfg::parse)
    }

    /// Parses an optional table with `parse`.
    fn optional<M: PhysRead + ?Sized, T>(
        &self,
        mem: &M,
        signature: [u8; 4],
        parse: fn(&[u8]) -> Result<T, FwError>,
    ) -> Result<Option<T>, FwError> {
        match self.table_bytes(mem, signature) {
            Ok(bytes) => parse(&bytes).map(Some),
            Err(FwError::TableNotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests;
