//! The common header of every ACPI system description table, and reading a whole table.
//!
//! Header layout (36 bytes): signature\[4\] @0, length u32 @4, revision u8 @8,
//! checksum u8 @9, OEM id\[6\] @10, OEM table id\[8\] @16, OEM revision u32 @24,
//! creator id u32 @28, creator revision u32 @32. A table is valid when all `length`
//! bytes sum to zero modulo 256.

use alloc::vec;
use alloc::vec::Vec;

use crate::phys::read_array;
use crate::wire::{array_at, u32_at};
use crate::{FwError, PhysRead};

/// Size of the common table header.
pub(crate) const HEADER_LEN: usize = 36;

/// Largest table accepted. Real MADTs, HPETs and MCFGs are well under a page; the cap
/// stops a corrupt length field from making the kernel allocate gigabytes.
pub const MAX_TABLE_LEN: u32 = 1 << 20;

/// True if `bytes` sum to zero modulo 256.
pub(crate) fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |acc, &b| acc.wrapping_add(b)) == 0
}

/// Reads just the signature and length of the table at `paddr`.
pub(crate) fn read_signature_and_length<M: PhysRead + ?Sized>(
    mem: &M,
    paddr: u64,
) -> Result<([u8; 4], u32), FwError> {
    let head: [u8; 8] = read_array(mem, paddr)?;
    let signature = array_at(&head, 0).unwrap_or_default();
    Ok((signature, u32_at(&head, 4).unwrap_or(0)))
}

/// Reads the whole table at `paddr`, checking it carries `signature`, has a plausible
/// length and a correct checksum.
pub(crate) fn read_table<M: PhysRead + ?Sized>(
    mem: &M,
    paddr: u64,
    signature: [u8; 4],
) -> Result<Vec<u8>, FwError> {
    let (found, length) = read_signature_and_length(mem, paddr)?;
    if found != signature {
        return Err(FwError::BadSignature {
            expected: signature,
        });
    }
    if (length as usize) < HEADER_LEN || length > MAX_TABLE_LEN {
        return Err(FwError::BadLength {
            table: signature,
            length,
        });
    }
    let mut bytes = vec![0u8; length as usize];
    mem.read(paddr, &mut bytes)?;
    if !checksum_ok(&bytes) {
        return Err(FwError::BadChecksum { table: signature });
    }
    Ok(bytes)
}
