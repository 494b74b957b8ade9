//! How the mapper reaches table memory and obtains new tables.

/// Gives the mapper access to page tables by physical address.
///
/// # Safety
///
/// Implementors guarantee that for every `paddr` the mapper passes (the root given to
/// [`Mapper`](crate::Mapper), or an address read from a present non-leaf entry, or a
/// frame from [`FrameSource`]), [`TableAccess::table`] returns a reference to the 4 KiB of
/// memory at that physical address, and that no other reference to that memory is used
/// while the returned borrow lives. In the kernel this means: the direct map covers the
/// frame, and the tables are not concurrently edited (hold the address-space lock).
pub unsafe trait TableAccess {
    /// The 512-entry table stored in the frame at `paddr` (4 KiB aligned).
    fn table(&mut self, paddr: u64) -> &mut [u64; 512];
}

/// Supplies frames for new intermediate page tables.
pub trait FrameSource {
    /// A 4 KiB-aligned frame filled with zeros (an all-empty table), or `None` when out of
    /// memory.
    fn alloc_zeroed_frame(&mut self) -> Option<u64>;
}
