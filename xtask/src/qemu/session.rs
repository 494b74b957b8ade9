//! Talking to the kernel over its serial console: expect and send, with one deadline.
//!
//! QEMU runs with `-serial stdio` and piped stdin/stdout. A reader thread copies everything
//! QEMU prints into the test's log file (so the log is complete even when the test gives up
//! early) and hands it to the session over a channel; the session waits on that channel with
//! `recv_timeout`, so every wait is bounded by the test's single deadline. Lines are read up
//! to `\n` with `\r` dropped; the monitor prompt is found without a newline.

use super::process::Qemu;
use crate::exit_status::QemuEnd;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The monitor prompt (printed without a newline).
pub const PROMPT: &str = "halyard> ";

/// How long to wait for QEMU's exit status once its output has ended.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// Why a wait on the console ended without what it waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// The test's deadline passed.
    Timeout,
    /// QEMU's output ended; how QEMU ended, if known within a short grace period.
    Ended(Option<QemuEnd>),
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stopped::Timeout => write!(f, "timed out"),
            Stopped::Ended(Some(end)) => write!(f, "QEMU ended ({})", end.describe()),
            Stopped::Ended(None) => write!(f, "QEMU closed its output"),
        }
    }
}

/// A QEMU whose serial console is being driven.
pub struct Session {
    qemu: Qemu,
    stdin: ChildStdin,
    chunks: Receiver<Vec<u8>>,
    /// Everything received, `\r` removed; `pos` is where the next expectation starts.
    buf: Vec<u8>,
    pos: usize,
    deadline: Instant,
}

