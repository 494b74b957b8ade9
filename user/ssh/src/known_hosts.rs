//! `known_hosts` handling for the client: look up a host's key, trust it on first use, refuse
//! a changed one (the format of sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT").
//!
//! A host is named `host` on port 22 and `[host]:port` otherwise, as OpenSSH does, so the file
//! can be shared with it. Hashed names (`|1|...`), markers (`@revoked`, `@cert-authority`) and
//! wildcard patterns are not interpreted: such lines never match.

use alloc::format;
use alloc::string::String;

use crate::keys::PublicKey;
use crate::names::ED25519;

/// What the file says about a host's key.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The key is listed for this host.
    Known,
    /// The host is listed with ssh-ed25519 keys, none of them this one.
    Changed,
    /// The host has no ssh-ed25519 entry yet.
    Unknown,
}

/// The name a host is filed under.
pub fn host_name(host: &str, port: u16) -> String {
    if port == 22 {
        String::from(host)
    } else {
        format!("[{host}]:{port}")
    }
}

/// Looks `key` up for `name` (from [`host_name`]) in the file's text.
pub fn check(text: &str, name: &str, key: &PublicKey) -> Verdict {
    let mut listed = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
            continue;
        }
        let mut fields = line.split_ascii_whitespace();
        let (Some(hosts), Some(ED25519), Some(b64)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if !hosts.split(',').any(|h| h == name) {
            continue;
        }
        listed = true;
        if PublicKey::from_base64(b64).is_ok_and(|k| k == *key) {
            return Verdict::Known;
        }
    }
    if listed {
        Verdict::Changed
    } else {
        Verdict::Unknown
    }
}

/// The line to append when trusting `key` for `name` on first use.
pub fn entry(name: &str, key: &PublicKey) -> String {
    format!("{name} {}\n", key.to_openssh())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    #[test]
    fn names_follow_openssh() {
        assert_eq!(host_name("example", 22), "example");
        assert_eq!(host_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
    }

    #[test]
    fn known_changed_unknown() {
        let a = KeyPair::from_seed(&[1; 32]).public();
        let b = KeyPair::from_seed(&[2; 32]).public();
        let mut file = String::from("# c\n|1|abc= ssh-ed25519 AAAA\notherhost ssh-rsa AAAA\n");
        file.push_str(&entry("[h]:2222", &a));
        file.push_str(&format!("alias,h {}\n", b.to_openssh()));
        assert_eq!(check(&file, "[h]:2222", &a), Verdict::Known);
        assert_eq!(check(&file, "[h]:2222", &b), Verdict::Changed);
        assert_eq!(check(&file, "h", &b), Verdict::Known);
        assert_eq!(check(&file, "h", &a), Verdict::Changed);
        assert_eq!(check(&file, "[h]:22", &a), Verdict::Unknown);
        assert_eq!(check("", "h", &a), Verdict::Unknown);
    }
}
