//! Access to guest-physical memory, abstracted so the parsers run on the host too.

use crate::FwError;

/// Reads bytes from physical memory.
///
/// The kernel implements this through its direct map (checking the address lies in mapped
/// RAM); tests implement it on a byte vector. Implementations must fail with
/// [`FwError::OutOfRange`] rather than fault when the range is not readable.
pub trait PhysRead {
    /// Fills `buf` with the bytes at physical addresses `paddr .. paddr + buf.len()`.
    fn read(&self, paddr: u64, buf: &mut [u8]) -> Result<(), FwError>;
}

/// A byte slice read as physical memory starting at address 0 (byte `i` is address `i`).
///
/// Handy in tests, and for firmware data the kernel already copied out.
impl PhysRead for [u8] {
    fn read(&self, paddr: u64, buf: &mut [u8]) -> Result<(), FwError> {
        let err = FwError::OutOfRange {
            paddr,
            len: buf.len(),
        };
        let start = usize::try_from(paddr).map_err(|_| err)?;
        let end = start.checked_add(buf.len()).ok_or(err)?;
        buf.copy_from_slice(self.get(start..end).ok_or(err)?);
        Ok(())
    }
}

/// Reads a fixed-size block at `paddr`.
pub(crate) fn read_array<const N: usize, M: PhysRead + ?Sized>(
    mem: &M,
    paddr: u64,
) -> Result<[u8; N], FwError> {
    let mut buf = [0u8; N];
    mem.read(paddr, &mut buf)?;
    Ok(buf)
}

/// The physical address of element `index` of an array of `size`-byte elements at `base`.
pub(crate) fn element_addr(base: u64, index: u64, size: u64) -> Result<u64, FwError> {
    index
        .checked_mul(size)
        .and_then(|off| base.checked_add(off))
        .ok_or(FwError::OutOfRange {
            paddr: base,
            len: usize::MAX,
        })
}

/// Reads the NUL-terminated UTF-8 string at `paddr` into `buf` and returns it (without
/// the NUL). Fails with [`FwError::StringTooLong`] when no NUL occurs within `buf.len()`
/// bytes, so a missing terminator cannot make the kernel read forever.
pub(crate) fn read_cstr<'b, M: PhysRead + ?Sized>(
    mem: &M,
    paddr: u64,
    buf: &'b mut [u8],
) -> Result<&'b str, FwError> {
    for i in 0..buf.len() {
        let addr = element_addr(paddr, i as u64, 1)?;
        mem.read(addr, &mut buf[i..=i])?;
        if buf[i] == 0 {
            return core::str::from_utf8(&buf[..i]).map_err(|_| FwError::NotUtf8);
        }
    }
    Err(FwError::StringTooLong)
}
