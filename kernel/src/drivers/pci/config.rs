//! PCI configuration space through the legacy port pair 0xcf8 (address) / 0xcfc (data),
//! "configuration mechanism #1": the first 256 bytes of every function, which hold all
//! the header fields and capabilities this kernel uses. (ECAM, from ACPI's MCFG, would
//! add the 4 KiB extended space; nothing needs it yet.)
//!
//! The address write and the data access are two steps, so they happen under one lock.
use core::arch::asm;
use core::fmt;

use crate::arch::cpu::outl;
use crate::sync::{IrqLock, LockClass};

const ADDRESS_PORT: u16 = 0xcf8;
const DATA_PORT: u16 = 0xcfc;

static PORTS_CLASS: LockClass = LockClass::new("pci.config_ports");
static PORTS: IrqLock<()> = IrqLock::new((), &PORTS_CLASS);

/// A PCI function's location, printed as `bb:dd.f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Address {
    pub bus: u8,
    pub device: u8,
    pub function: u8,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

impl Address {
    fn port_value(&self, offset: u8) -> u32 {
        (1 << 31)
            | (u32::from(self.bus) << 16)
            | (u32::from(self.device & 0x1f) << 11)
            | (u32::from(self.function & 7) << 8)
            | u32::from(offset & 0xfc)
    }

    /// The aligned dword containing `offset`.
    pub fn read32(&self, offset: u8) -> u32 {
        let _ports = PORTS.lock();
        let v: u32;
        // SAFETY: 0xcf8/0xcfc belong to the PCI host bridge and are used only here,
        // under PORTS; a configuration read has no side effects on the devices we know.
        unsafe {
            outl(ADDRESS_PORT, self.port_value(offset));
            asm!("in eax, dx", out("eax") v, in("dx") DATA_PORT, options(nomem, nostack, preserves_flags));
        }
        v
    }

    pub fn write32(&self, offset: u8, v: u32) {
        let _ports = PORTS.lock();
        // SAFETY: as in `read32`; callers write only registers whose effect they own.
        unsafe {
            outl(ADDRESS_PORT, self.port_value(offset));
            outl(DATA_PORT, v);
        }
    }

    pub fn read16(&self, offset: u8) -> u16 {
        (self.read32(offset) >> ((offset & 2) * 8)) as u16
    }

    pub fn read8(&self, offset: u8) -> u8 {
        (self.read32(offset) >> ((offset & 3) * 8)) as u8
    }

    /// Writes a 16-bit register as part of its dword. Only for registers whose
    /// neighbour in the dword is harmless to write back (not the status register,
    /// whose bits are write-one-to-clear).
    pub fn write16(&self, offset: u8, v: u16) {
        let shift = (offset & 2) * 8;
        let old = self.read32(offset);
        self.write32(offset, (old & !(0xffff << shift)) | (u32::from(v) << shift));
    }
}
