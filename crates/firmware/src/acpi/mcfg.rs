//! The MCFG table: the memory-mapped (ECAM) PCI Express configuration space regions.
//!
//! Layout: 36-byte header, 8 reserved bytes, then 16-byte entries: base address u64 @0,
//! PCI segment group u16 @8, start bus u8 @10, end bus u8 @11, 4 reserved bytes.

use alloc::vec::Vec;

use crate::wire::{u16_at, u64_at, u8_at};
use crate::FwError;

/// Offset of the first entry.
const ENTRIES_OFFSET: usize = 44;
/// Size of one entry.
const ENTRY_LEN: usize = 16;

/// One ECAM region: configuration space of buses `bus_start..=bus_end` of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McfgEntry {
    /// Physical address of the ECAM region (the configuration space of bus 0 of the
    /// segment, even when `bus_start` is not 0).
    pub base_address: u64,
    /// PCI segment group number.
    pub segment: u16,
    /// First bus decoded by this region.
    pub bus_start: u8,
    /// Last bus decoded by this region.
    pub bus_end: u8,
}

/// Parses a checksummed MCFG table. Fails if the entries are not a whole number of
/// 16-byte records or an entry's bus range is reversed.
pub(crate) fn parse(table: &[u8]) -> Result<Vec<McfgEntry>, FwError> {
    let entries = table
        .get(ENTRIES_OFFSET..)
        .ok_or(FwError::Malformed("MCFG shorter than its fixed part"))?;
    if entries.len() % ENTRY_LEN != 0 {
        return Err(FwError::Malformed("MCFG entries are not 16-byte records"));
    }
    entries
        .chunks_exact(ENTRY_LEN)
        .map(|e| {
            let entry = McfgEntry {
                base_address: u64_at(e, 0).unwrap_or(0),
                segment: u16_at(e, 8).unwrap_or(0),
                bus_start: u8_at(e, 10).unwrap_or(0),
                bus_end: u8_at(e, 11).unwrap_or(0),
            };
            if entry.bus_start > entry.bus_end {
                return Err(FwError::Malformed(
                    "MCFG entry with end bus before start bus",
                ));
            }
            Ok(entry)
        })
        .collect()
}
