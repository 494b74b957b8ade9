//! The SSH proof's OpenSSH `sshd`, in the test's namespace: a private configuration (its
//! own port, host key and `AuthorizedKeysFile`, no PAM, no passwords), started in the
//! foreground (`-D -e`, its log in `target/test-logs/NAME-sshd.log`), killed by its PID
//! and reaped when the test ends however it ends. The same setup as the OpenSSH interop
//! tests of `user/ssh` (`tests/common/mod.rs`).

use super::super::client::in_netns;
use super::keys::Keys;
use super::SSHD_PORT;
use crate::netns::Netns;
use crate::paths::Paths;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The daemon (Debian's path: `sshd` re-executes itself and wants an absolute one).
const SSHD: &str = "/usr/sbin/sshd";
/// How long `sshd` may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running `sshd`, killed by PID on drop.
pub struct Sshd {
    child: Child,
    pub log: PathBuf,
}

impl Sshd {
    /// Writes the configuration and starts `sshd` inside `netns`; returns once it accepts
    /// connections on [`SSHD_PORT`].
    pub fn start(netns: &Netns, keys: &Keys, test: &str) -> Result<Sshd, String> {
        let paths = Paths::repo();
        let run_dir = paths.root.join("target/ssh-proof/run");
        std::fs::create_dir_all(&run_dir).map_err(|e| format!("{}: {e}", run_dir.display()))?;
        // sshd refuses to start without its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").map_err(|e| format!("/run/sshd: {e}"))?;
        let config = run_dir.join(format!("{test}-sshd_config"));
        std::fs::write(
            &config,
            format!(
                "Port {SSHD_PORT}\nListenAddress 0.0.0.0\nHostKey {}\nAuthorizedKeysFile {}\n\
                 PidFile {}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
                 LogLevel VERBOSE\n",
                keys.host("sshd_host_key").display(),
                keys.host("authorized_keys").display(),
                run_dir.join(format!("{test}-sshd.pid")).display(),
            ),
        )
        .map_err(|e| format!("{}: {e}", config.display()))?;
        let log = paths.root.join(format!("target/test-logs/{test}-sshd.log"));
        let stderr = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        // Spawned from a thread inside the namespace: the child is sshd itself, so its PID
        // is the one to kill.
        let child = in_netns(netns.name(), || {
            Command::new(SSHD)
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .map_err(|e| format!("cannot start {SSHD}: {e}"))
        })?;
        let sshd = Sshd { child, log };
        sshd.wait_listening(netns)?;
        Ok(sshd)
    }

    /// Waits (bounded) until `sshd` accepts on 127.0.0.1:[`SSHD_PORT`] in the namespace.
    fn wait_listening(&self, netns: &Netns) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        in_netns(netns.name(), || loop {
            if TcpStream::connect(("127.0.0.1", SSHD_PORT)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "sshd did not listen on port {SSHD_PORT} within {} s; its log: {:?}",
                    START_TIMEOUT.as_secs(),
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        })
    }

    /// What `sshd` logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
