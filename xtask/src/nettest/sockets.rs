//! `net-user-sockets`: user programs in Halyard on the socket system calls, over QEMU
//! user networking (`restrict=on`, forwards on 127.0.0.1 inside the test's namespace).
//!
//! The guest boots to busybox's shell (`init=/sbin/init`). Then:
//! 1. `sockcheck local` (user/sockcheck): what the differential `sockets` ABI family
//!    cannot check (the `AF_INET6` gap, the ephemeral port range);
//! 2. `sockcheck peer 10.0.2.100 PORT` connects out through the guest forward to the
//!    host peer here, which reads a line until the guest's half-close, waits a little
//!    (the guest's `recv` meanwhile survives an `SA_RESTART` signal), answers and closes;
//!    then connects to the guest's own address, which goes through `lo`;
//! 3. busybox `nc -l -p PORT` serves a host client through the host forward: the client
//!    sends a line and half-closes; `nc` half-closes after its stdin, so the client reads
//!    `nc`'s answer to the end, and `nc` has written what it received;
//! 4. the RX counters are balanced, the socket counters moved, and `lo` received what
//!    it sent (its queue is empty) and carried the own-address connection;
//!    `/proc/net/dev` has its `lo` row (with the same packets) and an `eth0` row.
//!
//! QEMU connects a guest forward's host end once, at start-up, so its listener is bound
//! before QEMU starts ([`super::run`]); the one connection it accepts carries the guest's.

use super::client::in_netns;
use super::NetContext;
use crate::net_mode::GUESTFWD_ADDR;
use crate::qemu::session::Session;
use crate::suite::user::{boot_to_shell, run as run_command, SOCKCHECK};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// The guest port `nc -l` listens on, forwarded from host port [`NC_HOST_PORT`].
pub const NC_GUEST_PORT: u16 = 5555;
pub const NC_HOST_PORT: u16 = 7555;
/// The guest forward: `GUESTFWD_ADDR:PEER_GUEST_PORT` reaches host `PEER_HOST_PORT`.
pub const PEER_GUEST_PORT: u16 = 9000;
pub const PEER_HOST_PORT: u16 = 7600;

const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `command` at the shell, requiring status 0 and no `FAIL` line.
pub(super) fn expect_pass(s: &mut Session, command: &str) -> Result<Vec<String>, String> {
    let (out, status) = run_command(s, command)?;
    let failed: Vec<&String> = out.iter().filter(|l| l.starts_with("FAIL")).collect();
    if status != 0 || !failed.is_empty() {
        return Err(format!(
            "`{command}`: status {status}, failures {failed:?}, output {out:?}"
        ));
    }
    Ok(out)
}

/// The host peer of `sockcheck peer`: the connection QEMU made at start-up carries the
/// guest's. Reads the guest's line, then (if the forward passes it on) its half-close,
/// pauses, answers and closes. Returns what it read and whether it saw end of stream.
pub(super) fn host_peer(listener: std::net::TcpListener) -> Result<(String, bool), String> {
    let (stream, _) = listener
        .accept()
        .map_err(|e| format!("host peer: accept: {e}"))?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("host peer: reading the guest's line: {e}"))?;
    // The guest's FIN follows at once; wait a little for it.
    reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| e.to_string())?;
    let mut rest = Vec::new();
    let eof = reader.read_to_end(&mut rest).is_ok() && rest.is_empty();
    std::thread::sleep(Duration::from_millis(800));
    let mut stream = stream;
    stream
        .write_all(b"reply-from-host\n")
        .map_err(|e| format!("host peer: write: {e}"))?;
    let _ = stream.shutdown(Shutdown::Both);
    Ok((line, eof))
}

