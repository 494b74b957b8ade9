//! Why a mapping operation was refused.

use core::fmt;

/// Mapping errors. A refused operation leaves the mappings as they were (intermediate
/// tables it created may remain, empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// The virtual page already has a mapping of the same size.
    AlreadyMapped,
    /// The address or length is not a multiple of the page size.
    NotAligned,
    /// The virtual address is not in canonical form.
    NonCanonical,
    /// The physical address does not fit the 52-bit address field.
    PhysAddrTooLarge,
    /// The frame source has no frame left for a page table.
    OutOfFrames,
    /// The request overlaps a mapping of a different page size (a huge page covers it,
    /// or a smaller-page table exists where a huge page would go).
    HugePageConflict,
    /// Nothing is mapped at the address.
    NotMapped,
}

impl core::error::Error for MapError {}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MapError::AlreadyMapped => "page already mapped",
            MapError::NotAligned => "address not aligned to the page size",
            MapError::NonCanonical => "non-canonical virtual address",
            MapError::PhysAddrTooLarge => "physical address beyond 52 bits",
            MapError::OutOfFrames => "out of frames for page tables",
            MapError::HugePageConflict => "conflicts with a mapping of another page size",
            MapError::NotMapped => "address not mapped",
        })
    }
}
