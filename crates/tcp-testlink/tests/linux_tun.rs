//! Halyard against the Linux kernel's TCP: each test creates its own network namespace
//! with a TUN device, runs the engine (behind the IPv4 shim) on the TUN file descriptor,
//! and uses ordinary sockets inside the namespace as the peer. Loss, delay, reordering
//! and duplication are applied by the test's own driver between the TUN fd and the
//! engine. Needs root; fails (does not skip) without it.
#![cfg(target_os = "linux")]

use core::net::SocketAddrV4;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::time::Duration;

use halyard_tcp::congestion::Algorithm;
use halyard_tcp::{Config, ConnId, Endpoint, Error, Instant, State, MAX_HEADER};
use tcp_testlink::halyard_host::transmit_all;
use tcp_testlink::host::{Host, HostSpec, Outcome, Role};
use tcp_testlink::ipv4;
use tcp_testlink::pattern::{self, Stream};
use tcp_testlink::tun::{TunNetns, ENGINE_IP, LINUX_IP};
use tcp_testlink::tun_driver::{Driver, Impair};
use tcp_testlink::HalyardHost;

const LIMIT: Duration = Duration::from_secs(120);

fn netns(tag: &str) -> TunNetns {
    let id = std::process::id() % 100_000;
    TunNetns::create(&format!("hyd-{tag}-{id}"), &format!("hyd{tag}{id}"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Linux side: reads everything, verifying the pattern; returns the byte count.
fn read_verify(s: &mut TcpStream, seed: u64) -> Result<u64, String> {
    s.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut expect = vec![0u8; buf.len()];
    let mut total = 0u64;
    loop {
        let n = s.read(&mut buf).map_err(|e| format!("linux read: {e}"))?;
        if n == 0 {
            return Ok(total);
        }
        pattern::fill(seed, total, &mut expect[..n]);
        if buf[..n] != expect[..n] {
            return Err(format!("linux side got corrupted data near offset {total}"));
        }
        total += n as u64;
    }
}

/// Linux side: writes `len` bytes of the pattern.
fn write_pattern(s: &mut TcpStream, seed: u64, len: u64) -> Result<(), String> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut off = 0u64;
    while off < len {
        let n = (len - off).min(buf.len() as u64) as usize;
        pattern::fill(seed, off, &mut buf[..n]);
        s.write_all(&buf[..n])
            .map_err(|e| format!("linux write: {e}"))?;
        off += n as u64;
    }
    Ok(())
}

fn engine_host(role: Role, port: u16, stream: Stream) -> HalyardHost {
    engine_host_with(role, port, stream, Config::default())
}

fn engine_host_with(role: Role, port: u16, stream: Stream, cfg: Config) -> HalyardHost {
    let (local, remote) = match role {
        Role::Server => (
            SocketAddrV4::new(ENGINE_IP, port),
            SocketAddrV4::new(LINUX_IP, 0),
        ),
        Role::Client => (
            SocketAddrV4::new(ENGINE_IP, 40_000 + port),
            SocketAddrV4::new(LINUX_IP, port),
        ),
    };
    HalyardHost::new(
        cfg,
        [port as u8; 16],
        HostSpec {
            role,
            local,
            remote,
        },
        stream,
    )
}

fn finished(h: &dyn Host) -> bool {
    h.stream().complete() && matches!(h.outcome(), Outcome::Finished { .. })
}

/// Drives `host` until its stream is complete and its connection finished.
fn run_to_finish(d: &mut Driver<'_>, host: &mut HalyardHost) {
    let ok = d.run(host, LIMIT, &mut |h| finished(h));
    assert!(
        ok,
        "engine did not finish: {:?} {:?}",
        host.stream(),
        host.outcome()
    );
}

/// Linux connects to the engine and uploads `len` bytes; the engine verifies them.
fn linux_to_engine(tun: &TunNetns, port: u16, len: u64, impair: Impair, seed: u64) {
    let mut host = engine_host(Role::Server, port, Stream::new(0, 0, seed, len));
    // Let the engine listen before Linux connects.
    let mut d = Driver::new(tun, impair, seed);
    d.run(&mut host, Duration::from_millis(20), &mut |_| false);
    let peer = tun.spawn_in(move || -> Result<(), String> {
        let mut s = TcpStream::connect((ENGINE_IP, port)).map_err(|e| format!("connect: {e}"))?;
        write_pattern(&mut s, seed, len)?;
        s.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
        let rest = read_verify(&mut s, 0)?;
        if rest != 0 {
            Err(format!("unexpected {rest} bytes"))
        } else {
            Ok(())
        }
    });
    let ok = d.run(&mut host, LIMIT, &mut |h| finished(h));
    assert!(
        ok,
        "engine did not finish: {:?} {:?} (driver dropped {})",
        host.stream(),
        host.outcome(),
        d.dropped
    );
    peer.join().unwrap().unwrap();
}

/// A slow reader with a small buffer: Linux's sender hits the zero window, probes, and
/// resumes on the engine's window updates.
#[test]
fn linux_sender_against_slow_engine_reader() {
    let tun = netns("zw");
    let cfg = Config {
        recv_buffer: 16 * 1024,
        ..Config::default()
    };
    let spec = HostSpec {
        role: Role::Server,
        local: SocketAddrV4::new(ENGINE_IP, 5061),
        remote: SocketAddrV4::new(LINUX_IP, 0),
    };
    let len = 256 * 1024;
    let mut host = HalyardHost::new(cfg, [61; 16], spec, Stream::new(0, 0, 61, len));
    // Each arriving full segment (1448 bytes) is answered by a 1024-byte read, so the
    // 16 KiB buffer fills and the window closes; afterwards reads happen on the driver's
    // idle ticks and each useful reopening must be announced by a window update.
    host.read_budget = 1024;
    let mut d = Driver::new(&tun, Impair::default(), 61);
    d.run(&mut host, Duration::from_millis(20), &mut |_| false);
    let peer = tun.spawn_in(move || -> Result<(), String> {
        let mut s = TcpStream::connect((ENGINE_IP, 5061)).map_err(|e| format!("connect: {e}"))?;
        write_pattern(&mut s, 61, len)?;
        s.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
        read_verify(&mut s, 0).map(|_| ())
    });
    run_to_finish(&mut d, &mut host);
    peer.join().unwrap().unwrap();
}

/// The engine connects to Linux and uploads `len` bytes; Linux verifies them.
fn engine_to_linux(tun: &TunNetns, port: u16, len: u64, impair: Impair, seed: u64) {
    engine_to_linux_with(tun, port, len, impair, seed, Config::default());
}

/// `engine_to_linux` with the engine configured by `cfg`.
fn engine_to_linux_with(
    tun: &TunNetns,
    port: u16,
    len: u64,
    impair: Impair,
    seed: u64,
    cfg: Config,
) {
    let (tx, rx) = mpsc::channel();
    let peer = tun.spawn_in(move || -> Result<u64, String> {
        let l = TcpListener::bind((LINUX_IP, port)).map_err(|e| format!("bind: {e}"))?;
        tx.send(()).unwrap();
        let (mut s, _) = l.accept().map_err(|e| e.to_string())?;
        read_verify(&mut s, seed)
    });
    rx.recv().unwrap();
    let mut host = engine_host_with(Role::Client, port, Stream::new(seed, len, 0, 0), cfg);
    let mut d = Driver::new(tun, impair, seed);
    run_to_finish(&mut d, &mut host);
    assert_eq!(peer.join().unwrap().unwrap(), len);
}

#[test]
fn linux_bulk_50mb_both_directions() {
    let tun = netns("bulk");
    linux_to_engine(&tun, 5001, 50 << 20, Impair::default(), 1);
    engine_to_linux(&tun, 5002, 50 << 20, Impair::default(), 2);
}

fn lossy(loss: f64) -> Impair {
    Impair {
        loss,
        delay: Duration::from_millis(2),
        jitter: Duration::from_millis(1),
        reorder: 0.01,
        reorder_delay: Duration::from_millis(3),
        duplicate: 0.01,
    }
}

#[test]
fn linux_lossy_1_percent() {
    let tun = netns("l1");
    linux_to_engine(&tun, 5011, 4 << 20, lossy(0.01), 11);
    engine_to_linux(&tun, 5012, 4 << 20, lossy(0.01), 12);
}

/// BBR as the sender to Linux, paced in real time by the driver's timer: clean and with
/// 1% loss, the data arrives intact.
#[test]
fn linux_receiver_from_bbr_sender() {
    let tun = netns("bbr");
    let bbr = || Config {
        congestion: Algorithm::Bbr,
        ..Config::default()
    };
    engine_to_linux_with(&tun, 5071, 16 << 20, Impair::default(), 71, bbr());
    engine_to_linux_with(&tun, 5072, 4 << 20, lossy(0.01), 72, bbr());
}

#[test]
fn linux_lossy_5_percent() {
    let tun = netns("l5");
    linux_to_engine(&tun, 5021, 1 << 20, lossy(0.05), 21);
    engine_to_linux(&tun, 5022, 1 << 20, lossy(0.05), 22);
}

/// Half-close: the engine sends and closes its direction; Linux reads to end of stream,
/// only then answers, and closes. The engine ends in TIME-WAIT.
#[test]
fn linux_half_close() {
    let tun = netns("hc");
    let (tx, rx) = mpsc::channel();
    let peer = tun.spawn_in(move || -> Result<(), String> {
        let l = TcpListener::bind((LINUX_IP, 5031)).map_err(|e| e.to_string())?;
        tx.send(()).unwrap();
        let (mut s, _) = l.accept().map_err(|e| e.to_string())?;
        let got = read_verify(&mut s, 31)?;
        if got != 200_000 {
            return Err(format!("got {got}"));
        }
        write_pattern(&mut s, 32, 300_000)?;
        Ok(())
    });
    rx.recv().unwrap();
    let mut host = engine_host(Role::Client, 5031, Stream::new(31, 200_000, 32, 300_000));
    let mut d = Driver::new(&tun, Impair::default(), 3);
    assert!(
        d.run(&mut host, LIMIT, &mut |h| finished(h)),
        "{:?} {:?}",
        host.stream(),
        host.outcome()
    );
    assert_eq!(host.outcome(), Outcome::Finished { time_wait: true });
    peer.join().unwrap().unwrap();
}

/// RST both ways: Linux aborts (SO_LINGER 0) and the engine reports a reset; the engine
/// aborts and Linux's read fails with ECONNRESET.
#[test]
fn linux_reset_both_ways() {
    let tun = netns("rst");
    let mut host = engine_host(Role::Server, 5041, Stream::new(0, 0, 41, 1 << 30));
    let mut d = Driver::new(&tun, Impair::default(), 4);
    d.run(&mut host, Duration::from_millis(20), &mut |_| false);
    let peer = tun.spawn_in(move || -> Result<(), String> {
        let mut s = TcpStream::connect((ENGINE_IP, 5041)).map_err(|e| e.to_string())?;
        write_pattern(&mut s, 41, 10_000)?;
        std::thread::sleep(Duration::from_millis(100));
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: valid socket and a correctly sized linger struct.
        let r = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err("setsockopt".into());
        }
        drop(s);
        Ok(())
    });
    assert!(
        d.run(&mut host, LIMIT, &mut |h| h.outcome() == Outcome::Failed),
        "engine saw no reset"
    );
    peer.join().unwrap().unwrap();
    assert_eq!(host.stream().received, 10_000);
    let conn = host.conn.unwrap();
    assert_eq!(host.ep.info(conn).unwrap().error, Some(Error::Reset));

    // Now the engine aborts a connection Linux is reading from.
    let (tx, rx) = mpsc::channel();
    let (reading_tx, reading_rx) = mpsc::channel();
    let peer = tun.spawn_in(move || -> Result<(), String> {
        let l = TcpListener::bind((LINUX_IP, 5042)).map_err(|e| e.to_string())?;
        tx.send(()).unwrap();
        let (mut s, _) = l.accept().map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4096];
        let mut total = 0;
        loop {
            match s.read(&mut buf) {
                Ok(0) => return Err("orderly EOF instead of reset".into()),
                Ok(n) => {
                    total += n;
                    if total > 100_000 {
                        let _ = reading_tx.send(());
                    }
                }
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(()),
                Err(e) => return Err(e.to_string()),
            }
        }
    });
    rx.recv().unwrap();
    let mut host = engine_host(Role::Client, 5042, Stream::new(42, 1 << 30, 0, 0));
    let mut d = Driver::new(&tun, Impair::default(), 5);
    assert!(
        d.run(&mut host, LIMIT, &mut |_| reading_rx.try_recv().is_ok()),
        "Linux read no data"
    );
    let conn = host.conn.unwrap();
    host.ep.abort(d.engine_now(), conn).unwrap();
    // Keep the engine running: if the RST lands in Linux's window but not exactly at
    // RCV.NXT, Linux answers with a challenge ACK (RFC 5961) that the engine, now without
    // a connection, answers with an exact RST.
    assert!(
        d.run(&mut host, LIMIT, &mut |_| peer.is_finished()),
        "Linux never saw the reset"
    );
    peer.join().unwrap().unwrap();
}

