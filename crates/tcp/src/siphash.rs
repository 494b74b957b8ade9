//! SipHash-2-4, the keyed hash behind the ISN generator (RFC 6528), the ephemeral-port
//! offset (RFC 6056) and the connection table (so an attacker cannot choose 4-tuples that
//! collide). Written here to keep the engine dependency-free; checked against the
//! reference vectors of the SipHash paper.

use core::hash::{BuildHasher, Hasher};

/// A 128-bit SipHash key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SipKey(pub [u8; 16]);

impl core::fmt::Debug for SipKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print secret material.
        f.write_str("SipKey(..)")
    }
}

/// Streaming SipHash-2-4 state.
#[derive(Clone)]
pub struct SipHasher {
    v: [u64; 4],
    tail: u64,
    ntail: usize,
    len: u64,
}

impl SipHasher {
    /// A hasher keyed with `key`.
    pub fn new(key: &SipKey) -> SipHasher {
        let k0 = u64::from_le_bytes(key.0[..8].try_into().unwrap_or([0; 8]));
        let k1 = u64::from_le_bytes(key.0[8..].try_into().unwrap_or([0; 8]));
        SipHasher {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            ntail: 0,
            len: 0,
        }
    }

    fn round(&mut self) {
        let v = &mut self.v;
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    fn compress(&mut self, m: u64) {
        self.v[3] ^= m;
        self.round();
        self.round();
        self.v[0] ^= m;
    }
}

impl Hasher for SipHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        for &b in bytes {
            self.tail |= u64::from(b) << (8 * self.ntail);
            self.ntail += 1;
            if self.ntail == 8 {
                let m = self.tail;
                self.compress(m);
                self.tail = 0;
                self.ntail = 0;
            }
        }
    }

    fn finish(&self) -> u64 {
        let mut s = self.clone();
        let b = ((s.len & 0xff) << 56) | s.tail;
        s.compress(b);
        s.v[2] ^= 0xff;
        for _ in 0..4 {
            s.round();
        }
        s.v[0] ^ s.v[1] ^ s.v[2] ^ s.v[3]
    }
}

impl BuildHasher for SipKey {
    type Hasher = SipHasher;
    fn build_hasher(&self) -> SipHasher {
        SipHasher::new(self)
    }
}

/// SipHash-2-4 of one message.
pub fn siphash(key: &SipKey, data: &[u8]) -> u64 {
    let mut h = SipHasher::new(key);
    h.write(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SipKey {
        let mut k = [0u8; 16];
        for (i, b) in k.iter_mut().enumerate() {
            *b = i as u8;
        }
        SipKey(k)
    }

    /// The SipHash paper (Aumasson & Bernstein), appendix A: key 00..0f, message 00..0e.
    #[test]
    fn paper_test_vector() {
        let msg: [u8; 15] = core::array::from_fn(|i| i as u8);
        assert_eq!(siphash(&key(), &msg), 0xa129_ca61_49be_45e5);
    }

    /// First entries of the reference `vectors.h` (empty message and one byte).
    #[test]
    fn reference_vectors_short() {
        assert_eq!(siphash(&key(), &[]), 0x726f_db47_dd0e_0e31);
        assert_eq!(siphash(&key(), &[0]), 0x74f8_39c5_93dc_67fd);
    }

    #[test]
    fn streaming_equals_one_shot() {
        let msg: [u8; 40] = core::array::from_fn(|i| (i * 7) as u8);
        for split in 0..msg.len() {
            let mut h = SipHasher::new(&key());
            h.write(&msg[..split]);
            h.write(&msg[split..]);
            assert_eq!(h.finish(), siphash(&key(), &msg));
        }
    }
}
