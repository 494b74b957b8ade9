//! The Root System Description Pointer: where the table tree starts.
//!
//! Layout: signature "RSD PTR " @0, checksum u8 @8 (over bytes 0..20), OEM id\[6\] @9,
//! revision u8 @15, RSDT address u32 @16; from revision 2 on: length u32 @20, XSDT
//! address u64 @24, extended checksum u8 @32 (over all `length` bytes), 3 reserved bytes.
//!
//! PVH loaders pass the RSDP's address; on legacy BIOS boots it has to be searched for on
//! a 16-byte boundary in the first KiB of the EBDA or in `0xE0000..0x100000`.

use alloc::vec;

use crate::phys::read_array;
use crate::wire::{array_at, u32_at, u64_at, u8_at};
use crate::{FwError, PhysRead};

use super::sdt::checksum_ok;

/// The RSDP signature.
const SIGNATURE: &[u8; 8] = b"RSD PTR ";
/// Size of the ACPI 1.0 RSDP.
const V1_LEN: usize = 20;
/// Size of the ACPI 2.0+ RSDP.
const V2_LEN: usize = 36;
/// Largest extended RSDP accepted (the structure is 36 bytes in every ACPI version).
const MAX_V2_LEN: u32 = 4096;

/// The validated contents of the RSDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rsdp {
    /// ACPI revision (0 for ACPI 1.0, 2 for 2.0 and later).
    pub revision: u8,
    /// OEM identifier.
    pub oem_id: [u8; 6],
    /// Physical address of the RSDT.
    pub rsdt_paddr: u32,
    /// Physical address of the XSDT (0 before revision 2).
    pub xsdt_paddr: u64,
}

impl Rsdp {
    /// Reads and validates the RSDP at `paddr`.
    pub fn read<M: PhysRead + ?Sized>(mem: &M, paddr: u64) -> Result<Self, FwError> {
        let v1: [u8; V1_LEN] = read_array(mem, paddr)?;
        if &v1[..8] != SIGNATURE {
            return Err(FwError::BadSignature { expected: *b"RSDP" });
        }
        if !checksum_ok(&v1) {
            return Err(FwError::BadChecksum { table: *b"RSDP" });
        }
        let revision = u8_at(&v1, 15).unwrap_or(0);
        let mut rsdp = Rsdp {
            revision,
            oem_id: array_at(&v1, 9).unwrap_or_default(),
            rsdt_paddr: u32_at(&v1, 16).unwrap_or(0),
            xsdt_paddr: 0,
        };
        if revision >= 2 {
            let head: [u8; V2_LEN] = read_array(mem, paddr)?;
            let length = u32_at(&head, 20).unwrap_or(0);
            if (length as usize) < V2_LEN || length > MAX_V2_LEN {
                return Err(FwError::BadLength {
                    table: *b"RSDP",
                    length,
                });
            }
            let mut full = vec![0u8; length as usize];
            mem.read(paddr, &mut full)?;
            if !checksum_ok(&full) {
                return Err(FwError::BadChecksum { table: *b"XRSD" });
            }
            rsdp.xsdt_paddr = u64_at(&head, 24).unwrap_or(0);
        }
        Ok(rsdp)
    }
}

/// Physical address of the 16-bit real-mode segment of the EBDA.
const EBDA_SEGMENT_PTR: u64 = 0x40e;
/// The BIOS read-only area searched for the RSDP.
const BIOS_AREA: core::ops::Range<u64> = 0xe_0000..0x10_0000;
/// Size of the chunks read while scanning.
const SCAN_CHUNK: usize = 1024;

/// Searches the legacy BIOS areas for a valid RSDP (for boots where the loader did not
/// pass its address) and returns its physical address.
pub fn find_rsdp<M: PhysRead + ?Sized>(mem: &M) -> Option<u64> {
    let ebda = read_array::<2, M>(mem, EBDA_SEGMENT_PTR)
        .map(|seg| u64::from(u16::from_le_bytes(seg)) << 4)
        .ok()
        .filter(|&ebda| ebda != 0);
    let ebda_area = ebda.map(|start| start..start + SCAN_CHUNK as u64);
    ebda_area
        .into_iter()
        .chain([BIOS_AREA])
        .find_map(|area| scan(mem, area))
}

/// Scans `area` in chunks for a 16-byte aligned, valid RSDP.
fn scan<M: PhysRead + ?Sized>(mem: &M, area: core::ops::Range<u64>) -> Option<u64> {
    let mut chunk = [0u8; SCAN_CHUNK];
    (area.start..area.end).step_by(SCAN_CHUNK).find_map(|base| {
        mem.read(base, &mut chunk).ok()?;
        (0..SCAN_CHUNK).step_by(16).find_map(|off| {
            let addr = base + off as u64;
            let hit = chunk[off..].starts_with(SIGNATURE) && Rsdp::read(mem, addr).is_ok();
            hit.then_some(addr)
        })
    })
}
