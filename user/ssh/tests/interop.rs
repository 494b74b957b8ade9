//! Interoperability with OpenSSH on loopback: OpenSSH's `ssh` against `hsshd`, and `hssh`
//! against OpenSSH's `sshd` (Debian `openssh-client`, `openssh-server`).

mod common;

use std::fs;
use std::process::Command;

use common::*;

const CYCLES: usize = 4;

#[test]
fn openssh_client_runs_commands_on_hsshd() {
    let (dir, key, hsshd, port) = hsshd_with_user_key("ssh2hsshd");
    for i in 0..CYCLES {
        let out = run(&mut openssh(&dir, &key, port, "echo AFTER && uname"));
        assert_eq!(text(&out.stdout), "AFTER\nLinux\n", "cycle {i}: {out:?}");
        assert_eq!(out.status.code(), Some(0), "cycle {i}: {out:?}");
    }
    let out = run(&mut openssh(&dir, &key, port, "echo to-stderr >&2; exit 3"));
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(text(&out.stderr), "to-stderr\n");
    let log = hsshd.wait_log("result=ok", CYCLES + 1);
    assert_eq!(log.matches("result=ok").count(), CYCLES + 1, "{log}");
    assert!(
        log.contains("session 127.0.0.1:") && log.contains("\"echo to-stderr >&2; exit 3\" exit=3"),
        "{log}"
    );
    assert!(log.contains("host key fingerprint SHA256:"), "{log}");
}

#[test]
fn hssh_runs_commands_on_openssh_sshd() {
    let dir = TempDir::new("hssh2sshd");
    let key = dir.join("id");
    keygen(&key);
    let ak = dir.join("authorized_keys");
    fs::copy(dir.join("id.pub"), &ak).unwrap();
    let (_sshd, port) = start_sshd(&dir, &ak, "");
    let kh = dir.join("known_hosts");
    for i in 0..CYCLES {
        let out = run(&mut hssh(&key, &kh, port, "uname"));
        assert_eq!(text(&out.stdout), "Linux\n", "cycle {i}: {out:?}");
        assert_eq!(out.status.code(), Some(0), "cycle {i}: {out:?}");
    }
    // Trust on first use wrote exactly one entry, in OpenSSH's format.
    let known = fs::read_to_string(&kh).unwrap();
    assert_eq!(known.lines().count(), 1, "{known}");
    assert!(
        known.starts_with(&format!("[127.0.0.1]:{port} ssh-ed25519 AAAA")),
        "{known}"
    );
    let out = run(&mut hssh(&key, &kh, port, "exit 3"));
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    // The seed's command-line form works too.
    let out = run(Command::new(env!("CARGO_BIN_EXE_hssh"))
        .args([
            "127.0.0.1",
            &port.to_string(),
            "root",
            "--publickey",
            "--exec",
            "echo seed",
        ])
        .arg("-i")
        .arg(&key)
        .arg("--known-hosts")
        .arg(&kh));
    assert_output(&out, "seed\n", 0);
}

#[test]
fn hsshd_rejects_a_key_not_in_authorized_keys() {
    let dir = TempDir::new("wrongkey");
    let (good, bad) = (dir.join("good"), dir.join("bad"));
    keygen(&good);
    keygen(&bad);
    let ak = dir.join("authorized_keys");
    fs::copy(dir.join("good.pub"), &ak).unwrap();
    let (hsshd, port) = start_hsshd(&dir, &ak);
    let marker = dir.join("ran");
    let cmd = format!("touch {}", marker.display());
    let out = run(&mut openssh(&dir, &bad, port, &cmd));
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    assert!(text(&out.stderr).contains("Permission denied"), "{out:?}");
    let out = run(&mut hssh(&bad, &dir.join("kh"), port, &cmd));
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    assert!(
        text(&out.stderr).contains("did not accept our public key"),
        "{out:?}"
    );
    assert!(!marker.exists(), "command ran without authentication");
    let log = hsshd.wait_log("key(s) or password(s) rejected", 2);
    assert_eq!(
        log.matches("user=- runs=[-] result=error").count(),
        2,
        "{log}"
    );
    assert_eq!(
        log.matches("without authenticating (1 key(s)").count(),
        2,
        "{log}"
    );
    // The server keeps serving the right key.
    let out = run(&mut hssh(&good, &dir.join("kh"), port, "echo still-up"));
    assert_eq!(text(&out.stdout), "still-up\n", "{out:?}");
}

#[test]
fn hssh_refuses_a_changed_host_key() {
    let (dir, key, _hsshd, port) = hsshd_with_user_key("changed");
    // Someone else's key recorded for this host and port.
    keygen(&dir.join("other"));
    let other = fs::read_to_string(dir.join("other.pub")).unwrap();
    let kh = dir.join("known_hosts");
    let entry = format!(
        "[127.0.0.1]:{port} {}",
        other
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    );
    fs::write(&kh, format!("{entry}\n")).unwrap();
    let marker = dir.join("ran");
    let out = run(&mut hssh(
        &key,
        &kh,
        port,
        &format!("touch {}", marker.display()),
    ));
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    assert!(
        text(&out.stderr).contains("REMOTE HOST KEY CHANGED"),
        "{out:?}"
    );
    assert!(!marker.exists(), "command ran despite the changed host key");
    assert_eq!(
        fs::read_to_string(&kh).unwrap(),
        format!("{entry}\n"),
        "known_hosts was modified"
    );
}

