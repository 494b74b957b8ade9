//! The CPU's own entropy: RDSEED and RDRAND where CPUID says they exist, and TSC jitter
//! everywhere (Linux: `arch_get_random_seed_longs`, `arch_get_random_longs` and
//! `try_to_generate_entropy`).
//!
//! RDSEED returns conditioned output of the CPU's hardware noise source; RDRAND returns
//! output of a DRBG the CPU reseeds from that source. Both may transiently report "no
//! data", so each word gets a few tries. Neither is trusted alone: their words go into
//! the same hash as the device's bytes ([`halyard_random::SeedHasher`]). QEMU's TCG has
//! both with `-cpu max` (backed by the host's randomness), neither with `qemu64`.
//!
//! TSC jitter: the low bits of the time a short memory-touching loop takes vary with
//! caches, interrupts and (under emulation) the host's scheduling. Every sample is hashed
//! whole; the entropy per sample is small and not estimated, which is why a boot with
//! neither the device nor RDSEED/RDRAND logs a warning.
use core::sync::atomic::{AtomicU64, Ordering};

use halyard_random::{SeedHasher, Source};
use spin::Once;

use crate::arch::cpu;

/// Tries per RDSEED / RDRAND word before giving up on that word.
const TRIES: u32 = 10;
/// TSC samples per gathering.
const JITTER_SAMPLES: usize = 64;

/// Which instructions this CPU has (the same on every CPU of the machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSources {
    pub rdrand: bool,
    pub rdseed: bool,
}

static DETECTED: Once<CpuSources> = Once::new();

/// Words RDSEED / RDRAND failed to give after all tries.
pub static RDSEED_FAILURES: AtomicU64 = AtomicU64::new(0);
pub static RDRAND_FAILURES: AtomicU64 = AtomicU64::new(0);

/// The instructions available, from CPUID (read once).
pub fn detect() -> CpuSources {
    *DETECTED.call_once(|| {
        let max_leaf = cpu::cpuid(0, 0)[0];
        let rdrand = cpu::cpuid(1, 0)[2] & (1 << 30) != 0;
        let rdseed = max_leaf >= 7 && cpu::cpuid(7, 0)[1] & (1 << 18) != 0;
        CpuSources { rdrand, rdseed }
    })
}

/// Absorbs up to `words` RDSEED words, `words` RDRAND words and the TSC jitter samples
/// into `h`. Any context (a few microseconds; no locks).
pub fn gather(h: &mut SeedHasher, words: usize) {
    let have = detect();
    if have.rdseed {
        collect(h, Source::Rdseed, words, cpu::rdseed64, &RDSEED_FAILURES);
    }
    if have.rdrand {
        collect(h, Source::Rdrand, words, cpu::rdrand64, &RDRAND_FAILURES);
    }
    jitter(h);
}

fn collect(
    h: &mut SeedHasher,
    source: Source,
    words: usize,
    read: fn() -> Option<u64>,
    failures: &AtomicU64,
) {
    for _ in 0..words {
        match (0..TRIES).find_map(|_| {
            let w = read();
            if w.is_none() {
                core::hint::spin_loop();
            }
            w
        }) {
            Some(w) => h.absorb_u64(source, w),
            None => {
                failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// TSC deltas around a loop whose duration varies.
fn jitter(h: &mut SeedHasher) {
    let mut scratch = [0u64; 16];
    let mut prev = cpu::rdtsc();
    for i in 0..JITTER_SAMPLES {
        // Work whose timing depends on caches and whatever interrupts arrive.
        for (j, s) in scratch.iter_mut().enumerate() {
            *s = core::hint::black_box(s.wrapping_add(prev ^ (i + j) as u64).rotate_left(7));
        }
        let now = cpu::rdtsc();
        h.absorb_u64(
            Source::Jitter,
            now.wrapping_sub(prev) ^ scratch[i % scratch.len()],
        );
        prev = now;
    }
    h.absorb_u64(Source::Jitter, prev);
}
