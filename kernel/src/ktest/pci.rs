//! PCI enumeration and the MSI vector pool on QEMU's q35 machine.
//!
//! q35 always has its host bridge (8086:29c0) at 00:00.0 and the ICH9 LPC bridge at
//! 00:1f.0. Every decoded memory BAR must be naturally aligned to its power-of-two size
//! (how BAR sizing works), and the MSI pool must hand out each vector of 0x30..=0xdf once.
use alloc::format;
use alloc::vec::Vec;

use super::Verdict;
use crate::arch::msi;
use crate::drivers::pci::{self, Address, Bar};

pub fn run() -> Verdict {
    let devices = pci::devices();
    let at = |bus, device, function| {
        devices.iter().find(|d| {
            d.addr
                == Address {
                    bus,
                    device,
                    function,
                }
        })
    };
    let host = at(0, 0, 0).ok_or("no function at 00:00.0")?;
    if (host.vendor, host.device, host.class.0) != (0x8086, 0x29c0, 0x06) {
        return Err(format!(
            "00:00.0 is {:04x}:{:04x} class {:#x}, not the q35 host bridge",
            host.vendor, host.device, host.class.0
        ));
    }
    at(0, 0x1f, 0)
        .filter(|d| d.class == (0x06, 0x01, 0x00))
        .ok_or("no ISA bridge at 00:1f.0")?;
    for d in devices {
        for bar in d.bars.iter().flatten() {
            let ok = match *bar {
                Bar::Memory { base, size, .. } => {
                    size.is_power_of_two() && base % size == 0 && base != 0
                }
                Bar::Io { port, size } => size.is_power_of_two() && port % size == 0,
            };
            if !ok {
                return Err(format!("{}: implausible BAR {bar}", d.addr));
            }
        }
    }

    let mut taken = Vec::new();
    while let Some(v) = msi::alloc_vector() {
        if !(msi::FIRST_VECTOR..=msi::LAST_VECTOR).contains(&v) || taken.contains(&v) {
            return Err(format!(
                "MSI pool handed out {v:#x} (taken: {})",
                taken.len()
            ));
        }
        taken.push(v);
    }
    let pool = usize::from(msi::LAST_VECTOR - msi::FIRST_VECTOR) + 1;
    if taken.len() != pool {
        return Err(format!(
            "MSI pool handed out {} of {pool} vectors",
            taken.len()
        ));
    }
    let first = taken[0];
    taken.iter().for_each(|&v| msi::free_vector(v));
    if msi::alloc_vector() != Some(first) {
        return Err(format!("vector {first:#x} not reusable after free"));
    }
    msi::free_vector(first);
    let m = msi::message(0x45, 3);
    if (m.address, m.data) != (0xfee0_3000, 0x45) {
        return Err(format!("MSI message {m:?}"));
    }
    crate::info!("pci test: {} functions, {pool} MSI vectors", devices.len());
    Ok(())
}
