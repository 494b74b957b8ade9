//! `authorized_keys` parsing (the format of sshd(8) "AUTHORIZED_KEYS FILE FORMAT").
//!
//! Each line is `[options] keytype base64 [comment]`. Only `ssh-ed25519` keys are used. Lines
//! with options are skipped rather than honoured halfway: an option such as `command=` or
//! `from=` restricts a key, and ignoring it would grant more than the file's owner meant.

use alloc::vec::Vec;

use crate::keys::PublicKey;
use crate::names::ED25519;

/// The usable keys of a file, and how many non-empty, non-comment lines were skipped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AuthorizedKeys {
    /// Keys a client may authenticate with.
    pub keys: Vec<PublicKey>,
    /// Lines skipped: other key types, options, bad base64.
    pub skipped: usize,
}

impl AuthorizedKeys {
    /// Parses the whole file.
    pub fn parse(text: &str) -> Self {
        let mut out = AuthorizedKeys::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split_ascii_whitespace();
            let key = match (fields.next(), fields.next()) {
                (Some(ED25519), Some(b64)) => PublicKey::from_base64(b64).ok(),
                _ => None,
            };
            match key {
                Some(k) => out.keys.push(k),
                None => out.skipped += 1,
            }
        }
        out
    }

    /// Whether `key` is listed.
    pub fn contains(&self, key: &PublicKey) -> bool {
        self.keys.contains(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;
    use alloc::format;

    #[test]
    fn keeps_ed25519_keys_and_counts_the_rest() {
        let a = KeyPair::from_seed(&[1; 32]).public();
        let b = KeyPair::from_seed(&[2; 32]).public();
        let text = format!(
            "# comment\n\n{} alice@x\n  {}\nssh-rsa AAAAB3NzaC1yc2E= bob\n\
             command=\"ls\" {} restricted\nssh-ed25519 !!!notbase64\n",
            a.to_openssh(),
            b.to_openssh(),
            a.to_openssh()
        );
        let ak = AuthorizedKeys::parse(&text);
        assert_eq!(ak.keys, [a, b]);
        assert_eq!(ak.skipped, 3);
        assert!(ak.contains(&b));
        assert!(!ak.contains(&KeyPair::from_seed(&[3; 32]).public()));
    }
}
