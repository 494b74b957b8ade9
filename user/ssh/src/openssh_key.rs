//! OpenSSH's private key file format (`-----BEGIN OPENSSH PRIVATE KEY-----`, PROTOCOL.key in
//! OpenSSH), for unencrypted ssh-ed25519 keys as `ssh-keygen -t ed25519 -N ''` writes them.
//! `hsshd` also writes its generated host key this way, so `ssh-keygen -l -f` can read it.
//!
//! Body (base64 between the armour lines): `"openssh-key-v1\0"`, string cipher `none`, string
//! kdf `none`, string kdf options (empty), uint32 key count (1), string public key blob, string
//! private section. Private section: two equal uint32 check words, string `ssh-ed25519`,
//! string public key, string 64 bytes (seed then public key), string comment, padding 1,2,3…
//! up to a multiple of 8.

use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64, Encoding};

use crate::error::{random, Error, Result};
use crate::keys::{KeyPair, PublicKey};
use crate::names::ED25519;
use crate::wire::{put_string, put_u32, Reader};

const BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
const END: &str = "-----END OPENSSH PRIVATE KEY-----";
const MAGIC: &[u8] = b"openssh-key-v1\0";

/// Parses an unencrypted ed25519 OpenSSH private key file.
pub fn parse(text: &str) -> Result<KeyPair> {
    let start = text
        .find(BEGIN)
        .ok_or(Error::BadKey("no OPENSSH PRIVATE KEY header"))?;
    let body = &text[start + BEGIN.len()..];
    let end = body
        .find(END)
        .ok_or(Error::BadKey("no OPENSSH PRIVATE KEY footer"))?;
    // The body is wrapped (ssh-keygen: 70 columns, LF; other tools: other widths, CRLF):
    // drop the line breaks as OpenSSH does, then decode with base64ct, whose decoder has
    // no branch or table look-up that depends on the (secret) characters.
    let compact: String = body[..end].split_ascii_whitespace().collect();
    let raw = Base64::decode_vec(&compact).map_err(|_| Error::BadKey("bad base64"))?;
    let rest = raw
        .strip_prefix(MAGIC)
        .ok_or(Error::BadKey("not openssh-key-v1"))?;
    let mut r = Reader::new(rest);
    if r.string("cipher")? != b"none" || r.string("kdf")? != b"none" {
        return Err(Error::BadKey(
            "encrypted keys are not supported (use ssh-keygen -N '')",
        ));
    }
    r.string("kdf options")?;
    if r.u32("key count")? != 1 {
        return Err(Error::BadKey("expected exactly one key"));
    }
    let public = PublicKey::from_blob(r.string("public key")?)?;
    let mut p = Reader::new(r.string("private section")?);
    if p.u32("check")? != p.u32("check")? {
        return Err(Error::BadKey("check words differ (wrong passphrase?)"));
    }
    if p.string("key type")? != ED25519.as_bytes() {
        return Err(Error::BadKey("not an ssh-ed25519 key"));
    }
    let pk = p.string("public key")?;
    let sk = p.string("private key")?;
    if sk.len() != 64 || pk != public.0 || &sk[32..] != pk {
        return Err(Error::BadKey("inconsistent ed25519 key"));
    }
    let seed: [u8; 32] = sk[..32].try_into().map_err(|_| Error::BadKey("seed"))?;
    let pair = KeyPair::from_seed(&seed);
    if pair.public() != public {
        return Err(Error::BadKey("private key does not match public key"));
    }
    Ok(pair)
}

/// Writes `key` in the same format (unencrypted), with `comment`.
pub fn write(key: &KeyPair, comment: &str) -> Result<String> {
    let public = key.public();
    let mut check = [0u8; 4];
    random(&mut check)?;
    let mut private = Vec::new();
    private.extend_from_slice(&check);
    private.extend_from_slice(&check);
    put_string(&mut private, ED25519.as_bytes());
    put_string(&mut private, &public.0);
    let mut sk = Vec::with_capacity(64);
    sk.extend_from_slice(&key.seed());
    sk.extend_from_slice(&public.0);
    put_string(&mut private, &sk);
    put_string(&mut private, comment.as_bytes());
    let mut i = 1u8;
    while private.len() % 8 != 0 {
        private.push(i);
        i += 1;
    }
    let mut raw = Vec::from(MAGIC);
    put_string(&mut raw, b"none");
    put_string(&mut raw, b"none");
    put_string(&mut raw, b"");
    put_u32(&mut raw, 1);
    put_string(&mut raw, &public.blob());
    put_string(&mut raw, &private);
    let b64 = Base64::encode_string(&raw);
    let mut out = String::from(BEGIN);
    out.push('\n');
    for line in b64.as_bytes().chunks(70) {
        out.push_str(core::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_parse_gives_the_same_key() {
        let k = KeyPair::from_seed(&[9; 32]);
        let text = write(&k, "test@halyard").unwrap();
        assert!(text.starts_with(BEGIN));
        assert_eq!(parse(&text).unwrap().public(), k.public());
    }

    /// A file `ssh-keygen -t ed25519 -N '' -C ''` wrote (a throwaway test key), as written
    /// and re-wrapped at 64 columns with CRLF line ends.
    #[test]
    fn reads_ssh_keygen_files_however_wrapped() {
        const FILE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACCKQRhYYZxrxSBqv+fwrwgKlSbl0v3L37df7YD5hJgqpAAAAIjG9nsQxvZ7
EAAAAAtzc2gtZWQyNTUxOQAAACCKQRhYYZxrxSBqv+fwrwgKlSbl0v3L37df7YD5hJgqpA
AAAEDytxxKjqyyumrttIhU+2lFye2mGU4DIk73hgJno52JQopBGFhhnGvFIGq/5/CvCAqV
JuXS/cvft1/tgPmEmCqkAAAAAAECAwQF
-----END OPENSSH PRIVATE KEY-----
";
        const PUBLIC: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIIpBGFhhnGvFIGq/5/CvCAqVJuXS/cvft1/tgPmEmCqk";
        let public = PublicKey::from_base64(PUBLIC).unwrap();
        assert_eq!(parse(FILE).unwrap().public(), public);
        let body: String = FILE.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut rewrapped = String::from(BEGIN);
        for line in body.as_bytes().chunks(64) {
            rewrapped.push_str("\r\n");
            rewrapped.push_str(core::str::from_utf8(line).unwrap());
        }
        rewrapped.push_str("\r\n");
        rewrapped.push_str(END);
        assert_eq!(parse(&rewrapped).unwrap().public(), public);
    }

    #[test]
    fn refuses_encrypted_and_corrupt_files() {
        assert!(parse("nothing here").is_err());
        let k = KeyPair::from_seed(&[9; 32]);
        let text = write(&k, "").unwrap();
        // Flip one base64 character inside the private section.
        let mut bytes = text.into_bytes();
        let pos = bytes.len() - 60;
        bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
        assert!(parse(core::str::from_utf8(&bytes).unwrap()).is_err());
    }
}
