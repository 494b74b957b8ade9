//! Device registers: one type for every memory-mapped register block.
//!
//! Each driver used to keep a raw virtual address and do its own volatile reads and
//! writes, each with its own bounds check (or none). [`IoMem`] owns a mapped range (mapped
//! uncached by [`IoMem::map`]) and is the only place in the kernel that touches device
//! memory: every access is bounds- and alignment-checked against the range, so a wrong
//! offset is a clear panic naming the register, never a write to a neighbouring page.
//! Device windows live as long as the machine (they are never unmapped), so an `IoMem`
//! is `Copy` and can be handed around freely.
use core::fmt;

/// A register width: `u8`, `u16`, `u32` or `u64` (no other type can be one).
pub trait Register: Copy + sealed::Sealed {}
impl Register for u8 {}
impl Register for u16 {}
impl Register for u32 {}
impl Register for u64 {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
    impl Sealed for u64 {}
}

/// A mapped block of device registers.
#[derive(Clone, Copy)]
pub struct IoMem {
    va: u64,
    len: u64,
}

impl fmt::Debug for IoMem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IoMem({:#x}+{:#x})", self.va, self.len)
    }
}

impl IoMem {
    /// Maps the registers at `paddr..paddr + len` uncached. Process context (boot and
    /// driver probing).
    pub fn map(paddr: u64, len: u64) -> IoMem {
        IoMem {
            va: super::address_space::map_mmio(paddr, len),
            len,
        }
    }

    /// Length of the block in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The sub-block `offset..offset + len`, or `None` if it does not fit.
    pub fn window(&self, offset: u64, len: u64) -> Option<IoMem> {
        let end = offset.checked_add(len)?;
        (end <= self.len).then_some(IoMem {
            va: self.va + offset,
            len,
        })
    }

    /// The address of register `T` at `offset`, checked to lie inside the block and to
    /// be naturally aligned.
    fn register<T: Register>(&self, offset: u64) -> *mut T {
        let size = core::mem::size_of::<T>() as u64;
        assert!(
            offset.checked_add(size).is_some_and(|end| end <= self.len)
                && (self.va + offset).is_multiple_of(size),
            "device register {offset:#x} ({size} bytes) outside or misaligned in {self:?}"
        );
        (self.va + offset) as *mut T
    }

    /// Reads the register at `offset`. Any context.
    pub fn read<T: Register>(&self, offset: u64) -> T {
        let reg = self.register::<T>(offset);
        // SAFETY: `map` mapped the whole block uncached and it is never unmapped;
        // `register` checked that the access lies inside it and is aligned.
        unsafe { core::ptr::read_volatile(reg) }
    }

    /// Writes the register at `offset`. Any context.
    pub fn write<T: Register>(&self, offset: u64, value: T) {
        let reg = self.register::<T>(offset);
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile(reg, value) }
    }
}
