//! What the kernel learns from the hypervisor at boot, parsed without trusting it.
//!
//! QEMU and Xen start a PVH kernel with a pointer to an `hvm_start_info` block; from there
//! hang the memory map, the command line, boot modules and the ACPI tables. All of it is
//! plain bytes in guest-physical memory, and all of it may be wrong (a buggy hypervisor, a
//! hand-written test configuration, a truncated table). So every parser here reads memory
//! only through [`PhysRead`], checks every length, offset and checksum, and answers with a
//! [`FwError`] instead of panicking. The same code runs in the kernel (reading through its
//! direct map) and in host tests (reading from a byte vector).
//!
//! Modules:
//! - [`pvh`]: the PVH start-of-day structure and its memory map and module list.
//! - [`memmap`]: memory regions, and the reduction to page-aligned usable RAM ranges.
//! - [`cmdline`]: `key=value` kernel command-line parsing.
//! - [`acpi`]: RSDP/RSDT/XSDT walking and the MADT, HPET and MCFG tables.
//!
//! Typical boot sequence (the kernel implements [`PhysRead`] over its direct map):
//!
//! ```no_run
//! # fn boot(mem: &dyn firmware::PhysRead, ebx: u64) -> Result<(), firmware::FwError> {
//! use firmware::{acpi::AcpiTables, cmdline::Cmdline, memmap, pvh::StartInfo};
//!
//! let info = StartInfo::read(mem, ebx)?;
//! let mut raw = [memmap::MemoryRegion { start: 0, len: 0, kind: memmap::RegionKind::Ram }; 128];
//! let n = info.memory_map_into(mem, &mut raw)?;
//! # let kernel_image = 0x10_0000..0x40_0000;
//! let mut reserved = core::array::from_fn::<_, 16, _>(|_| 0..0);
//! reserved[0] = 0..0x10_0000; // real-mode area, BIOS data
//! reserved[1] = kernel_image;
//! // Start info, its tables, command lines and modules (e.g. the initramfs):
//! let nres = 2 + info.boot_data_ranges(mem, ebx, &mut reserved[2..])?;
//! let mut usable = core::array::from_fn::<_, 128, _>(|_| 0..0);
//! let count = memmap::usable_ranges(&raw[..n], &reserved[..nres], &mut usable)?;
//! // ... hand usable[..count] to the frame allocator, set up the heap ...
//! let mut buf = [0u8; 1024];
//! let line = Cmdline::parse(info.cmdline(mem, &mut buf)?).unwrap_or_default(); // or log the error
//! let _verbose = line.has_flag("verbose");
//! let rsdp = info.rsdp().or_else(|| firmware::acpi::find_rsdp(mem));
//! let acpi = AcpiTables::from_rsdp(mem, rsdp.ok_or(firmware::FwError::TableNotFound(*b"RSDP"))?)?;
//! let madt = acpi.madt(mem)?;
//! let _cpus = madt.cpus.iter().filter(|c| c.enabled).count();
//! # let _ = count; Ok(()) }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod acpi;
pub mod cmdline;
mod error;
pub mod memmap;
mod phys;
pub mod pvh;
#[cfg(test)]
mod testing;
mod wire;

pub use error::FwError;
pub use phys::PhysRead;
