//! `net-user-tokio`: an unmodified tokio program on Halyard (`user/techo`, static), over
//! QEMU user networking (`restrict=on`, forwards on 127.0.0.1 inside the test's namespace).
//!
//! tokio's multi-threaded runtime is the readiness path end to end: edge-triggered
//! `epoll` woken from NET_RX, an `eventfd` to wake its workers, futexes to park them,
//! connections moving between worker threads. After boot to busybox's shell:
//! 1. `techo server` listens in Halyard; the **same file** runs on the host as the client
//!    (`ip netns exec`): [`HOST_CONNS`] concurrent connections through the host forward,
//!    each [`HOST_ROUNDS`] messages of 1 to 4096 bytes checked byte for byte, then a
//!    half-close answered by the server's;
//! 2. `techo client` in Halyard against its own server over `lo`;
//! 3. the RX counters are balanced and the server is still running.
//!
//! No client in Halyard talks to the host: QEMU's guest forward is one connection made at
//! start-up and does not pass a half-close on (see `sockets.rs`), and `techo client` ends
//! each connection with one. The tap tests cover Halyard's outgoing connections.

use super::checks::run_bounded;
use super::NetContext;
use crate::paths::Paths;
use crate::qemu::session::Session;
use crate::suite::user::{boot_to_shell, run as run_command, TECHO};
use crate::user_build;
use std::process::Command;

/// The guest port `techo server` listens on, forwarded from host port [`HOST_PORT`].
pub const GUEST_PORT: u16 = 6000;
pub const HOST_PORT: u16 = 7601;

const HOST_CONNS: u32 = 16;
const HOST_ROUNDS: u32 = 40;
const LO_CONNS: u32 = 8;
const LO_ROUNDS: u32 = 60;

/// Requires `techo client`'s success line for `conns` connections in `out`.
fn client_passed(out: &str, conns: u32, what: &str) -> Result<(), String> {
    let want = format!("techo: {conns} connections, ");
    if out.lines().any(|l| l.starts_with(&want)) {
        Ok(())
    } else {
        Err(format!("{what}: {out:?}"))
    }
}

/// The check of `net-user-tokio`.
pub fn tokio_echo(s: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = ctx
        .netns
        .ok_or("net-user-tokio runs in a namespace of its own")?
        .name()
        .to_string();
    boot_to_shell(s)?;
    let (started, _) = run_command(
        s,
        &format!(
            "{TECHO} server {GUEST_PORT} > /tmp/techo.log 2>&1 & \
             for i in $(seq 100); do grep -q listening /tmp/techo.log && break; sleep 0.2; done; \
             cat /tmp/techo.log"
        ),
    )?;
    if !started.iter().any(|l| l.contains("techo: listening")) {
        return Err(format!("techo server did not start: {started:?}"));
    }

    let techo = user_build::built(&Paths::repo(), "techo");
    let mut host = Command::new("ip");
    host.args(["netns", "exec", &netns])
        .arg(&techo)
        .args(["client", "127.0.0.1"])
        .arg(HOST_PORT.to_string())
        .arg(HOST_CONNS.to_string())
        .arg(HOST_ROUNDS.to_string());
    let out = run_bounded(host, ctx.deadline)?;
    client_passed(&out, HOST_CONNS, "the host's techo client")?;

    let (lo, status) = run_command(
        s,
        &format!("{TECHO} client 127.0.0.1 {GUEST_PORT} {LO_CONNS} {LO_ROUNDS}"),
    )?;
    if status != 0 {
        return Err(format!("techo client over lo: status {status}, {lo:?}"));
    }
    client_passed(&lo.join("\n"), LO_CONNS, "techo client over lo")?;

    let _reader = super::sockets::rx_counters_balanced(s)?;
    let (alive, _) = run_command(s, "kill %1 && echo server-was-running")?;
    if !alive.iter().any(|l| l == "server-was-running") {
        return Err(format!("the techo server had ended: {alive:?}"));
    }
    s.send("poweroff\r")?;
    Ok(format!(
        "host client: {}; lo client: {}",
        out.trim(),
        lo.last().map_or("", String::as_str)
    ))
}
