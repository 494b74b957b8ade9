//! The HPET description table: where the High Precision Event Timer's registers are.
//!
//! Layout after the 36-byte header: event timer block id u32 @36, base address as a
//! Generic Address Structure @40 (address space id u8, register bit width u8, register
//! bit offset u8, access size u8, address u64 @44), HPET number u8 @52, minimum clock
//! tick u16 @53, page protection u8 @55. Total 56 bytes.

use crate::wire::{u16_at, u32_at, u64_at, u8_at};
use crate::FwError;

/// Size of the HPET table.
const LEN: usize = 56;

/// The HPET table's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hpet {
    /// Hardware id of the event timer block (vendor id in the top 16 bits).
    pub event_timer_block_id: u32,
    /// Address space of `base_address` (0: system memory, 1: system I/O).
    pub address_space: u8,
    /// Physical address of the register block.
    pub base_address: u64,
    /// Sequence number of this HPET.
    pub hpet_number: u8,
    /// Minimum tick in periodic mode, in main counter ticks.
    pub min_clock_tick: u16,
}

impl Hpet {
    /// Parses a checksummed HPET table.
    pub(crate) fn parse(table: &[u8]) -> Result<Self, FwError> {
        let short = FwError::Malformed("HPET table shorter than 56 bytes");
        if table.len() < LEN {
            return Err(short);
        }
        Ok(Hpet {
            event_timer_block_id: u32_at(table, 36).ok_or(short)?,
            address_space: u8_at(table, 40).ok_or(short)?,
            base_address: u64_at(table, 44).ok_or(short)?,
            hpet_number: u8_at(table, 52).ok_or(short)?,
            min_clock_tick: u16_at(table, 53).ok_or(short)?,
        })
    }
}
