//! Key exchange: KEXINIT construction and algorithm negotiation (RFC 4253 §7.1),
//! curve25519-sha256 (RFC 8731) exchange hash and key derivation (RFC 4253 §7.2), and the
//! strict-kex markers of OpenSSH's Terrapin mitigation.

use alloc::vec::Vec;

use sha2::{Digest, Sha256};
use x25519_dalek::{x25519, X25519_BASEPOINT_BYTES};

use crate::cipher::{Algorithm, DirectionKeys};
use crate::error::{random, Error, Result};
use crate::msg;
use crate::names;
use crate::wire::{name_list_contains, put_bool, put_mpint, put_string, put_u32, Reader};

/// Builds our KEXINIT payload (with a fresh random cookie).
pub fn our_kexinit(is_client: bool) -> Result<Vec<u8>> {
    let mut cookie = [0u8; 16];
    random(&mut cookie)?;
    let strict = if is_client {
        names::STRICT_KEX_CLIENT
    } else {
        names::STRICT_KEX_SERVER
    };
    let mut kex = names::KEX.join(",");
    kex.push(',');
    kex.push_str(strict);
    let ciphers = names::CIPHERS.join(",");
    Ok(kexinit_payload(
        &cookie,
        &kex,
        names::ED25519,
        &ciphers,
        names::HMAC_SHA256,
    ))
}

/// A KEXINIT with the same lists both ways, no compression, no languages, no guess.
fn kexinit_payload(
    cookie: &[u8; 16],
    kex: &str,
    host_key: &str,
    cipher: &str,
    mac: &str,
) -> Vec<u8> {
    let mut p = Vec::with_capacity(256);
    p.push(msg::KEXINIT);
    p.extend_from_slice(cookie);
    for list in [
        kex, host_key, cipher, cipher, mac, mac, "none", "none", "", "",
    ] {
        put_string(&mut p, list.as_bytes());
    }
    put_bool(&mut p, false);
    put_u32(&mut p, 0);
    p
}

/// The name-lists of a KEXINIT that matter here.
struct Lists<'a> {
    kex: &'a [u8],
    host_key: &'a [u8],
    cipher: [&'a [u8]; 2],
    mac: [&'a [u8]; 2],
    compression: [&'a [u8]; 2],
    first_follows: bool,
}

fn parse_lists(payload: &[u8]) -> Result<Lists<'_>> {
    let mut r = Reader::new(payload);
    if r.u8("kexinit")? != msg::KEXINIT {
        return Err(Error::Unexpected(payload.first().copied().unwrap_or(0)));
    }
    r.bytes(16, "kexinit cookie")?;
    let kex = r.string("kex algorithms")?;
    let host_key = r.string("host key algorithms")?;
    let cipher = [r.string("ciphers")?, r.string("ciphers")?];
    let mac = [r.string("macs")?, r.string("macs")?];
    let compression = [r.string("compression")?, r.string("compression")?];
    r.string("languages")?;
    r.string("languages")?;
    let first_follows = r.bool("first_kex_packet_follows")?;
    r.u32("reserved")?;
    Ok(Lists {
        kex,
        host_key,
        cipher,
        mac,
        compression,
        first_follows,
    })
}

/// What two KEXINITs agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Cipher client→server and server→client.
    pub cipher: [Algorithm; 2],
    /// Both sides asked for strict key exchange.
    pub strict: bool,
    /// The peer sent a guessed first kex packet that guessed wrong and must be skipped.
    pub skip_guess: bool,
}

