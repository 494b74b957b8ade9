//! The Multiple APIC Description Table (signature `APIC`): CPUs, IOAPICs and how legacy
//! IRQs are wired.
//!
//! Layout after the 36-byte header: local APIC address u32 @36, flags u32 @40 (bit 0:
//! PCAT_COMPAT, i.e. dual 8259 PICs present and to be masked), then variable-length
//! entries, each starting with type u8 and length u8. Entry types parsed here:
//!
//! | type | entry                      | len | fields                                            |
//! |------|----------------------------|-----|---------------------------------------------------|
//! | 0    | processor local APIC       | 8   | uid u8 @2, APIC id u8 @3, flags u32 @4            |
//! | 1    | I/O APIC                   | 12  | id u8 @2, address u32 @4, GSI base u32 @8         |
//! | 2    | interrupt source override  | 10  | bus u8 @2, source u8 @3, GSI u32 @4, flags u16 @8 |
//! | 3    | NMI source                 | 8   | flags u16 @2, GSI u32 @4                          |
//! | 4    | local APIC NMI             | 6   | uid u8 @2 (0xff: all), flags u16 @3, LINT u8 @5   |
//! | 5    | local APIC address override| 12  | address u64 @4                                    |
//! | 9    | processor local x2APIC     | 16  | x2APIC id u32 @4, flags u32 @8, uid u32 @12       |
//! | 10   | local x2APIC NMI           | 12  | flags u16 @2, uid u32 @4 (all ones: all), LINT @8 |
//!
//! Other types are skipped. A known entry shorter than its layout is counted in
//! [`Madt::skipped_entries`] and dropped; an entry whose length is below 2 or runs past
//! the table makes the whole table malformed, since nothing after it can be located.

use alloc::vec::Vec;

use crate::wire::{u16_at, u32_at, u64_at, u8_at};
use crate::FwError;

/// Offset of the first entry.
const ENTRIES_OFFSET: usize = 44;
/// MADT flag: the system also has dual-8259 PICs.
const PCAT_COMPAT: u32 = 1;
/// Processor flag: the CPU is enabled.
const CPU_ENABLED: u32 = 1 << 0;
/// Processor flag: the CPU is disabled now but can be brought online.
const CPU_ONLINE_CAPABLE: u32 = 1 << 1;

/// One processor (from a local APIC or local x2APIC entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cpu {
    /// ACPI processor UID (matches the processor objects in the namespace).
    pub acpi_uid: u32,
    /// The local APIC id (the x2APIC id for x2APIC entries).
    pub apic_id: u32,
    /// The processor is usable now.
    pub enabled: bool,
    /// The processor is not enabled but may be hot-plugged online.
    pub online_capable: bool,
    /// The entry was a local x2APIC entry (the id may exceed 255).
    pub x2apic: bool,
}

/// One I/O APIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoApic {
    /// I/O APIC id.
    pub id: u8,
    /// Physical address of its register window.
    pub address: u32,
    /// First global system interrupt it handles.
    pub gsi_base: u32,
}

/// Interrupt polarity from the MPS INTI flags (bits 0-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// As the bus specifies (ISA: active high).
    BusDefault,
    /// Active high.
    ActiveHigh,
    /// The reserved encoding 2.
    Reserved,
    /// Active low.
    ActiveLow,
}

/// Interrupt trigger mode from the MPS INTI flags (bits 2-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerMode {
    /// As the bus specifies (ISA: edge).
    BusDefault,
    /// Edge triggered.
    Edge,
    /// The reserved encoding 2.
    Reserved,
    /// Level triggered.
    Level,
}

impl Polarity {
    /// Decodes bits 0-1 of MPS INTI flags.
    pub fn from_inti_flags(flags: u16) -> Self {
        match flags & 3 {
            0 => Polarity::BusDefault,
            1 => Polarity::ActiveHigh,
            2 => Polarity::Reserved,
            _ => Polarity::ActiveLow,
        }
    }
}

impl TriggerMode {
    /// Decodes bits 2-3 of MPS INTI flags.
    pub fn from_inti_flags(flags: u16) -> Self {
        match (flags >> 2) & 3 {
            0 => TriggerMode::BusDefault,
            1 => TriggerMode::Edge,
            2 => TriggerMode::Reserved,
            _ => TriggerMode::Level,
        }
    }
}

/// A legacy (ISA) IRQ routed to a different GSI or with non-default polarity/trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IrqOverride {
    /// Bus (0: ISA).
    pub bus: u8,
    /// The bus-relative IRQ (e.g. 0 for the PIT).
    pub source_irq: u8,
    /// The global system interrupt it arrives on.
    pub gsi: u32,
    /// Signal polarity.
    pub polarity: Polarity,
    /// Trigger mode.
    pub trigger: TriggerMode,
}

/// A GSI that must be programmed as an NMI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NmiSource {
    /// The global system interrupt.
    pub gsi: u32,
    /// Signal polarity.
    pub polarity: Polarity,
    /// Trigger mode.
    pub trigger: TriggerMode,
}

