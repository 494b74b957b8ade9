//! Virtual address arithmetic: table indices, page sizes and canonical form.
//!
//! A 48-bit virtual address splits into four 9-bit table indices (PML4, PDPT, PD, PT)
//! and a 12-bit page offset; bits 63..48 must copy bit 47 ("canonical"), or the CPU
//! raises #GP on any access.

/// The page sizes x86_64 four-level paging supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PageSize {
    /// 4 KiB, mapped by a page table (level 1) entry.
    Size4K,
    /// 2 MiB, mapped by a page directory (level 2) entry with the huge bit.
    Size2M,
    /// 1 GiB, mapped by a PDPT (level 3) entry with the huge bit.
    Size1G,
}

impl PageSize {
    /// Every size, largest first.
    pub const DESCENDING: [PageSize; 3] = [PageSize::Size1G, PageSize::Size2M, PageSize::Size4K];

    /// Size in bytes.
    pub const fn bytes(self) -> u64 {
        match self {
            PageSize::Size4K => 1 << 12,
            PageSize::Size2M => 1 << 21,
            PageSize::Size1G => 1 << 30,
        }
    }

    /// The table level whose entries map pages of this size (1 = PT, 2 = PD, 3 = PDPT).
    pub const fn level(self) -> u8 {
        match self {
            PageSize::Size4K => 1,
            PageSize::Size2M => 2,
            PageSize::Size1G => 3,
        }
    }

    /// True if `addr` is a multiple of this size.
    pub const fn is_aligned(self, addr: u64) -> bool {
        addr & (self.bytes() - 1) == 0
    }
}

/// The index into the table at `level` (4 = PML4 … 1 = PT) that translates `va`.
/// Levels outside 1..=4 are treated as 1.
pub const fn table_index(va: u64, level: u8) -> usize {
    let level = if level >= 1 && level <= 4 { level } else { 1 };
    ((va >> (12 + 9 * (level as u32 - 1))) & 0x1ff) as usize
}

/// Index into the PML4 (bits 47..39).
pub const fn pml4_index(va: u64) -> usize {
    table_index(va, 4)
}

/// Index into the PDPT (bits 38..30).
pub const fn pdpt_index(va: u64) -> usize {
    table_index(va, 3)
}

/// Index into the page directory (bits 29..21).
pub const fn pd_index(va: u64) -> usize {
    table_index(va, 2)
}

/// Index into the page table (bits 20..12).
pub const fn pt_index(va: u64) -> usize {
    table_index(va, 1)
}

/// Offset within a 4 KiB page (bits 11..0).
pub const fn page_offset(va: u64) -> u64 {
    va & 0xfff
}

/// True if bits 63..47 of `va` are all equal (48-bit canonical form).
pub const fn is_canonical(va: u64) -> bool {
    let top = va >> 47;
    top == 0 || top == 0x1_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_split_the_address() {
        let va = 0xffff_8123_4567_89ab_u64;
        assert_eq!(pml4_index(va), (va >> 39) as usize & 511);
        assert_eq!(pml4_index(va), 0x102);
        assert_eq!(pdpt_index(va), 0x8d);
        assert_eq!(pd_index(va), 0x2b);
        assert_eq!(pt_index(va), 0x78);
        assert_eq!(page_offset(va), 0x9ab);
        assert_eq!(table_index(va, 0), pt_index(va));
        assert_eq!(table_index(va, 9), pt_index(va));
        let rebuilt = (0xffffu64 << 48)
            | ((pml4_index(va) as u64) << 39)
            | ((pdpt_index(va) as u64) << 30)
            | ((pd_index(va) as u64) << 21)
            | ((pt_index(va) as u64) << 12)
            | page_offset(va);
        assert_eq!(rebuilt, va);
    }

    #[test]
    fn canonical_form() {
        assert!(is_canonical(0));
        assert!(is_canonical(0x0000_7fff_ffff_ffff));
        assert!(!is_canonical(0x0000_8000_0000_0000));
        assert!(!is_canonical(0xffff_7fff_ffff_ffff));
        assert!(is_canonical(0xffff_8000_0000_0000));
        assert!(is_canonical(u64::MAX));
        assert!(!is_canonical(0x0001_0000_0000_0000));
    }

    #[test]
    fn sizes() {
        assert_eq!(PageSize::Size2M.bytes(), 2 << 20);
        assert!(PageSize::Size1G.is_aligned(3 << 30));
        assert!(!PageSize::Size2M.is_aligned(0x1000));
        assert_eq!(PageSize::DESCENDING.map(PageSize::level), [3, 2, 1]);
    }
}
