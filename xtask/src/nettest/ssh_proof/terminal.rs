//! A program on a pseudo-terminal the test owns, driven as a person at a terminal would:
//! type keys, wait for what the screen shows, resize the window. The program (the host's
//! `ssh -tt`) gets the slave as its standard input, output and error and as its
//! controlling terminal, so `TIOCSWINSZ` on the master sends it `SIGWINCH` and OpenSSH
//! answers with `window-change`. The same approach as `user/ssh/tests/pty.rs` (which drives
//! `ssh` against `hsshd` on Linux), with `halyard-ssh`'s own PTY code; here every wait
//! returns an error instead of panicking, and everything the terminal shows is logged.

use halyard_ssh::os::pty::{self, Pty};
use halyard_ssh::pty_req::WindowSize;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How often an unanswered wait looks at the terminal again.
const POLL: Duration = Duration::from_millis(10);
/// How much of the end of the screen output an error message quotes.
const QUOTE: usize = 800;

/// A window of `cols` × `rows` characters.
pub fn size(cols: u32, rows: u32) -> WindowSize {
    WindowSize {
        cols,
        rows,
        ..WindowSize::default()
    }
}

/// A child on a terminal whose master this holds; killed by PID and reaped on drop.
pub struct Terminal {
    master: File,
    child: Child,
    /// Everything the terminal showed; output before `cursor` has been matched already.
    seen: Vec<u8>,
    cursor: usize,
    /// A copy of `seen`, written as it arrives (kept when the test fails).
    log: File,
    log_path: PathBuf,
    /// No wait goes past this (the test's deadline).
    deadline: Instant,
}

impl Terminal {
    /// Starts `cmd` on a new terminal of `size`, its output logged to `log`.
    pub fn spawn(
        mut cmd: Command,
        size: WindowSize,
        log: &Path,
        deadline: Instant,
    ) -> Result<Terminal, String> {
        let local = Pty::open(&[], size).map_err(|e| format!("cannot open a pty: {e}"))?;
        let slave = |f: &File| f.try_clone().map_err(|e| format!("pty slave: {e}"));
        cmd.stdin(slave(&local.slave)?)
            .stdout(slave(&local.slave)?)
            .stderr(Stdio::from(local.slave));
        // SAFETY: runs in the child between fork and exec, after fds 0-2 are the slave; it
        // calls only setsid and ioctl, which are async-signal-safe.
        unsafe { cmd.pre_exec(pty::take_as_controlling_terminal) };
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
        // The command holds the slave's descriptors: without them, the master reads EIO
        // once the child has closed its own.
        drop(cmd);
        let log_file =
            File::create(log).map_err(|e| format!("cannot write {}: {e}", log.display()))?;
        Ok(Terminal {
            master: local.master,
            child,
            seen: Vec::new(),
            cursor: 0,
            log: log_file,
            log_path: log.to_path_buf(),
            deadline,
        })
    }

    /// Reads what is there; false once the child has closed the terminal.
    fn pump(&mut self) -> bool {
        let mut buf = [0; 4096];
        loop {
            match self.master.read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => {
                    self.seen.extend_from_slice(&buf[..n]);
                    let _ = self.log.write_all(&buf[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // EIO: every slave descriptor is closed.
                Err(_) => return false,
            }
        }
    }

    /// Types `keys`.
    pub fn send(&mut self, keys: &str) -> Result<(), String> {
        self.master
            .write_all(keys.as_bytes())
            .map_err(|e| format!("cannot type {keys:?}: {e}"))
    }

    /// Resizes the window (`TIOCSWINSZ` on the master: the child gets `SIGWINCH`).
    pub fn resize(&self, size: WindowSize) -> Result<(), String> {
        pty::set_window_size(&self.master, size)
            .map_err(|e| format!("TIOCSWINSZ {}x{}: {e}", size.cols, size.rows))
    }

    /// Waits at most `limit` for `needle` after the cursor, moves the cursor past it and
    /// returns the output up to it.
    pub fn expect(&mut self, needle: &str, limit: Duration) -> Result<String, String> {
        let deadline = self.deadline.min(Instant::now() + limit);
        loop {
            let open = self.pump();
            let rest = &self.seen[self.cursor..];
            if let Some(i) = rest
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
            {
                let before = String::from_utf8_lossy(&rest[..i]).into_owned();
                self.cursor += i + needle.len();
                return Ok(before);
            }
            if !open || Instant::now() >= deadline {
                let why = if open {
                    "within the time"
                } else {
                    "before the program closed the terminal"
                };
                return Err(format!(
                    "no {needle:?} {why}; the terminal's last output: {}",
                    self.tail()
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits at most `limit` for the child to exit; kills it if it does not.
    pub fn wait(&mut self, limit: Duration) -> Result<ExitStatus, String> {
        let deadline = self.deadline.min(Instant::now() + limit);
        loop {
            self.pump();
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err(format!(
                        "the program did not exit; the terminal's last output: {}",
                        self.tail()
                    ));
                }
                Err(e) => return Err(format!("waiting for the program: {e}")),
            }
        }
    }

    /// The end of what the terminal showed, for messages, and where all of it is.
    pub fn tail(&self) -> String {
        let from = self.seen.len().saturating_sub(QUOTE);
        format!(
            "{:?} (all of it in {})",
            String::from_utf8_lossy(&self.seen[from..]),
            crate::paths::Paths::repo().show(&self.log_path)
        )
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
