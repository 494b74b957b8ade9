//! The TCP clients that measure a guest: echo probe, request/response, connection rate and
//! bulk transfers in both directions.
//!
//! Every client is bounded twice, by a count (or byte total) and by a time limit, and every
//! socket has read and write timeouts, so a guest that stops answering costs seconds, not a
//! hung benchmark. Results are plain numbers; statistics live in [`super::stats`].

use super::stats;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long one socket operation may block.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(s)
}

/// Sends `payload` and reads back exactly as many bytes; they must be equal.
fn round_trip(s: &mut TcpStream, payload: &[u8], back: &mut [u8]) -> Result<(), String> {
    s.write_all(payload)
        .map_err(|e| format!("echo write: {e}"))?;
    s.read_exact(back).map_err(|e| format!("echo read: {e}"))?;
    if back != payload {
        return Err("echo returned different bytes".to_string());
    }
    Ok(())
}

/// One connection, 16 bytes echoed, closed: the unit of the connection-rate test.
pub fn echo_once(addr: SocketAddr) -> Result<(), String> {
    let mut s = connect(addr)?;
    let payload = *b"halyard-bench-16";
    let mut back = [0u8; 16];
    round_trip(&mut s, &payload, &mut back)?;
    let _ = s.shutdown(Shutdown::Both);
    Ok(())
}

/// Retries [`echo_once`] every 50 ms until it works or `deadline`; the last error if not.
pub fn wait_for_echo(addr: SocketAddr, deadline: Instant) -> Result<(), String> {
    loop {
        let err = match echo_once(addr) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            return Err(format!(
                "no TCP echo answer from {addr} in time (last try: {err})"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Request/response latency summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundTrips {
    pub per_sec: f64,
    pub p50_us: f64,
    pub p99_us: f64,
}

/// `size`-byte request/response round trips on one TCP_NODELAY connection to the echo
/// service, at most `count` or `limit` long.
pub fn request_response(
    addr: SocketAddr,
    size: usize,
    count: u32,
    limit: Duration,
) -> Result<RoundTrips, String> {
    let mut s = connect(addr)?;
    let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
    let mut back = vec![0u8; size];
    let mut times = Vec::with_capacity(count as usize);
    let start = Instant::now();
    while times.len() < count as usize && start.elapsed() < limit {
        let t = Instant::now();
        round_trip(&mut s, &payload, &mut back)?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let fail = || "no round trip completed".to_string();
    Ok(RoundTrips {
        per_sec: times.len() as f64 / elapsed,
        p50_us: stats::percentile(&times, 50.0).ok_or_else(fail)?,
        p99_us: stats::percentile(&times, 99.0).ok_or_else(fail)?,
    })
}

/// Connections per second: connect, 16 bytes echoed, close; at most `count` or `limit`.
pub fn connection_rate(addr: SocketAddr, count: u32, limit: Duration) -> Result<f64, String> {
    let start = Instant::now();
    let mut done = 0u32;
    while done < count && start.elapsed() < limit {
        echo_once(addr)?;
        done += 1;
    }
    Ok(f64::from(done) / start.elapsed().as_secs_f64())
}

/// Megabytes (10^6 bytes) per second, from a byte count and a duration.
pub fn mb_per_sec(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / 1e6 / elapsed.as_secs_f64()
}

/// What a bulk transfer moved and how long it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transfer {
    pub bytes: u64,
    pub elapsed: Duration,
}

impl Transfer {
    pub fn mb_per_sec(&self) -> f64 {
        mb_per_sec(self.bytes, self.elapsed)
    }
}

/// Host to guest: writes up to `bytes` to the discard service (stopping early at `limit`),
/// then waits for the guest to close after our EOF so every byte was taken.
pub fn bulk_to_guest(addr: SocketAddr, bytes: u64, limit: Duration) -> Result<Transfer, String> {
    let mut s = connect(addr)?;
    let chunk = vec![0xa5u8; 64 * 1024];
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < bytes && start.elapsed() < limit {
        let n = chunk.len().min((bytes - sent) as usize);
        s.write_all(&chunk[..n])
            .map_err(|e| format!("bulk write after {sent} bytes: {e}"))?;
        sent += n as u64;
    }
    s.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
    let mut rest = [0u8; 64];
    // The discard service sends nothing and closes once it read our EOF.
    match s.read(&mut rest) {
        Ok(0) => Ok(Transfer {
            bytes: sent,
            elapsed: start.elapsed(),
        }),
        Ok(_) => Err("discard service sent data".to_string()),
        Err(e) => Err(format!("waiting for the discard service to close: {e}")),
    }
}

/// Guest to host: reads up to `bytes` from the source service (stopping early at `limit`).
pub fn bulk_from_guest(addr: SocketAddr, bytes: u64, limit: Duration) -> Result<Transfer, String> {
    let mut s = connect(addr)?;
    let mut buf = vec![0u8; 256 * 1024];
    let start = Instant::now();
    let mut got = 0u64;
    while got < bytes && start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return Err(format!("source service closed after {got} bytes")),
            Ok(n) => got += n as u64,
            Err(e) => return Err(format!("bulk read after {got} bytes: {e}")),
        }
    }
    Ok(Transfer {
        bytes: got,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A loopback echo/discard/source stand-in on an ephemeral port, serving `conns`
    /// connections.
    fn serve(conns: usize, kind: &'static str) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming().take(conns) {
                let mut s = s.unwrap();
                let mut buf = [0u8; 4096];
                match kind {
                    "source" => while s.write_all(&buf).is_ok() {},
                    _ => loop {
                        match s.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) if kind == "echo" => s.write_all(&buf[..n]).unwrap(),
                            Ok(_) => {}
                        }
                    },
                }
            }
        });
        addr
    }

    #[test]
    fn clients_count_what_they_did_against_loopback_services() {
        let echo = serve(1, "echo");
        let rt = request_response(echo, 64, 200, Duration::from_secs(10)).unwrap();
        assert!(rt.per_sec > 0.0 && rt.p50_us > 0.0 && rt.p99_us >= rt.p50_us);
        let many = serve(30, "echo");
        assert!(connection_rate(many, 30, Duration::from_secs(10)).unwrap() > 0.0);
        let discard = serve(1, "discard");
        let sent = bulk_to_guest(discard, 3_000_000, Duration::from_secs(10)).unwrap();
        assert!(sent.bytes == 3_000_000 && sent.mb_per_sec() > 0.0);
        let source = serve(1, "source");
        let got = bulk_from_guest(source, 3_000_000, Duration::from_secs(10)).unwrap();
        assert!(got.bytes >= 3_000_000 && got.mb_per_sec() > 0.0);
        assert_eq!(mb_per_sec(2_000_000, Duration::from_secs(2)), 1.0);
    }

    #[test]
    fn a_silent_port_is_an_error_within_the_deadline() {
        // Bind and drop: nothing listens there any more.
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = wait_for_echo(addr, Instant::now() + Duration::from_millis(200)).unwrap_err();
        assert!(err.starts_with("no TCP echo answer from"), "{err}");
    }
}
