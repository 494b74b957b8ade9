//! `net-user-applets`: busybox's network applets on Halyard, both ways, over QEMU user
//! networking (`restrict=on`, forwards on 127.0.0.1 inside the test's namespace).
//!
//! The guest's address is given on the command line (10.0.2.15/24, gateway 10.0.2.2):
//! slirp's DHCP server offers no router in restricted mode, so a DHCP-configured guest
//! truthfully has no default route. After boot to busybox's shell:
//! 1. `ifconfig` and `ifconfig -a` show `eth0` with its address, broadcast, mask and
//!    hardware address, and `lo` (the `SIOCGIF*` ioctls and `/proc/net/dev`);
//! 2. `route -n` and `netstat -rn` show the default route through 10.0.2.2 and the
//!    on-link route (`/proc/net/route`);
//! 3. busybox `httpd` serves a file; `netstat -tln` lists its port as listening and the
//!    host's `curl` fetches the file through the host forward;
//! 4. a loopback `nc` pair is up: `netstat -tan` shows both ends `ESTABLISHED` with
//!    their ports (`/proc/net/tcp`);
//! 5. busybox `wget` fetches from the host's HTTP server here through the guest forward;
//! 6. busybox `nc` connects out through a per-connection guest forward (a relay) to the
//!    host peer of `net-user-sockets`, which reads `nc`'s line and its half-close, answers
//!    and closes; `nc` prints the answer and ends with the connection (the other way,
//!    `nc -l` serving a host client, is in `net-user-sockets`);
//! 7. the RX counters are balanced.
//!
//! QEMU connects a guest forward's host end once, at start-up, so the host server's
//! listener is bound before QEMU starts ([`super::run`]) and answers the one connection
//! it accepts, which carries the guest's request.

use super::checks::run_bounded;
use super::client::in_netns;
use super::tcp::CURL;
use super::NetContext;
use crate::net_mode::GUESTFWD_ADDR;
use crate::qemu::session::Session;
use crate::suite::user::{boot_to_shell, run as run_command};
use crate::tools;
use std::io::{Read, Write};
use std::time::Duration;

/// The guest port busybox `httpd` serves on, forwarded from host port [`HTTPD_HOST_PORT`].
pub const HTTPD_GUEST_PORT: u16 = 8080;
pub const HTTPD_HOST_PORT: u16 = 7580;
/// The guest forward: `GUESTFWD_ADDR:WEB_GUEST_PORT` reaches the host server on
/// `WEB_HOST_PORT`.
pub const WEB_GUEST_PORT: u16 = 9080;
pub const WEB_HOST_PORT: u16 = 7680;
/// The relay `nc` connects out through: `GUESTFWD_ADDR:NC_OUT_GUEST_PORT` reaches the host
/// peer on `NC_OUT_HOST_PORT` (a relay, unlike a guest forward, passes the host's close on).
pub const NC_OUT_GUEST_PORT: u16 = 9081;
pub const NC_OUT_HOST_PORT: u16 = 7681;
/// The guest's static configuration (see the module docs).
pub const CMDLINE: &str = "init=/sbin/init log=warn ip=10.0.2.15/24 gw=10.0.2.2";

const PAGE: &str = "served-by-halyard-httpd";
const HOST_PAGE: &str = "served-by-the-host";
/// The loopback port of the `nc` pair.
const NC_PORT: u16 = 5557;

/// Runs `command`, requiring status 0; returns its output lines.
fn ok(s: &mut Session, command: &str) -> Result<Vec<String>, String> {
    let (out, status) = run_command(s, command)?;
    if status != 0 {
        return Err(format!("`{command}`: status {status}, output {out:?}"));
    }
    Ok(out)
}

/// Requires a line of `out` whose whitespace-separated fields start with `fields`.
fn has_row(out: &[String], fields: &[&str], what: &str) -> Result<(), String> {
    let found = out.iter().any(|l| {
        let mut words = l.split_whitespace();
        fields.iter().all(|f| words.next() == Some(f))
    });
    if found {
        Ok(())
    } else {
        Err(format!("{what}: no row {fields:?} in {out:?}"))
    }
}

/// Requires `out` to contain a line containing `text`.
fn has_text(out: &[String], text: &str, what: &str) -> Result<(), String> {
    if out.iter().any(|l| l.contains(text)) {
        Ok(())
    } else {
        Err(format!("{what}: no `{text}` in {out:?}"))
    }
}