/// 500 sequential connections from the engine (ephemeral ports, TIME-WAIT on the engine
/// side) to a Linux echo server.
#[test]
fn linux_500_sequential_connections() {
    const N: usize = 500;
    let tun = netns("seq");
    let (tx, rx) = mpsc::channel();
    let peer = tun.spawn_in(move || -> Result<(), String> {
        let l = TcpListener::bind((LINUX_IP, 5051)).map_err(|e| e.to_string())?;
        tx.send(()).unwrap();
        for _ in 0..N {
            let (mut s, _) = l.accept().map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
            let mut msg = Vec::new();
            s.read_to_end(&mut msg).map_err(|e| e.to_string())?;
            s.write_all(&msg).map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    rx.recv().unwrap();
    let mut host = Sequential {
        ep: Endpoint::new(Config::default(), [9; 16]),
        conn: None,
        done: 0,
        reply: Vec::new(),
        buf: vec![0; ipv4::HEADER_LEN + MAX_HEADER + 1460],
        ident: 0,
        stream: Stream::default(),
        failed: false,
    };
    let mut d = Driver::new(&tun, Impair::default(), 6);
    assert!(
        d.run(&mut host, LIMIT, &mut |h| h.outcome() != Outcome::Open),
        "only {} done",
        host.done
    );
    assert_eq!(host.done, N);
    assert!(!host.failed);
    peer.join().unwrap().unwrap();
}

/// One connection at a time: connect, send a message, close, read the echo to EOF.
struct Sequential {
    ep: Endpoint,
    conn: Option<ConnId>,
    done: usize,
    reply: Vec<u8>,
    buf: Vec<u8>,
    ident: u16,
    stream: Stream,
    failed: bool,
}

fn message(i: usize) -> Vec<u8> {
    format!("connection {i} says hello").into_bytes()
}

impl Host for Sequential {
    fn name(&self) -> &'static str {
        "halyard-sequential"
    }
    fn receive(&mut self, now: Instant, packet: &[u8]) {
        if let Some(p) = ipv4::parse(packet) {
            self.ep.receive(now, p.src, p.dst, p.payload);
        }
    }
    fn poll(&mut self, now: Instant, out: &mut Vec<Vec<u8>>) {
        self.ep.handle_timeout(now);
        while self.ep.poll_event().is_some() {}
        if self.conn.is_none() && self.done < 500 {
            let c = self
                .ep
                .connect(now, ENGINE_IP, SocketAddrV4::new(LINUX_IP, 5051))
                .unwrap();
            self.ep.send(now, c, &message(self.done)).unwrap();
            self.ep.close(now, c).unwrap();
            self.conn = Some(c);
            self.reply.clear();
        }
        if let Some(c) = self.conn {
            let mut chunk = [0u8; 256];
            loop {
                match self.ep.recv(now, c, &mut chunk) {
                    Ok(0) => {
                        self.failed |= self.reply != message(self.done);
                        self.failed |= self.ep.state(c) != Ok(State::TimeWait);
                        self.ep.release(now, c).unwrap();
                        self.conn = None;
                        self.done += 1;
                        break;
                    }
                    Ok(n) => self.reply.extend_from_slice(&chunk[..n]),
                    Err(Error::WouldBlock) => break,
                    Err(_) => {
                        self.failed = true;
                        break;
                    }
                }
            }
        }
        transmit_all(&mut self.ep, now, &mut self.buf, &mut self.ident, out);
    }
    fn poll_at(&mut self, _now: Instant) -> Option<Instant> {
        self.ep.poll_timeout()
    }
    fn stream(&self) -> &Stream {
        &self.stream
    }
    fn outcome(&self) -> Outcome {
        if self.failed {
            Outcome::Failed
        } else if self.done == 500 {
            Outcome::Finished { time_wait: true }
        } else {
            Outcome::Open
        }
    }
}