/// A local APIC LINT pin wired to NMI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalApicNmi {
    /// ACPI UID of the processor, `None` for all processors.
    pub acpi_uid: Option<u32>,
    /// Signal polarity.
    pub polarity: Polarity,
    /// Trigger mode.
    pub trigger: TriggerMode,
    /// Local APIC LINT input (0 or 1).
    pub lint: u8,
}

/// The parsed MADT.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Madt {
    /// Physical address of the local APIC registers (the 64-bit override if present).
    pub local_apic_addr: u64,
    /// Dual 8259 PICs are present (they must be masked before using the IOAPIC).
    pub pcat_compat: bool,
    /// Processors, in table order.
    pub cpus: Vec<Cpu>,
    /// I/O APICs.
    pub ioapics: Vec<IoApic>,
    /// Interrupt source overrides.
    pub overrides: Vec<IrqOverride>,
    /// NMI sources.
    pub nmi_sources: Vec<NmiSource>,
    /// Local APIC NMI pins.
    pub local_nmis: Vec<LocalApicNmi>,
    /// Known entries dropped because they were shorter than their layout.
    pub skipped_entries: u32,
}

impl Madt {
    /// Parses a checksummed MADT.
    pub(crate) fn parse(table: &[u8]) -> Result<Self, FwError> {
        let (Some(lapic), Some(flags)) = (u32_at(table, 36), u32_at(table, 40)) else {
            return Err(FwError::Malformed("MADT shorter than its fixed part"));
        };
        let mut madt = Madt {
            local_apic_addr: u64::from(lapic),
            pcat_compat: flags & PCAT_COMPAT != 0,
            ..Madt::default()
        };
        let mut off = ENTRIES_OFFSET;
        while off < table.len() {
            let len = table.get(off + 1).map_or(0, |&l| usize::from(l));
            if len < 2 {
                return Err(FwError::Malformed("MADT entry shorter than its header"));
            }
            let entry = table
                .get(off..off + len)
                .ok_or(FwError::Malformed("MADT entry runs past the table"))?;
            if madt.add_entry(entry).is_none() {
                madt.skipped_entries += 1;
            }
            off += len;
        }
        Ok(madt)
    }

    /// Records one entry; `None` if a known entry is too short for its fields.
    fn add_entry(&mut self, e: &[u8]) -> Option<()> {
        match e[0] {
            0 => {
                let flags = u32_at(e, 4)?;
                self.cpus
                    .push(cpu(u8_at(e, 2)?.into(), u8_at(e, 3)?.into(), flags, false));
            }
            1 => self.ioapics.push(IoApic {
                id: u8_at(e, 2)?,
                address: u32_at(e, 4)?,
                gsi_base: u32_at(e, 8)?,
            }),
            2 => {
                let flags = u16_at(e, 8)?;
                self.overrides.push(IrqOverride {
                    bus: u8_at(e, 2)?,
                    source_irq: u8_at(e, 3)?,
                    gsi: u32_at(e, 4)?,
                    polarity: Polarity::from_inti_flags(flags),
                    trigger: TriggerMode::from_inti_flags(flags),
                });
            }
            3 => {
                let flags = u16_at(e, 2)?;
                self.nmi_sources.push(NmiSource {
                    gsi: u32_at(e, 4)?,
                    polarity: Polarity::from_inti_flags(flags),
                    trigger: TriggerMode::from_inti_flags(flags),
                });
            }
            4 => {
                let uid = u8_at(e, 2)?;
                let all = uid == u8::MAX;
                self.local_nmis
                    .push(local_nmi(uid.into(), all, u16_at(e, 3)?, u8_at(e, 5)?));
            }
            5 => self.local_apic_addr = u64_at(e, 4)?,
            9 => {
                let cpu = cpu(u32_at(e, 12)?, u32_at(e, 4)?, u32_at(e, 8)?, true);
                self.cpus.push(cpu);
            }
            10 => {
                let uid = u32_at(e, 4)?;
                let all = uid == u32::MAX;
                self.local_nmis
                    .push(local_nmi(uid, all, u16_at(e, 2)?, u8_at(e, 8)?));
            }
            _ => {}
        }
        Some(())
    }
}

/// Builds a [`Cpu`] from an entry's ids and flags.
fn cpu(acpi_uid: u32, apic_id: u32, flags: u32, x2apic: bool) -> Cpu {
    Cpu {
        acpi_uid,
        apic_id,
        enabled: flags & CPU_ENABLED != 0,
        online_capable: flags & CPU_ONLINE_CAPABLE != 0,
        x2apic,
    }
}

/// Builds a [`LocalApicNmi`]; `all` means the entry applies to every processor.
fn local_nmi(uid: u32, all: bool, flags: u16, lint: u8) -> LocalApicNmi {
    LocalApicNmi {
        acpi_uid: (!all).then_some(uid),
        polarity: Polarity::from_inti_flags(flags),
        trigger: TriggerMode::from_inti_flags(flags),
        lint,
    }
}
