//! Monitor commands for TCP: `netstat` and `nc`.
use alloc::string::String;
use core::net::SocketAddrV4;

use super::socket::{SocketError, TcpStream};
use crate::{println, time};

/// `netstat`: every connection a thread holds or held (until it is closed), with its
/// state, queues, RTT and congestion window, then the endpoint's connection count.
pub fn monitor_netstat(_: &str) {
    let Some((socks, _, count)) = super::with_net(|_, s| {
        let (socks, closed) = s.tcp.snapshot();
        (socks, closed, s.tcp.endpoint.connection_count())
    }) else {
        println!("no network interface");
        return;
    };
    println!(
        "{:<9} {:<21} {:<21} {:<12} {:>7} {:>7} {:>8} {:>8}",
        "proto", "local", "remote", "state", "recv-q", "send-q", "srtt_us", "cwnd"
    );
    for sock in socks {
        // Each socket under its own lock, never while holding the stack's.
        let (info, recv_q, send_q) =
            sock.with(|st| (st.conn.info(), st.conn.recv_queue(), st.conn.send_queue()));
        println!(
            "{:<9} {:<21} {:<21} {:<12} {:>7} {:>7} {:>8} {:>8}",
            "tcp",
            alloc::format!("{}", info.local),
            alloc::format!("{}", info.remote),
            alloc::format!("{:?}", info.state),
            recv_q,
            send_q,
            info.srtt.map_or(0, |d| d.as_micros() as u64),
            info.cwnd
        );
    }
    println!("{count} connections in the engine (including those finishing after close)");
}

/// Stop reading after this long without data.
const SILENCE_NS: u64 = 3_000_000_000;

/// `nc HOST PORT [TEXT]`: connect out, send TEXT (and close our direction), print what
/// comes back until the peer closes or stays silent, then the byte counts and duration.
pub fn monitor_nc(args: &str) {
    let mut words = args.splitn(3, ' ');
    let addr = words.next().and_then(|h| h.parse().ok());
    let port = words.next().and_then(|p| p.parse().ok());
    let (Some(addr), Some(port)) = (addr, port) else {
        println!("usage: nc HOST PORT [TEXT]");
        return;
    };
    let text = words.next().unwrap_or("");
    let start = time::now_ns();
    let stream = match TcpStream::connect(SocketAddrV4::new(addr, port), 5_000_000_000) {
        Ok(s) => s,
        Err(e) => {
            println!("nc: connect to {addr}:{port}: {e}");
            return;
        }
    };
    let mut sent = 0;
    if !text.is_empty() {
        let mut line = String::from(text);
        line.push('\n');
        if let Err(e) = stream.write_all(line.as_bytes()) {
            println!("nc: send: {e}");
            return;
        }
        sent = line.len();
    }
    let _ = stream.shutdown();
    let mut received = 0;
    let mut buf = [0u8; 1024];
    let ended = loop {
        match stream.read_until(&mut buf, Some(time::now_ns() + SILENCE_NS)) {
            Ok(0) => break "peer closed",
            Ok(n) => {
                received += n;
                crate::print!("{}", String::from_utf8_lossy(&buf[..n]));
            }
            Err(SocketError::TimedOut) => break "silence",
            Err(e) => {
                println!("nc: receive: {e}");
                break "error";
            }
        }
    };
    println!();
    println!(
        "nc: sent {sent} bytes, received {received} bytes in {} ms ({ended})",
        (time::now_ns() - start) / 1_000_000
    );
}
