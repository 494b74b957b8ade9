//! `net-tap-udp`: a user program's UDP sockets over the NIC. The guest boots to busybox's
//! shell and runs `sockcheck udp 192.168.100.1 PORT` (user/sockcheck) against the echo
//! peer here, bound on the tap's host address in the test's namespace: a connected
//! socket's datagram and the echo, an unconnected `sendto` and the echo with its source,
//! then `ECONNREFUSED` on a socket connected to the next port, which nothing holds (the
//! host's ICMP port unreachable reaches the socket through the stack's events); the
//! `/proc/net/udp` row and the UDP counters. Then the RX counters are balanced and the
//! datagrams sent were counted.

use super::checks::host_part;
use super::client::in_netns;
use super::sockets::{expect_pass, rx_counters_balanced};
use super::NetContext;
use crate::net_mode::TAP_HOST_CIDR;
use crate::qemu::session::Session;
use crate::suite::user::{boot_to_shell, SOCKCHECK};
use std::net::UdpSocket;
use std::time::Duration;

/// The host echo peer's port (the next one is left closed).
pub const PEER_PORT: u16 = 7700;

/// Datagrams `sockcheck udp` sends to the echo peer.
const DATAGRAMS: usize = 2;

/// Answers `DATAGRAMS` datagrams with `echo:` and their bytes; returns how many it answered.
fn echo(sock: UdpSocket) -> Result<usize, String> {
    let mut buf = [0u8; 2048];
    for answered in 0..DATAGRAMS {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            return Ok(answered);
        };
        let mut reply = b"echo:".to_vec();
        reply.extend_from_slice(&buf[..n]);
        sock.send_to(&reply, from)
            .map_err(|e| format!("udp peer: send: {e}"))?;
    }
    Ok(DATAGRAMS)
}

/// The check of `net-tap-udp`.
pub fn tap_udp(s: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = ctx
        .netns
        .ok_or("net-tap-udp runs in a namespace of its own")?
        .name()
        .to_string();
    let host = host_part(TAP_HOST_CIDR);
    let sock = in_netns(&netns, || {
        UdpSocket::bind((host, PEER_PORT)).map_err(|e| format!("udp peer: bind: {e}"))
    })?;
    let wait = ctx
        .deadline
        .saturating_duration_since(std::time::Instant::now());
    sock.set_read_timeout(Some(wait.max(Duration::from_secs(1))))
        .map_err(|e| e.to_string())?;
    let peer = std::thread::spawn(move || echo(sock));
    boot_to_shell(s)?;
    let out = expect_pass(s, &format!("{SOCKCHECK} udp {host} {PEER_PORT}"))?;
    let answered = peer
        .join()
        .map_err(|_| "the udp peer panicked".to_string())??;
    if answered != DATAGRAMS {
        return Err(format!("the udp peer answered {answered} of {DATAGRAMS}"));
    }
    let value = rx_counters_balanced(s)?;
    let sent = value("UDP_OUT_DATAGRAMS")?;
    if sent < 3 {
        return Err(format!("UDP_OUT_DATAGRAMS={sent}, sockcheck sent 3"));
    }
    s.send("poweroff\r")?;
    Ok(out.last().cloned().unwrap_or_default())
}
