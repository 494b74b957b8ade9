//! ChaCha20 with fast key erasure (D. J. Bernstein, "Fast-key-erasure random-number
//! generators", 2017; Linux's `crng` in `drivers/char/random.c` works the same way).
//!
//! The generator is a ChaCha20 keystream (the `chacha20` crate's `ChaCha20Rng`: 20
//! rounds, 256-bit key, zero nonce). Each request is served from the stream and then the
//! next 32 bytes of the stream become the new key; the old key is gone (and the
//! generator's buffers are zeroed on drop, the crate's `zeroize` feature). So whoever reads
//! the state after a request learns nothing about what earlier requests returned.
//!
//! Reseeding never replaces the key with the new material alone: the new key is a hash of
//! the fresh inputs ([`crate::seed`]) and 32 bytes of the current stream, so a reseed from a
//! weak or attacker-controlled source cannot make the output weaker than it was.
use chacha20::rand_core::{Rng, SeedableRng};
use chacha20::ChaCha20Rng;
use zeroize::Zeroize;

use crate::seed::{SeedHasher, Source};

/// A fast-key-erasure ChaCha20 generator.
#[derive(Debug)]
pub struct Crng {
    rng: ChaCha20Rng,
    /// Times [`Crng::reseed`] was called.
    reseeds: u64,
}

impl Crng {
    /// A generator keyed with `key` (from [`SeedHasher::finish`]).
    pub fn new(key: [u8; 32]) -> Crng {
        Crng {
            rng: ChaCha20Rng::from_seed(key),
            reseeds: 0,
        }
    }

    /// Fills `out` with keystream, then erases the key that produced it.
    pub fn fill(&mut self, out: &mut [u8]) {
        self.rng.fill_bytes(out);
        self.rekey();
    }

    /// A random `u64` (one request: the key is replaced afterwards).
    pub fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }

    /// An independent generator keyed from this one's stream (this one is rekeyed): for
    /// serving a large request without holding whatever protects `self`.
    pub fn fork(&mut self) -> Crng {
        let mut key = [0u8; 32];
        self.rng.fill_bytes(&mut key);
        self.rekey();
        let child = Crng::new(key);
        key.zeroize();
        child
    }

    /// Folds new seed material into the generator: the new key is `inputs` (a hasher
    /// holding what the entropy sources gave) finished after 32 bytes of this generator's
    /// stream, so the state after a reseed is at least as unpredictable as before it.
    pub fn reseed(&mut self, mut inputs: SeedHasher) {
        let mut carried = [0u8; 32];
        self.rng.fill_bytes(&mut carried);
        inputs.absorb(Source::Previous, &carried);
        carried.zeroize();
        let mut key = inputs.finish();
        self.rng = ChaCha20Rng::from_seed(key);
        key.zeroize();
        self.reseeds += 1;
    }

    /// How many times [`Crng::reseed`] ran.
    pub fn reseeds(&self) -> u64 {
        self.reseeds
    }

    /// Replaces the key with the next 32 bytes of keystream.
    fn rekey(&mut self) {
        let mut key = [0u8; 32];
        self.rng.fill_bytes(&mut key);
        self.rng = ChaCha20Rng::from_seed(key);
        key.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    /// RFC 8439 section 2.4.2 / draft-nir-cfrg-chacha20-poly1305 test vector 1: the
    /// keystream of the all-zero key and nonce.
    const ZERO_KEY_BLOCK0: [u8; 32] = [
        0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90, 0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd,
        0x28, 0xbd, 0xd2, 0x19, 0xb8, 0xa0, 0x8d, 0xed, 0x1a, 0xa8, 0x36, 0xef, 0xcc, 0x8b, 0x77,
        0x0d, 0xc7,
    ];

    #[test]
    fn output_is_the_chacha20_keystream_then_the_key_is_replaced() {
        let mut c = Crng::new([0; 32]);
        let mut first = [0u8; 32];
        c.fill(&mut first);
        assert_eq!(first, ZERO_KEY_BLOCK0);
        // The next request comes from a new key: not the continuation of the stream.
        let mut plain = ChaCha20Rng::from_seed([0; 32]);
        let mut stream = [0u8; 128];
        plain.fill_bytes(&mut stream);
        let mut second = [0u8; 32];
        c.fill(&mut second);
        assert!(!stream.windows(32).any(|w| w == second));
        // The new key is the 32 bytes after the request: the request's output with it
        // (bytes 32..64 of the zero key's stream) matches.
        let mut expected = [0u8; 32];
        ChaCha20Rng::from_seed(stream[32..64].try_into().unwrap()).fill_bytes(&mut expected);
        assert_eq!(second, expected);
    }

    #[test]
    fn same_key_same_output_different_key_different_output() {
        let run = |k: u8| {
            let mut c = Crng::new([k; 32]);
            let mut v = vec![0u8; 100];
            c.fill(&mut v);
            (v, c.next_u64())
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    fn inputs(device_byte: u8) -> SeedHasher {
        let mut h = SeedHasher::new(b"test reseed");
        h.absorb(Source::Device, &[device_byte; 32]);
        h
    }

    #[test]
    fn reseed_changes_the_stream_and_counts() {
        let mut a = Crng::new([7; 32]);
        let mut b = Crng::new([7; 32]);
        b.reseed(inputs(0));
        assert_eq!((a.reseeds(), b.reseeds()), (0, 1));
        assert_ne!(a.next_u64(), b.next_u64());
        // Two reseeds with different material diverge too.
        let mut c = Crng::new([7; 32]);
        c.reseed(inputs(1));
        let mut d = Crng::new([7; 32]);
        d.reseed(inputs(0));
        assert_ne!(c.next_u64(), d.next_u64());
    }

    #[test]
    fn fork_is_independent_of_the_parent() {
        let mut parent = Crng::new([3; 32]);
        let mut child = parent.fork();
        let mut p = [0u8; 64];
        let mut c = [0u8; 64];
        parent.fill(&mut p);
        child.fill(&mut c);
        assert_ne!(p, c);
        // Forking advanced the parent: a fresh parent's first output differs.
        let mut fresh = Crng::new([3; 32]);
        let mut f = [0u8; 64];
        fresh.fill(&mut f);
        assert_ne!(f, p);
    }

    proptest! {
        /// No two consecutive requests return overlapping keystream, whatever their sizes
        /// (a failure to rekey would repeat bytes between requests).
        #[test]
        fn requests_never_repeat(key in any::<[u8; 32]>(), sizes in proptest::collection::vec(16usize..300, 2..6)) {
            let mut c = Crng::new(key);
            let outs: Vec<Vec<u8>> = sizes.iter().map(|&n| {
                let mut v = vec![0u8; n];
                c.fill(&mut v);
                v
            }).collect();
            for (i, a) in outs.iter().enumerate() {
                for b in &outs[i + 1..] {
                    prop_assert!(!b.windows(16).any(|w| a.windows(16).any(|x| x == w)));
                }
            }
        }
    }
}
