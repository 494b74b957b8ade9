//! A byte-frequency sanity check for a random source's output.
//!
//! Over `n` bytes each of the 256 values is expected `n / 256` times. The check computes
//! the chi-square statistic of the observed counts (255 degrees of freedom: mean 255,
//! standard deviation about 22.6) and accepts `[CHI_SQUARE_MIN, CHI_SQUARE_MAX]`, about
//! six standard deviations on each side (a good source fails about once in 10^8 runs). The
//! upper bound catches constant output, stuck bits and strong bias; the lower bound catches
//! output that is too even to be random (a counter, a short repeating cycle). It says
//! nothing about subtler flaws and is no certification of a generator: it is what a boot
//! test can usefully check in a fraction of a second.

/// Fewer bytes than this give too few expected per value for the bounds (64 per value).
pub const MIN_SAMPLES: usize = 256 * 64;
/// Accepted chi-square range (255 degrees of freedom).
pub const CHI_SQUARE_MIN: u64 = 150;
pub const CHI_SQUARE_MAX: u64 = 420;

/// What [`byte_frequency`] measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frequency {
    pub samples: usize,
    /// Fewest and most occurrences of any byte value.
    pub min: u64,
    pub max: u64,
    /// The chi-square statistic, rounded down.
    pub chi_square: u64,
}

impl Frequency {
    /// True when the counts are what a uniform source plausibly gives (see the module).
    pub fn plausible(&self) -> bool {
        self.samples >= MIN_SAMPLES && (CHI_SQUARE_MIN..=CHI_SQUARE_MAX).contains(&self.chi_square)
    }
}

/// Counts byte values in `data` and computes the chi-square statistic against uniform.
pub fn byte_frequency(data: &[u8]) -> Frequency {
    let mut counts = [0u64; 256];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    let n = data.len() as u128;
    // chi² = Σ (c - n/256)² / (n/256) = Σ (256c - n)² / (256 n), in integers.
    let chi_square = if n == 0 {
        0
    } else {
        let sum: u128 = counts
            .iter()
            .map(|&c| (u128::from(c) * 256).abs_diff(n).pow(2))
            .sum();
        u64::try_from(sum / (256 * n)).unwrap_or(u64::MAX)
    };
    Frequency {
        samples: data.len(),
        min: counts.iter().copied().min().unwrap_or(0),
        max: counts.iter().copied().max().unwrap_or(0),
        chi_square,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Crng;
    use std::vec;
    use std::vec::Vec;
    use test_rng::TestRng;

    const N: usize = 64 * 1024;

    #[test]
    fn good_generators_pass() {
        for seed in 0..50 {
            let data = TestRng::new(seed).bytes(N);
            let f = byte_frequency(&data);
            assert!(f.plausible(), "seed {seed}: {f:?}");
        }
        let mut c = Crng::new([9; 32]);
        let mut data = vec![0u8; N];
        c.fill(&mut data);
        assert!(byte_frequency(&data).plausible());
    }

    #[test]
    fn broken_sources_fail() {
        let zeros = byte_frequency(&vec![0u8; N]);
        assert!(!zeros.plausible());
        assert_eq!((zeros.min, zeros.max), (0, N as u64));
        // A counter is perfectly even: too uniform.
        let counter: Vec<u8> = (0..N).map(|i| i as u8).collect();
        let f = byte_frequency(&counter);
        assert_eq!((f.chi_square, f.min, f.max), (0, 256, 256));
        assert!(!f.plausible());
        // One stuck bit halves the values in use.
        let mut stuck = TestRng::new(1).bytes(N);
        stuck.iter_mut().for_each(|b| *b |= 0x10);
        assert!(!byte_frequency(&stuck).plausible());
        // A short repeating cycle of random bytes.
        let cycle = TestRng::new(2).bytes(64);
        let repeated: Vec<u8> = cycle.iter().copied().cycle().take(N).collect();
        assert!(!byte_frequency(&repeated).plausible());
        // A mild bias: one value in 64 forced to 0.
        let mut biased = TestRng::new(3).bytes(N);
        biased.iter_mut().step_by(64).for_each(|b| *b = 0);
        assert!(!byte_frequency(&biased).plausible());
    }

    #[test]
    fn too_few_samples_are_never_plausible() {
        let data = TestRng::new(4).bytes(MIN_SAMPLES - 1);
        assert!(!byte_frequency(&data).plausible());
        assert_eq!(byte_frequency(&[]).chi_square, 0);
        assert!(byte_frequency(&TestRng::new(4).bytes(MIN_SAMPLES)).plausible());
    }
}
