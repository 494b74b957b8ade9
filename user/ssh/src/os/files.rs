//! Key and host files: the server's host key (generated and persisted on first start), the
//! `authorized_keys` file, the client's private key and its `known_hosts` file.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::authorized_keys::AuthorizedKeys;
use crate::keys::{KeyPair, PublicKey};
use crate::known_hosts::{self, Verdict};
use crate::openssh_key;

/// Opens `path` with `options`, creating its directory first if needed.
fn open_in_new_dir(path: &Path, options: &fs::OpenOptions) -> Result<fs::File, String> {
    let err = |e: io::Error| format!("{}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(err)?;
    }
    options.open(path).map_err(err)
}

/// Reads an OpenSSH ed25519 private key file.
pub fn read_key(path: &Path) -> Result<KeyPair, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    openssh_key::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Loads the host key, or generates one and writes it (mode 0600, directory created) when the
/// file does not exist. Returns the key and whether it was created.
pub fn load_or_create_host_key(path: &Path) -> Result<(KeyPair, bool), String> {
    if path.exists() {
        return read_key(path).map(|k| (k, false));
    }
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let text = openssh_key::write(&key, "hsshd host key").map_err(|e| e.to_string())?;
    let err = |e: io::Error| format!("{}: {e}", path.display());
    let mut f = open_in_new_dir(
        path,
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600),
    )?;
    f.write_all(text.as_bytes()).map_err(err)?;
    fs::write(
        path.with_extension("pub"),
        format!("{} hsshd\n", key.public().to_openssh()),
    )
    .map_err(err)?;
    Ok((key, true))
}

/// Reads `authorized_keys`; a missing file means nobody may log in.
pub fn read_authorized_keys(path: &Path) -> Result<AuthorizedKeys, String> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(AuthorizedKeys::parse(&text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(AuthorizedKeys::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Reads the one-line password file (trailing newline removed); refuses files others can read.
pub fn read_password(path: &Path) -> Result<String, String> {
    let err = |e: io::Error| format!("{}: {e}", path.display());
    let mode = fs::metadata(path).map_err(err)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{}: must not be readable by group or others",
            path.display()
        ));
    }
    let text = fs::read_to_string(path).map_err(err)?;
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

/// The known-hosts decision for a connection, after updating the file on first use.
pub fn check_known_host(path: &Path, host: &str, port: u16, key: &PublicKey) -> Result<(), String> {
    let name = known_hosts::host_name(host, port);
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    match known_hosts::check(&text, &name, key) {
        Verdict::Known => Ok(()),
        Verdict::Changed => Err(format!(
            "REMOTE HOST KEY CHANGED for {name}: it now presents {} which is not the key in {}. \
             Someone could be intercepting the connection, or the host key was replaced. \
             Refusing to connect; remove the old entry from the file if the change is expected.",
            key.fingerprint(),
            path.display()
        )),
        Verdict::Unknown => {
            let err = |e: io::Error| format!("{}: {e}", path.display());
            let mut f = open_in_new_dir(path, fs::OpenOptions::new().append(true).create(true))?;
            let mut line = known_hosts::entry(&name, key);
            if !text.is_empty() && !text.ends_with('\n') {
                line.insert(0, '\n');
            }
            f.write_all(line.as_bytes()).map_err(err)?;
            eprintln!(
                "hssh: permanently added {name} ({}) to {}",
                key.fingerprint(),
                path.display()
            );
            Ok(())
        }
    }
}
