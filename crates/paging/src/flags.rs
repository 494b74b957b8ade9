//! Page table entry flags, as a small hand-written bit set (no `bitflags` dependency).

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign, Not};

/// The flag bits of a page table entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PageTableFlags(u64);

impl PageTableFlags {
    /// The entry is valid.
    pub const PRESENT: Self = Self(1 << 0);
    /// Writes are allowed (subject to CR0.WP for supervisor code).
    pub const WRITABLE: Self = Self(1 << 1);
    /// Ring 3 may access the memory.
    pub const USER: Self = Self(1 << 2);
    /// Write-through caching.
    pub const WRITE_THROUGH: Self = Self(1 << 3);
    /// Caching disabled (for MMIO).
    pub const NO_CACHE: Self = Self(1 << 4);
    /// Set by the CPU when the entry is used for a translation.
    pub const ACCESSED: Self = Self(1 << 5);
    /// Set by the CPU on a write through a leaf entry.
    pub const DIRTY: Self = Self(1 << 6);
    /// In a PD or PDPT entry: the entry maps a 2 MiB or 1 GiB page itself.
    pub const HUGE: Self = Self(1 << 7);
    /// The translation survives CR3 reloads (needs CR4.PGE).
    pub const GLOBAL: Self = Self(1 << 8);
    /// Instruction fetches are not allowed (needs EFER.NXE).
    pub const NO_EXECUTE: Self = Self(1 << 63);
    /// Software bit 9 (ignored by the CPU): in a 4 KiB leaf without PRESENT, the entry
    /// still holds its frame, inaccessible (a `PROT_NONE` page). The walkers visit such
    /// entries ([`crate::Mapper::for_each_leaf`]); translation does not.
    pub const HELD: Self = Self(1 << 9);

    /// All flags defined above.
    pub const ALL: Self = Self(0x1ff | (1 << 63));

    /// No flags.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// The raw bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The defined flags among `bits`; other bits (address, available bits) are dropped.
    pub const fn from_bits_truncate(bits: u64) -> Self {
        Self(bits & Self::ALL.0)
    }

    /// True if every flag in `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// `self` with the flags in `other` added (usable in constants).
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// `self` with the flags in `other` cleared.
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }
}

impl BitOr for PageTableFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl BitOrAssign for PageTableFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for PageTableFlags {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl Not for PageTableFlags {
    type Output = Self;
    fn not(self) -> Self {
        Self(!self.0 & Self::ALL.0)
    }
}

impl fmt::Debug for PageTableFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(PageTableFlags, &str); 10] = [
            (PageTableFlags::PRESENT, "PRESENT"),
            (PageTableFlags::WRITABLE, "WRITABLE"),
            (PageTableFlags::USER, "USER"),
            (PageTableFlags::WRITE_THROUGH, "WRITE_THROUGH"),
            (PageTableFlags::NO_CACHE, "NO_CACHE"),
            (PageTableFlags::ACCESSED, "ACCESSED"),
            (PageTableFlags::DIRTY, "DIRTY"),
            (PageTableFlags::HUGE, "HUGE"),
            (PageTableFlags::GLOBAL, "GLOBAL"),
            (PageTableFlags::NO_EXECUTE, "NO_EXECUTE"),
        ];
        f.write_str("PageTableFlags(")?;
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::PageTableFlags as F;
    use std::format;

    #[test]
    fn set_operations() {
        let rw = F::PRESENT | F::WRITABLE;
        assert!(rw.contains(F::PRESENT));
        assert!(!rw.contains(F::PRESENT | F::USER));
        assert_eq!(rw & F::WRITABLE, F::WRITABLE);
        assert_eq!(rw.without(F::WRITABLE), F::PRESENT);
        assert_eq!((!rw).bits(), F::ALL.bits() & !3);
        let mut f = F::empty();
        assert!(f.is_empty());
        f |= F::NO_EXECUTE;
        assert_eq!(f.bits(), 1 << 63);
        assert_eq!(
            F::from_bits_truncate(0x8000_0000_dead_b0ff).bits(),
            0x8000_0000_0000_00ff
        );
        assert_eq!(
            format!("{:?}", F::PRESENT | F::NO_EXECUTE),
            "PageTableFlags(PRESENT | NO_EXECUTE)"
        );
        assert_eq!(format!("{:?}", F::empty()), "PageTableFlags()");
    }
}
