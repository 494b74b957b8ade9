//! Encoding and decoding of one 64-bit page table entry.
//!
//! Bits 51..12 hold the physical address of the next table or of the page (for huge
//! pages the low bits of that field must be zero, bit 12 being PAT there); bits 62..52
//! and 11..9 are free for software and ignored here.

use crate::PageTableFlags;

/// The physical address bits of an entry.
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// One page table entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PageTableEntry(pub u64);

impl PageTableEntry {
    /// An entry pointing at `paddr` (masked to the address field) with `flags`.
    pub const fn new(paddr: u64, flags: PageTableFlags) -> Self {
        Self((paddr & ADDR_MASK) | flags.bits())
    }

    /// The physical address field.
    pub const fn addr(self) -> u64 {
        self.0 & ADDR_MASK
    }

    /// The defined flags.
    pub const fn flags(self) -> PageTableFlags {
        PageTableFlags::from_bits_truncate(self.0)
    }

    /// True if the PRESENT bit is set.
    pub const fn is_present(self) -> bool {
        self.flags().contains(PageTableFlags::PRESENT)
    }

    /// True if the entry maps a page itself at level 2 or 3 (the HUGE bit).
    pub const fn is_huge(self) -> bool {
        self.flags().contains(PageTableFlags::HUGE)
    }
}

impl core::fmt::Debug for PageTableEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PageTableEntry({:#x}, {:?})", self.addr(), self.flags())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PageTableFlags as F;

    #[test]
    fn encode_decode() {
        let e = PageTableEntry::new(0x1234_5678_9000, F::PRESENT | F::WRITABLE | F::NO_EXECUTE);
        assert_eq!(e.0, 0x8000_1234_5678_9003);
        assert_eq!(e.addr(), 0x1234_5678_9000);
        assert_eq!(e.flags(), F::PRESENT | F::WRITABLE | F::NO_EXECUTE);
        assert!(e.is_present());
        assert!(!e.is_huge());
        // Address bits outside the field are dropped; software bits do not leak into flags.
        let e = PageTableEntry::new(0xfff8_0000_0000_1fff, F::HUGE);
        assert_eq!(e.addr(), 0x0008_0000_0000_1000);
        assert_eq!(e.flags(), F::HUGE);
        assert_eq!(PageTableEntry(0x7ff0_0000_0000_0e00).flags(), F::empty());
        assert!(!PageTableEntry::default().is_present());
    }
}