/// The host client of `nc -l`: connects through the forward until `nc` listens (before,
/// the guest resets the forwarded connection), sends a line, half-closes and reads the
/// answer to the end.
fn nc_client(deadline: Instant) -> Result<String, String> {
    loop {
        if Instant::now() >= deadline {
            return Err("nc client: no answer from `nc -l` before the deadline".into());
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", NC_HOST_PORT)) {
            s.set_read_timeout(Some(IO_TIMEOUT))
                .map_err(|e| e.to_string())?;
            let _ = s.write_all(b"hello-from-host\n");
            let _ = s.shutdown(Shutdown::Write);
            let mut got = String::new();
            if s.read_to_string(&mut got).is_ok() && !got.is_empty() {
                return Ok(got);
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `/proc/halyard/counters`, requiring NET_RX's entries and exits balanced and nothing
/// held; returns a reader of any counter.
pub(super) fn rx_counters_balanced(
    s: &mut Session,
) -> Result<impl Fn(&str) -> Result<u64, String>, String> {
    let (counters, _) = run_command(s, "cat /proc/halyard/counters")?;
    let value = move |name: &str| {
        counters
            .iter()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .strip_prefix('=')?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .ok_or_else(|| format!("no counter {name} in {counters:?}"))
    };
    if value("NET_RX_SOFTIRQ_ENTRY_TOTAL")? != value("NET_RX_SOFTIRQ_EXIT_TOTAL")?
        || value("NET_RX_PROCESSING_HELD")? != 0
    {
        return Err("NET_RX counters unbalanced".into());
    }
    Ok(value)
}

/// The check of `net-user-sockets`.
pub fn user_sockets(s: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = ctx
        .netns
        .ok_or("net-user-sockets runs in a namespace of its own")?
        .name()
        .to_string();
    boot_to_shell(s)?;
    let local = expect_pass(s, &format!("{SOCKCHECK} local"))?;

    let listener = ctx
        .guestfwd_listeners
        .first()
        .ok_or("no guest-forward listener")?
        .try_clone()
        .map_err(|e| e.to_string())?;
    let peer = std::thread::spawn(move || host_peer(listener));
    let outbound = expect_pass(
        s,
        &format!("{SOCKCHECK} peer {GUESTFWD_ADDR} {PEER_GUEST_PORT}"),
    )?;
    let (line, peer_saw_eof) = peer
        .join()
        .map_err(|_| "the host peer panicked".to_string())??;
    if line != "hello-from-halyard\n" {
        return Err(format!("host peer read {line:?}"));
    }

    let deadline = ctx.deadline;
    let client = std::thread::spawn(move || in_netns(&netns, || nc_client(deadline)));
    let (_, status) = run_command(
        s,
        &format!("echo reply-from-halyard | nc -l -p {NC_GUEST_PORT} > /tmp/nc.out"),
    )?;
    let answer = client
        .join()
        .map_err(|_| "the nc client panicked".to_string())??;
    if status != 0 || answer != "reply-from-halyard\n" {
        return Err(format!(
            "nc -l: status {status}, the host client read {answer:?}"
        ));
    }
    let (got, _) = run_command(s, "cat /tmp/nc.out")?;
    if got.first().map(|l| l.trim_end()) != Some("hello-from-host") {
        return Err(format!("nc -l wrote {got:?}, not the host's line"));
    }

    let value = rx_counters_balanced(s)?;
    if value("SOCK_ACCEPTED")? < 1
        || value("SOCK_EINPROGRESS")? < 1
        || value("LO_RX_PACKETS")? != value("LO_TX_PACKETS")?
        || value("LO_RX_PACKETS")? < 6
    {
        return Err("socket or lo counters did not move as expected".into());
    }
    let (dev, _) = run_command(s, "cat /proc/net/dev")?;
    let row = |name: &str| {
        dev.iter()
            .find_map(|l| l.trim_start().strip_prefix(name)?.strip_prefix(':'))
            .map(|r| {
                r.split_whitespace()
                    .nth(1)
                    .and_then(|p| p.parse::<u64>().ok())
            })
    };
    if row("lo") != Some(Some(value("LO_RX_PACKETS")?)) || row("eth0").is_none() {
        return Err(format!("/proc/net/dev: {dev:?}"));
    }
    s.send("poweroff\r")?;
    Ok(format!(
        "{} and {}; the guest forward {} the guest's half-close; nc -l answered",
        local.last().map_or("", String::as_str),
        outbound.last().map_or("", String::as_str),
        if peer_saw_eof {
            "passed on"
        } else {
            "did not pass on"
        }
    ))
}
