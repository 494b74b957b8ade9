//! The initramfs on the host's Linux, the oracle: `/sbin/init` as PID 1, the shell driven
//! over a pseudo-terminal, `poweroff` at the end.
//!
//! What it proves before Halyard runs the same archive: the archive unpacks (with GNU
//! `cpio`, a reader independent of our writer), init mounts and names the system, starts a
//! login shell with a controlling terminal, the profile gives the prompt, busybox's applet
//! links work ([`SCRIPT`]), init reaps orphans (no zombie left), background jobs that use
//! the terminal are stopped or refused ([`JOB_CONTROL`]), init starts a new shell when
//! one exits, and `poweroff` reaches init and stops everything.
//!
//! How: the archive is unpacked into `target/initramfs/host-root/`; `unshare --pid --mount
//! --uts --fork --kill-child` runs a host shell as PID 1 of new namespaces, which mounts
//! devtmpfs on the tree's `/dev`, bind-mounts the pty's slave over its `/dev/console`, then
//! `exec chroot TREE /sbin/init`. Init's own devtmpfs mount then fails with EBUSY (the
//! same file system is already there), which it logs and ignores, so its console is the pty
//! whose master this test holds (init's fds 0-2 are that pty too, as the kernel gives PID 1
//! the console). Everything it mounts lives in the private mount namespace and goes with
//! it; the UTS namespace keeps the host's name; `kill(-1)` and `reboot(2)` reach only the
//! PID namespace, whose init Linux kills with SIGINT on `RB_POWER_OFF` (`reboot(2)`,
//! "Behavior inside PID namespaces"), which `unshare` passes on by dying of it too.
//!
//! Bounded: one deadline for the whole conversation; on any failure or timeout `unshare`
//! is killed by PID, and with `--kill-child` its child (init) dies with it, which ends the
//! namespace and every process in it. The transcript goes to
//! `target/test-logs/initramfs-host.log`.

use super::layout::{HOSTNAME, ROOT_PROMPT};
use crate::paths::Paths;
use crate::tools;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Commands typed at the prompt and the line each must print: the conversation the same
/// check will have with Halyard's console.
pub const SCRIPT: [(&str, &str); 3] = [
    ("echo hello | tr a-z A-Z", "HELLO"),
    ("hostname", HOSTNAME),
    // The shell starts with no signal blocked (init clears the mask it keeps for itself).
    ("grep SigBlk /proc/self/status", "SigBlk:\t0000000000000000"),
];

/// Orphans are reaped: the `sleep` outlives its shell, so init inherits it; a second
/// after it ended no process may be a zombie (`Z`).
const ORPHANS: (&str, &str) = (
    "sh -c 'sleep 0.1 &'; sleep 1; ps -o stat | grep -c '^Z'",
    "0",
);

/// Keys typed at the shell, then the whole lines that must follow them in order (among
/// others), then the prompt if `prompt`.
pub struct Exchange {
    pub keys: &'static str,
    pub lines: &'static [&'static str],
    pub prompt: bool,
}

