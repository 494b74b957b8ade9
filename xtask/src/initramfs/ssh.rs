//! `hsshd` in the initramfs of `cargo xtask run`: the server, its host key and root's
//! `authorized_keys`; init starts it at boot on port 22 (docs/ssh.md, "On Halyard").
//!
//! | path | what |
//! | --- | --- |
//! | `/sbin/hsshd` | `user/ssh`'s server, built static |
//! | `/etc/hsshd/ssh_host_ed25519_key` (0600), `.pub` | the host key, [`HOST_KEY`] |
//! | `/root/.ssh/authorized_keys` (0600, directory 0700) | the `--authorize` keys |
//! | `/var/log/` | where init sends `hsshd`'s log (`/var/log/hsshd.log`) |
//!
//! The host key is made once, by the xtask (with `halyard-ssh`'s own key code), and kept in
//! `target/hsshd/`: every boot presents the same key, so the host's `known_hosts` entry for
//! `[127.0.0.1]:2222` stays valid. `cargo clean` makes a new one.
//!
//! `--authorize FILE` (repeatable) names public key files; without it, the invoking user's
//! `~/.ssh/id_ed25519.pub` when it exists. Each file must hold only `ssh-ed25519` public
//! keys (the only type `hsshd` accepts): a private key, another key type or a line `hsshd`
//! would skip stops the run with a message naming the file, before anything is built.

use super::cpio::Entry;
use super::tree::Tree;
use crate::paths::Paths;
use crate::user_build;
use halyard_ssh::authorized_keys::AuthorizedKeys;
use halyard_ssh::os::files;
use std::path::{Path, PathBuf};

/// The host key under the repository root, made on first use.
pub const HOST_KEY: &str = "target/hsshd/ssh_host_ed25519_key";

/// Where things go in the initramfs (relative to its root); init uses the same paths.
const GUEST_HSSHD: &str = "sbin/hsshd";
const GUEST_HOST_KEY: &str = "etc/hsshd/ssh_host_ed25519_key";
const GUEST_AUTHORIZED_KEYS: &str = "root/.ssh/authorized_keys";

/// Everything `hsshd` brings into the initramfs.
pub struct Ssh {
    hsshd: Vec<u8>,
    host_key: Vec<u8>,
    host_key_pub: Vec<u8>,
    authorized_keys: String,
}

/// The key files `run` authorizes: `--authorize`'s, else `~/.ssh/id_ed25519.pub` if
/// `home` has one.
pub fn key_files(authorize: &[PathBuf], home: Option<&Path>) -> Vec<PathBuf> {
    if !authorize.is_empty() {
        return authorize.to_vec();
    }
    home.map(|h| h.join(".ssh/id_ed25519.pub"))
        .filter(|p| p.is_file())
        .into_iter()
        .collect()
}

