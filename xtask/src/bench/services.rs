//! Two servers that are ordinary programs on both systems: `hsshd` (`user/ssh`) and busybox
//! `httpd`, measured in the shell boot of each round, after `ubench`.
//!
//! Why: `netsvc` is the bench's own minimal server; these are the kind of program a user
//! runs. The SSH row is one whole interactive-style cycle as a user sees it: the host's
//! OpenSSH client connects, exchanges keys, authenticates with a public key and runs
//! `echo AFTER && uname` through the server's shell, so it exercises fork/exec, pipes,
//! process exit and the crypto in user space on the guest. busybox `httpd` forks a child per
//! connection and closes each connection after its answer, so its rate is connections plus
//! process creation, unlike `netsvc`'s keep-alive HTTP row.
//!
//! The same files on both: the static `hsshd` with the host key of `cargo xtask run`
//! (`target/hsshd/`) and an `authorized_keys` holding the bench's own client key (made once
//! with `ssh-keygen` in `target/bench/ssh/`), at the paths of xtask/src/initramfs/ssh.rs; the
//! same busybox serving [`WWW_DIR`]`/index.html`. Halyard's init starts `hsshd` at boot
//! (user/init/src/sshd.rs); on the peer, `/bin/bench-net` (xtask/src/bench/net.sh, the
//! network setup its `/init` runs too) brings up the NIC in the shell boot, and the xtask
//! starts `hsshd` with the arguments Halyard's init uses. Both then start `httpd` from the
//! console shell. Port 8080, not 80: Halyard's shell boot keeps its in-kernel services.

use super::results::System;
use super::wrk;
use super::Values;
use crate::netns::Netns;
use crate::paths::Paths;
use crate::qemu::session::Session;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The rows this module fills.
pub const ROWS: [&str; 2] = ["ssh_cycle", "httpd_rate"];
/// The document root both systems' initramfs carry, with [`INDEX`] in it.
pub const WWW_DIR: &str = "/opt/bench/www";
/// The file `httpd` serves (`GET /`): small, so the row is about connections.
pub const INDEX: &str = "<html><body><p>halyard bench: busybox httpd</p></body></html>\n";
/// `httpd`'s port.
pub const HTTPD_PORT: u16 = 8080;
const SSH_PORT: u16 = 22;
/// The peer's `hsshd` command: the arguments of Halyard's init (user/init/src/sshd.rs).
pub const PEER_HSSHD: &str = "/sbin/hsshd --listen 0.0.0.0:22 \
     --host-key /etc/hsshd/ssh_host_ed25519_key --authorized-keys /root/.ssh/authorized_keys";
/// The line that says the servers were started.
const UP: &str = "SERVICES-UP";
/// The command each cycle runs, and what it must print before the system's name.
const SSH_COMMAND: &str = "echo AFTER && uname";
/// How long one ssh cycle may take (TCG; a slow cycle is a result, a hang is not).
const SSH_TIMEOUT_S: u32 = 60;

/// What the host needs to log in: the client's private key and a `known_hosts` naming the
/// guest's host key (so every cycle checks it talks to the bench's `hsshd`).
#[derive(Debug, Clone)]
pub struct SshClient {
    pub key: PathBuf,
    pub public_key: PathBuf,
    pub known_hosts: PathBuf,
}

