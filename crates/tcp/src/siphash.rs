//! SipHash-2-4, the keyed hash behind the ISN generator (RFC 6528), the ephemeral-port
//! offset (RFC 6056) and the connection table (so an attacker cannot choose 4-tuples that
//! collide). The hash itself is the `siphasher` crate's; this module only adds the key
//! type, which never prints its bytes and builds hashers for `HashMap`s. The tests below
//! pin the key layout (bytes 0..8 are k0, little-endian) to the SipHash paper's vectors,
//! so ISNs and port offsets stay what they were with the hand-written version.

use core::hash::{BuildHasher, Hasher};

pub use siphasher::sip::SipHasher24 as SipHasher;

/// A 128-bit SipHash key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SipKey(pub [u8; 16]);

impl core::fmt::Debug for SipKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print secret material.
        f.write_str("SipKey(..)")
    }
}

impl BuildHasher for SipKey {
    type Hasher = SipHasher;
    fn build_hasher(&self) -> SipHasher {
        SipHasher::new_with_key(&self.0)
    }
}

/// SipHash-2-4 of one message.
pub fn siphash(key: &SipKey, data: &[u8]) -> u64 {
    let mut h = key.build_hasher();
    h.write(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SipKey {
        SipKey(core::array::from_fn(|i| i as u8))
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

    /// The ISN and port code feed a 4-tuple in several writes: the same bytes in pieces
    /// must hash like the whole message.
    #[test]
    fn pieces_hash_like_the_whole_message() {
        let msg: [u8; 40] = core::array::from_fn(|i| (i * 7) as u8);
        for split in 0..msg.len() {
            let mut h = key().build_hasher();
            h.write(&msg[..split]);
            h.write(&msg[split..]);
            assert_eq!(h.finish(), siphash(&key(), &msg));
        }
    }
}