#[test]
fn hssh_and_hsshd_talk_to_each_other() {
    let (dir, key, _hsshd, port) = hsshd_with_user_key("h2h");
    let kh = dir.join("kh");
    let out = run(&mut hssh(
        &key,
        &kh,
        port,
        "printf 'a\\nb\\n' | wc -l; exit 42",
    ));
    assert_output(&out, "2\n", 42);
}

/// Asserts that a remote `sha256sum` printed the digest of the local file `input`.
fn assert_sha256(out: &std::process::Output, input: &std::path::Path) {
    let local = run(Command::new("sha256sum").arg(input));
    let digest = |b: &[u8]| text(b).split_whitespace().next().map(String::from);
    assert_eq!(digest(&out.stdout), digest(&local.stdout), "{out:?}");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// Deterministic incompressible-looking test data.
fn pattern(len: usize) -> Vec<u8> {
    test_rng::TestRng::new(1).bytes(len)
}

#[test]
fn data_survives_repeated_rekeying_both_ways() {
    // 300 KB through peers that re-key every 16 KiB: many key exchanges mid-stream, each
    // started by OpenSSH, answered by our transport (strict kex sequence resets included).
    let (dir, key, _hsshd, port) = hsshd_with_user_key("rekey");
    let data = pattern(300_000);
    let input = dir.join("input");
    fs::write(&input, &data).unwrap();
    for cipher in ["chacha20-poly1305@openssh.com", "aes256-ctr"] {
        let out = run_with_stdin(
            &mut openssh_with(
                &dir,
                &key,
                port,
                &["-o", "RekeyLimit=16K", "-c", cipher],
                "sha256sum",
            ),
            fs::File::open(&input).unwrap().into(),
        );
        assert_sha256(&out, &input);
    }
    let ak = dir.join("authorized_keys");
    let (_sshd, sport) = start_sshd(&dir, &ak, "RekeyLimit 16K\n");
    let out = run_with_stdin(
        &mut hssh(&key, &dir.join("kh"), sport, "sha256sum"),
        fs::File::open(&input).unwrap().into(),
    );
    assert_sha256(&out, &input);
}

#[test]
fn bulk_data_both_ways_at_once() {
    // `cat` echoes 8 MB while more is still being sent: both directions are busy together, as
    // when neither side may block in a write while the other waits for it to read.
    let (dir, key, _hsshd, port) = hsshd_with_user_key("bulk");
    let (input, output) = (dir.join("in"), dir.join("out"));
    fs::write(&input, pattern(8 << 20)).unwrap();
    let out = run_io(
        &mut hssh(&key, &dir.join("kh"), port, "cat"),
        fs::File::open(&input).unwrap().into(),
        fs::File::create(&output).unwrap().into(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        fs::read(&output).unwrap() == fs::read(&input).unwrap(),
        "echoed data differs"
    );
}

/// OpenSSH's ssh logging in with a password given by an askpass script.
fn ssh_with_password(dir: &TempDir, port: u16, password: &str) -> std::process::Output {
    let askpass = dir.join(&format!("askpass-{password}"));
    fs::write(&askpass, format!("#!/bin/sh\necho '{password}'\n")).unwrap();
    fs::set_permissions(
        &askpass,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let mut c = openssh_with(
        dir,
        &dir.join("no-such-key"),
        port,
        &[
            "-o",
            "BatchMode=no",
            "-o",
            "PreferredAuthentications=password",
            "-o",
            "NumberOfPasswordPrompts=1",
        ],
        "echo via-password",
    );
    c.env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0");
    run(&mut c)
}

#[test]
fn password_authentication_only_when_enabled() {
    let dir = TempDir::new("password");
    let ak = dir.join("authorized_keys");
    let pw = dir.join("password");
    fs::write(&pw, "s3cret\n").unwrap();
    fs::set_permissions(&pw, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let (_on, port) = start_hsshd_with(&dir, &ak, &["--password-file", pw.to_str().unwrap()]);
    assert_output(
        &ssh_with_password(&dir, port, "s3cret"),
        "via-password\n",
        0,
    );
    let out = ssh_with_password(&dir, port, "wrong");
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    let off_dir = TempDir::new("password-off");
    let (_off, off_port) = start_hsshd(&off_dir, &ak);
    let out = ssh_with_password(&off_dir, off_port, "s3cret");
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    assert!(
        text(&out.stderr).contains("Permission denied (publickey)"),
        "{out:?}"
    );
}
