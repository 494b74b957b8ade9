//! A small seeded generator (xorshift64*) for message sizes, contents and timing jitter:
//! each thread has its own, so the loops need no shared state and a run's messages are
//! distinct enough that a byte echoed on the wrong connection is seen.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    pub fn bit(&mut self) -> bool {
        self.next() & 1 == 1
    }

    /// A message of `lo..=hi` random bytes.
    pub fn message(&mut self, lo: usize, hi: usize) -> Vec<u8> {
        let len = self.range(lo as u64, hi as u64) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}
