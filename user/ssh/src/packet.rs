//! The binary packet protocol (RFC 4253 §6): `uint32 packet_length, byte padding_length,
//! payload, random padding, MAC`. An [`Opener`] cuts payloads out of the received byte stream,
//! a [`Sealer`] frames outgoing payloads; both count sequence numbers, which the caller resets
//! for strict key exchange.

use alloc::vec::Vec;

use crate::cipher::DirectionKeys;
use crate::error::{random, Error, Result};
use crate::names::MAX_PACKET_LEN;

/// Receiving side of the packet layer.
#[derive(Default)]
pub struct Opener {
    keys: Option<DirectionKeys>,
    /// Sequence number of the next packet to arrive.
    pub seq: u32,
    /// `packet_length` of the packet being received, once its first block was decrypted.
    pending_len: Option<usize>,
}

impl Opener {
    /// Switches to new keys (after receiving NEWKEYS).
    pub fn set_keys(&mut self, keys: DirectionKeys) {
        self.keys = Some(keys);
    }

    /// Whether keys are in use (the first key exchange has completed in this direction).
    pub fn is_encrypted(&self) -> bool {
        self.keys.is_some()
    }

    /// Takes one complete packet from the front of `buf` and returns its payload, or `None` if
    /// more bytes are needed. Errors are final: the stream cannot be resynchronised.
    pub fn open(&mut self, buf: &mut Vec<u8>) -> Result<Option<Vec<u8>>> {
        let (first, mac_len, block, aad) = match &self.keys {
            None => (4, 0, 8, false),
            Some(k) => (
                k.first_block_len(),
                k.mac_len(),
                k.block_size(),
                k.length_is_aad(),
            ),
        };
        let len = match self.pending_len {
            Some(l) => l,
            None => {
                if buf.len() < first {
                    return Ok(None);
                }
                let len = match &mut self.keys {
                    None => u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]),
                    Some(k) => k.decrypt_length(self.seq, &mut buf[..first]),
                } as usize;
                if len > MAX_PACKET_LEN {
                    return Err(Error::Oversized("packet length"));
                }
                let aligned = if aad { len } else { len + 4 };
                if len < 5 || len + 4 < first || aligned % block != 0 {
                    return Err(Error::Protocol("bad packet length"));
                }
                self.pending_len = Some(len);
                len
            }
        };
        let total = 4 + len + mac_len;
        if buf.len() < total {
            return Ok(None);
        }
        self.pending_len = None;
        let (packet, tag) = buf[..total].split_at_mut(4 + len);
        if let Some(k) = &mut self.keys {
            k.open(self.seq, packet, tag)?;
        }
        self.seq = self.seq.wrapping_add(1);
        let pad = packet[4] as usize;
        if pad < 4 || pad + 1 > len {
            return Err(Error::Protocol("bad padding length"));
        }
        let payload = packet[5..4 + len - pad].to_vec();
        buf.drain(..total);
        Ok(Some(payload))
    }
}

/// Sending side of the packet layer.
#[derive(Default)]
pub struct Sealer {
    keys: Option<DirectionKeys>,
    /// Sequence number of the next packet to send.
    pub seq: u32,
}

impl Sealer {
    /// Switches to new keys (right after sending NEWKEYS).
    pub fn set_keys(&mut self, keys: DirectionKeys) {
        self.keys = Some(keys);
    }

    /// Frames, protects and appends one packet carrying `payload` to `out`.
    pub fn seal(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let (block, aad) = match &self.keys {
            None => (8, false),
            Some(k) => (k.block_size(), k.length_is_aad()),
        };
        let unpadded = 1 + payload.len() + if aad { 0 } else { 4 };
        let mut pad = block - unpadded % block;
        if pad < 4 {
            pad += block;
        }
        let len = 1 + payload.len() + pad;
        let start = out.len();
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.push(pad as u8);
        out.extend_from_slice(payload);
        let pad_start = out.len();
        out.resize(pad_start + pad, 0);
        random(&mut out[pad_start..])?;
        if let Some(k) = &mut self.keys {
            let tag = k.seal(self.seq, &mut out[start..]);
            out.extend_from_slice(&tag[..k.mac_len()]);
        }
        self.seq = self.seq.wrapping_add(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher::Algorithm;

    fn pair(alg: Algorithm) -> (Sealer, Opener) {
        let (iv, key, mac) = ([7u8; 16], [9u8; 64], [3u8; 32]);
        let (ivl, kl, ml) = alg.key_sizes();
        let mut s = Sealer::default();
        s.set_keys(DirectionKeys::new(alg, &iv[..ivl], &key[..kl], &mac[..ml]).unwrap());
        let mut o = Opener::default();
        o.set_keys(DirectionKeys::new(alg, &iv[..ivl], &key[..kl], &mac[..ml]).unwrap());
        (s, o)
    }

    #[test]
    fn round_trips_byte_by_byte_for_every_cipher() {
        for (mut s, mut o) in [
            pair(Algorithm::ChaChaPoly),
            pair(Algorithm::Aes256CtrHmac),
            (Sealer::default(), Opener::default()),
        ] {
            let mut wire = Vec::new();
            for n in [0usize, 1, 100, 5000] {
                s.seal(&alloc::vec![n as u8; n], &mut wire).unwrap();
            }
            let mut buf = Vec::new();
            let mut got = Vec::new();
            for b in wire {
                buf.push(b);
                while let Some(p) = o.open(&mut buf).unwrap() {
                    got.push(p);
                }
            }
            assert_eq!(got.len(), 4);
            assert_eq!(got[3], alloc::vec![0x88u8; 5000]);
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn flipped_bit_fails_the_mac() {
        for (mut s, mut o) in [pair(Algorithm::ChaChaPoly), pair(Algorithm::Aes256CtrHmac)] {
            let mut wire = Vec::new();
            s.seal(b"secret", &mut wire).unwrap();
            wire[6] ^= 1;
            assert_eq!(o.open(&mut wire), Err(Error::BadMac));
        }
    }

    #[test]
    fn oversized_length_is_refused_before_buffering() {
        let mut o = Opener::default();
        let mut buf = alloc::vec![0x7f, 0xff, 0xff, 0xf0, 0];
        assert_eq!(o.open(&mut buf), Err(Error::Oversized("packet length")));
    }
}
