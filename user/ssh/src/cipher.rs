//! Packet protection for one direction after key exchange: `chacha20-poly1305@openssh.com`
//! (OpenSSH's PROTOCOL.chacha20poly1305) or `aes256-ctr` with `hmac-sha2-256` (RFC 4344,
//! RFC 6668). [`crate::packet`] does the framing; this file only transforms bytes.
//!
//! chacha20-poly1305 uses two ChaCha20 keys: `K_2` (first 32 bytes) for the payload and the
//! Poly1305 key, `K_1` (last 32 bytes) for the 4-byte length. The nonce is the packet sequence
//! number; the 96-bit IETF nonce with the sequence number in its last 4 bytes gives the same
//! keystream as OpenSSH's 64-bit nonce form, because sequence numbers are 32 bits.

use aes::Aes256;
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20::ChaCha20;
use hmac::{Hmac, KeyInit, Mac};
use poly1305::Poly1305;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::names;

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

/// Which cipher a direction uses once keys are in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `chacha20-poly1305@openssh.com`
    ChaChaPoly,
    /// `aes256-ctr` + `hmac-sha2-256`
    Aes256CtrHmac,
}

impl Algorithm {
    /// Maps a negotiated cipher name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            names::CHACHA20_POLY1305 => Some(Algorithm::ChaChaPoly),
            names::AES256_CTR => Some(Algorithm::Aes256CtrHmac),
            _ => None,
        }
    }

    /// Bytes of IV, encryption key and MAC key this algorithm takes from key derivation.
    pub fn key_sizes(self) -> (usize, usize, usize) {
        match self {
            Algorithm::ChaChaPoly => (0, 64, 0),
            Algorithm::Aes256CtrHmac => (16, 32, 32),
        }
    }
}

/// Keys of one direction.
pub enum DirectionKeys {
    /// See the module docs for the key split.
    ChaChaPoly { payload: [u8; 32], length: [u8; 32] },
    /// The CTR stream state runs across packets (boxed: the AES key schedule is large).
    Aes256CtrHmac {
        ctr: alloc::boxed::Box<Aes256Ctr>,
        mac: [u8; 32],
    },
}

impl DirectionKeys {
    /// Builds the keys from derived material (sizes as in [`Algorithm::key_sizes`]).
    pub fn new(alg: Algorithm, iv: &[u8], key: &[u8], mac: &[u8]) -> Result<Self> {
        match alg {
            Algorithm::ChaChaPoly => {
                let payload = key.get(..32).ok_or(Error::BadKey("cipher key length"))?;
                let length = key.get(32..64).ok_or(Error::BadKey("cipher key length"))?;
                Ok(DirectionKeys::ChaChaPoly {
                    payload: payload.try_into().map_err(|_| Error::BadKey("key"))?,
                    length: length.try_into().map_err(|_| Error::BadKey("key"))?,
                })
            }
            Algorithm::Aes256CtrHmac => {
                let k: &[u8; 32] = key
                    .try_into()
                    .map_err(|_| Error::BadKey("aes key length"))?;
                let iv: &[u8; 16] = iv.try_into().map_err(|_| Error::BadKey("aes iv length"))?;
                let mac = mac
                    .try_into()
                    .map_err(|_| Error::BadKey("mac key length"))?;
                let ctr = alloc::boxed::Box::new(Aes256Ctr::new(k.into(), iv.into()));
                Ok(DirectionKeys::Aes256CtrHmac { ctr, mac })
            }
        }
    }

    /// Cipher block size for padding.
    pub fn block_size(&self) -> usize {
        match self {
            DirectionKeys::ChaChaPoly { .. } => 8,
            DirectionKeys::Aes256CtrHmac { .. } => 16,
        }
    }

    /// Bytes of tag/MAC after each packet.
    pub fn mac_len(&self) -> usize {
        match self {
            DirectionKeys::ChaChaPoly { .. } => 16,
            DirectionKeys::Aes256CtrHmac { .. } => 32,
        }
    }

