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
#![no_std]

extern crate alloc;

pub mod acpi;
pub mod cmdline;
mod error;
pub mod memmap;
mod phys;
pub mod pvh;
mod wire;

pub use error::FwError;
pub use phys::PhysRead;