impl Session {
    /// Starts QEMU (`cmd`, with its serial on stdio: [`super::cmdline::Serial::Stdio`]),
    /// logging its output and errors to `log`; every wait ends by `deadline`.
    pub fn start(mut cmd: Command, log: &Path, deadline: Instant) -> Result<Session, String> {
        let log_err = |e: std::io::Error| format!("cannot write log {}: {e}", log.display());
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).map_err(log_err)?;
        }
        File::create(log).map_err(log_err)?;
        // Appending from both QEMU's stderr and the reader thread keeps their writes whole.
        let mut log_out = OpenOptions::new().append(true).open(log).map_err(log_err)?;
        let log_stderr = log_out.try_clone().map_err(log_err)?;
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_stderr);
        let mut qemu = Qemu::spawn(cmd)?;
        let (Some(stdin), Some(mut stdout)) =
            (qemu.child().stdin.take(), qemu.child().stdout.take())
        else {
            return Err("QEMU started without pipes".to_string());
        };
        let (tx, chunks) = mpsc::channel();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut chunk) {
                let _ = log_out.write_all(&chunk[..n]);
                if tx.send(chunk[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Ok(Session {
            qemu,
            stdin,
            chunks,
            buf: Vec::new(),
            pos: 0,
            deadline,
        })
    }

    /// Waits until `find` recognises something in the unread output. `find` gets the unread
    /// bytes and returns how many it consumed plus its result.
    fn wait_for<T>(
        &mut self,
        mut find: impl FnMut(&[u8]) -> Option<(usize, T)>,
    ) -> Result<T, Stopped> {
        loop {
            if let Some((used, found)) = find(&self.buf[self.pos..]) {
                self.pos += used;
                return Ok(found);
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.buf.extend(chunk.into_iter().filter(|&b| b != b'\r')),
                Err(RecvTimeoutError::Timeout) => return Err(Stopped::Timeout),
                Err(RecvTimeoutError::Disconnected) => {
                    let grace = Instant::now() + EXIT_GRACE;
                    return Err(Stopped::Ended(self.qemu.wait_until(grace).ok().flatten()));
                }
            }
        }
    }

    /// QEMU's process id (`ip netns exec` execs QEMU, so it is QEMU's own): the bench
    /// reads its vCPU threads' CPU time (xtask/src/bench/cpu.rs).
    pub fn pid(&mut self) -> u32 {
        self.qemu.child().id()
    }

    /// The next complete line.
    pub fn next_line(&mut self) -> Result<String, Stopped> {
        self.wait_for(|unread| {
            let nl = unread.iter().position(|&b| b == b'\n')?;
            Some((nl + 1, String::from_utf8_lossy(&unread[..nl]).into_owned()))
        })
    }

    /// Reads lines until one satisfies `wanted` and returns it; the error names `what`.
    pub fn expect_line(
        &mut self,
        what: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        loop {
            let line = self
                .next_line()
                .map_err(|s| format!("{s} waiting for {what}"))?;
            if wanted(&line) {
                return Ok(line);
            }
        }
    }

    /// Reads lines up to and including the first one equal to `last` (trailing spaces
    /// ignored); returns them all.
    pub fn lines_through(&mut self, last: &str) -> Result<Vec<String>, String> {
        let mut lines = Vec::new();
        loop {
            let line = self
                .next_line()
                .map_err(|s| format!("{s} waiting for `{last}`"))?;
            let done = line.trim_end() == last;
            lines.push(line);
            if done {
                return Ok(lines);
            }
        }
    }

    /// Waits for the monitor prompt; returns the lines printed before it.
    pub fn expect_prompt(&mut self) -> Result<Vec<String>, String> {
        let text = self
            .wait_for(|unread| {
                let at = unread
                    .windows(PROMPT.len())
                    .position(|w| w == PROMPT.as_bytes())?;
                Some((
                    at + PROMPT.len(),
                    String::from_utf8_lossy(&unread[..at]).into_owned(),
                ))
            })
            .map_err(|s| format!("{s} waiting for the prompt `{}`", PROMPT.trim_end()))?;
        Ok(text.lines().map(str::to_string).collect())
    }

    /// Waits for `text` anywhere in the output (it need not end a line); returns what came
    /// before it.
    pub fn expect_text(&mut self, text: &str) -> Result<String, String> {
        self.wait_for(|unread| {
            let at = unread
                .windows(text.len())
                .position(|w| w == text.as_bytes())?;
            Some((
                at + text.len(),
                String::from_utf8_lossy(&unread[..at]).into_owned(),
            ))
        })
        .map_err(|s| format!("{s} waiting for `{}`", text.trim_end()))
    }

    /// Types `command` at the prompt (which must have been consumed) and returns its answer:
    /// the lines before the next prompt, without the echo of the command and blank lines.
    pub fn command(&mut self, command: &str) -> Result<Vec<String>, String> {
        self.send(&format!("{command}\r"))?;
        let lines = self
            .expect_prompt()
            .map_err(|e| format!("after `{command}`: {e}"))?;
        Ok(lines
            .into_iter()
            .filter(|l| !l.trim().is_empty() && l.trim() != command)
            .collect())
    }

    /// Sends raw text to the serial console.
    pub fn send(&mut self, text: &str) -> Result<(), String> {
        self.stdin
            .write_all(text.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("cannot write to QEMU: {e}"))
    }

    /// Waits (until the deadline) for QEMU to exit and says how it ended.
    pub fn wait_exit(&mut self) -> Result<QemuEnd, String> {
        self.qemu
            .wait_until(self.deadline)?
            .ok_or_else(|| "timed out waiting for QEMU to exit".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session with a shell script standing in for QEMU and the kernel.
    fn fake(script: &str, name: &str, timeout: Duration) -> (Session, std::path::PathBuf) {
        let log =
            std::env::temp_dir().join(format!("xtask-session-{}-{name}.log", std::process::id()));
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        (
            Session::start(cmd, &log, Instant::now() + timeout).unwrap(),
            log,
        )
    }

    /// A monitor like the kernel's: Enter is `\r` (what a terminal sends), answers end with
    /// the prompt. Reads byte by byte with `dd` because `read` only stops at `\n`.
    const MONITOR: &str = r#"
        cr=$(printf '\r')
        printf 'HALYARD-STAGE serial\r\nBOOT-OK\r\nhalyard> '
        line=''
        while c=$(dd bs=1 count=1 2>/dev/null) && [ -n "$c" ]; do
            if [ "$c" != "$cr" ]; then line="$line$c"; continue; fi
            printf '%s\r\n' "$line"
            case "$line" in
                cpus) printf 'cpu0 apic=0 online\r\ncpu1 apic=1 online\r\n' ;;
                poweroff) exit 1 ;;
                *) printf 'unknown command: %s\r\n' "$line" ;;
            esac
            line=''
            printf 'halyard> '
        done
    "#;

    #[test]
    fn expect_send_and_exit_status_against_a_fake_monitor() {
        let (mut s, log) = fake(MONITOR, "monitor", Duration::from_secs(20));
        assert_eq!(s.next_line().unwrap(), "HALYARD-STAGE serial");
        assert_eq!(
            s.expect_line("BOOT-OK", |l| l == "BOOT-OK").unwrap(),
            "BOOT-OK"
        );
        assert!(s.expect_prompt().unwrap().is_empty());
        assert_eq!(
            s.command("cpus").unwrap(),
            ["cpu0 apic=0 online", "cpu1 apic=1 online"]
        );
        assert_eq!(s.command("frob").unwrap(), ["unknown command: frob"]);
        s.send("poweroff\r").unwrap();
        assert_eq!(s.wait_exit().unwrap(), QemuEnd::Kernel(0));
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(
            logged.contains("cpu1 apic=1 online\r\n") && logged.contains("unknown command: frob")
        );
        std::fs::remove_file(log).unwrap();
    }

    #[test]
    fn a_silent_process_times_out() {
        // Dropping the session kills the sleeper (tested in `process`), so this ends early.
        let (mut s, log) = fake(
            "echo started; exec sleep 30",
            "silent",
            Duration::from_secs(3),
        );
        assert_eq!(s.next_line().unwrap(), "started");
        let err = s.expect_line("BOOT-OK", |l| l == "BOOT-OK").unwrap_err();
        assert_eq!(err, "timed out waiting for BOOT-OK");
        drop(s);
        std::fs::remove_file(log).unwrap();
    }

    #[test]
    fn an_early_exit_reports_how_the_process_ended() {
        let (mut s, log) = fake(
            "echo 'KERNEL PANIC: x'; echo END-OF-REPORT; exit 7",
            "exit",
            Duration::from_secs(20),
        );
        assert_eq!(
            s.lines_through("END-OF-REPORT").unwrap(),
            ["KERNEL PANIC: x", "END-OF-REPORT"]
        );
        let err = s.expect_prompt().unwrap_err();
        assert_eq!(err, "QEMU ended (kernel status 3 (panic or fatal exception)) waiting for the prompt `halyard>`");
        std::fs::remove_file(log).unwrap();
    }
}
