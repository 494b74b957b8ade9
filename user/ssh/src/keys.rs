//! ssh-ed25519 keys and signatures in their SSH wire encodings (RFC 8709): the public key
//! blob `string "ssh-ed25519", string key[32]`, the signature blob `string "ssh-ed25519",
//! string sig[64]`, OpenSSH's one-line public key text and its `SHA256:` fingerprint.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64, Base64Unpadded, Encoding};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{random, Error, Result};
use crate::names::ED25519;
use crate::wire::{put_string, Reader};

/// An ssh-ed25519 public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// The SSH public key blob.
    pub fn blob(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(51);
        put_string(&mut v, ED25519.as_bytes());
        put_string(&mut v, &self.0);
        v
    }

    /// Parses a public key blob; other key types are [`Error::BadKey`].
    pub fn from_blob(blob: &[u8]) -> Result<Self> {
        let mut r = Reader::new(blob);
        if r.string("key type")? != ED25519.as_bytes() {
            return Err(Error::BadKey("not an ssh-ed25519 key"));
        }
        let k = r.string("ed25519 key")?;
        if !r.rest().is_empty() {
            return Err(Error::BadKey("trailing bytes in key blob"));
        }
        Ok(PublicKey(
            k.try_into()
                .map_err(|_| Error::BadKey("ed25519 key length"))?,
        ))
    }

    /// Parses the base64 field of an `authorized_keys`/`known_hosts`/`.pub` line (padded,
    /// canonical RFC 4648 base64, as OpenSSH writes it).
    pub fn from_base64(text: &str) -> Result<Self> {
        Self::from_blob(&Base64::decode_vec(text).map_err(|_| Error::BadKey("bad base64"))?)
    }

    /// `ssh-ed25519 AAAA...` as in a `.pub` file (without comment).
    pub fn to_openssh(&self) -> String {
        format!("{ED25519} {}", Base64::encode_string(&self.blob()))
    }

    /// OpenSSH's fingerprint: `SHA256:` and unpadded base64 of the blob's SHA-256.
    pub fn fingerprint(&self) -> String {
        format!(
            "SHA256:{}",
            Base64Unpadded::encode_string(&Sha256::digest(self.blob()))
        )
    }

    /// Checks an SSH signature blob over `msg`.
    pub fn verify(&self, msg: &[u8], sig_blob: &[u8]) -> Result<()> {
        let mut r = Reader::new(sig_blob);
        if r.string("signature type")? != ED25519.as_bytes() {
            return Err(Error::BadSignature("not an ssh-ed25519 signature"));
        }
        let raw: &[u8; 64] = r
            .string("signature")?
            .try_into()
            .map_err(|_| Error::BadSignature("length"))?;
        let vk =
            VerifyingKey::from_bytes(&self.0).map_err(|_| Error::BadKey("not a curve point"))?;
        vk.verify_strict(msg, &Signature::from_bytes(raw))
            .map_err(|_| Error::BadSignature("does not verify"))
    }
}

/// An ssh-ed25519 key pair (host key or user key).
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
}

impl KeyPair {
    /// From the 32-byte seed (the private half as OpenSSH stores it, first 32 of 64 bytes).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        KeyPair {
            signing: SigningKey::from_bytes(seed),
        }
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self> {
        let mut seed = [0u8; 32];
        random(&mut seed)?;
        Ok(Self::from_seed(&seed))
    }

    /// The 32-byte seed.
    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// Signs `msg` and returns the SSH signature blob.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let sig = self.signing.sign(msg);
        let mut v = Vec::with_capacity(83);
        put_string(&mut v, ED25519.as_bytes());
        put_string(&mut v, &sig.to_bytes());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_reject_tampering() {
        let k = KeyPair::from_seed(&[1; 32]);
        let sig = k.sign(b"msg");
        k.public().verify(b"msg", &sig).unwrap();
        assert!(k.public().verify(b"msh", &sig).is_err());
        let other = KeyPair::from_seed(&[2; 32]).public();
        assert!(other.verify(b"msg", &sig).is_err());
    }

    #[test]
    fn blob_round_trip_and_text_form() {
        let pk = KeyPair::from_seed(&[5; 32]).public();
        assert_eq!(PublicKey::from_blob(&pk.blob()).unwrap(), pk);
        let text = pk.to_openssh();
        assert!(text.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
        assert_eq!(
            PublicKey::from_base64(text.split(' ').nth(1).unwrap()).unwrap(),
            pk
        );
        assert!(pk.fingerprint().starts_with("SHA256:") && !pk.fingerprint().ends_with('='));
        assert!(PublicKey::from_blob(b"\0\0\0\x07ssh-rsa").is_err());
    }

    /// OpenSSH's own fingerprint of a fixed key (`ssh-keygen -l -f` on the `.pub` line).
    #[test]
    fn fingerprint_matches_ssh_keygen() {
        let line =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIpBGFhhnGvFIGq/5/CvCAqVJuXS/cvft1/tgPmEmCqk";
        let pk = PublicKey::from_base64(line.split(' ').nth(1).unwrap()).unwrap();
        assert_eq!(pk.to_openssh(), line);
        assert_eq!(
            pk.fingerprint(),
            "SHA256:s5OX0QEbbhYBAZIk5ZqUjRIBzmOglF0/TwLePo6j5Bg"
        );
    }

    /// A character outside the alphabet, a lone trailing character, a missing final
    /// character (unpadded text) and embedded whitespace are all refused.
    #[test]
    fn refuses_malformed_base64() {
        let good = KeyPair::from_seed(&[5; 32]).public().to_openssh();
        let b64 = good.split(' ').nth(1).unwrap();
        assert!(PublicKey::from_base64(b64).is_ok());
        for bad in [
            b64.replacen('A', "!", 1),
            format!("{b64}A"),
            b64[..b64.len() - 1].to_string(),
            b64.replacen('A', " A", 1),
        ] {
            assert!(PublicKey::from_base64(&bad).is_err(), "{bad}");
        }
    }
}
