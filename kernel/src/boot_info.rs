//! What the hypervisor told us at boot: the PVH start info, the memory map and the
//! kernel command line, read once through the direct map with the `firmware` parsers.
use firmware::memmap::MemoryRegion;
use firmware::pvh::StartInfo;
use firmware::{FwError, PhysRead};

use crate::mm;

/// Most memory-map entries the kernel keeps.
pub const MAX_REGIONS: usize = 128;
/// Firmware tables are expected below 4 GiB; anything above is refused, not mapped.
const MAX_FIRMWARE_ADDRESS: u64 = 1 << 32;
/// Longest kernel command line accepted.
const CMDLINE_MAX: usize = 1024;

/// Reads physical memory through the direct map. Before the kernel's page tables exist it
/// refuses what the boot direct map does not cover; after, it maps firmware areas
/// outside RAM (ACPI tables, the BIOS area) read-only on first use.
pub struct DirectMap;

impl PhysRead for DirectMap {
    fn read(&self, paddr: u64, buf: &mut [u8]) -> Result<(), FwError> {
        let len = buf.len() as u64;
        let out_of_range = FwError::OutOfRange {
            paddr,
            len: buf.len(),
        };
        let end = paddr.checked_add(len).ok_or(out_of_range)?;
        if !mm::is_kernel_readable(mm::phys_to_virt(paddr), end - paddr) {
            if !mm::address_space::is_live() || end > MAX_FIRMWARE_ADDRESS {
                return Err(out_of_range);
            }
            mm::address_space::map_firmware(paddr, end - paddr);
        }
        // SAFETY: the range was just checked to be mapped in the direct map.
        let src =
            unsafe { core::slice::from_raw_parts(mm::phys_to_virt(paddr) as *const u8, buf.len()) };
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// The boot-time facts, copied out of firmware memory.
pub struct BootInfo {
    /// Physical address of the start info block itself.
    pub start_paddr: u64,
    pub start: StartInfo,
    pub regions: [MemoryRegion; MAX_REGIONS],
    pub region_count: usize,
    cmdline: [u8; CMDLINE_MAX],
    cmdline_len: usize,
}

impl BootInfo {
    /// Reads the start info at `paddr`. A failure here is fatal: without a memory map
    /// the kernel cannot run.
    pub fn read(paddr: u64) -> BootInfo {
        let start = StartInfo::read(&DirectMap, paddr)
            .unwrap_or_else(|e| panic!("PVH start info at {paddr:#x} unreadable: {e:?}"));
        let mut regions = [MemoryRegion {
            start: 0,
            len: 0,
            kind: firmware::memmap::RegionKind::Reserved,
        }; MAX_REGIONS];
        let region_count = start
            .memory_map_into(&DirectMap, &mut regions)
            .unwrap_or_else(|e| panic!("PVH memory map unreadable: {e:?}"));
        let mut cmdline = [0u8; CMDLINE_MAX];
        let cmdline_len = match start.cmdline(&DirectMap, &mut cmdline) {
            Ok(s) => s.len(),
            Err(e) => {
                crate::warn!("kernel command line unreadable ({e:?}); using defaults");
                0
            }
        };
        BootInfo {
            start_paddr: paddr,
            start,
            regions,
            region_count,
            cmdline,
            cmdline_len,
        }
    }

    /// The memory map as the hypervisor gave it.
    pub fn memory_map(&self) -> &[MemoryRegion] {
        &self.regions[..self.region_count]
    }

    /// Writes the physical ranges holding boot data (start info, memory map, modules,
    /// command lines) into `out`; returns how many. They must not be handed out as free RAM.
    pub fn data_ranges(&self, out: &mut [core::ops::Range<u64>]) -> usize {
        self.start
            .boot_data_ranges(&DirectMap, self.start_paddr, out)
            .unwrap_or_else(|e| panic!("PVH boot data ranges unreadable: {e:?}"))
    }

    /// The first boot module (QEMU's `-initrd`): the initramfs, as a slice of the direct
    /// map. Its frames are boot data, never handed out, so the slice stays valid.
    pub fn initramfs(&self) -> Option<&'static [u8]> {
        let module = self.start.modules(&DirectMap).next()?.ok()?;
        if module.size == 0 || !mm::is_kernel_readable(mm::phys_to_virt(module.paddr), module.size)
        {
            return None;
        }
        // SAFETY: the range is RAM mapped in the direct map (checked above) and reserved as
        // boot data (`data_ranges`), so nothing else writes or frees it.
        Some(unsafe {
            core::slice::from_raw_parts(
                mm::phys_to_virt(module.paddr) as *const u8,
                module.size as usize,
            )
        })
    }

    /// The raw command line.
    pub fn cmdline(&self) -> &str {
        core::str::from_utf8(&self.cmdline[..self.cmdline_len]).unwrap_or("")
    }
}