    /// Whether the length field is left out of the padding alignment (true for the AEAD).
    pub fn length_is_aad(&self) -> bool {
        matches!(self, DirectionKeys::ChaChaPoly { .. })
    }

    /// Bytes that must be present before [`Self::decrypt_length`] can run.
    pub fn first_block_len(&self) -> usize {
        match self {
            DirectionKeys::ChaChaPoly { .. } => 4,
            DirectionKeys::Aes256CtrHmac { .. } => 16,
        }
    }

    /// Recovers `packet_length` from the first bytes of a packet. For AES-CTR the first block is
    /// decrypted in place (the stream advances), so this must run once per packet.
    pub fn decrypt_length(&mut self, seq: u32, first: &mut [u8]) -> u32 {
        match self {
            DirectionKeys::ChaChaPoly { length, .. } => {
                let mut b = [first[0], first[1], first[2], first[3]];
                chacha(length, seq, 0).apply_keystream(&mut b);
                u32::from_be_bytes(b)
            }
            DirectionKeys::Aes256CtrHmac { ctr, .. } => {
                ctr.apply_keystream(&mut first[..16]);
                u32::from_be_bytes([first[0], first[1], first[2], first[3]])
            }
        }
    }

    /// Checks the tag and decrypts the rest of `packet` (length field included in `packet`,
    /// already handled by [`Self::decrypt_length`]).
    pub fn open(&mut self, seq: u32, packet: &mut [u8], tag: &[u8]) -> Result<()> {
        match self {
            DirectionKeys::ChaChaPoly { payload, .. } => {
                let expect = poly_tag(payload, seq, packet);
                if !bool::from(expect.ct_eq(tag)) {
                    return Err(Error::BadMac);
                }
                chacha(payload, seq, 64).apply_keystream(&mut packet[4..]);
                Ok(())
            }
            DirectionKeys::Aes256CtrHmac { ctr, mac } => {
                ctr.apply_keystream(&mut packet[16..]);
                hmac(mac, seq, packet)
                    .verify_slice(tag)
                    .map_err(|_| Error::BadMac)
            }
        }
    }

    /// Encrypts a framed plaintext packet in place and returns its tag.
    pub fn seal(&mut self, seq: u32, packet: &mut [u8]) -> [u8; 32] {
        let mut tag = [0u8; 32];
        match self {
            DirectionKeys::ChaChaPoly { payload, length } => {
                chacha(length, seq, 0).apply_keystream(&mut packet[..4]);
                chacha(payload, seq, 64).apply_keystream(&mut packet[4..]);
                tag[..16].copy_from_slice(&poly_tag(payload, seq, packet));
            }
            DirectionKeys::Aes256CtrHmac { ctr, mac } => {
                tag.copy_from_slice(&hmac(mac, seq, packet).finalize().into_bytes());
                ctr.apply_keystream(packet);
            }
        }
        tag
    }
}

/// ChaCha20 keyed for packet `seq`, positioned `offset` bytes into the keystream.
fn chacha(key: &[u8; 32], seq: u32, offset: u64) -> ChaCha20 {
    let mut nonce = [0u8; 12];
    nonce[8..].copy_from_slice(&seq.to_be_bytes());
    let mut c = ChaCha20::new(key.into(), (&nonce).into());
    c.seek(offset);
    c
}

/// Poly1305 over the encrypted packet, keyed with the first 32 keystream bytes of block 0.
fn poly_tag(key: &[u8; 32], seq: u32, data: &[u8]) -> [u8; 16] {
    let mut poly_key = [0u8; 32];
    chacha(key, seq, 0).apply_keystream(&mut poly_key);
    Poly1305::new((&poly_key).into())
        .compute_unpadded(data)
        .into()
}

/// HMAC-SHA256 over `seq || plaintext packet` (RFC 4253 §6.4).
fn hmac(key: &[u8; 32], seq: u32, plain: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(&seq.to_be_bytes());
    m.update(plain);
    m
}
