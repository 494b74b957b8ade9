//! Helpers for the interoperability tests: temp dirs, free ports, daemons killed by PID on
//! drop (also when a test fails), commands with a time limit, OpenSSH presence checks.

#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The Debian packages these tests need.
pub const APT: &str = "apt-get install -y openssh-client openssh-server";

/// Panics with the install command when an OpenSSH program is missing.
pub fn require(path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.exists(),
        "{path} is missing: install OpenSSH with `{APT}`"
    );
    p
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "halyard-ssh-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A background process killed (by its PID, through `Child`) and reaped on drop.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (bounded) until the log contains `n` occurrences of `needle`.
    pub fn wait_log(&self, needle: &str, n: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.log_text();
            if text.matches(needle).count() >= n || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (bounded) until something accepts on `port`.
pub fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `cmd` with stdin from /dev/null, killing it after 20 s.
pub fn run(cmd: &mut Command) -> Output {
    run_with_stdin(cmd, Stdio::null())
}

/// Runs `cmd` with the given stdin, killing it after 20 s.
pub fn run_with_stdin(cmd: &mut Command, stdin: Stdio) -> Output {
    run_io(cmd, stdin, Stdio::piped())
}

/// Runs `cmd` with the given stdin and stdout, killing it after 20 s.
pub fn run_io(cmd: &mut Command, stdin: Stdio, stdout: Stdio) -> Output {
    let mut child = cmd
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let (so, mut se) = (child.stdout.take(), child.stderr.take().unwrap());
    // Drained after exit: callers keep outputs within the pipe buffer (64 KiB).
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within 20 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    if let Some(mut so) = so {
        so.read_to_end(&mut stdout).unwrap();
    }
    se.read_to_end(&mut stderr).unwrap();
    Output {
        status,
        stdout,
        stderr,
    }
}

/// `ssh-keygen -t ed25519 -N ''` into `path` (and `path.pub`).
pub fn keygen(path: &Path) {
    let out = run(Command::new(require("/usr/bin/ssh-keygen"))
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path));
    assert!(out.status.success(), "ssh-keygen failed: {out:?}");
}

/// Starts `hsshd` on a free port with keys in `dir`; `ak` is the authorized_keys file.
pub fn start_hsshd(dir: &TempDir, ak: &Path) -> (Daemon, u16) {
    start_hsshd_with(dir, ak, &[])
}

/// [`start_hsshd`] with extra arguments. `hsshd` binds port 0 and the port is read from its
/// "listening on" line, so parallel tests cannot race for a port.
pub fn start_hsshd_with(dir: &TempDir, ak: &Path, extra: &[&str]) -> (Daemon, u16) {
    let log = dir.join("hsshd.log");
    let child = Command::new(env!("CARGO_BIN_EXE_hsshd"))
        .args(["--listen", "127.0.0.1:0", "--host-key"])
        .arg(dir.join("host_key"))
        .arg("--authorized-keys")
        .arg(ak)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&log).unwrap())
        .stderr(fs::File::create(dir.join("hsshd.err")).unwrap())
        .spawn()
        .unwrap();
    let d = Daemon { child, log };
    let text = d.wait_log("listening on 127.0.0.1:", 1);
    let port = text
        .lines()
        .find_map(|l| l.strip_prefix("hsshd: listening on 127.0.0.1:"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("hsshd did not start: {text}"));
    (d, port)
}

/// Starts OpenSSH's sshd on a free port with its own config, host key and authorized_keys,
/// plus `extra` configuration lines.
pub fn start_sshd(dir: &TempDir, ak: &Path, extra: &str) -> (Daemon, u16) {
    let sshd = require("/usr/sbin/sshd");
    // sshd refuses to start without its privilege separation directory.
    fs::create_dir_all("/run/sshd").unwrap();
    let port = free_port();
    let hk = dir.join("sshd_host_key");
    keygen(&hk);
    let config = dir.join("sshd_config");
    fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin yes\nPidFile none\n{extra}",
            hk.display(),
            ak.display()
        ),
    )
    .unwrap();
    let log = dir.join("sshd.log");
    let child = Command::new(sshd)
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let d = Daemon { child, log };
    wait_port(port);
    (d, port)
}

/// OpenSSH's ssh with everything taken from the command line (no user config, no agent).
pub fn openssh(dir: &TempDir, key: &Path, port: u16, command: &str) -> Command {
    openssh_with(dir, key, port, &[], command)
}

/// [`openssh`] with extra options (they take precedence over the defaults).
pub fn openssh_with(
    dir: &TempDir,
    key: &Path,
    port: u16,
    extra: &[&str],
    command: &str,
) -> Command {
    let mut c = Command::new(require("/usr/bin/ssh"));
    // ssh keeps the first value it sees for an option, so the extras go first.
    c.args(extra);
    c.args([
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "LogLevel=ERROR",
    ])
    .arg("-o")
    .arg(format!(
        "UserKnownHostsFile={}",
        dir.join("openssh_known_hosts").display()
    ))
    .arg("-i")
    .arg(key)
    .arg("-p")
    .arg(port.to_string())
    .args(extra)
    .arg("root@127.0.0.1")
    .arg(command)
    .env_remove("SSH_AUTH_SOCK");
    c
}

/// `hssh` against 127.0.0.1.
pub fn hssh(key: &Path, known_hosts: &Path, port: u16, command: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hssh"));
    c.arg("-p")
        .arg(port.to_string())
        .arg("-i")
        .arg(key)
        .arg("-l")
        .arg("root")
        .arg("--known-hosts")
        .arg(known_hosts)
        .arg("127.0.0.1")
        .arg(command);
    c
}

/// Text of a byte buffer for messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A temp dir with a user key `id` that is the only authorized key of a fresh `hsshd`.
pub fn hsshd_with_user_key(tag: &str) -> (TempDir, PathBuf, Daemon, u16) {
    let dir = TempDir::new(tag);
    let key = dir.join("id");
    keygen(&key);
    let ak = dir.join("authorized_keys");
    fs::copy(dir.join("id.pub"), &ak).unwrap();
    let (d, port) = start_hsshd(&dir, &ak);
    (dir, key, d, port)
}

/// Asserts a command's stdout and exit status.
pub fn assert_output(out: &Output, stdout: &str, code: i32) {
    assert_eq!(
        (text(&out.stdout).as_str(), out.status.code()),
        (stdout, Some(code)),
        "{out:?}"
    );
}