const fn exchange(keys: &'static str, lines: &'static [&'static str], prompt: bool) -> Exchange {
    Exchange {
        keys,
        lines,
        prompt,
    }
}

/// Job control at the terminal (Linux's `__tty_check_change`): a background `cat` that
/// reads the terminal is stopped by SIGTTIN, `fg` continues it and its read starts again
/// (typed input reaches it, ^D ends it); under `stty tostop` a background write is stopped
/// by SIGTTOU, and so is a background `stty` (a `TCSETS`) whatever TOSTOP; a background
/// read that ignores SIGTTIN, or from an orphaned process group (the `sh -c` outlives its
/// subshell, so init is its parent), fails with EIO. Ash's `jobs` names the stop signal.
pub const JOB_CONTROL: [Exchange; 14] = [
    exchange("cat &\r", &[], true),
    exchange(
        "sleep 1; jobs\r",
        &["[1]+  Stopped (tty input)        cat"],
        true,
    ),
    exchange("fg\r", &["cat"], false),
    exchange("typed line\r", &["typed line", "typed line"], false),
    exchange("\x04", &[], true),
    exchange("stty tostop; echo hi &\r", &[], true),
    exchange(
        "sleep 1; jobs\r",
        &["[1]+  Stopped (tty output)       echo hi"],
        true,
    ),
    exchange("fg\r", &["echo hi", "hi"], true),
    exchange("stty -tostop &\r", &[], true),
    exchange(
        "sleep 1; jobs\r",
        &["[1]+  Stopped (tty output)       stty -tostop"],
        true,
    ),
    exchange("fg\r", &["stty -tostop"], true),
    exchange("echo bg-ok & wait\r", &["bg-ok"], true),
    exchange(
        "(trap '' TTIN; cat; echo \"status $?\") & wait\r",
        &["cat: read error: Input/output error", "status 1"],
        true,
    ),
    exchange(
        "(sh -c 'sleep 1; cat </dev/tty; echo status $?' &); sleep 3\r",
        &["cat: read error: Input/output error", "status 1"],
        true,
    ),
];

/// What ash says when init failed to give it the console as controlling terminal.
const NO_JOB_CONTROL: &str = "job control turned off";

/// What init says when the shell exits (then it starts another).
const SHELL_ENDED: &str = "ended (exit status 3), starting a new one";

/// The line init prints just before `reboot(2)` for `poweroff`.
const POWEROFF_LINE: &str = "init: poweroff: reboot(2)";

/// Time for the whole conversation, shutdown included (it takes about 3 s: init waits up
/// to 2 s for the shell, which ignores SIGTERM).
const DEADLINE: Duration = Duration::from_secs(30);

/// What PID 1 runs before it becomes init: the console, then `chroot` (`$1` the tree, `$2`
/// the pty's slave).
const SETUP: &str = r#"set -e
mount -t devtmpfs devtmpfs "$1/dev"
mount --bind "$2" "$1/dev/console"
exec chroot "$1" /sbin/init"#;

/// The check: unpacks `paths.initramfs()` and has the conversation.
pub fn run(paths: &Paths) -> Result<(), String> {
    tools::ensure(&["cpio", "unshare", "chroot"])?;
    let tree = Scratch::new(paths.root.join("target/initramfs/host-root"))?;
    unpack(&paths.initramfs(), &tree.0)?;
    let log = paths.test_log("initramfs-host");
    let pty = Pty::open()?;
    let child = Command::new("unshare")
        .args(["--pid", "--mount", "--uts", "--fork", "--kill-child", "--"])
        .args(["/bin/sh", "-c", SETUP, "sh"])
        .arg(&tree.0)
        .arg(&pty.slave_path)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(pty.slave_stdio()?)
        .stdout(pty.slave_stdio()?)
        .stderr(pty.slave_stdio()?)
        .spawn()
        .map_err(|e| format!("cannot run unshare: {e}"))?;
    let mut init = Killed(child);
    let mut console = Console::new(pty.master, Instant::now() + DEADLINE);
    let result = converse(&mut console, &mut init);
    if let Some(dir) = log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(&log, &console.text);
    result.map_err(|e| format!("{e} (transcript: {})", paths.show(&log)))
}

/// Prompt, the script, orphans, job control, `exit` and a new shell, `poweroff`, then the namespace's
/// end by SIGINT.
fn converse(console: &mut Console, init: &mut Killed) -> Result<(), String> {
    console.expect_text(ROOT_PROMPT)?;
    if console.text.contains(NO_JOB_CONTROL) {
        return Err("the shell has no controlling terminal (`job control turned off`)".into());
    }
    for (command, answer) in SCRIPT.into_iter().chain([ORPHANS]) {
        console.send(&format!("{command}\r"))?;
        console.expect_line(answer)?;
        console.expect_text(ROOT_PROMPT)?;
    }
    for step in &JOB_CONTROL {
        console.send(step.keys)?;
        for line in step.lines {
            console.expect_line(line)?;
        }
        if step.prompt {
            console.expect_text(ROOT_PROMPT)?;
        }
    }
    console.send("exit 3\r")?;
    console.expect_text(SHELL_ENDED)?;
    console.expect_text(ROOT_PROMPT)?;
    console.send("poweroff\r")?;
    console.expect_text(POWEROFF_LINE)?;
    let status = init.wait_until(console.deadline)?;
    if std::os::unix::process::ExitStatusExt::signal(&status) == Some(libc::SIGINT) {
        Ok(())
    } else {
        Err(format!(
            "after poweroff the namespace's init should be killed by SIGINT \
             (Linux's answer to RB_POWER_OFF there), but unshare ended with {status}"
        ))
    }
}

/// `cpio -idm` of `image` into `dir` (as root: owners kept).
pub(crate) fn unpack(image: &Path, dir: &Path) -> Result<(), String> {
    let archive = File::open(image).map_err(|e| format!("cannot open {}: {e}", image.display()))?;
    let out = Command::new("cpio")
        .args(["-idm", "--quiet", "--no-absolute-filenames"])
        .current_dir(dir)
        .stdin(archive)
        .output()
        .map_err(|e| format!("cannot run cpio: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cpio -idm of {} failed ({}): {}",
            image.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A directory emptied when made and removed on drop.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(dir: PathBuf) -> Result<Scratch, String> {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `unshare` process, killed by PID and reaped when dropped unless it has ended.
struct Killed(Child);

impl Killed {
    fn wait_until(&mut self, deadline: Instant) -> Result<ExitStatus, String> {
        loop {
            match self.0.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => return Err("init did not end after poweroff".to_string()),
                Err(e) => return Err(format!("waiting for unshare: {e}")),
            }
        }
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A pseudo-terminal pair: the master for this test, the slave for init's console.
struct Pty {
    master: File,
    slave: OwnedFd,
    slave_path: PathBuf,
}

impl Pty {
    fn open() -> Result<Pty, String> {
        let (mut master, mut slave) = (-1, -1);
        // A wide window, so the shell's line editing never wraps a command.
        let size = libc::winsize {
            ws_row: 24,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: the two out-pointers are valid ints; a null name and termios are allowed,
        // and `size` lives across the call.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        if rc != 0 {
            return Err(format!(
                "openpty failed: {} (the check needs /dev/ptmx)",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: openpty succeeded, so both are open descriptors owned by nobody else.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut name = [0u8; 128];
        // SAFETY: `name` is writable for its length; ttyname_r writes a NUL-terminated path.
        let rc =
            unsafe { libc::ttyname_r(slave.as_raw_fd(), name.as_mut_ptr().cast(), name.len()) };
        if rc != 0 {
            return Err(format!(
                "ttyname of the pty slave: {}",
                std::io::Error::from_raw_os_error(rc)
            ));
        }
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        let slave_path = PathBuf::from(String::from_utf8_lossy(&name[..len]).into_owned());
        // SAFETY: F_GETFL/F_SETFL on our own descriptor; only O_NONBLOCK is added.
        let nonblocking = unsafe {
            let flags = libc::fcntl(master.as_raw_fd(), libc::F_GETFL);
            flags >= 0
                && libc::fcntl(master.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) == 0
        };
        if !nonblocking {
            return Err(format!(
                "cannot make the pty master non-blocking: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(Pty {
            master: File::from(master),
            slave,
            slave_path,
        })
    }

    fn slave_stdio(&self) -> Result<Stdio, String> {
        self.slave
            .try_clone()
            .map(Stdio::from)
            .map_err(|e| format!("cannot duplicate the pty slave: {e}"))
    }
}

/// The master side: what was read so far, and how far the expectations have matched.
struct Console {
    master: File,
    text: String,
    matched: usize,
    deadline: Instant,
}

impl Console {
    fn new(master: File, deadline: Instant) -> Console {
        Console {
            master,
            text: String::new(),
            matched: 0,
            deadline,
        }
    }

    fn send(&mut self, keys: &str) -> Result<(), String> {
        self.master
            .write_all(keys.as_bytes())
            .map_err(|e| format!("cannot type {keys:?}: {e}"))
    }

    /// Waits for `wanted` anywhere after the last match.
    fn expect_text(&mut self, wanted: &str) -> Result<(), String> {
        self.expect(wanted, |rest| rest.find(wanted).map(|i| i + wanted.len()))
    }

    /// Waits for a whole line equal to `wanted` (line ends and trailing blanks ignored)
    /// after the last match.
    fn expect_line(&mut self, wanted: &str) -> Result<(), String> {
        self.expect(&format!("the line `{wanted}`"), |rest| {
            let mut at = 0;
            for line in rest.split_inclusive('\n') {
                at += line.len();
                if line.ends_with('\n') && line.trim_end() == wanted {
                    return Some(at);
                }
            }
            None
        })
    }

    fn expect(&mut self, what: &str, find: impl Fn(&str) -> Option<usize>) -> Result<(), String> {
        loop {
            if let Some(end) = find(&self.text[self.matched..]) {
                self.matched += end;
                return Ok(());
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("timed out waiting for {what:?}"));
            }
            if !self.read_some(left)? {
                return Err(format!("the console closed before {what:?}"));
            }
        }
    }

    /// Reads what is there within `limit`; false once every slave is closed.
    fn read_some(&mut self, limit: Duration) -> Result<bool, String> {
        let mut poll = libc::pollfd {
            fd: self.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = limit.as_millis().clamp(1, 1000) as libc::c_int;
        // SAFETY: one valid pollfd for the duration of the call.
        unsafe { libc::poll(&mut poll, 1, ms) };
        let mut buf = [0u8; 4096];
        match self.master.read(&mut buf) {
            Ok(0) => Ok(false),
            Ok(n) => {
                self.text.push_str(&String::from_utf8_lossy(&buf[..n]));
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(true),
            // EIO: the last slave descriptor is closed.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => Ok(false),
            Err(e) => Err(format!("reading the console: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console_with(text: &str) -> Console {
        let mut c = Console::new(
            File::open("/dev/null").unwrap(),
            Instant::now() + Duration::from_millis(50),
        );
        c.text = text.to_string();
        c
    }

    #[test]
    fn expectations_match_in_order_and_lines_whole() {
        let mut c = console_with(
            "init: starting\r\nhalyard:~# echo hello | tr a-z A-Z\r\nHELLO\r\nhalyard:~# ",
        );
        c.expect_text(ROOT_PROMPT).unwrap();
        c.expect_line("HELLO").unwrap();
        c.expect_text(ROOT_PROMPT).unwrap();
        // Everything is consumed: the same prompt does not match twice, and a line that is
        // only part of another does not count.
        assert!(c.expect_text(ROOT_PROMPT).is_err());
        let mut c = console_with("halyard:~# hostname\r\nhalyard:~# ");
        assert!(c.expect_line("halyard").is_err());
    }

    #[test]
    fn the_script_answers_are_plain_lines() {
        for (command, answer) in SCRIPT.into_iter().chain([ORPHANS]) {
            // The echoed command line must not pass for the answer.
            assert!(
                command.trim() != answer,
                "{command} would echo its own answer"
            );
        }
    }
}
