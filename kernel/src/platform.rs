//! The machine's topology from ACPI: CPUs, interrupt controllers, overrides.
use alloc::vec::Vec;

use firmware::acpi::{self as madt, AcpiTables};

use crate::boot_info::{BootInfo, DirectMap};

/// What the kernel needs from the ACPI tables.
pub struct Platform {
    pub local_apic_paddr: u64,
    /// APIC ids of the usable CPUs, the boot CPU's included.
    pub cpu_apic_ids: Vec<u32>,
    pub ioapic: madt::IoApic,
    pub overrides: Vec<madt::IrqOverride>,
}

impl Platform {
    /// Reads the MADT through the RSDP the start info points at.
    pub fn discover(boot: &BootInfo) -> Platform {
        let rsdp = boot
            .start
            .rsdp()
            .expect("PVH start info has no RSDP: cannot find the APICs");
        let tables = AcpiTables::from_rsdp(&DirectMap, rsdp)
            .unwrap_or_else(|e| panic!("ACPI tables unreadable: {e:?}"));
        let madt = tables
            .madt(&DirectMap)
            .unwrap_or_else(|e| panic!("ACPI MADT unreadable: {e:?}"));
        let ioapic = *madt.ioapics.first().expect("MADT lists no IOAPIC");
        let cpu_apic_ids = madt
            .cpus
            .iter()
            .filter(|c| c.enabled)
            .map(|c| c.apic_id)
            .collect();
        Platform {
            local_apic_paddr: madt.local_apic_addr,
            cpu_apic_ids,
            ioapic,
            overrides: madt.overrides,
        }
    }

    /// The global system interrupt and mode of ISA IRQ `irq` (identity unless overridden;
    /// ISA default: edge-triggered, active high).
    pub fn isa_irq(&self, irq: u8) -> (u32, crate::arch::ioapic::Mode) {
        match self.overrides.iter().find(|o| o.source_irq == irq) {
            Some(o) => (
                o.gsi,
                crate::arch::ioapic::Mode {
                    level_triggered: matches!(o.trigger, madt::TriggerMode::Level),
                    active_low: matches!(o.polarity, madt::Polarity::ActiveLow),
                },
            ),
            None => (
                u32::from(irq),
                crate::arch::ioapic::Mode {
                    level_triggered: false,
                    active_low: false,
                },
            ),
        }
    }
}
