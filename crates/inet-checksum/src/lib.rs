//! The Internet checksum (RFC 1071): the ones'-complement sum of 16-bit big-endian words.
//!
//! One implementation for every protocol that needs it (IPv4 header, ICMP, UDP, TCP), so a
//! faster version or a bug fix lands everywhere at once. [`Checksum`] accumulates data in
//! pieces (pseudo-header, header, payload) and folds once at the end.
#![no_std]
#![forbid(unsafe_code)]

/// A running ones'-complement sum. Feed it with [`Checksum::add_bytes`] and friends, then
/// [`Checksum::finish`] gives the value to put in a header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    sum: u64,
    /// True when an odd number of bytes has been added so far, so the next byte is the
    /// low half of a 16-bit word.
    odd: bool,
}

impl Checksum {
    pub const fn new() -> Self {
        Checksum { sum: 0, odd: false }
    }

    /// Adds `data` as if it directly followed everything added before.
    pub fn add_bytes(&mut self, mut data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.odd {
            self.sum += u64::from(data[0]);
            data = &data[1..];
            self.odd = false;
        }
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            // Adding the two 32-bit halves keeps the accumulator from overflowing for any
            // realistic input length (2^32 words) while staying a ones'-complement sum.
            self.sum += (w >> 32) + (w & 0xffff_ffff);
        }
        let mut words = chunks.remainder().chunks_exact(2);
        for w in &mut words {
            self.sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [last] = words.remainder() {
            self.sum += u64::from(*last) << 8;
            self.odd = true;
        }
    }

    /// Adds one 16-bit word (must be on a word boundary: an even number of bytes so far).
    pub fn add_u16(&mut self, v: u16) {
        debug_assert!(!self.odd, "add_u16 after an odd number of bytes");
        self.sum += u64::from(v);
    }

    /// Adds one 32-bit value as two words (must be on a word boundary).
    pub fn add_u32(&mut self, v: u32) {
        self.add_u16((v >> 16) as u16);
        self.add_u16(v as u16);
    }

    /// The folded 16-bit ones'-complement sum, not yet complemented.
    pub fn sum16(&self) -> u16 {
        fold(self.sum)
    }

    /// The checksum to store in a header: the complement of the folded sum.
    pub fn finish(&self) -> u16 {
        !self.sum16()
    }
}

fn fold(mut s: u64) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Checksum of one contiguous buffer.
pub fn checksum(data: &[u8]) -> u16 {
    let mut c = Checksum::new();
    c.add_bytes(data);
    c.finish()
}

/// True when `data`, which contains its own checksum field, verifies (sums to 0xffff).
pub fn verifies(data: &[u8]) -> bool {
    let mut c = Checksum::new();
    c.add_bytes(data);
    c.sum16() == 0xffff
}

/// Incrementally updates a stored checksum when one 16-bit field changes from `old` to
/// `new` (RFC 1624, equation 3: HC' = ~(~HC + ~m + m')).
pub fn update(stored: u16, old: u16, new: u16) -> u16 {
    let s = u64::from(!stored) + u64::from(!old) + u64::from(new);
    !fold(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-by-bit reference straight from RFC 1071 section 4.1.
    fn reference(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        let mut i = 0;
        while i + 1 < data.len() {
            sum += u32::from(data[i]) << 8 | u32::from(data[i + 1]);
            i += 2;
        }
        if i < data.len() {
            sum += u32::from(data[i]) << 8;
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    fn pseudo_random(len: usize, seed: u32) -> [u8; 1500] {
        let mut buf = [0u8; 1500];
        test_rng::TestRng::new(seed.into()).fill(&mut buf[..len]);
        buf
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3 example: words 0001 f203 f4f5 f6f7 sum to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        let mut c = Checksum::new();
        c.add_bytes(&data);
        assert_eq!(c.sum16(), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn matches_reference_for_every_length_and_split() {
        for len in 0..200 {
            let buf = pseudo_random(len, len as u32);
            let data = &buf[..len];
            assert_eq!(checksum(data), reference(data), "len {len}");
            for split in 0..=len {
                let mut c = Checksum::new();
                c.add_bytes(&data[..split]);
                c.add_bytes(&data[split..]);
                assert_eq!(c.finish(), reference(data), "len {len} split {split}");
            }
        }
    }

    #[test]
    fn ipv4_header_verifies() {
        // A real IPv4 header (checksum 0xb861) from the classic worked example.
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(verifies(&hdr));
        let mut zeroed = hdr;
        zeroed[10] = 0;
        zeroed[11] = 0;
        assert_eq!(checksum(&zeroed), 0xb861);
    }

    #[test]
    fn incremental_update_equals_recompute() {
        for seed in 0..500u32 {
            let mut buf = pseudo_random(40, seed);
            buf[10] = 0;
            buf[11] = 0;
            let c = checksum(&buf[..40]);
            let old = u16::from_be_bytes([buf[2], buf[3]]);
            let new = (seed as u16).wrapping_mul(31337);
            buf[2..4].copy_from_slice(&new.to_be_bytes());
            let recomputed = checksum(&buf[..40]);
            let updated = update(c, old, new);
            // 0x0000 and 0xffff are the same value in ones'-complement arithmetic.
            assert!(
                updated == recomputed
                    || (updated ^ recomputed) == 0xffff && (updated == 0 || recomputed == 0),
                "seed {seed}: {updated:#x} vs {recomputed:#x}"
            );
        }
    }
}
