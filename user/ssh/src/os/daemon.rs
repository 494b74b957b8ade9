//! The listening daemon: accepts connections and starts one session process per connection by
//! re-executing itself (`hsshd --session PEER ...`) with the socket as standard input; reaps
//! finished sessions so none is left a zombie.

use std::net::TcpListener;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::os::cli::ServerArgs;
use crate::os::files;
use crate::os::poll::{poll, Watch};

/// How often finished sessions are reaped while no connection arrives.
const REAP_INTERVAL_MS: i32 = 200;
/// Sessions running at once; further connections are closed at once (and logged).
const MAX_SESSIONS: usize = 64;

/// Serves forever (until killed). Errors are start-up failures.
pub fn run(args: &ServerArgs) -> Result<(), String> {
    let (key, created) = files::load_or_create_host_key(&args.host_key)?;
    if created {
        println!("hsshd: generated host key {}", args.host_key.display());
    }
    println!("hsshd: host key fingerprint {}", key.public().fingerprint());
    // Read once here so a broken file is reported at start; sessions re-read it.
    let ak = files::read_authorized_keys(&args.authorized_keys)?;
    if ak.skipped > 0 {
        println!(
            "hsshd: {} line(s) of {} skipped (only plain ssh-ed25519 keys are used)",
            ak.skipped,
            args.authorized_keys.display()
        );
    }
    let listener =
        TcpListener::bind(&args.listen).map_err(|e| format!("bind {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("hsshd: listening on {addr}");
    let exe = std::env::current_exe()
        .or_else(|_| std::env::args().next().map(PathBuf::from).ok_or(()))
        .map_err(|_| String::from("cannot find own executable to start sessions"))?;
    let mut sessions: Vec<(Child, String)> = Vec::new();
    loop {
        let mut w = [Watch::read(listener.as_fd())];
        poll(&mut w, REAP_INTERVAL_MS).map_err(|e| format!("poll: {e}"))?;
        if w[0].ready() {
            match listener.accept() {
                Ok((_, peer)) if sessions.len() >= MAX_SESSIONS => {
                    eprintln!("hsshd: session {peer}: refused, {MAX_SESSIONS} sessions running");
                }
                Ok((sock, peer)) => {
                    let peer = peer.to_string();
                    let mut cmd = Command::new(&exe);
                    cmd.arg("--session")
                        .arg(&peer)
                        .arg("--host-key")
                        .arg(&args.host_key)
                        .arg("--authorized-keys")
                        .arg(&args.authorized_keys)
                        .arg("--login-grace-time")
                        .arg(args.login_grace_secs.to_string());
                    if let Some(p) = &args.password_file {
                        cmd.arg("--password-file").arg(p);
                    }
                    match cmd.stdin(Stdio::from(OwnedFd::from(sock))).spawn() {
                        Ok(child) => sessions.push((child, peer)),
                        Err(e) => eprintln!("hsshd: session {peer}: cannot start: {e}"),
                    }
                }
                Err(e) => eprintln!("hsshd: accept: {e}"),
            }
        }
        sessions.retain_mut(|(child, peer)| match child.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) if !status.success() => {
                eprintln!("hsshd: session {peer}: process ended with {status}");
                false
            }
            _ => false,
        });
    }
}
