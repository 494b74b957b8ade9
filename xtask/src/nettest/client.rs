//! Host-side TCP peers of the guest's services, with Rust's std sockets: echo with a
//! SHA-256 check, bulk discard and source, many short connections, and an echo server the
//! guest connects out to.
//!
//! They run inside the test's namespace: [`in_netns`] enters it on a fresh thread (`setns`
//! moves only the calling thread, and threads it spawns inherit its namespace), so sockets
//! are created there and the rest of the xtask stays where it is. Every read and write has a
//! timeout and every loop a count and the test's deadline.

use super::inject::enter_netns;
use sha2::{Digest, Sha256};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest wait for one connect, read or write.
const IO_TIMEOUT: Duration = Duration::from_secs(20);
/// Transfer chunk.
const CHUNK: usize = 64 * 1024;

/// Runs `f` on a thread inside namespace `netns` and returns its result.
pub fn in_netns<T: Send>(
    netns: &str,
    f: impl FnOnce() -> Result<T, String> + Send,
) -> Result<T, String> {
    let path = format!("/run/netns/{netns}");
    std::thread::scope(|s| {
        s.spawn(move || {
            enter_netns(&path)?;
            f()
        })
        .join()
        .map_err(|_| "a client thread panicked".to_string())?
    })
}

/// `len` bytes from the tests' seeded generator (a failure replays with the same data).
pub fn seeded_bytes(seed: u64, len: usize) -> Vec<u8> {
    test_rng::TestRng::new(seed).bytes(len)
}

fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| format!("socket timeouts: {e}"))?;
    Ok(stream)
}

fn check_deadline(deadline: Instant, what: &str) -> Result<(), String> {
    if Instant::now() >= deadline {
        Err(format!("deadline passed during {what}"))
    } else {
        Ok(())
    }
}

/// Bytes echoed on a new connection before the next one is opened or the bulk follows.
/// QEMU's slirp listens on its host forwards with a backlog of 1: connections opened in a
/// burst overflow it and the host resets them, which says nothing about the guest. A
/// connection whose first bytes came back has been accepted by slirp and the guest alike.
const PRIME: usize = 1024;

/// A connection to an echo server whose first [`PRIME`] bytes of `data` came back, with
/// the hash of what came back so far.
struct Primed {
    stream: TcpStream,
    hash: Sha256,
}

fn prime(addr: SocketAddr, data: &[u8]) -> Result<Primed, String> {
    let mut stream = connect(addr)?;
    let first = &data[..PRIME.min(data.len())];
    let mut back = vec![0u8; first.len()];
    stream
        .write_all(first)
        .and_then(|()| stream.read_exact(&mut back))
        .map_err(|e| format!("echo of the first {} bytes from {addr}: {e}", first.len()))?;
    let mut hash = Sha256::new();
    hash.update(&back);
    Ok(Primed { stream, hash })
}

/// Sends `data` to an echo server at `addr` (one writer thread, then our half-close) while
/// reading the echo to its end; the echo must have the same length and SHA-256.
pub fn echo(addr: SocketAddr, data: &[u8], deadline: Instant) -> Result<(), String> {
    finish_echo(prime(addr, data)?, addr, data, deadline)
}

/// The rest of [`echo`] after [`prime`].
fn finish_echo(
    primed: Primed,
    addr: SocketAddr,
    data: &[u8],
    deadline: Instant,
) -> Result<(), String> {
    let Primed { stream, mut hash } = primed;
    let mut writer = stream
        .try_clone()
        .map_err(|e| format!("clone socket: {e}"))?;
    let rest = &data[PRIME.min(data.len())..];
    let got = std::thread::scope(|s| {
        let sender = s.spawn(move || {
            for chunk in rest.chunks(CHUNK) {
                check_deadline(deadline, "the echo")?;
                writer
                    .write_all(chunk)
                    .map_err(|e| format!("send to {addr}: {e}"))?;
            }
            writer
                .shutdown(Shutdown::Write)
                .map_err(|e| format!("half-close: {e}"))
        });
        let received = drain(&stream, &mut hash, u64::MAX, deadline);
        let sent = sender
            .join()
            .map_err(|_| "echo sender panicked".to_string())?;
        sent.and(received)
    })?;
    if got != rest.len() as u64 || hash.finalize().as_slice() != Sha256::digest(data).as_slice() {
        return Err(format!(
            "echo from {addr}: sent {} bytes, got back {} bytes with a different SHA-256",
            data.len(),
            got as usize + data.len() - rest.len()
        ));
    }
    Ok(())
}

