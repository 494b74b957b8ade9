//! The memory the PVH loader filled before the kernel started, which the kernel must keep
//! out of its frame allocator.
//!
//! The start info, its tables, the command lines and above all the modules (an initramfs
//! can be tens of MiB, placed in memory the map calls RAM) sit in ordinary RAM. Handing
//! these ranges to [`usable_ranges`](crate::memmap::usable_ranges) as reserved keeps the
//! allocator from giving them out while they are still needed.

use core::ops::Range;

use super::{StartInfo, MEMMAP_ENTRY_SIZE, MODLIST_ENTRY_SIZE, V0_SIZE, V1_SIZE};
use crate::{FwError, PhysRead};

/// Bytes reserved for each command line. Its real length is only known by reading up to
/// the NUL, and a page is cheaper than trusting an unterminated string.
pub const CMDLINE_RESERVE: u64 = 4096;

impl StartInfo {
    /// Writes to `out` the byte ranges holding the start info itself (at `info_paddr`),
    /// the memory map, the module list, every module and every command line, and returns
    /// how many were written. Absent items (address 0) are skipped. Fails if the module
    /// list cannot be read or `out` is too short.
    pub fn boot_data_ranges<M: PhysRead + ?Sized>(
        &self,
        mem: &M,
        info_paddr: u64,
        out: &mut [Range<u64>],
    ) -> Result<usize, FwError> {
        let info_len = if self.version >= 1 { V1_SIZE } else { V0_SIZE };
        let mut list = RangeList { out, len: 0 };
        list.push(info_paddr, info_len as u64)?;
        list.push(
            self.memmap_paddr,
            u64::from(self.memmap_entries) * MEMMAP_ENTRY_SIZE as u64,
        )?;
        list.push(
            self.modlist_paddr,
            u64::from(self.nr_modules) * MODLIST_ENTRY_SIZE as u64,
        )?;
        list.push(self.cmdline_paddr, CMDLINE_RESERVE)?;
        for module in self.modules(mem) {
            let module = module?;
            list.push(module.paddr, module.size)?;
            list.push(module.cmdline_paddr, CMDLINE_RESERVE)?;
        }
        Ok(list.len)
    }
}

/// Appends non-empty ranges to a caller's slice.
struct RangeList<'o> {
    out: &'o mut [Range<u64>],
    len: usize,
}

impl RangeList<'_> {
    /// Appends `start .. start + len` (clamped at the top of the address space) unless
    /// `start` is 0 (absent) or `len` is 0.
    fn push(&mut self, start: u64, len: u64) -> Result<(), FwError> {
        if start == 0 || len == 0 {
            return Ok(());
        }
        *self.out.get_mut(self.len).ok_or(FwError::OutputFull)? = start..start.saturating_add(len);
        self.len += 1;
        Ok(())
    }
}
