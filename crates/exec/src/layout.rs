//! The user half of an x86-64 address space, in Linux's numbers.
//!
//! A program image must sit where Linux would let it sit, so that a binary that runs on
//! Linux runs here and one Linux cannot map is refused before the old image is torn down.
//! These constants are Linux's (4-level paging, 4 KiB pages); `linux-raw-sys` does not
//! export them because they are kernel-internal, so each cites where Linux defines it.

/// Page size (`ELF_EXEC_PAGESIZE`, `AT_PAGESZ`).
pub const PAGE_SIZE: u64 = 4096;

/// First address above user space: Linux's `TASK_SIZE_MAX` with 4-level paging,
/// `(1 << 47) - PAGE_SIZE` (the last page below the canonical hole is left unmapped).
pub const USER_END: u64 = (1 << 47) - PAGE_SIZE;

/// Where Linux puts the top of the initial stack when address randomisation is off
/// (`STACK_TOP`, equal to [`USER_END`] for 64-bit processes).
pub const STACK_TOP: u64 = USER_END;

/// Lowest address a segment may occupy: Linux's `vm.mmap_min_addr` as Debian sets it
/// (`CONFIG_DEFAULT_MMAP_MIN_ADDR=65536`), so a program cannot map page zero and turn
/// null pointer dereferences into reads of its own data.
pub const MIN_MAP_ADDR: u64 = 0x1_0000;

/// Suggested load base for static-pie (`ET_DYN`) programs: Linux's `ELF_ET_DYN_BASE` on
/// x86-64, two thirds of the 47-bit window, page-aligned: `0x5555_5555_4000`, the address
/// a PIE program gets on Linux with randomisation off.
///
/// Linux loads an `ET_DYN` file *without* an interpreter (a static-pie, which Linux treats
/// like a dynamic linker run directly) into the mmap area under the stack instead, and moves
/// its `brk` to `ELF_ET_DYN_BASE`. Halyard has no dynamic linker to keep apart from the
/// program, so it gives static-pie programs the PIE program address: the image and its
/// `brk` sit together low, and the whole mmap area below the stack stays free. A caller
/// that wants address randomisation adds a random page-aligned offset to this value.
pub const DEFAULT_DYN_BASE: u64 = page_start(USER_END / 3 * 2);

/// Start of the page holding `addr`.
pub(crate) const fn page_start(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

/// Offset of `addr` within its page.
pub(crate) const fn page_offset(addr: u64) -> u64 {
    addr & (PAGE_SIZE - 1)
}

/// `addr` rounded up to a page boundary, or `None` past the end of the address space.
pub(crate) fn page_align(addr: u64) -> Option<u64> {
    Some(page_start(addr.checked_add(PAGE_SIZE - 1)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dyn_base_is_linux_pie_base_without_aslr() {
        // gdb and `setarch -R` show PIE programs at 0x555555554000 on x86-64 Linux.
        assert_eq!(DEFAULT_DYN_BASE, 0x5555_5555_4000);
        assert_eq!(USER_END, 0x7fff_ffff_f000);
    }

    #[test]
    fn page_rounding() {
        assert_eq!(page_start(0x40_1234), 0x40_1000);
        assert_eq!(page_offset(0x40_1234), 0x234);
        assert_eq!(page_align(0x40_1001), Some(0x40_2000));
        assert_eq!(page_align(0x40_1000), Some(0x40_1000));
        assert_eq!(page_align(u64::MAX), None);
    }
}