/// First name of `client` (in client preference order) that is also in `server` and
/// acceptable to us.
fn pick<'a>(client: &'a [u8], server: &[u8], ours: &[&'a str]) -> Option<&'a str> {
    client
        .split(|&b| b == b',')
        .filter_map(|n| ours.iter().find(|o| o.as_bytes() == n).copied())
        .find(|n| name_list_contains(server, n))
}

/// Negotiates from the client's and the server's KEXINIT payloads.
pub fn negotiate(client: &[u8], server: &[u8]) -> Result<Negotiated> {
    let (c, s) = (parse_lists(client)?, parse_lists(server)?);
    let kex = pick(c.kex, s.kex, names::KEX).ok_or(Error::NoCommonAlgorithm("key exchange"))?;
    pick(c.host_key, s.host_key, &[names::ED25519]).ok_or(Error::NoCommonAlgorithm("host key"))?;
    let mut cipher = [Algorithm::ChaChaPoly; 2];
    for (d, alg) in cipher.iter_mut().enumerate() {
        let name = pick(c.cipher[d], s.cipher[d], names::CIPHERS)
            .ok_or(Error::NoCommonAlgorithm("cipher"))?;
        *alg = Algorithm::from_name(name).ok_or(Error::NoCommonAlgorithm("cipher"))?;
        if *alg == Algorithm::Aes256CtrHmac
            && pick(c.mac[d], s.mac[d], &[names::HMAC_SHA256]).is_none()
        {
            return Err(Error::NoCommonAlgorithm("mac"));
        }
        pick(c.compression[d], s.compression[d], &["none"])
            .ok_or(Error::NoCommonAlgorithm("compression"))?;
    }
    let strict = name_list_contains(c.kex, names::STRICT_KEX_CLIENT)
        && name_list_contains(s.kex, names::STRICT_KEX_SERVER);
    let first = |l: &[u8]| l.split(|&b| b == b',').next().map(<[u8]>::to_vec);
    let guess_right = first(c.kex) == Some(kex.as_bytes().to_vec())
        && first(s.kex) == Some(kex.as_bytes().to_vec())
        && first(c.host_key) == first(s.host_key);
    // We never send a guessed packet, so a set flag is the peer's.
    let follows = c.first_follows || s.first_follows;
    Ok(Negotiated {
        cipher,
        strict,
        skip_guess: follows && !guess_right,
    })
}

/// An ephemeral X25519 key pair for one exchange.
pub struct Ephemeral {
    secret: [u8; 32],
    /// Our public value (Q_C or Q_S).
    pub public: [u8; 32],
}

impl Ephemeral {
    /// A fresh random key.
    pub fn new() -> Result<Self> {
        let mut secret = [0u8; 32];
        random(&mut secret)?;
        Ok(Ephemeral {
            secret,
            public: x25519(secret, X25519_BASEPOINT_BYTES),
        })
    }

    /// The shared secret with the peer's public value; an all-zero result (a low-order peer
    /// point) is refused as RFC 8731 §3 requires.
    pub fn shared(&self, peer: &[u8]) -> Result<[u8; 32]> {
        let peer: [u8; 32] = peer
            .try_into()
            .map_err(|_| Error::Protocol("x25519 key length"))?;
        let k = x25519(self.secret, peer);
        if k == [0u8; 32] {
            return Err(Error::Protocol("x25519 shared secret is zero"));
        }
        Ok(k)
    }
}

/// The exchange hash inputs, all as sent on the wire.
pub struct HashInput<'a> {
    /// Identification strings without CR LF.
    pub v_c: &'a [u8],
    /// See `v_c`.
    pub v_s: &'a [u8],
    /// KEXINIT payloads.
    pub i_c: &'a [u8],
    /// See `i_c`.
    pub i_s: &'a [u8],
    /// Server host key blob.
    pub k_s: &'a [u8],
    /// Ephemeral public values.
    pub q_c: &'a [u8],
    /// See `q_c`.
    pub q_s: &'a [u8],
}

/// H = SHA-256 over the inputs and the shared secret as an mpint.
pub fn exchange_hash(i: &HashInput<'_>, k: &[u8; 32]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(1024);
    for s in [i.v_c, i.v_s, i.i_c, i.i_s, i.k_s, i.q_c, i.q_s] {
        put_string(&mut buf, s);
    }
    put_mpint(&mut buf, k);
    Sha256::digest(&buf).into()
}

