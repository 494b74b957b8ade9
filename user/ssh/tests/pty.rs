//! Terminal sessions: OpenSSH's `ssh -tt` against `hsshd`. The interactive test gives `ssh`
//! a pseudo-terminal of its own (opened with the crate's `os::pty`, as its controlling
//! terminal, so resizing it sends `ssh` SIGWINCH and `ssh` sends `window-change`) and types
//! at the remote shell through it, as a person would.

mod common;

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use halyard_ssh::os::pty::{self, Pty};
use halyard_ssh::pty_req::WindowSize;

/// Longest wait for one expected piece of output.
const EXPECT_LIMIT: Duration = Duration::from_secs(15);

fn size(cols: u32, rows: u32) -> WindowSize {
    WindowSize {
        cols,
        rows,
        ..WindowSize::default()
    }
}

#[test]
fn exec_with_a_pty_gets_a_terminal_the_environment_and_the_status() {
    let (dir, key, hsshd, port) = hsshd_with_user_key("pty-exec");
    let mut ssh = openssh_with(
        &dir,
        &key,
        port,
        &["-tt", "-o", "SetEnv=LANG=C.UTF-8 LD_PRELOAD=/no.so"],
        "tty; echo \"$LANG/$LD_PRELOAD/$TERM\"; exit 5",
    );
    ssh.env("TERM", "vt220");
    let out = run(&mut ssh);
    let text = text(&out.stdout);
    // The terminal translates \n to \r\n (ONLCR): this is a terminal's output.
    let tty = text
        .strip_prefix("/dev/pts/")
        .and_then(|rest| rest.split_once("\r\n"));
    assert!(
        tty.is_some_and(|(n, _)| n.parse::<u32>().is_ok()),
        "{out:?}"
    );
    assert_eq!(tty.map(|t| t.1), Some("C.UTF-8//vt220\r\n"), "{out:?}");
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let log = hsshd.wait_log("result=ok", 1);
    assert!(log.contains(" pty exit=5] result=ok"), "{log}");
}

/// `ssh` on a terminal whose master this test holds.
struct Terminal {
    master: File,
    ssh: Child,
    seen: Vec<u8>,
    /// Output before this offset has been matched already.
    cursor: usize,
}

impl Terminal {
    /// Reads what is there; false once `ssh` has closed the terminal.
    fn pump(&mut self) -> bool {
        let mut buf = [0; 4096];
        loop {
            match self.master.read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => self.seen.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                // EIO: every slave descriptor is closed.
                Err(_) => return false,
            }
        }
    }

    fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
    }

    /// Waits (bounded) for `needle` after the cursor, moves the cursor past it and returns
    /// the output up to it.
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + EXPECT_LIMIT;
        loop {
            let open = self.pump();
            let rest = &self.seen[self.cursor..];
            if let Some(i) = rest
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
            {
                let before = text(&rest[..i]);
                self.cursor += i + needle.len();
                return before;
            }
            assert!(
                open && Instant::now() < deadline,
                "no {needle:?} in the terminal's output: {:?}",
                text(&self.seen)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits (bounded) for `ssh` to exit.
    fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + EXPECT_LIMIT;
        loop {
            self.pump();
            if let Some(s) = self.ssh.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = self.ssh.kill();
                let _ = self.ssh.wait();
                panic!("ssh did not exit: {:?}", text(&self.seen));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.ssh.kill();
        let _ = self.ssh.wait();
    }
}

#[test]
fn interactive_shell_follows_window_changes_interrupts_and_exits() {
    let (dir, key, hsshd, port) = hsshd_with_user_key("pty-shell");
    let local = Pty::open(&[], size(100, 40)).unwrap();
    let mut ssh = openssh_with(&dir, &key, port, &["-tt"], "");
    ssh.env("TERM", "vt100")
        .stdin(local.slave.try_clone().unwrap())
        .stdout(local.slave.try_clone().unwrap())
        .stderr(Stdio::from(local.slave));
    // SAFETY: runs in the child between fork and exec, after fds 0-2 are the slave; it
    // calls only setsid and ioctl, which are async-signal-safe.
    unsafe { ssh.pre_exec(pty::take_as_controlling_terminal) };
    let child = ssh.spawn().unwrap();
    drop(ssh);
    let mut t = Terminal {
        master: local.master,
        ssh: child,
        seen: Vec::new(),
        cursor: 0,
    };

    // The echo of each command differs from its output, so only the output matches.
    t.send("tty | sed 's/^/TTY=/'\r");
    t.expect("TTY=/dev/pts/");
    let n = t.expect("\r\n");
    assert!(n.parse::<u32>().is_ok(), "tty printed /dev/pts/{n:?}");

    t.send("stty size\r");
    t.expect("40 100\r\n");

    pty::set_window_size(&t.master, size(120, 50)).unwrap();
    // ssh sends window-change when its SIGWINCH handler has run: ask until it has.
    let deadline = Instant::now() + EXPECT_LIMIT;
    loop {
        // The quotes keep the echoed command from matching.
        t.send("echo \"SI\"\"ZE=$(stty size)\"\r");
        t.expect("SIZE=");
        let size = t.expect("\r\n");
        if size == "50 120" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the size stayed {size:?}: {:?}",
            text(&t.seen)
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    t.send("echo START; sleep 30\r");
    t.expect("START\r\n");
    // Give the shell time to start sleep in the foreground, then ^C.
    std::thread::sleep(Duration::from_millis(300));
    let interrupted = Instant::now();
    t.send("\x03");
    t.send("echo rc=$?\r");
    t.expect("rc=130\r\n");
    assert!(interrupted.elapsed() < Duration::from_secs(10));

    t.send("exit 7\r");
    let status = t.wait();
    assert_eq!(status.code(), Some(7), "{:?}", text(&t.seen));
    let log = hsshd.wait_log("result=ok", 1);
    assert!(log.contains("runs=[shell pty exit=7] result=ok"), "{log}");
}
