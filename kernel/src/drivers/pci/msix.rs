//! MSI-X: a table of per-interrupt (address, data, mask) entries in one of the
//! function's memory BARs, described by the MSI-X capability.
//!
//! Bring-up order: [`Msix::map`] (enables MSI-X with the whole function masked, so no
//! half-programmed entry can fire), [`Msix::program`] each entry used, then
//! [`Msix::unmask_function`]. Entries start masked and are unmasked once programmed.
use super::bar::Bar;
use super::config::Address;
use super::Device;
use crate::arch::msi::Message;
use crate::mm::mmio::IoMem;

const CONTROL: u8 = 2;
const TABLE: u8 = 4;
const PBA: u8 = 8;
const CONTROL_ENABLE: u16 = 1 << 15;
const CONTROL_FUNCTION_MASK: u16 = 1 << 14;
const ENTRY_SIZE: u64 = 16;
const VECTOR_CONTROL_MASKED: u32 = 1;

/// What the MSI-X capability says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsixInfo {
    /// Offset of the capability in configuration space.
    pub cap: u8,
    /// Number of table entries.
    pub table_size: u16,
    pub table_bar: u8,
    pub table_offset: u32,
    pub pba_bar: u8,
    pub pba_offset: u32,
}

impl MsixInfo {
    pub fn read(addr: Address, cap: u8) -> MsixInfo {
        let control = addr.read16(cap + CONTROL);
        let table = addr.read32(cap + TABLE);
        let pba = addr.read32(cap + PBA);
        MsixInfo {
            cap,
            table_size: (control & 0x7ff) + 1,
            table_bar: (table & 7) as u8,
            table_offset: table & !7,
            pba_bar: (pba & 7) as u8,
            pba_offset: pba & !7,
        }
    }
}

/// Why MSI-X could not be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsixError {
    NoCapability,
    /// The table's BAR is missing or not a memory BAR.
    BadTableBar(u8),
    /// The table does not fit inside its BAR.
    TableOutsideBar,
}

impl core::fmt::Display for MsixError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MsixError::NoCapability => f.write_str("no MSI-X capability"),
            MsixError::BadTableBar(bar) => write!(f, "MSI-X table in unusable BAR{bar}"),
            MsixError::TableOutsideBar => f.write_str("MSI-X table outside its BAR"),
        }
    }
}

/// A function's mapped MSI-X table.
pub struct Msix {
    addr: Address,
    info: MsixInfo,
    table: IoMem,
}

impl Msix {
    /// Maps the table, masks every entry and enables MSI-X with the function masked.
    pub fn map(dev: &Device) -> Result<Msix, MsixError> {
        let info = dev.msix.ok_or(MsixError::NoCapability)?;
        let Some(Bar::Memory { base, size, .. }) =
            dev.bars.get(usize::from(info.table_bar)).copied().flatten()
        else {
            return Err(MsixError::BadTableBar(info.table_bar));
        };
        let len = u64::from(info.table_size) * ENTRY_SIZE;
        if u64::from(info.table_offset) + len > size {
            return Err(MsixError::TableOutsideBar);
        }
        let table = IoMem::map(base + u64::from(info.table_offset), len);
        let msix = Msix {
            addr: dev.addr,
            info,
            table,
        };
        let control = dev.addr.read16(info.cap + CONTROL);
        dev.addr.write16(
            info.cap + CONTROL,
            control | CONTROL_ENABLE | CONTROL_FUNCTION_MASK,
        );
        for entry in 0..info.table_size {
            msix.set_masked(entry, true);
        }
        Ok(msix)
    }

    pub fn table_size(&self) -> u16 {
        self.info.table_size
    }

    /// Offset of register `reg` of table entry `entry`.
    fn entry_reg(&self, entry: u16, reg: u64) -> u64 {
        assert!(
            entry < self.info.table_size,
            "MSI-X entry {entry} beyond the table"
        );
        u64::from(entry) * ENTRY_SIZE + reg
    }

    fn write(&self, entry: u16, reg: u64, v: u32) {
        self.table.write(self.entry_reg(entry, reg), v);
    }

    fn read(&self, entry: u16, reg: u64) -> u32 {
        self.table.read(self.entry_reg(entry, reg))
    }

    /// Points `entry` at `msg` and unmasks it.
    pub fn program(&self, entry: u16, msg: Message) {
        self.set_masked(entry, true);
        self.write(entry, 0, msg.address as u32);
        self.write(entry, 4, (msg.address >> 32) as u32);
        self.write(entry, 8, msg.data);
        self.set_masked(entry, false);
    }

    /// Masks or unmasks one entry (a masked entry's interrupts stay pending).
    pub fn set_masked(&self, entry: u16, masked: bool) {
        let control = self.read(entry, 12);
        let control = if masked {
            control | VECTOR_CONTROL_MASKED
        } else {
            control & !VECTOR_CONTROL_MASKED
        };
        self.write(entry, 12, control);
    }

    /// Lets the programmed entries fire.
    pub fn unmask_function(&self) {
        let control = self.addr.read16(self.info.cap + CONTROL);
        self.addr
            .write16(self.info.cap + CONTROL, control & !CONTROL_FUNCTION_MASK);
    }
}
