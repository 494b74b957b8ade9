//! Helpers shared by the tests that use the host Linux as the oracle.

/// Reserves `len` bytes of address space in this process (`PROT_NONE`,
/// `MAP_NORESERVE`) and returns its address; the tests lay their mappings out inside.
pub fn reserve_window(len: u64) -> u64 {
    // SAFETY: a fresh PROT_NONE mapping at an address the kernel picks: it overlaps
    // nothing this process uses, and only the test that owns it maps into it.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len as usize,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    assert_ne!(base, libc::MAP_FAILED, "reserving the window");
    base as u64
}