/// One `--authorize` file's keys, as `authorized_keys` lines, or why it cannot be used.
pub fn read_key_file(path: &Path) -> Result<String, String> {
    let what = format!("--authorize {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| format!("{what}: cannot read it: {e}"))?;
    let accepted = "hsshd accepts only `ssh-ed25519 BASE64 [comment]` lines, as \
                    `ssh-keygen -t ed25519` writes them to its .pub file";
    if text.contains("PRIVATE KEY-----") {
        return Err(format!(
            "{what}: this is a private key; pass the public key (the .pub file)"
        ));
    }
    let keys = AuthorizedKeys::parse(&text);
    if keys.keys.is_empty() {
        return Err(format!("{what}: no public key in it ({accepted})"));
    }
    if keys.skipped > 0 {
        return Err(format!(
            "{what}: {} line(s) are not plain ssh-ed25519 public keys ({accepted})",
            keys.skipped
        ));
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    Ok(lines.join("\n") + "\n")
}

/// Checks the key files, makes the host key if needed and builds `hsshd`.
pub fn prepare(paths: &Paths, key_files: &[PathBuf]) -> Result<Ssh, String> {
    let mut authorized_keys = String::new();
    for f in key_files {
        authorized_keys += &read_key_file(f)?;
    }
    let key_path = paths.root.join(HOST_KEY);
    let (key, created) = files::load_or_create_host_key(&key_path)?;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let host_key = read(&key_path)?;
    let host_key_pub = read(&key_path.with_extension("pub"))?;
    let hsshd = user_build::build_static(paths, "halyard-ssh", "hsshd")?;
    eprintln!(
        "xtask: hsshd host key {} {}{}; authorized for root: {}",
        paths.show(&key_path),
        key.public().fingerprint(),
        if created { " (new)" } else { "" },
        match key_files {
            [] => "nobody (no ~/.ssh/id_ed25519.pub; pass --authorize KEY.pub)".to_string(),
            files => files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }
    );
    Ok(Ssh {
        hsshd: read(&hsshd)?,
        host_key,
        host_key_pub,
        authorized_keys,
    })
}

impl Ssh {
    /// Puts the server, its key and `authorized_keys` into `tree`.
    pub fn add_to(&self, tree: &mut Tree) -> Result<(), String> {
        for e in self.entries() {
            tree.insert(e)?;
        }
        Ok(())
    }

    /// The server, its key and `authorized_keys` as archive entries (the bench's Linux peer
    /// carries the same files at the same paths: xtask/src/bench/peer.rs).
    pub fn entries(&self) -> Vec<Entry> {
        [
            Entry::file(GUEST_HSSHD, 0o755, self.hsshd.clone()),
            Entry::dir("etc/hsshd").with_mode(0o700),
            Entry::file(GUEST_HOST_KEY, 0o600, self.host_key.clone()),
            Entry::file(
                format!("{GUEST_HOST_KEY}.pub"),
                0o644,
                self.host_key_pub.clone(),
            ),
            Entry::dir("root/.ssh").with_mode(0o700),
            Entry::file(
                GUEST_AUTHORIZED_KEYS,
                0o600,
                self.authorized_keys.clone().into_bytes(),
            ),
            Entry::dir("var/log"),
        ]
        .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initramfs::cpio::Kind;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINTsQle9IJR1dP0wSNrmOG3b2oOeEr7YyJU7Ep5B7cM9 me@host";

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn key_files_are_checked_with_clear_errors() {
        let dir = std::env::temp_dir().join(format!("xtask-authorize-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = write(&dir, "good.pub", &format!("# mine\n{KEY}\n\n"));
        assert_eq!(read_key_file(&good).unwrap(), format!("{KEY}\n"));
        let cases = [
            ("missing.pub", None, "cannot read it"),
            ("rsa.pub", Some("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ me\n"), "no public key"),
            ("empty.pub", Some(""), "no public key"),
            (
                "id_ed25519",
                Some("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n"),
                "this is a private key",
            ),
            (
                "mixed.pub",
                Some(&*format!("{KEY}\ncommand=\"ls\" {KEY}\n")),
                "1 line(s) are not plain ssh-ed25519",
            ),
        ];
        for (name, text, wanted) in cases {
            let path = match text {
                Some(t) => write(&dir, name, t),
                None => dir.join(name),
            };
            let err = read_key_file(&path).unwrap_err();
            assert!(
                err.starts_with(&format!("--authorize {}: ", path.display()))
                    && err.contains(wanted),
                "{name}: {err}"
            );
        }
        // Without --authorize: the home's id_ed25519.pub, if there is one.
        assert_eq!(key_files(&[], Some(&dir)), Vec::<PathBuf>::new());
        std::fs::create_dir_all(dir.join(".ssh")).unwrap();
        let default = write(&dir.join(".ssh"), "id_ed25519.pub", KEY);
        assert_eq!(key_files(&[], Some(&dir)), [default]);
        assert_eq!(key_files(std::slice::from_ref(&good), Some(&dir)), [good]);
        assert!(key_files(&[], None).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_tree_gets_the_server_its_key_and_root_s_keys() {
        let ssh = Ssh {
            hsshd: vec![0x7f],
            host_key: b"private".to_vec(),
            host_key_pub: b"public".to_vec(),
            authorized_keys: format!("{KEY}\n"),
        };
        let mut t = Tree::default();
        ssh.add_to(&mut t).unwrap();
        let mode = |p: &str| t.get(p).unwrap().mode;
        assert_eq!(
            (
                mode(GUEST_HSSHD),
                mode(GUEST_HOST_KEY),
                mode("root/.ssh"),
                mode(GUEST_AUTHORIZED_KEYS)
            ),
            (0o755, 0o600, 0o700, 0o600)
        );
        assert_eq!(
            t.get(GUEST_AUTHORIZED_KEYS).unwrap().kind,
            Kind::File(format!("{KEY}\n").into_bytes())
        );
        assert_eq!(t.get("var/log").unwrap().kind, Kind::Dir);
    }
}
