//! The capability list: a linked list in configuration space, from the pointer at 0x34,
//! of blocks each starting with an id and the offset of the next.
//!
//! The walk is bounded (a looping list from a broken device cannot hang the kernel) and
//! only follows pointers into the device-specific area (0x40..=0xfc, dword-aligned).
use alloc::vec::Vec;

use super::config::Address;

/// Message-signalled interrupts.
pub const ID_MSI: u8 = 0x05;
/// Vendor-specific (virtio keeps its structure locations here).
pub const ID_VENDOR: u8 = 0x09;
/// MSI-X.
pub const ID_MSIX: u8 = 0x11;

const STATUS: u8 = 0x06;
const STATUS_CAPABILITIES: u16 = 1 << 4;
const CAPABILITIES_POINTER: u8 = 0x34;
/// At most this many entries fit in the 192 bytes after the header.
const MAX_CAPABILITIES: usize = 48;

/// One capability: its id and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    pub id: u8,
    pub offset: u8,
}

/// The function's capabilities, in list order.
pub fn list(addr: Address) -> Vec<Capability> {
    let mut caps = Vec::new();
    if addr.read16(STATUS) & STATUS_CAPABILITIES == 0 {
        return caps;
    }
    let mut offset = addr.read8(CAPABILITIES_POINTER) & 0xfc;
    while offset >= 0x40 && caps.len() < MAX_CAPABILITIES {
        let header = addr.read16(offset);
        caps.push(Capability {
            id: header as u8,
            offset,
        });
        offset = (header >> 8) as u8 & 0xfc;
    }
    caps
}