/// The host's HTTP server for `wget`: answers the one request the guest forward carries.
fn host_server(listener: std::net::TcpListener) -> Result<String, String> {
    let (mut stream, _) = listener
        .accept()
        .map_err(|e| format!("host server: accept: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => break,
            Err(e) => return Err(format!("host server: reading the request: {e}")),
        }
    }
    let body = format!("{HOST_PAGE}\n");
    let answer = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(answer.as_bytes())
        .map_err(|e| format!("host server: write: {e}"))?;
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// The check of `net-user-applets`.
pub fn applets(s: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = ctx
        .netns
        .ok_or("net-user-applets runs in a namespace of its own")?;
    tools::ensure(&[CURL])?;
    boot_to_shell(s)?;

    for command in ["ifconfig", "ifconfig -a"] {
        let out = ok(s, command)?;
        has_row(&out, &["eth0", "Link", "encap:Ethernet", "HWaddr"], command)?;
        has_text(
            &out,
            "inet addr:10.0.2.15  Bcast:10.0.2.255  Mask:255.255.255.0",
            command,
        )?;
        has_row(&out, &["lo", "Link", "encap:Local", "Loopback"], command)?;
        has_text(&out, "inet addr:127.0.0.1  Mask:255.0.0.0", command)?;
        has_text(&out, "UP LOOPBACK RUNNING  MTU:65536", command)?;
    }
    let route = ok(s, "route -n")?;
    has_row(
        &route,
        &[
            "0.0.0.0", "10.0.2.2", "0.0.0.0", "UG", "0", "0", "0", "eth0",
        ],
        "route -n",
    )?;
    has_row(
        &route,
        &[
            "10.0.2.0",
            "0.0.0.0",
            "255.255.255.0",
            "U",
            "0",
            "0",
            "0",
            "eth0",
        ],
        "route -n",
    )?;
    let route = ok(s, "netstat -rn")?;
    has_row(
        &route,
        &["0.0.0.0", "10.0.2.2", "0.0.0.0", "UG"],
        "netstat -rn",
    )?;

    ok(
        s,
        &format!(
            "mkdir -p /tmp/www && echo {PAGE} > /tmp/www/index.html && httpd -p {HTTPD_GUEST_PORT} -h /tmp/www"
        ),
    )?;
    let listening = ok(s, "netstat -tln")?;
    let httpd_row = [
        "tcp",
        "0",
        "0",
        &format!("0.0.0.0:{HTTPD_GUEST_PORT}"),
        "0.0.0.0:*",
        "LISTEN",
    ];
    has_row(&listening, &httpd_row, "netstat -tln")?;
    let mut curl = netns.command(CURL);
    curl.args(["-sS", "--max-time", "30", "--retry", "3"])
        .arg(format!("http://127.0.0.1:{HTTPD_HOST_PORT}/index.html"));
    let got = run_bounded(curl, ctx.deadline)?;
    if got.trim_end() != PAGE {
        return Err(format!("curl through the forward to httpd read {got:?}"));
    }

    ok(
        s,
        &format!(
            "(sleep 20 | nc -l -p {NC_PORT} > /dev/null &) ; sleep 1; (sleep 20 | nc 127.0.0.1 {NC_PORT} > /dev/null &) ; sleep 2"
        ),
    )?;
    let all = ok(s, "netstat -tan")?;
    has_row(&all, &httpd_row, "netstat -tan")?;
    let ends = |local: bool| {
        all.iter().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let nc = format!("127.0.0.1:{NC_PORT}");
            f.len() == 6
                && f[5] == "ESTABLISHED"
                && f[if local { 3 } else { 4 }] == nc
                && f[if local { 4 } else { 3 }].starts_with("127.0.0.1:")
        })
    };
    if !ends(true) || !ends(false) {
        return Err(format!(
            "netstat -tan: the nc pair on port {NC_PORT} is not ESTABLISHED both ways: {all:?}"
        ));
    }

    let listener = ctx
        .guestfwd_listeners
        .first()
        .ok_or("no guest-forward listener")?
        .try_clone()
        .map_err(|e| e.to_string())?;
    let server = std::thread::spawn(move || host_server(listener));
    let fetched = ok(
        s,
        &format!("wget -q -O - http://{GUESTFWD_ADDR}:{WEB_GUEST_PORT}/from-halyard"),
    )?;
    let request = server
        .join()
        .map_err(|_| "the host server panicked".to_string())??;
    if !request.starts_with("GET /from-halyard HTTP/1.") {
        return Err(format!("the host server got {request:?}"));
    }
    has_text(&fetched, HOST_PAGE, "wget from the host")?;

    let listener = in_netns(netns.name(), || {
        std::net::TcpListener::bind(("127.0.0.1", NC_OUT_HOST_PORT))
            .map_err(|e| format!("nc's host peer: bind: {e}"))
    })?;
    let peer = std::thread::spawn(move || super::sockets::host_peer(listener));
    let answer = ok(
        s,
        &format!("echo from-halyard-nc | nc {GUESTFWD_ADDR} {NC_OUT_GUEST_PORT}"),
    )?;
    let (line, eof) = peer
        .join()
        .map_err(|_| "the host peer panicked".to_string())??;
    if line.trim_end() != "from-halyard-nc" || !eof {
        return Err(format!(
            "nc to the host: the host peer read {line:?} (end of stream seen: {eof})"
        ));
    }
    has_text(&answer, "reply-from-host", "nc to the host")?;

    let _reader = super::sockets::rx_counters_balanced(s)?;
    s.send("poweroff\r")?;
    Ok("ifconfig, route -n, netstat -tln/-tan/-rn showed the truth; httpd served curl, wget and nc reached the host".into())
}
