//! Memory the device reads and writes: physically contiguous, zeroed frames, used by the
//! CPU through the direct map and by the device through their physical address (there is
//! no IOMMU, so physical = device address).
//!
//! Regions are never freed: a device's rings and buffers live as long as the kernel.
use crate::mm::{self, frames, PAGE_SIZE};

/// One contiguous DMA region.
pub struct DmaRegion {
    phys: u64,
    len: usize,
}

impl DmaRegion {
    /// At least `len` bytes, page-aligned and zeroed; `None` when memory is short.
    pub fn alloc(len: usize) -> Option<DmaRegion> {
        let pages = (len as u64).div_ceil(PAGE_SIZE).max(1);
        let phys = frames::alloc_contiguous(pages, 1)?;
        // SAFETY: the frames were just allocated (nothing else references them) and all
        // RAM is in the direct map.
        unsafe {
            core::ptr::write_bytes(
                mm::phys_to_virt(phys) as *mut u8,
                0,
                (pages * PAGE_SIZE) as usize,
            )
        };
        Some(DmaRegion { phys, len })
    }

    /// The device's address of byte `offset`.
    pub fn phys(&self, offset: usize) -> u64 {
        assert!(
            offset <= self.len,
            "DMA offset {offset} beyond {}",
            self.len
        );
        self.phys + offset as u64
    }

    /// The CPU's pointer to byte `offset`.
    pub fn ptr(&self, offset: usize) -> *mut u8 {
        mm::phys_to_virt(self.phys(offset)) as *mut u8
    }

    /// Bytes `[offset, offset + len)`, for a buffer the device has handed back.
    ///
    /// # Safety
    /// The device must not own (be able to write) this range while the slice lives.
    pub unsafe fn slice(&self, offset: usize, len: usize) -> &[u8] {
        assert!(offset + len <= self.len, "DMA range beyond the region");
        // SAFETY: inside the region (checked), mapped, and not written by the device
        // (the caller's contract).
        unsafe { core::slice::from_raw_parts(self.ptr(offset), len) }
    }

    /// Mutable bytes `[offset, offset + len)`, for a buffer about to be given to the device.
    ///
    /// # Safety
    /// As for [`Self::slice`], and no other slice of the range may exist.
    pub unsafe fn slice_mut(&mut self, offset: usize, len: usize) -> &mut [u8] {
        assert!(offset + len <= self.len, "DMA range beyond the region");
        // SAFETY: as in `slice`; `&mut self` and the caller's contract exclude aliases.
        unsafe { core::slice::from_raw_parts_mut(self.ptr(offset), len) }
    }
}