/// Makes the client key (once) under `target/bench/ssh/`; the `known_hosts` file comes with
/// [`write_known_hosts`], once the host key exists.
pub fn prepare_client(paths: &Paths) -> Result<SshClient, String> {
    let dir = paths.root.join("target/bench/ssh");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let key = dir.join("id_ed25519");
    if !key.exists() {
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "halyard-bench", "-f"])
            .arg(&key)
            .output()
            .map_err(|e| format!("cannot run ssh-keygen: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "ssh-keygen: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(SshClient {
        public_key: key.with_extension("pub"),
        known_hosts: dir.join("known_hosts"),
        key,
    })
}

/// Writes the client's `known_hosts`: the guest's address with the host key of
/// `host_key_pub` (a `.pub` file).
pub fn write_known_hosts(client: &SshClient, host_key_pub: &Path) -> Result<(), String> {
    let host = std::fs::read_to_string(host_key_pub)
        .map_err(|e| format!("cannot read {}: {e}", host_key_pub.display()))?;
    if !host.starts_with("ssh-ed25519 ") {
        return Err(format!(
            "{} is not an ssh-ed25519 public key",
            host_key_pub.display()
        ));
    }
    std::fs::write(
        &client.known_hosts,
        known_hosts_line(super::guest::guest_ip(), &host),
    )
    .map_err(|e| format!("cannot write {}: {e}", client.known_hosts.display()))
}

/// The `known_hosts` line for `ip` (port 22) from a `.pub` file's text.
fn known_hosts_line(ip: &str, host_pub: &str) -> String {
    let mut words = host_pub.split_whitespace();
    let (kind, key) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    format!("{ip} {kind} {key}\n")
}

/// Writes [`INDEX`] under `target/bench/www/` (Halyard's initramfs takes the directory).
pub fn www_dir(paths: &Paths) -> Result<PathBuf, String> {
    let dir = paths.root.join("target/bench/www");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let index = dir.join("index.html");
    std::fs::write(&index, INDEX).map_err(|e| format!("cannot write {}: {e}", index.display()))?;
    Ok(dir)
}

/// The console line that starts the servers on `system` and then prints [`UP`].
pub fn start_line(system: System) -> String {
    let httpd = format!("httpd -p {HTTPD_PORT} -h {WWW_DIR}");
    match system {
        // init started hsshd at boot; the kernel configured the NIC.
        System::Halyard | System::HalyardKernel => format!("{httpd} && echo {UP}"),
        System::Linux => format!(
            "/bin/bench-net && {{ {PEER_HSSHD} >/tmp/hsshd.log 2>&1 & }} && {httpd} && echo {UP}"
        ),
    }
}

/// The ssh arguments of one cycle (the host's OpenSSH client, no user configuration).
pub fn ssh_args(client: &SshClient, ip: &str) -> Vec<String> {
    let mut args: Vec<String> = vec![SSH_TIMEOUT_S.to_string(), "ssh".into(), "-F".into()];
    args.push("/dev/null".into());
    for opt in [
        "BatchMode=yes".to_string(),
        "IdentitiesOnly=yes".to_string(),
        "StrictHostKeyChecking=yes".to_string(),
        format!("UserKnownHostsFile={}", client.known_hosts.display()),
        "GlobalKnownHostsFile=/dev/null".to_string(),
        "ConnectTimeout=20".to_string(),
        "LogLevel=ERROR".to_string(),
    ] {
        args.extend(["-o".into(), opt]);
    }
    args.extend([
        "-i".into(),
        client.key.display().to_string(),
        "-p".into(),
        SSH_PORT.to_string(),
        format!("root@{ip}"),
        SSH_COMMAND.into(),
    ]);
    args
}

/// Checks one cycle's output: `AFTER`, then the system's name as `uname` prints it.
pub fn check_output(stdout: &str, system: System) -> Result<(), String> {
    let lines: Vec<&str> = stdout.lines().map(str::trim_end).collect();
    let name = match system {
        System::Halyard | System::HalyardKernel => "Halyard",
        System::Linux => "Linux",
    };
    if lines == ["AFTER", name] {
        Ok(())
    } else {
        Err(format!(
            "ssh printed {lines:?}, not [\"AFTER\", \"{name}\"]"
        ))
    }
}

/// The median time of `cycles` ssh cycles, each checked.
fn ssh_cycle(
    netns: &Netns,
    client: &SshClient,
    system: System,
    cycles: u32,
) -> Result<f64, String> {
    let args = ssh_args(client, super::guest::guest_ip());
    let mut times = Vec::new();
    for _ in 0..cycles {
        let started = Instant::now();
        let out = netns
            .command("timeout")
            .args(&args)
            .output()
            .map_err(|e| format!("cannot run ssh: {e}"))?;
        let took = started.elapsed().as_secs_f64();
        if !out.status.success() {
            return Err(format!(
                "ssh failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        check_output(&String::from_utf8_lossy(&out.stdout), system)?;
        times.push(took);
    }
    super::stats::median(&times).ok_or_else(|| "no ssh cycle".to_string())
}

/// busybox httpd's rate of good answers with wrk (`threads` 1, `connections`, `secs`).
fn httpd_rate(netns: &Netns, connections: u32, secs: u32) -> Result<f64, String> {
    let url = format!("http://{}:{HTTPD_PORT}/", super::guest::guest_ip());
    let args = wrk::args(&url, 1, connections, secs);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = netns.run("wrk", &args)?;
    wrk::parse_tolerant(&out).map(|s| s.requests_per_sec)
}

/// Waits until `port` of the guest accepts a connection (from inside the namespace).
fn wait_for_port(netns: &Netns, port: u16, deadline: Instant) -> Result<(), String> {
    let ip: std::net::IpAddr = super::guest::guest_ip()
        .parse()
        .map_err(|e| format!("{e}"))?;
    let addr = SocketAddr::new(ip, port);
    super::inside::run_in(netns.name(), move || loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("nothing listens on {addr}: {e}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    })
}

/// What the service rows need besides the booted shell.
pub struct Plan<'a> {
    pub netns: &'a Netns,
    pub client: &'a SshClient,
    pub ssh_cycles: u32,
    pub wrk_connections: u32,
    pub wrk_secs: u32,
    /// Which of [`ROWS`] to measure.
    pub wants: &'a dyn Fn(&str) -> bool,
}

/// Starts the servers from `system`'s console shell (its prompt already consumed) and
/// measures the rows `plan` wants; a failure to start fails them all with the reason.
pub fn measure(session: &mut Session, system: System, plan: &Plan) -> Values {
    let wanted: Vec<&'static str> = ROWS.into_iter().filter(|id| (plan.wants)(id)).collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let started = session
        .send(&format!("{}\r", start_line(system)))
        .and_then(|()| {
            session.expect_line(&format!("`{UP}` (servers started)"), |l| l.trim_end() == UP)
        })
        .and_then(|_| {
            let deadline = Instant::now() + Duration::from_secs(20);
            wait_for_port(plan.netns, SSH_PORT, deadline)?;
            wait_for_port(plan.netns, HTTPD_PORT, deadline)
        });
    wanted
        .into_iter()
        .map(|id| {
            let value = match (&started, id) {
                (Err(e), _) => Err(format!("servers not started: {e}")),
                (Ok(()), "ssh_cycle") => {
                    ssh_cycle(plan.netns, plan.client, system, plan.ssh_cycles)
                }
                (Ok(()), _) => httpd_rate(plan.netns, plan.wrk_connections, plan.wrk_secs),
            };
            (id, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_must_name_the_system() {
        assert_eq!(check_output("AFTER\nLinux\n", System::Linux), Ok(()));
        assert_eq!(check_output("AFTER\nHalyard\n", System::Halyard), Ok(()));
        let err = check_output("AFTER\nLinux\n", System::Halyard).unwrap_err();
        assert!(err.contains("not [\"AFTER\", \"Halyard\"]"), "{err}");
        assert!(check_output("Linux\n", System::Linux).is_err());
        assert!(check_output("", System::Linux).is_err());
    }

    #[test]
    fn the_client_checks_the_host_key_and_uses_only_its_key() {
        let client = SshClient {
            key: "/k/id".into(),
            public_key: "/k/id.pub".into(),
            known_hosts: "/k/known".into(),
        };
        let line = ssh_args(&client, "192.168.100.2").join(" ");
        assert!(
            line.starts_with("60 ssh -F /dev/null -o BatchMode=yes"),
            "{line}"
        );
        for part in [
            "-o StrictHostKeyChecking=yes",
            "-o UserKnownHostsFile=/k/known",
            "-i /k/id -p 22 root@192.168.100.2",
        ] {
            assert!(line.contains(part), "{part}: {line}");
        }
        assert!(line.ends_with(" echo AFTER && uname"));
        assert_eq!(
            known_hosts_line("192.168.100.2", "ssh-ed25519 AAAAC3Nz hsshd\n"),
            "192.168.100.2 ssh-ed25519 AAAAC3Nz\n"
        );
    }

    #[test]
    fn both_systems_start_httpd_on_the_same_port_and_the_peer_its_network_and_hsshd() {
        let (h, l) = (start_line(System::Halyard), start_line(System::Linux));
        assert_eq!(h, "httpd -p 8080 -h /opt/bench/www && echo SERVICES-UP");
        assert!(l.starts_with("/bin/bench-net && { /sbin/hsshd --listen 0.0.0.0:22 "));
        assert!(l.ends_with(&h), "{l}");
        assert!(super::super::peer::NET_SCRIPT.contains("echo \"NET-UP $addr\""));
    }
}
