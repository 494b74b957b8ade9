//! `sockstress` on this machine's Linux, the oracle: a short run of every kind but the
//! host's (no host listener here) ends with status 0, no lost wakeup, and operations of
//! every kind.

use std::process::Command;

#[test]
fn a_short_run_passes_on_linux() {
    let out = Command::new(env!("CARGO_BIN_EXE_sockstress"))
        .args([
            "--seconds",
            "2",
            "--serve",
            "0",
            "--procs",
            "2",
            "--threads",
            "2",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "status {}:\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.lines().any(|l| l == "sockstress: PASS"), "{stdout}");
    let kinds: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("sockstress: kind "))
        .collect();
    // Seven worker kinds, four races, the server.
    assert_eq!(kinds.len(), 12, "{stdout}");
    assert!(
        kinds.iter().all(|l| l.contains(" lost=0 wrong=0")),
        "{stdout}"
    );
    assert!(stdout.contains(" 0 lost, 0 wrong"), "{stdout}");
}

#[test]
fn bad_options_are_refused() {
    for args in [
        &["--skip", "nonsense"][..],
        &["--threads", "0"],
        &["--seconds"],
        &[
            "--skip",
            "lo-tcp",
            "--skip",
            "lo-epoll",
            "--skip",
            "unix-stream",
            "--skip",
            "unix-dgram",
            "--skip",
            "unix-seqpacket",
            "--skip",
            "eventfd",
            "--skip",
            "timerfd",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_sockstress"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
