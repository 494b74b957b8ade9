//! The seeded generator every host test, fuzz-style loop and piece of test data uses.
//!
//! Why one crate: the tests used to carry ten hand-written generators (xorshift32/64,
//! xorshift64*, SplitMix64), each with its own helpers and its own zero-seed pitfall. They now share
//! xoshiro256++ from `rand_xoshiro`, the generator the kernel's in-kernel tests use
//! (`Xoshiro256PlusPlus::seed_from_u64`), so a seed means the same stream everywhere and
//! a failure replays from its seed. Any `u64` is a good seed, 0 included.
//!
//! Not for secrets: the stream is predictable from the seed by design.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use rand_xoshiro::rand_core::{Rng, SeedableRng};
use rand_xoshiro::{SplitMix64, Xoshiro256PlusPlus};

/// A stateless mix of `x` (the first output of SplitMix64 started at `x`, the step that
/// also seeds xoshiro): for data that must be computable at any position without running
/// a generator up to it, like a test stream's bytes at an offset.
pub fn mix(x: u64) -> u64 {
    SplitMix64::seed_from_u64(x).next_u64()
}

/// A deterministic generator: the same seed gives the same values, on every machine.
#[derive(Debug, Clone)]
pub struct TestRng(Xoshiro256PlusPlus);

impl TestRng {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> TestRng {
        TestRng(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    pub fn byte(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }

    /// Uniform in `0..n` (0 when `n` is 0). Multiply-shift instead of `%`: no division,
    /// and the bias is at most `n / 2^64`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// An index into a slice of `len` elements (0 when `len` is 0).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `range` (its start when it is empty).
    pub fn range(&mut self, range: Range<usize>) -> usize {
        range.start + self.index(range.end.saturating_sub(range.start))
    }

    /// Uniform in `[0, 1)`, from the top 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (never for `p <= 0`).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        self.0.fill_bytes(buf);
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.fill(&mut v);
        v
    }

    /// Random bytes, as many as a uniform draw from `len` says.
    pub fn bytes_in(&mut self, len: Range<usize>) -> Vec<u8> {
        let n = self.range(len);
        self.bytes(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Same seed, same stream; other seed, other stream; seed 0 is not degenerate.
    #[test]
    fn deterministic_per_seed() {
        let a: Vec<u64> = (0..8)
            .map({
                let mut r = TestRng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let mut r = TestRng::new(7);
        assert!(a.iter().all(|&x| x == r.next_u64()));
        assert_ne!(TestRng::new(8).next_u64(), a[0]);
        let mut zero = TestRng::new(0);
        assert_ne!(zero.next_u64(), zero.next_u64());
    }

    /// `seed_from_u64` of rand_xoshiro, the kernel tests' generator: the same first value.
    #[test]
    fn is_the_kernel_tests_generator() {
        let mut k = Xoshiro256PlusPlus::seed_from_u64(42);
        assert_eq!(TestRng::new(42).next_u64(), k.next_u64());
    }

    #[test]
    fn bounded_values_stay_in_bounds_and_cover_them() {
        let mut r = TestRng::new(1);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let x = r.range(5..15);
            assert!((5..15).contains(&x));
            seen[x - 5] = true;
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(r.below(0), 0);
        assert_eq!(r.index(1), 0);
        assert_eq!(r.range(3..3), 3);
        assert!(!r.chance(0.0) && r.chance(1.0));
    }

    /// About a quarter of 10,000 draws at p = 0.25 (binomial sd is 43; the bound is 7 sd).
    #[test]
    fn chance_follows_its_probability() {
        let mut r = TestRng::new(3);
        let hits = (0..10_000).filter(|_| r.chance(0.25)).count();
        assert!((2200..2800).contains(&hits), "{hits}");
    }

    /// SplitMix64 (Steele, Lea, Flood 2014): the first output from state 0, and a mix
    /// that spreads neighbouring inputs.
    #[test]
    fn mix_is_splitmix64() {
        assert_eq!(mix(0), 0xe220_a839_7b1d_cdaf);
        assert!((mix(1) ^ mix(2)).count_ones() > 16);
    }

    #[test]
    fn bytes_are_varied_and_reproducible() {
        let a = TestRng::new(9).bytes(1000);
        assert_eq!(a, TestRng::new(9).bytes(1000));
        let mut r = TestRng::new(9);
        let lengths: Vec<usize> = (0..100).map(|_| r.bytes_in(2..5).len()).collect();
        assert!((2..5).all(|n| lengths.contains(&n)) && lengths.iter().all(|n| (2..5).contains(n)));
        let distinct = (0..=255u8).filter(|b| a.contains(b)).count();
        assert!(distinct > 200, "{distinct}");
    }
}
