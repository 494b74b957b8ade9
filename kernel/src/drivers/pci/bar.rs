//! Base Address Registers: where a function's memory or I/O windows are, and how big.
//!
//! The firmware (SeaBIOS, before it starts the kernel) has already assigned addresses; we
//! only decode them. A BAR's size is found the standard way: with the function's decoding
//! switched off, write all ones, read back which address bits stuck, restore.
use core::fmt;

use super::config::Address;
use super::{command, set_command, COMMAND_IO, COMMAND_MEMORY};

const BAR0: u8 = 0x10;

/// One decoded BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bar {
    Memory {
        base: u64,
        size: u64,
        prefetchable: bool,
        is_64bit: bool,
    },
    Io {
        port: u32,
        size: u32,
    },
}

impl fmt::Display for Bar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Bar::Memory {
                base,
                size,
                prefetchable,
                is_64bit,
            } => write!(
                f,
                "mem{} {base:#x} size {size:#x}{}",
                if is_64bit { 64 } else { 32 },
                if prefetchable { " prefetchable" } else { "" }
            ),
            Bar::Io { port, size } => write!(f, "io {port:#x} size {size:#x}"),
        }
    }
}

/// Decodes the first `count` BARs (6 for a device, 2 for a bridge). A 64-bit BAR takes
/// two slots; the upper slot stays `None`. `keep_decoding` leaves the function's decoding
/// on while sizing: for host and ISA bridges, which route the legacy I/O ports (the
/// console among them) and have no BARs worth the risk.
pub fn read_all(addr: Address, count: usize, keep_decoding: bool) -> [Option<Bar>; 6] {
    let mut bars = [None; 6];
    let saved = command(addr);
    if !keep_decoding {
        set_command(addr, saved & !(COMMAND_MEMORY | COMMAND_IO));
    }
    let mut i = 0;
    while i < count {
        let (bar, slots) = read_one(addr, i, count);
        bars[i] = bar;
        i += slots;
    }
    if !keep_decoding {
        set_command(addr, saved);
    }
    bars
}

/// Decodes BAR `i`; returns it and the number of slots it uses.
fn read_one(addr: Address, i: usize, count: usize) -> (Option<Bar>, usize) {
    let off = BAR0 + 4 * i as u8;
    let low = addr.read32(off);
    let low_mask = probe(addr, off, low);
    if low & 1 == 1 {
        let mask = low_mask & !0x3;
        let size = (!mask).wrapping_add(1) & 0xffff;
        return (
            if mask == 0 {
                None
            } else {
                Some(Bar::Io {
                    port: low & !0x3,
                    size,
                })
            },
            1,
        );
    }
    let is_64bit = (low >> 1) & 3 == 2;
    let prefetchable = low & 0x8 != 0;
    let (base, mask) = if is_64bit && i + 1 < count {
        let high = addr.read32(off + 4);
        let high_mask = probe(addr, off + 4, high);
        (
            (u64::from(high) << 32) | u64::from(low & !0xf),
            (u64::from(high_mask) << 32) | u64::from(low_mask & !0xf),
        )
    } else {
        (
            u64::from(low & !0xf),
            u64::from(low_mask & !0xf) | 0xffff_ffff_0000_0000,
        )
    };
    let slots = if is_64bit { 2 } else { 1 };
    if mask & 0xffff_ffff == 0 && !is_64bit {
        return (None, slots); // unimplemented BAR
    }
    let size = (!mask).wrapping_add(1);
    (
        if size == 0 {
            None
        } else {
            Some(Bar::Memory {
                base,
                size,
                prefetchable,
                is_64bit,
            })
        },
        slots,
    )
}

/// Writes all ones to the BAR dword at `off`, returns what stuck, restores `original`.
fn probe(addr: Address, off: u8, original: u32) -> u32 {
    addr.write32(off, u32::MAX);
    let mask = addr.read32(off);
    addr.write32(off, original);
    mask
}
