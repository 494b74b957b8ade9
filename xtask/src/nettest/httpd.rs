//! `net-tap-httpd`: busybox `httpd` (a process forked per connection, which answers one
//! request and closes) under concurrent connections from one host, over tap with two
//! CPUs: the benchmark's "busybox httpd" row (`xtask/src/bench/services.rs`) as a test.
//!
//! The bench's row failed at `-smp 2` with thousands of wrk "socket write errors": after
//! about a thousand requests every new connection was refused with a reset. The server
//! closes first, so each connection it served ends in TIME-WAIT on the guest, and a
//! connection in TIME-WAIT then kept its whole engine slot for 2·MSL, counted against
//! the engine's per-peer limit of passively opened connections (the kernel's
//! `MAX_CONNECTIONS_PER_PEER`, 1024): the SYNs beyond it were answered with RST
//! (`TCP_PEER_LIMIT_REFUSED`), which wrk reports as write errors. Linux counts no
//! TIME-WAIT against any such limit (its `tcp_timewait_sock`s are only bounded by
//! `tcp_max_tw_buckets`); Halyard's TIME-WAIT records (`halyard_tcp`'s `time_wait.rs`)
//! are not counted either.
//!
//! The host's client ([`load`]): [`CLIENTS`] threads share [`REQUESTS`] requests, each
//! on its own connection: connect, `GET / HTTP/1.0`, read to the end of the stream (the
//! server's FIN, so the guest always closes first), close. [`REQUESTS`] is twice the
//! per-peer limit, so every served connection in TIME-WAIT at once would be over it.
//!
//! Pass: every request got `200` and the page, none failed; the guest's
//! `TCP_TIME_WAIT` rose past the limit (the test reached the condition),
//! `TCP_PEER_LIMIT_REFUSED` and `TCP_RESETS_SENT` did not move; the log has no fatal
//! line; the NET_RX counters balance.

use super::checks::{host_part, no_fatal_line, shell_counters, shell_rx_moved, tap_netns};
use super::client::in_netns;
use super::tcp::rx_summary;
use super::NetContext;
use crate::net_mode::TAP_GUEST_CIDR;
use crate::qemu::session::Session;
use crate::suite::user::{boot_to_shell, run};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The port busybox `httpd` serves on (the bench's).
const PORT: u16 = 8080;
/// The directory it serves and the page in it.
const WWW: &str = "/tmp/www";
const PAGE: &str = "served-by-busybox-httpd";
/// The kernel's limit of passively opened connections per remote address
/// (`kernel/src/net/tcp.rs`, `MAX_CONNECTIONS_PER_PEER`).
const PEER_LIMIT: u64 = 1024;
/// Requests, each on a connection of its own: twice [`PEER_LIMIT`].
const REQUESTS: u32 = 2 * PEER_LIMIT as u32;
/// Concurrent connections (the bench's wrk runs 16).
const CLIENTS: u32 = 16;
/// Longest wait for one connect, write or read.
const IO_TIMEOUT: Duration = Duration::from_secs(20);
/// Failures whose messages the report quotes.
const QUOTED: usize = 3;

/// What the host's clients saw.
#[derive(Debug, Default)]
struct Outcome {
    served: u32,
    failed: u32,
    /// The first [`QUOTED`] failures.
    errors: Vec<String>,
}

/// One request on a connection of its own; the answer must be `200` with the page.
fn request(addr: SocketAddr) -> Result<(), String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| format!("socket timeouts: {e}"))?;
    stream
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.lines().next().unwrap_or("");
    if status.split_whitespace().nth(1) != Some("200") || !answer.contains(PAGE) {
        return Err(format!(
            "answer {:?}",
            answer.chars().take(80).collect::<String>()
        ));
    }
    Ok(())
}

/// [`CLIENTS`] threads take [`REQUESTS`] requests from a shared count until it is used
/// up or `deadline` passes.
fn load(addr: SocketAddr, deadline: Instant) -> Outcome {
    let next = AtomicU32::new(0);
    let outcome = Mutex::new(Outcome::default());
    std::thread::scope(|scope| {
        for _ in 0..CLIENTS {
            scope.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < REQUESTS && Instant::now() < deadline {
                    let result = request(addr);
                    let mut o = outcome.lock().unwrap_or_else(|e| e.into_inner());
                    match result {
                        Ok(()) => o.served += 1,
                        Err(e) => {
                            o.failed += 1;
                            if o.errors.len() < QUOTED {
                                o.errors.push(e);
                            }
                        }
                    }
                }
            });
        }
    });
    outcome.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// The check.
pub fn httpd(s: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = tap_netns(ctx)?;
    boot_to_shell(s)?;
    let start =
        format!("mkdir -p {WWW} && echo {PAGE} > {WWW}/index.html && httpd -p {PORT} -h {WWW}");
    let (out, status) = run(s, &start)?;
    if status != 0 {
        return Err(format!("`{start}`: status {status}, output {out:?}"));
    }
    let before = shell_counters(s)?;
    let addr: SocketAddr = format!("{}:{PORT}", host_part(TAP_GUEST_CIDR))
        .parse()
        .map_err(|e| format!("the guest's address: {e}"))?;
    let began = Instant::now();
    let outcome = in_netns(netns.name(), || Ok(load(addr, ctx.deadline)))?;
    let took = began.elapsed().as_secs_f64();
    if outcome.failed > 0 || outcome.served != REQUESTS {
        return Err(format!(
            "{} of {REQUESTS} requests served, {} failed in {took:.1} s; first failures: {}",
            outcome.served,
            outcome.failed,
            outcome.errors.join("; ")
        ));
    }
    no_fatal_line(ctx.log)?;
    let (after, moved) = shell_rx_moved(s, &before, u64::from(REQUESTS))?;
    let rose = |name: &str| -> Result<u64, String> {
        Ok(after.get(name)?.saturating_sub(before.get(name)?))
    };
    let (refused, resets, time_wait) = (
        rose("TCP_PEER_LIMIT_REFUSED")?,
        rose("TCP_RESETS_SENT")?,
        rose("TCP_TIME_WAIT")?,
    );
    if refused > 0 || resets > 0 {
        return Err(format!(
            "the guest refused {refused} connections at the per-peer limit and sent {resets} resets"
        ));
    }
    if time_wait <= PEER_LIMIT {
        return Err(format!(
            "TCP_TIME_WAIT rose by {time_wait}, not past the per-peer limit {PEER_LIMIT}: \
             the guest did not close first"
        ));
    }
    s.send("poweroff\r")?;
    Ok(format!(
        "{REQUESTS} requests on {CLIENTS} connections at a time served in {took:.1} s \
         ({:.0}/s), {time_wait} connections left in TIME-WAIT, no reset; {moved}; {}",
        f64::from(REQUESTS) / took,
        rx_summary(&after)?
    ))
}
