//! Harnesses for the cargo-fuzz targets in `fuzz_targets/`: what each target does with the
//! fuzzer's bytes, and the seed inputs it starts from.
//!
//! Why a library under the thin targets: the input formats (a flags byte, length-prefixed
//! records, a memory image with the ACPI root at address 0) and the seeds belong together,
//! and seeds are generated from the crates' own fixtures at run time instead of being
//! checked in as binary files, so they follow the code when formats change. Every seed set
//! checks itself when generated (a seed that no longer reaches the parser it is meant for
//! is a bug, and panics).
//!
//! Only public APIs are called: a crash found here is one the kernel or `hsshd` could hit.

pub mod acpi_image;
pub mod exec;
pub mod firmware;
pub mod net;
pub mod records;
pub mod seeds;
pub mod ssh;
pub mod virtio_rx;