/// Reads until end of stream or `limit` bytes into `hash`; returns the count.
fn drain(
    mut stream: &TcpStream,
    hash: &mut Sha256,
    limit: u64,
    deadline: Instant,
) -> Result<u64, String> {
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    while got < limit {
        check_deadline(deadline, "a read")?;
        let want = (limit - got).min(CHUNK as u64) as usize;
        match stream.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => {
                hash.update(&buf[..n]);
                got += n as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read after {got} bytes: {e}")),
        }
    }
    Ok(got)
}

/// `count` echo connections at once, each with its own seeded `len` bytes; every echo must
/// match. The connections are opened (and primed) one after the other, then all transfer
/// at once. Returns the total bytes echoed.
pub fn echo_concurrent(
    addr: SocketAddr,
    count: usize,
    len: usize,
    deadline: Instant,
) -> Result<u64, String> {
    let data: Vec<Vec<u8>> = (0..count)
        .map(|i| seeded_bytes(1000 + i as u64, len))
        .collect();
    let mut primed = Vec::new();
    for (i, d) in data.iter().enumerate() {
        check_deadline(deadline, "opening the concurrent connections")?;
        primed.push(prime(addr, d).map_err(|e| format!("connection #{i}: {e}"))?);
    }
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let threads: Vec<_> = primed
            .into_iter()
            .zip(&data)
            .map(|(p, d)| s.spawn(move || finish_echo(p, addr, d, deadline)))
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err("echo thread panicked".into()))
            })
            .collect()
    });
    let failed: Vec<String> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| format!("#{i}: {e}")))
        .collect();
    if failed.is_empty() {
        Ok((count * len) as u64)
    } else {
        Err(format!(
            "{} of {count} concurrent echo connections failed: {}",
            failed.len(),
            failed.join("; ")
        ))
    }
}

/// Sends `bytes` to a discard server, half-closes and waits for the server to close
/// (it does after our end of stream): returns the seconds until then.
pub fn discard(addr: SocketAddr, bytes: u64, deadline: Instant) -> Result<f64, String> {
    let mut stream = connect(addr)?;
    let chunk = seeded_bytes(9, CHUNK);
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < bytes {
        check_deadline(deadline, "the discard transfer")?;
        let n = (bytes - sent).min(CHUNK as u64) as usize;
        stream
            .write_all(&chunk[..n])
            .map_err(|e| format!("discard: send after {sent} bytes: {e}"))?;
        sent += n as u64;
    }
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| format!("discard: half-close: {e}"))?;
    let extra = drain(&stream, &mut Sha256::new(), u64::MAX, deadline)?;
    if extra != 0 {
        return Err(format!("the discard server sent {extra} bytes"));
    }
    Ok(start.elapsed().as_secs_f64())
}

/// Reads `bytes` from a source server, then closes: returns the seconds it took and the
/// SHA-256 of what it read.
pub fn source(addr: SocketAddr, bytes: u64, deadline: Instant) -> Result<(f64, [u8; 32]), String> {
    let stream = connect(addr)?;
    let start = Instant::now();
    let mut hash = Sha256::new();
    let got = drain(&stream, &mut hash, bytes, deadline)?;
    if got != bytes {
        return Err(format!(
            "the source server closed after {got} of {bytes} bytes"
        ));
    }
    Ok((start.elapsed().as_secs_f64(), hash.finalize().into()))
}