/// Key derivation: HASH(K || H || letter || session_id), extended with HASH(K || H || so far).
pub fn derive(
    k: &[u8; 32],
    h: &[u8; 32],
    letter: u8,
    session_id: &[u8; 32],
    len: usize,
) -> Vec<u8> {
    let mut kenc = Vec::with_capacity(37);
    put_mpint(&mut kenc, k);
    let mut out: Vec<u8> = Sha256::new()
        .chain_update(&kenc)
        .chain_update(h)
        .chain_update([letter])
        .chain_update(session_id)
        .finalize()
        .to_vec();
    while out.len() < len {
        let more = Sha256::new()
            .chain_update(&kenc)
            .chain_update(h)
            .chain_update(&out)
            .finalize();
        out.extend_from_slice(&more);
    }
    out.truncate(len);
    out
}

/// Keys for one direction: `c2s` picks letters A/C/E, otherwise B/D/F.
pub fn direction_keys(
    neg: &Negotiated,
    k: &[u8; 32],
    h: &[u8; 32],
    session_id: &[u8; 32],
    c2s: bool,
) -> Result<DirectionKeys> {
    let alg = neg.cipher[if c2s { 0 } else { 1 }];
    let (ivl, kl, ml) = alg.key_sizes();
    let base = if c2s { b'A' } else { b'B' };
    let iv = derive(k, h, base, session_id, ivl);
    let key = derive(k, h, base + 2, session_id, kl);
    let mac = derive(k, h, base + 4, session_id, ml);
    DirectionKeys::new(alg, &iv, &key, &mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kexinit(kex: &str, cipher: &str, mac: &str) -> Vec<u8> {
        kexinit_payload(&[0; 16], kex, "ssh-ed25519", cipher, mac)
    }

    #[test]
    fn client_preference_wins_and_strict_needs_both_markers() {
        let c = kexinit(
            "sntrup,curve25519-sha256,kex-strict-c-v00@openssh.com",
            "aes256-ctr,chacha20-poly1305@openssh.com",
            "hmac-sha2-256",
        );
        let s = our_kexinit(false).unwrap();
        let n = negotiate(&c, &s).unwrap();
        assert_eq!(n.cipher, [Algorithm::Aes256CtrHmac; 2]);
        assert!(n.strict);
        let c2 = kexinit("curve25519-sha256", "chacha20-poly1305@openssh.com", "x");
        let n2 = negotiate(&c2, &s).unwrap();
        assert_eq!(n2.cipher, [Algorithm::ChaChaPoly; 2]);
        assert!(!n2.strict);
    }

    #[test]
    fn nothing_in_common_is_an_error() {
        let s = our_kexinit(false).unwrap();
        let c = kexinit(
            "diffie-hellman-group14-sha1",
            "chacha20-poly1305@openssh.com",
            "",
        );
        assert_eq!(
            negotiate(&c, &s),
            Err(Error::NoCommonAlgorithm("key exchange"))
        );
        let c = kexinit("curve25519-sha256", "aes128-ctr", "");
        assert_eq!(negotiate(&c, &s), Err(Error::NoCommonAlgorithm("cipher")));
        let c = kexinit("curve25519-sha256", "aes256-ctr", "hmac-sha1");
        assert_eq!(negotiate(&c, &s), Err(Error::NoCommonAlgorithm("mac")));
        assert!(negotiate(&c[..20], &s).is_err());
    }

    #[test]
    fn both_sides_derive_the_same_secret() {
        let (a, b) = (Ephemeral::new().unwrap(), Ephemeral::new().unwrap());
        assert_eq!(a.shared(&b.public).unwrap(), b.shared(&a.public).unwrap());
        assert!(a.shared(&[0u8; 32]).is_err());
        assert!(a.shared(&[1u8; 5]).is_err());
    }

    #[test]
    fn derivation_extends_past_one_hash() {
        let out = derive(&[1; 32], &[2; 32], b'C', &[3; 32], 64);
        assert_eq!(out.len(), 64);
        assert_eq!(
            &out[..32],
            &derive(&[1; 32], &[2; 32], b'C', &[3; 32], 32)[..]
        );
        assert_ne!(
            &out[..32],
            &derive(&[1; 32], &[2; 32], b'D', &[3; 32], 32)[..]
        );
    }
}
