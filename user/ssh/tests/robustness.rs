//! `hsshd` under concurrent sessions, disconnects and malformed input, and both programs'
//! command-line errors.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// Children of `pid` that are zombies (state Z in /proc/PID/stat).
fn zombie_children(pid: u32) -> usize {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // Fields after the parenthesised command: state, ppid, ...
            let rest = stat.rsplit_once(") ").map(|x| x.1).unwrap_or("");
            let mut f = rest.split(' ');
            let (state, ppid) = (f.next(), f.next());
            state == Some("Z") && ppid == Some(pid.to_string().as_str())
        })
        .count()
}

#[test]
fn concurrent_sessions_all_finish_and_leave_no_zombies() {
    let (dir, key, hsshd, port) = hsshd_with_user_key("concurrent");
    let children: Vec<_> = (0..4)
        .map(|i| {
            openssh(&dir, &key, port, &format!("sleep 0.3; echo session-{i}"))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        let out = c.wait_with_output().unwrap();
        assert_eq!(text(&out.stdout), format!("session-{i}\n"), "{out:?}");
    }
    let log = hsshd.wait_log("result=ok", 4);
    assert_eq!(log.matches("result=ok").count(), 4, "{log}");
    // The daemon reaps finished sessions within its reap interval.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(zombie_children(hsshd.child.id()), 0);
}

#[test]
fn client_disconnect_mid_command_kills_the_command() {
    let (dir, key, hsshd, port) = hsshd_with_user_key("disconnect");
    let marker = dir.join("finished");
    let mut ssh = openssh(
        &dir,
        &key,
        port,
        &format!("echo started; sleep 3; touch {}", marker.display()),
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut first = [0u8; 8];
    ssh.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    assert_eq!(&first, b"started\n");
    ssh.kill().unwrap();
    ssh.wait().unwrap();
    let log = hsshd.wait_log("client went away", 1);
    assert!(
        log.contains("result=error: truncated session: the client went away while a command ran"),
        "{log}"
    );
    std::thread::sleep(Duration::from_millis(3500));
    assert!(!marker.exists(), "the command outlived its session");
}

#[test]
fn malformed_input_ends_that_session_only() {
    let (dir, key, hsshd, port) = hsshd_with_user_key("malformed");
    let attacks: [&[u8]; 4] = [
        b"GET / HTTP/1.0\r\n\r\n",
        b"SSH-2.0-fuzz\r\n\xff\xff\xff\xff\x00\x00",
        b"SSH-2.0-fuzz\r\n\x00\x00\x00\x0c\x0a\x14junkjunk\x00\x00\x00\x00",
        b"SSH-2.0-fuzz\r\n\x00\x00\x00",
    ];
    for a in attacks {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(a).unwrap();
        // Truncated stream: the client stops sending and closes its side.
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut sink = Vec::new();
        // The server must close the connection (read ends) rather than hang.
        let _ = s.read_to_end(&mut sink);
    }
    let log = hsshd.wait_log("result=error", attacks.len());
    assert!(
        log.contains("peer did not send an SSH version line"),
        "{log}"
    );
    assert!(log.contains("oversized packet length"), "{log}");
    assert!(
        log.matches("result=error").count() >= attacks.len(),
        "{log}"
    );
    let out = run(&mut openssh(&dir, &key, port, "echo AFTER && uname"));
    assert_eq!(text(&out.stdout), "AFTER\nLinux\n", "{out:?}");
}

#[test]
fn silent_clients_are_dropped_after_the_login_grace_time() {
    let dir = TempDir::new("grace");
    let (hsshd, port) = start_hsshd_with(
        &dir,
        &dir.join("authorized_keys"),
        &["--login-grace-time", "1"],
    );
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // Bounded: if the server never closed, this read would fail after 10 s.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got)
        .expect("server closed the idle connection");
    assert!(got.starts_with(b"SSH-2.0-HalyardSSH"), "{got:?}");
    let log = hsshd.wait_log("login grace time", 1);
    assert!(
        log.contains("result=error: refused: no authentication within the login grace time"),
        "{log}"
    );
}

#[test]
fn shell_request_without_pty_reads_commands_from_stdin() {
    let (dir, key, _hsshd, port) = hsshd_with_user_key("shell");
    // An empty command makes ssh ask for a shell; -T: no PTY.
    let mut ssh = openssh_with(&dir, &key, port, &["-T"], "");
    ssh.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ssh.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"echo from-shell\nexit 4\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_output(&out, "from-shell\n", 4);
}

#[test]
fn bad_flags_print_usage_and_exit_2() {
    for (bin, args) in [
        (env!("CARGO_BIN_EXE_hssh"), &["--bogus", "host"][..]),
        (env!("CARGO_BIN_EXE_hssh"), &["-p", "notaport", "host"][..]),
        (env!("CARGO_BIN_EXE_hssh"), &[][..]),
        (env!("CARGO_BIN_EXE_hsshd"), &["--listen"][..]),
        (env!("CARGO_BIN_EXE_hsshd"), &["--frobnicate"][..]),
    ] {
        let out = run(Command::new(bin).args(args));
        assert_eq!(out.status.code(), Some(2), "{bin} {args:?}: {out:?}");
        assert!(
            text(&out.stderr).contains("usage:"),
            "{bin} {args:?}: {out:?}"
        );
    }
}