/// `count` connections one after the other: connect, 16 bytes echoed, close (we close
/// first, so TIME-WAIT stays on this side). Returns the seconds they took.
pub fn sequential(addr: SocketAddr, count: u32, deadline: Instant) -> Result<f64, String> {
    let start = Instant::now();
    for i in 0..count {
        check_deadline(deadline, "the sequential connections")?;
        let mut stream = connect(addr).map_err(|e| format!("connection {i}: {e}"))?;
        let data = seeded_bytes(u64::from(i) + 7, 16);
        let mut back = [0u8; 16];
        stream
            .write_all(&data)
            .and_then(|()| stream.read_exact(&mut back))
            .map_err(|e| format!("connection {i}: {e}"))?;
        if back[..] != data[..] {
            return Err(format!("connection {i}: the echo differs"));
        }
    }
    Ok(start.elapsed().as_secs_f64())
}

/// Short echo connections (64 bytes each) in a loop until `until` or `stop`; returns the
/// completed and failed counts. The load half of the stress test.
pub fn hammer(addr: SocketAddr, until: Instant, stop: &AtomicBool) -> (u64, u64) {
    let (mut done, mut failed) = (0, 0);
    let data = seeded_bytes(64, 64);
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        let ok = connect(addr).and_then(|mut s| {
            let mut back = [0u8; 64];
            s.write_all(&data)
                .and_then(|()| s.read_exact(&mut back))
                .map_err(|e| e.to_string())?;
            Ok(back[..] == data[..])
        });
        if ok == Ok(true) {
            done += 1;
        } else {
            failed += 1;
        }
    }
    (done, failed)
}

/// An echo server on the host side for the guest's outgoing connections (`nc`,
/// `tcpstress`). Each connection gets a thread that echoes until end of stream (or a
/// timeout), then closes. Stops accepting when dropped.
pub struct EchoServer {
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EchoServer {
    /// Listens on `addr` inside namespace `netns` until dropped or `deadline`.
    pub fn start(netns: &str, addr: SocketAddr, deadline: Instant) -> Result<EchoServer, String> {
        let listener = in_netns(netns, || {
            TcpListener::bind(addr).map_err(|e| format!("echo server: bind {addr}: {e}"))
        })?;
        EchoServer::serve(listener, deadline)
    }

    /// Serves connections from `listener` until dropped or `deadline`.
    fn serve(listener: TcpListener, deadline: Instant) -> Result<EchoServer, String> {
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("echo server: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicU64::new(0));
        let (stop2, accepted2) = (stop.clone(), accepted.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        accepted2.fetch_add(1, Ordering::Relaxed);
                        std::thread::spawn(move || echo_back(stream));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Ok(EchoServer {
            stop,
            accepted,
            thread: Some(thread),
        })
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Echoes one connection until end of stream, an error or a read timeout; then closes.
fn echo_back(mut stream: TcpStream) {
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(IO_TIMEOUT)).is_err()
        || stream.set_write_timeout(Some(IO_TIMEOUT)).is_err()
    {
        return;
    }
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 || stream.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clients against the host's own echo server on loopback (no namespace needed).
    #[test]
    fn clients_work_against_the_local_echo_server() {
        let deadline = Instant::now() + Duration::from_secs(60);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = EchoServer::serve(listener, deadline).unwrap();
        echo(addr, &seeded_bytes(3, 300_000), deadline).unwrap();
        assert_eq!(echo_concurrent(addr, 8, 10_000, deadline), Ok(80_000));
        sequential(addr, 20, deadline).unwrap();
        let stop = AtomicBool::new(false);
        let (done, failed) = hammer(addr, Instant::now() + Duration::from_millis(300), &stop);
        assert!(done > 0 && failed == 0);
        assert!(server.accepted() >= 30);
    }
}
