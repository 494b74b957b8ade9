//! PCI: finding devices and preparing them for their drivers.
//!
//! At the first call to [`devices`] every function reachable from bus 0 is enumerated
//! (following PCI-to-PCI bridges to their secondary buses) and recorded with its
//! identity, decoded BARs and capability list. The list never changes afterwards (no hot
//! plug), so drivers and the `pci` monitor command read it without locks.
//!
//! Configuration space is reached through the legacy ports ([`config`]). Interrupts are
//! message-signalled only ([`msix`] with vectors from `arch::msi`): routing legacy INTx
//! lines would need the ACPI `_PRT` methods, i.e. an AML interpreter.
pub mod bar;
pub mod capability;
pub mod config;
pub mod msix;

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use spin::Once;

pub use bar::Bar;
pub use capability::Capability;
pub use config::Address;
pub use msix::{Msix, MsixInfo};

use crate::println;

const VENDOR_ID: u8 = 0x00;
const DEVICE_ID: u8 = 0x02;
const COMMAND: u8 = 0x04;
const REVISION: u8 = 0x08;
const HEADER_TYPE: u8 = 0x0e;
const SECONDARY_BUS: u8 = 0x19;
const INTERRUPT_PIN: u8 = 0x3d;

pub const COMMAND_IO: u16 = 1 << 0;
pub const COMMAND_MEMORY: u16 = 1 << 1;
pub const COMMAND_BUS_MASTER: u16 = 1 << 2;
pub const COMMAND_INTX_DISABLE: u16 = 1 << 10;

const NO_DEVICE: u16 = 0xffff;
const CLASS_BRIDGE: u8 = 0x06;
const SUBCLASS_HOST: u8 = 0x00;
const SUBCLASS_ISA: u8 = 0x01;
const HEADER_BRIDGE: u8 = 1;
const MULTI_FUNCTION: u8 = 0x80;

/// One PCI function as found at enumeration.
#[derive(Debug, Clone)]
pub struct Device {
    pub addr: Address,
    pub vendor: u16,
    pub device: u16,
    pub revision: u8,
    /// Base class, subclass, programming interface.
    pub class: (u8, u8, u8),
    /// Header layout (0 device, 1 PCI-to-PCI bridge), without the multi-function bit.
    pub header_type: u8,
    /// INTx pin (0 = none, 1..=4 = INTA..INTD).
    pub interrupt_pin: u8,
    pub bars: [Option<Bar>; 6],
    pub capabilities: Vec<Capability>,
    pub msix: Option<MsixInfo>,
}

impl Device {
    fn read(addr: Address) -> Device {
        let class_reg = addr.read32(REVISION);
        let header_type = addr.read8(HEADER_TYPE) & !MULTI_FUNCTION;
        let bar_count = match header_type {
            0 => 6,
            HEADER_BRIDGE => 2,
            _ => 0,
        };
        let class = (
            (class_reg >> 24) as u8,
            (class_reg >> 16) as u8,
            (class_reg >> 8) as u8,
        );
        let legacy_bridge = matches!(class, (CLASS_BRIDGE, SUBCLASS_HOST | SUBCLASS_ISA, _));
        let capabilities = capability::list(addr);
        let msix = capabilities
            .iter()
            .find(|c| c.id == capability::ID_MSIX)
            .map(|c| MsixInfo::read(addr, c.offset));
        Device {
            addr,
            vendor: addr.read16(VENDOR_ID),
            device: addr.read16(DEVICE_ID),
            revision: class_reg as u8,
            class,
            header_type,
            interrupt_pin: addr.read8(INTERRUPT_PIN),
            bars: bar::read_all(addr, bar_count, legacy_bridge),
            capabilities,
            msix,
        }
    }

    /// Capabilities with id `id`, in list order.
    pub fn capabilities_with(&self, id: u8) -> impl Iterator<Item = &Capability> {
        self.capabilities.iter().filter(move |c| c.id == id)
    }

    /// Turns on memory decoding and bus mastering (DMA), and masks INTx (this kernel uses
    /// MSI-X only).
    pub fn enable_memory_and_dma(&self) {
        set_command(
            self.addr,
            command(self.addr) | COMMAND_MEMORY | COMMAND_BUS_MASTER | COMMAND_INTX_DISABLE,
        );
    }
}

/// The command register.
pub fn command(addr: Address) -> u16 {
    addr.read16(COMMAND)
}

/// Writes the command register. The status register shares its dword and has
/// write-one-to-clear bits, so the write carries zeros there.
pub fn set_command(addr: Address, v: u16) {
    addr.write32(COMMAND, u32::from(v));
}

static DEVICES: Once<Vec<Device>> = Once::new();

/// Every PCI function, enumerated at the first call (process context; later calls only
/// read the list).
pub fn devices() -> &'static [Device] {
    DEVICES.call_once(enumerate)
}

/// Functions with this vendor and one of these device ids.
pub fn find(vendor: u16, device_ids: &'static [u16]) -> impl Iterator<Item = &'static Device> {
    devices()
        .iter()
        .filter(move |d| d.vendor == vendor && device_ids.contains(&d.device))
}

/// Scans bus 0 and every bus behind a bridge, each bus once.
fn enumerate() -> Vec<Device> {
    let mut found = Vec::new();
    let mut pending = alloc::vec![0u8];
    let mut seen = BTreeSet::new();
    while let Some(bus) = pending.pop() {
        if !seen.insert(bus) {
            continue;
        }
        for device in 0..32 {
            let first = Address {
                bus,
                device,
                function: 0,
            };
            if first.read16(VENDOR_ID) == NO_DEVICE {
                continue;
            }
            let functions = if first.read8(HEADER_TYPE) & MULTI_FUNCTION != 0 {
                8
            } else {
                1
            };
            for function in 0..functions {
                let addr = Address {
                    bus,
                    device,
                    function,
                };
                if addr.read16(VENDOR_ID) == NO_DEVICE {
                    continue;
                }
                let d = Device::read(addr);
                if d.header_type == HEADER_BRIDGE {
                    let secondary = addr.read8(SECONDARY_BUS);
                    if secondary != 0 {
                        pending.push(secondary);
                    }
                }
                found.push(d);
            }
        }
    }
    found.sort_by_key(|d| d.addr);
    crate::info!("PCI: {} functions", found.len());
    found
}

/// The `pci` monitor command: one line per function, then its BARs and interrupts.
pub fn monitor_list(_: &str) {
    for d in devices() {
        let (class, sub, prog_if) = d.class;
        println!(
            "{} {:04x}:{:04x} class {:02x}.{:02x}.{:02x} rev {} header {}",
            d.addr, d.vendor, d.device, class, sub, prog_if, d.revision, d.header_type
        );
        for (i, b) in d.bars.iter().enumerate() {
            if let Some(b) = b {
                println!("    BAR{i} {b}");
            }
        }
        let msi = d.capabilities_with(capability::ID_MSI).next().is_some();
        match d.msix {
            Some(m) => println!(
                "    MSI-X {} entries (table BAR{}+{:#x}, PBA BAR{}+{:#x}) MSI {}",
                m.table_size,
                m.table_bar,
                m.table_offset,
                m.pba_bar,
                m.pba_offset,
                if msi { "yes" } else { "no" }
            ),
            None => println!(
                "    MSI-X none, MSI {}, INTx pin {}",
                if msi { "yes" } else { "no" },
                d.interrupt_pin
            ),
        }
    }
}
