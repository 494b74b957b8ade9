//! Address-space constants, the mmap layout and the resource limits the calls check.
//!
//! The constants are kernel internals, not UAPI, so they are not in `linux-raw-sys`; each
//! one names the Linux value it copies.

/// Size of a page (x86_64 base pages).
pub const PAGE_SIZE: u64 = 4096;

/// End of the user half: `TASK_SIZE` on x86_64 with 4-level paging, `(1 << 47) - PAGE_SIZE`
/// = `0x7fff_ffff_f000` (the last page below the canonical hole is left unmapped, as on
/// Linux). User mappings live in `[MMAP_MIN_ADDR, TASK_SIZE)`.
pub const TASK_SIZE: u64 = (1 << 47) - PAGE_SIZE;

/// Lowest address a mapping may use: Linux's `vm.mmap_min_addr` default on x86 (65536),
/// which keeps NULL-pointer dereferences from hitting user-controlled memory. Linux lets
/// a process with `CAP_SYS_RAWIO` map below it; Halyard never does (`EPERM`).
pub const MMAP_MIN_ADDR: u64 = 0x1_0000;

/// Gap kept free below a grows-down region (Linux's `stack_guard_gap`, 256 pages): an
/// unhinted mmap never lands there and the stack never grows closer than this to the
/// mapping below it.
pub const STACK_GUARD_GAP: u64 = 256 * PAGE_SIZE;

/// Linux's `vm.max_map_count` default: the most regions a process may have.
pub const DEFAULT_MAX_MAP_COUNT: usize = 65530;

/// `RLIM_INFINITY`: no limit.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// 128 MiB: Linux keeps at least this between the top of the mmap area and `TASK_SIZE`.
const MIN_STACK_GAP: u64 = 128 << 20;
/// Largest stack randomisation (`STACK_RND_MASK` 0x3fffff pages), part of the gap.
const STACK_RND_MAX: u64 = 0x3f_ffff * PAGE_SIZE;
/// `mmap_rnd_bits` default on x86_64 (28 bits of pages).
const MMAP_RND_MASK: u64 = (1 << 28) - 1;

/// `offset_in_page(x)`.
pub(crate) const fn page_offset(x: u64) -> u64 {
    x & (PAGE_SIZE - 1)
}

/// Linux's `PAGE_ALIGN(x)` with its C wrap-around: lengths within a page of `u64::MAX`
/// become 0, and the callers reject that exactly where Linux does.
pub(crate) const fn page_align(x: u64) -> u64 {
    x.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// Where unhinted mappings go: the caller (exec) picks it once per address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Top of the mmap area: unhinted mappings take the highest free gap below it.
    pub mmap_base: u64,
    /// Bottom of the area searched upwards when nothing fits below `mmap_base`
    /// (Linux's `mmap_legacy_base`).
    pub legacy_base: u64,
}

impl Layout {
    /// Linux's x86_64 layout (`arch_pick_mmap_layout`): the mmap area ends below the stack
    /// by the stack limit plus the guard gap (plus the largest stack randomisation when
    /// randomising), clamped to [128 MiB, 5/6 of `TASK_SIZE`], minus a random page count.
    /// `random` is `None` for no randomisation (personality `ADDR_NO_RANDOMIZE`), else
    /// random bits from the kernel's CSPRNG (28 bits of pages are used, as on Linux).
    pub fn linux(stack_limit: u64, random: Option<u64>) -> Self {
        let (pad, rnd) = match random {
            Some(bits) => (
                STACK_RND_MAX + STACK_GUARD_GAP,
                (bits & MMAP_RND_MASK) * PAGE_SIZE,
            ),
            None => (STACK_GUARD_GAP, 0),
        };
        // Values close to RLIM_INFINITY would overflow: Linux then keeps the bare limit.
        let gap = stack_limit
            .checked_add(pad)
            .unwrap_or(stack_limit)
            .clamp(MIN_STACK_GAP, TASK_SIZE / 6 * 5);
        // gap <= 5/6 TASK_SIZE and rnd < 2^40, so neither subtraction can wrap.
        Self {
            mmap_base: page_align(TASK_SIZE - gap - rnd),
            legacy_base: page_align(TASK_SIZE / 3) + rnd,
        }
    }
}

impl Default for Layout {
    /// The layout of a process with the default 8 MiB stack limit and no randomisation.
    fn default() -> Self {
        Self::linux(8 << 20, None)
    }
}

/// The resource limits the address space enforces, in bytes ([`RLIM_INFINITY`] = none).
/// The kernel keeps them in step with `setrlimit`/`prlimit64`
/// ([`crate::AddressSpace::set_limits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `RLIMIT_AS`: total mapped size.
    pub address_space: u64,
    /// `RLIMIT_DATA`: private writable memory that is not stack, and the brk area.
    pub data: u64,
    /// `RLIMIT_STACK`: how far a grows-down region may grow.
    pub stack: u64,
}

impl Default for Limits {
    /// Linux's defaults: unlimited address space and data, an 8 MiB stack.
    fn default() -> Self {
        Self {
            address_space: RLIM_INFINITY,
            data: RLIM_INFINITY,
            stack: 8 << 20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_size_is_linux_x86_64_4_level() {
        assert_eq!(TASK_SIZE, 0x7fff_ffff_f000);
    }

    #[test]
    fn page_align_wraps_like_c() {
        assert_eq!(page_align(1), PAGE_SIZE);
        assert_eq!(page_align(PAGE_SIZE), PAGE_SIZE);
        assert_eq!(page_align(u64::MAX), 0);
    }

    #[test]
    fn default_layout_leaves_the_stack_gap() {
        // 8 MiB + 1 MiB guard is below the 128 MiB floor.
        let l = Layout::default();
        assert_eq!(l.mmap_base, TASK_SIZE - MIN_STACK_GAP);
        assert_eq!(l.legacy_base, page_align(TASK_SIZE / 3));
    }

    #[test]
    fn randomised_layout_moves_down_by_whole_pages() {
        let plain = Layout::linux(8 << 20, Some(0));
        let moved = Layout::linux(8 << 20, Some(5));
        assert_eq!(plain.mmap_base - moved.mmap_base, 5 * PAGE_SIZE);
        // An unlimited stack clamps the gap to 5/6 of the address space.
        let huge = Layout::linux(RLIM_INFINITY, None);
        assert_eq!(huge.mmap_base, page_align(TASK_SIZE - TASK_SIZE / 6 * 5));
    }
}
