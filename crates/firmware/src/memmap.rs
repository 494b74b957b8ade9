//! Physical memory regions, and the reduction of a raw firmware map to usable RAM.
//!
//! Firmware memory maps are unsorted, may overlap, may list the same RAM twice or mark
//! part of a RAM entry reserved in a second entry, and their bounds need not be page
//! aligned. The frame allocator needs the opposite: sorted, disjoint, page-aligned ranges
//! that are certainly RAM and certainly not in use (kernel image, boot structures, the
//! first MiB). [`usable_ranges`] does that reduction conservatively: a byte is usable only
//! if some RAM entry covers it, no non-RAM entry covers it and no caller reservation covers
//! it; then each maximal usable run is shrunk inward to whole pages.
//!
//! It works without allocation (the kernel calls it before any heap exists), at the cost
//! of O(n²) time in the number of entries, which is a few dozen in practice.

use core::ops::Range;

use crate::FwError;

/// Size of the pages the usable ranges are aligned to.
pub const PAGE_SIZE: u64 = 4096;

/// What a region of physical memory is, as the firmware reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// Usable RAM (PVH type 1).
    Ram,
    /// Reserved by the platform (type 2).
    Reserved,
    /// ACPI tables, reclaimable after they are parsed (type 3).
    AcpiReclaimable,
    /// ACPI non-volatile storage (type 4).
    AcpiNvs,
    /// RAM with detected errors (type 5).
    Unusable,
    /// Disabled memory (type 6).
    Disabled,
    /// Persistent memory (type 7).
    Persistent,
    /// Any other type code.
    Other(u32),
}

impl RegionKind {
    /// Decodes the PVH / E820 type code.
    pub fn from_raw(code: u32) -> Self {
        match code {
            1 => RegionKind::Ram,
            2 => RegionKind::Reserved,
            3 => RegionKind::AcpiReclaimable,
            4 => RegionKind::AcpiNvs,
            5 => RegionKind::Unusable,
            6 => RegionKind::Disabled,
            7 => RegionKind::Persistent,
            other => RegionKind::Other(other),
        }
    }
}

/// One entry of a physical memory map: `len` bytes from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryRegion {
    /// First physical address.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// What the memory is.
    pub kind: RegionKind,
}

impl MemoryRegion {
    /// The region as a half-open byte range; a region running past the top of the
    /// address space is clamped to end at `u64::MAX`.
    pub fn range(&self) -> Range<u64> {
        self.start..self.start.saturating_add(self.len)
    }
}

/// Reduces `raw` to sorted, disjoint, page-aligned usable RAM ranges, leaving out every
/// byte covered by a non-RAM entry or by one of `reserved`, and writes them to `out`.
///
/// Returns how many ranges were written, or [`FwError::OutputFull`] if `out` is too short
/// (the ranges written so far are still valid and sorted).
pub fn usable_ranges(
    raw: &[MemoryRegion],
    reserved: &[Range<u64>],
    out: &mut [Range<u64>],
) -> Result<usize, FwError> {
    let boundaries = || {
        raw.iter()
            .map(MemoryRegion::range)
            .chain(reserved.iter().cloned())
            .filter(|r| r.start < r.end)
            .flat_map(|r| [r.start, r.end])
    };
    let Some(mut pos) = boundaries().min() else {
        return Ok(0);
    };
    let mut written = 0;
    let mut run: Option<Range<u64>> = None;
    // Walk the elementary intervals between consecutive boundaries: within one, every
    // byte is covered by exactly the same entries, so testing its first byte suffices.
    while let Some(next) = boundaries().filter(|&b| b > pos).min() {
        if is_usable(raw, reserved, pos) {
            run = Some(run.map_or(pos..next, |r| r.start..next));
        } else if let Some(r) = run.take() {
            written = emit_aligned(r, out, written)?;
        }
        pos = next;
    }
    if let Some(r) = run {
        written = emit_aligned(r, out, written)?;
    }
    Ok(written)
}

/// True if the byte at `addr` is RAM and neither non-RAM nor reserved.
fn is_usable(raw: &[MemoryRegion], reserved: &[Range<u64>], addr: u64) -> bool {
    let mut ram = false;
    for region in raw {
        if region.range().contains(&addr) {
            if region.kind != RegionKind::Ram {
                return false;
            }
            ram = true;
        }
    }
    ram && !reserved.iter().any(|r| r.contains(&addr))
}

/// Shrinks `run` to whole pages and appends it to `out[written..]` if anything is left.
fn emit_aligned(run: Range<u64>, out: &mut [Range<u64>], written: usize) -> Result<usize, FwError> {
    let Some(start) = run.start.checked_next_multiple_of(PAGE_SIZE) else {
        return Ok(written);
    };
    let end = run.end - run.end % PAGE_SIZE;
    if start >= end {
        return Ok(written);
    }
    let slot = out.get_mut(written).ok_or(FwError::OutputFull)?;
    *slot = start..end;
    Ok(written + 1)
}

#[cfg(test)]
mod tests;
