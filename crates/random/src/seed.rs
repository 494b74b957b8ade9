//! Condensing entropy inputs into a 32-byte key with SHA-256.
//!
//! Each input is absorbed as `tag (1 byte) || length (8 bytes, little-endian) || bytes`
//! after a purpose string that separates the boot seed from reseeds. Because every input
//! carries its source and length, the encoding is injective: two different input
//! sequences never feed the same bytes to the hash. The hash output is uniform as long as
//! the inputs together hold enough entropy, whichever source it came from; a source that
//! is absent or returns constants only adds known bytes.
use sha2::{Digest, Sha256};

/// Where an input came from (its tag in the hash input, and the index of its byte count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The virtio-rng device (the host's `/dev/urandom` under QEMU).
    Device = 0,
    /// The CPU's RDSEED instruction (conditioned output of its entropy source).
    Rdseed = 1,
    /// The CPU's RDRAND instruction (its DRBG, reseeded from the same source).
    Rdrand = 2,
    /// Time-stamp counter samples whose low bits vary with timing noise.
    Jitter = 3,
    /// Keystream of the generator being reseeded (carries the old state forward).
    Previous = 4,
}

impl Source {
    /// Every source, in tag order.
    pub const ALL: [Source; 5] = [
        Source::Device,
        Source::Rdseed,
        Source::Rdrand,
        Source::Jitter,
        Source::Previous,
    ];

    /// A short lower-case name, for logs.
    pub fn name(self) -> &'static str {
        match self {
            Source::Device => "virtio-rng",
            Source::Rdseed => "rdseed",
            Source::Rdrand => "rdrand",
            Source::Jitter => "tsc-jitter",
            Source::Previous => "previous",
        }
    }
}

/// Accumulates inputs; [`SeedHasher::finish`] gives the key.
#[derive(Clone)]
pub struct SeedHasher {
    hash: Sha256,
    bytes: [u64; Source::ALL.len()],
}

impl core::fmt::Debug for SeedHasher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The hash state is secret: only the byte counts are shown.
        f.debug_struct("SeedHasher")
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl SeedHasher {
    /// A hasher for keys of `purpose` (e.g. `b"halyard boot seed"`): keys of different
    /// purposes differ even from the same inputs.
    pub fn new(purpose: &[u8]) -> SeedHasher {
        let mut hash = Sha256::new();
        hash.update((purpose.len() as u64).to_le_bytes());
        hash.update(purpose);
        SeedHasher {
            hash,
            bytes: [0; Source::ALL.len()],
        }
    }

    /// Absorbs `data` from `source`.
    pub fn absorb(&mut self, source: Source, data: &[u8]) {
        self.hash.update([source as u8]);
        self.hash.update((data.len() as u64).to_le_bytes());
        self.hash.update(data);
        let n = &mut self.bytes[source as usize];
        *n = n.saturating_add(data.len() as u64);
    }

    /// Absorbs one 64-bit word from `source`.
    pub fn absorb_u64(&mut self, source: Source, word: u64) {
        self.absorb(source, &word.to_le_bytes());
    }

    /// Bytes absorbed from `source` so far.
    pub fn bytes_from(&self, source: Source) -> u64 {
        self.bytes[source as usize]
    }

    /// The 32-byte key.
    pub fn finish(self) -> [u8; 32] {
        self.hash.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::format;
    use std::vec::Vec;

    fn key(purpose: &[u8], inputs: &[(Source, &[u8])]) -> [u8; 32] {
        let mut h = SeedHasher::new(purpose);
        for (s, d) in inputs {
            h.absorb(*s, d);
        }
        h.finish()
    }

    #[test]
    fn matches_sha256_of_the_documented_encoding() {
        let mut expected = Sha256::new();
        expected.update(4u64.to_le_bytes());
        expected.update(b"boot");
        expected.update([0u8]);
        expected.update(3u64.to_le_bytes());
        expected.update(b"abc");
        let expected: [u8; 32] = expected.finalize().into();
        assert_eq!(key(b"boot", &[(Source::Device, b"abc")]), expected);
    }

    #[test]
    fn counts_bytes_per_source() {
        let mut h = SeedHasher::new(b"x");
        h.absorb(Source::Device, &[0; 32]);
        h.absorb_u64(Source::Rdseed, 1);
        h.absorb_u64(Source::Rdseed, 2);
        assert_eq!(h.bytes_from(Source::Device), 32);
        assert_eq!(h.bytes_from(Source::Rdseed), 16);
        assert_eq!(h.bytes_from(Source::Rdrand), 0);
        assert!(!format!("{h:?}").contains("state"));
    }

    #[test]
    fn purpose_source_and_split_points_all_matter() {
        let base = key(b"boot", &[(Source::Device, b"abcd")]);
        assert_ne!(base, key(b"reseed", &[(Source::Device, b"abcd")]));
        assert_ne!(base, key(b"boot", &[(Source::Rdrand, b"abcd")]));
        assert_ne!(
            base,
            key(b"boot", &[(Source::Device, b"ab"), (Source::Device, b"cd")])
        );
        assert_ne!(base, key(b"boot", &[]));
    }

    proptest! {
        /// Different input sequences give different keys (the encoding is injective, so a
        /// collision here would be a SHA-256 collision).
        #[test]
        fn distinct_inputs_distinct_keys(
            a in proptest::collection::vec((0usize..5, proptest::collection::vec(any::<u8>(), 0..40)), 0..4),
            b in proptest::collection::vec((0usize..5, proptest::collection::vec(any::<u8>(), 0..40)), 0..4),
        ) {
            let conv = |v: &Vec<(usize, Vec<u8>)>| -> [u8; 32] {
                let mut h = SeedHasher::new(b"p");
                for (s, d) in v {
                    h.absorb(Source::ALL[*s], d);
                }
                h.finish()
            };
            prop_assert_eq!(a == b, conv(&a) == conv(&b));
        }
    }
}
