//! The keys of the SSH proof, made once by the xtask (with `halyard-ssh`'s own key code, as
//! [`crate::initramfs::ssh`] makes `run`'s host key) and kept in `target/ssh-proof/`, plus
//! the `authorized_keys` and `known_hosts` files derived from them, written on every build.
//!
//! | file | what |
//! | --- | --- |
//! | `guest/hsshd_host_key` | Halyard's `hsshd` host key |
//! | `guest/authorized_keys` | `host/client_key.pub`: the host's `ssh` may log in to `hsshd` |
//! | `guest/id_ed25519` | `hssh`'s identity, authorized by the test's `sshd` |
//! | `guest/wrong_key` | an identity `sshd` does not know |
//! | `guest/known_hosts` | `sshd`'s host key, as Halyard reaches it over tap and through the guest forward |
//! | `host/sshd_host_key` | the test's OpenSSH `sshd` host key |
//! | `host/authorized_keys` | `guest/id_ed25519.pub`, `sshd`'s `AuthorizedKeysFile` |
//! | `host/client_key` | the host `ssh`'s identity |
//! | `host/wrong_key` | an identity `hsshd` does not know |
//! | `host/known_hosts` | `hsshd`'s host key, as the host reaches it over tap and through the host forward |
//!
//! `guest/` goes into the test initramfs as [`GUEST_DIR`] (`test_cmd`'s initramfs step), the
//! private keys with mode 0600. Both sides check host keys against these `known_hosts`
//! files, so a key mix-up fails the test instead of being trusted on first use.

use super::Ends;
use crate::net_mode::NetMode;
use crate::paths::Paths;
use halyard_ssh::keys::PublicKey;
use halyard_ssh::known_hosts;
use halyard_ssh::os::files::load_or_create_host_key;
use std::path::{Path, PathBuf};

/// Where `guest/` is in Halyard.
pub const GUEST_DIR: &str = "/opt/net/ssh";
/// The keys' directory under the repository root.
const DIR: &str = "target/ssh-proof";

/// The proof's key directory (keys made, derived files written).
pub struct Keys {
    dir: PathBuf,
}

impl Keys {
    /// Makes the keys that do not exist yet and writes the derived files.
    pub fn prepare(paths: &Paths) -> Result<Keys, String> {
        let keys = Keys {
            dir: paths.root.join(DIR),
        };
        let key = |name: &str| load_or_create_host_key(&keys.dir.join(name)).map(|(k, _)| k);
        let hsshd = key("guest/hsshd_host_key")?.public();
        let hssh = key("guest/id_ed25519")?.public();
        key("guest/wrong_key")?;
        let sshd = key("host/sshd_host_key")?.public();
        let client = key("host/client_key")?.public();
        key("host/wrong_key")?;
        let known = |key: &PublicKey, side: fn(&Ends) -> (&'static str, u16)| {
            [NetMode::Tap, NetMode::User]
                .map(|mode| {
                    let (host, port) = side(&Ends::of(mode));
                    known_hosts::entry(&known_hosts::host_name(host, port), key)
                })
                .concat()
        };
        keys.write("guest/authorized_keys", &authorized(&client))?;
        keys.write("guest/known_hosts", &known(&sshd, |e| e.sshd_from_guest))?;
        keys.write("host/authorized_keys", &authorized(&hssh))?;
        keys.write("host/known_hosts", &known(&hsshd, |e| e.hsshd_from_host))?;
        Ok(keys)
    }

    /// A file of the host side (`host/NAME`).
    pub fn host(&self, name: &str) -> PathBuf {
        self.dir.join("host").join(name)
    }

    /// The directory packed into the initramfs as [`GUEST_DIR`].
    pub fn guest_dir(&self) -> PathBuf {
        self.dir.join("guest")
    }

    fn write(&self, name: &str, text: &str) -> Result<(), String> {
        let path = self.dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", show(&path)))
    }
}

/// One `authorized_keys` line.
fn authorized(key: &PublicKey) -> String {
    format!("{} ssh-proof\n", key.to_openssh())
}

fn show(path: &Path) -> String {
    Paths::repo().show(path)
}

/// The file in [`GUEST_DIR`] named `name`, as Halyard sees it.
pub fn in_guest(name: &str) -> String {
    format!("{GUEST_DIR}/{name}")
}

#[cfg(test)]
mod tests {
    use super::super::SSHD_PORT;
    use super::*;

    #[test]
    fn known_hosts_name_both_networks() {
        let root = std::env::temp_dir().join(format!("xtask-ssh-proof-{}", std::process::id()));
        let keys = Keys::prepare(&Paths { root: root.clone() }).unwrap();
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        let guest = read(keys.guest_dir().join("known_hosts"));
        let names: Vec<&str> = guest.lines().filter_map(|l| l.split(' ').next()).collect();
        assert_eq!(
            names,
            [
                format!("[192.168.100.1]:{SSHD_PORT}"),
                format!("[10.0.2.100]:{SSHD_PORT}")
            ]
        );
        let host = read(keys.host("known_hosts"));
        assert!(host.starts_with("192.168.100.2 ssh-ed25519 "), "{host}");
        assert!(host.contains("\n[127.0.0.1]:"), "{host}");
        // The files stay: a second prepare reads the same keys.
        let again = Keys::prepare(&Paths { root: root.clone() }).unwrap();
        assert_eq!(read(again.host("known_hosts")), host);
        let ak = read(keys.host("authorized_keys"));
        let id = read(keys.guest_dir().join("id_ed25519.pub"));
        assert_eq!(ak.split(' ').nth(1), id.split(' ').nth(1));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
