//! `sockcheck HOST PORT`: exercises the socket API against an echo server at HOST:PORT
//! — non-blocking connect and calls, `poll` with and without a timeout, read, write and
//! accept timeouts, buffer limits, keepalive, linger (graceful and reset) and address reuse —
//! printing `sockcheck: <check> ok` per check and then `sockcheck: N checks passed`, or
//! `sockcheck: FAIL <check>: <why>` at the first failure. The network tests run it
//! against a listener in their namespace; a person can run it against any echo server.
use alloc::format;
use alloc::string::String;
use core::net::SocketAddrV4;
use core::time::Duration;

use halyard_tcp::{Error as TcpError, Keepalive, State};

use super::socket::{
    poll, Interest, PollEntry, Pollable, SocketError, SocketOptions, TcpListener, TcpStream,
};
use crate::{println, time};

const MS: u64 = 1_000_000;
/// SO_LINGER of the graceful-close check.
const LINGER_NS: u64 = 10_000 * MS;
/// Longest wait of any one step on a working network.
const STEP_NS: u64 = 5_000 * MS;

type Check = core::result::Result<(), String>;
/// A named check on a connected stream.
type Step<'a> = (&'a str, &'a dyn Fn(&TcpStream) -> Check);

fn ensure(ok: bool, why: impl FnOnce() -> String) -> Check {
    if ok {
        Ok(())
    } else {
        Err(why())
    }
}

/// Polls one socket for `interest` up to `timeout_ns`; the ready set.
fn poll_one(
    socket: Pollable<'_>,
    interest: Interest,
    timeout_ns: u64,
) -> core::result::Result<Interest, String> {
    let mut e = [PollEntry::new(socket, interest)];
    poll(&mut e, Some(timeout_ns)).map_err(|err| format!("poll: {err}"))?;
    Ok(e[0].ready)
}

/// Reads exactly `want` bytes (blocking, bounded by the step deadline).
fn read_exact(s: &TcpStream, want: usize) -> core::result::Result<alloc::vec::Vec<u8>, String> {
    let mut got = alloc::vec![0u8; want];
    let mut n = 0;
    let deadline = time::now_ns() + STEP_NS;
    while n < want {
        match s.read_until(&mut got[n..], Some(deadline)) {
            Ok(0) => return Err(format!("end of stream after {n} of {want} bytes")),
            Ok(k) => n += k,
            Err(e) => return Err(format!("read after {n} of {want} bytes: {e}")),
        }
    }
    Ok(got)
}

/// Host-wide TCP counters now (zero without a network).
fn tcp_stats() -> halyard_tcp::Stats {
    super::show::tcp_totals(|_| ())
        .map(|((s, _, _), ())| s)
        .unwrap_or_default()
}

/// Non-blocking connect: returns at once, polls writable when established.
fn connect_nonblocking(remote: SocketAddrV4) -> core::result::Result<TcpStream, String> {
    let s = TcpStream::connect_nonblocking(
        remote,
        &SocketOptions {
            nodelay: true,
            ..SocketOptions::default()
        },
    )
    .map_err(|e| format!("connect: {e}"))?;
    s.set_nonblocking(true);
    let ready = poll_one(Pollable::Stream(&s), Interest::WRITABLE, STEP_NS)?;
    ensure(ready == Interest::WRITABLE, || {
        format!("poll said {ready:?}, not writable")
    })?;
    ensure(s.take_error() == Ok(None), || {
        format!("error {:?}", s.take_error())
    })?;
    Ok(s)
}

fn nonblocking_read(s: &TcpStream) -> Check {
    let mut buf = [0u8; 16];
    ensure(s.read(&mut buf) == Err(SocketError::WouldBlock), || {
        "read of an idle socket did not say WouldBlock".into()
    })
}

fn poll_timeout(s: &TcpStream) -> Check {
    let t0 = time::now_ns();
    let ready = poll_one(Pollable::Stream(s), Interest::READABLE, 50 * MS)?;
    let waited = time::now_ns() - t0;
    ensure(ready.is_empty() && waited >= 50 * MS, || {
        format!("ready {ready:?} after {} us", waited / 1000)
    })
}

fn echo_via_poll(s: &TcpStream) -> Check {
    ensure(s.write(b"hello") == Ok(5), || {
        "write did not take 5 bytes".into()
    })?;
    let ready = poll_one(Pollable::Stream(s), Interest::READABLE, STEP_NS)?;
    ensure(ready.contains(Interest::READABLE), || {
        format!("poll said {ready:?}")
    })?;
    s.set_nonblocking(false);
    let got = read_exact(s, 5)?;
    ensure(got == b"hello", || format!("echoed {got:?}"))
}

fn read_timeout(s: &TcpStream) -> Check {
    s.set_read_timeout(Some(100 * MS));
    let t0 = time::now_ns();
    let r = s.read(&mut [0u8; 16]);
    let waited = time::now_ns() - t0;
    s.set_read_timeout(None);
    ensure(
        r == Err(SocketError::TimedOut) && waited >= 100 * MS,
        || format!("{r:?} after {} us", waited / 1000),
    )
}

fn send_buffer(s: &TcpStream) -> Check {
    s.set_send_buffer(4096).map_err(|e| format!("set: {e}"))?;
    s.set_nonblocking(true);
    let r = s.write(&[0x5a; 64 * 1024]);
    s.set_nonblocking(false);
    ensure(r == Ok(4096), || {
        format!("a 64 KiB write took {r:?}, not 4096")
    })?;
    let got = read_exact(s, 4096)?;
    ensure(got.iter().all(|&b| b == 0x5a), || "echo differs".into())
}

fn recv_buffer(s: &TcpStream) -> Check {
    s.set_recv_buffer(1 << 20)
        .map_err(|e| format!("set: {e}"))?;
    let limits = s.buffer_limits().map_err(|e| format!("{e}"))?;
    ensure(limits == (4096, 1 << 20), || format!("limits {limits:?}"))
}

fn keepalive(s: &TcpStream) -> Check {
    let before = tcp_stats().keepalive_probes;
    // A Linux peer answers probes (segments below its window) at most every 500 ms
    // (net.ipv4.tcp_invalid_ratelimit): probe no faster than that.
    let k = Keepalive {
        idle: Duration::from_millis(600),
        interval: Duration::from_millis(600),
        probes: 3,
    };
    s.set_keepalive(Some(k)).map_err(|e| format!("set: {e}"))?;
    crate::sched::sleep_ns(1_500 * MS);
    s.set_keepalive(None).map_err(|e| format!("unset: {e}"))?;
    let probes = tcp_stats().keepalive_probes - before;
    let info = s.info().map_err(|e| format!("{e}"))?;
    ensure(probes >= 2 && info.state == State::Established, || {
        format!("{probes} probes, state {:?}", info.state)
    })
}

fn linger_graceful(s: TcpStream) -> Check {
    let resets = tcp_stats().resets_sent;
    // Generous: a graceful close takes a round trip; only the deadline aborts.
    s.set_linger(Some(LINGER_NS));
    let t0 = time::now_ns();
    drop(s);
    let took = time::now_ns() - t0;
    let sent = tcp_stats().resets_sent - resets;
    ensure(took < LINGER_NS && sent == 0, || {
        format!("close took {} ms, {sent} resets sent", took / MS)
    })
}

fn linger_reset(remote: SocketAddrV4) -> Check {
    let s = TcpStream::connect(remote, STEP_NS).map_err(|e| format!("connect: {e}"))?;
    let resets = tcp_stats().resets_sent;
    s.set_linger(Some(0));
    drop(s);
    let sent = tcp_stats().resets_sent - resets;
    ensure(sent == 1, || format!("{sent} resets sent, not 1"))
}

fn reuse_address(remote: SocketAddrV4) -> Check {
    let s = TcpStream::connect(remote, STEP_NS).map_err(|e| format!("connect: {e}"))?;
    let port = s.info().map_err(|e| format!("{e}"))?.local.port();
    // We close first: the server echoes our EOF, and our side ends in TIME-WAIT.
    s.shutdown().map_err(|e| format!("shutdown: {e}"))?;
    let eof = s.read_until(&mut [0u8; 16], Some(time::now_ns() + STEP_NS));
    ensure(eof == Ok(0), || {
        format!("expected end of stream, got {eof:?}")
    })?;
    drop(s);
    let plain = TcpListener::bind_with(port, &SocketOptions::default());
    ensure(
        matches!(plain, Err(SocketError::Tcp(TcpError::AddrInUse))),
        || "bind of a TIME-WAIT port succeeded without reuse".into(),
    )?;
    let reuse = TcpListener::bind_with(
        port,
        &SocketOptions {
            reuse_address: true,
            ..SocketOptions::default()
        },
    );
    ensure(reuse.is_ok(), || {
        format!("bind with reuse: {:?}", reuse.err())
    })
}

/// Most data `write_timeout` sends before the peer's buffers must be full.
const WRITE_TIMEOUT_LIMIT: usize = 64 << 20;

/// We never read, so the echo server's replies fill our small receive window, then its
/// own buffers; our writes then stall and must end at the write timeout.
fn write_timeout(remote: SocketAddrV4) -> Check {
    let opts = SocketOptions {
        recv_buffer: Some(16 * 1024),
        ..SocketOptions::default()
    };
    let s = TcpStream::connect_with(remote, &opts, STEP_NS).map_err(|e| format!("connect: {e}"))?;
    s.set_write_timeout(Some(200 * MS));
    let chunk = alloc::vec![0x33u8; 64 * 1024];
    let mut sent = 0;
    let outcome = loop {
        if sent >= WRITE_TIMEOUT_LIMIT {
            break Err(format!("{sent} bytes sent without stalling"));
        }
        match s.write(&chunk) {
            Ok(n) => sent += n,
            Err(SocketError::TimedOut) => break Ok(()),
            Err(e) => break Err(format!("after {sent} bytes: {e}")),
        }
    };
    s.set_linger(Some(0));
    outcome
}

fn accept_timeout() -> Check {
    let l = TcpListener::bind_with(
        4999,
        &SocketOptions {
            reuse_address: true,
            ..SocketOptions::default()
        },
    )
    .map_err(|e| format!("bind: {e}"))?;
    l.set_timeout(Some(100 * MS));
    let t0 = time::now_ns();
    let r = l.accept().err();
    let waited = time::now_ns() - t0;
    ensure(
        r == Some(SocketError::TimedOut) && waited >= 100 * MS,
        || format!("{r:?} after {} us", waited / 1000),
    )?;
    l.set_nonblocking(true);
    let r = l.accept().err();
    ensure(r == Some(SocketError::WouldBlock), || {
        format!("non-blocking accept: {r:?}")
    })
}

/// `sockcheck HOST PORT`.
pub fn monitor_sockcheck(args: &str) {
    let mut w = args.split_whitespace();
    let (Some(host), Some(port)) = (
        w.next().and_then(|a| a.parse().ok()),
        w.next().and_then(|p| p.parse().ok()),
    ) else {
        println!("usage: sockcheck HOST PORT   (HOST:PORT must echo)");
        return;
    };
    let remote = SocketAddrV4::new(host, port);
    let mut passed = 0;
    let mut report = |name: &str, r: Check| match r {
        Ok(()) => {
            passed += 1;
            println!("sockcheck: {name} ok");
            true
        }
        Err(why) => {
            println!("sockcheck: FAIL {name}: {why}");
            false
        }
    };
    let s = match connect_nonblocking(remote) {
        Ok(s) => s,
        Err(why) => {
            report("connect-nonblocking", Err(why));
            return;
        }
    };
    report("connect-nonblocking", Ok(()));
    let steps: [Step; 7] = [
        ("read-nonblocking", &nonblocking_read),
        ("poll-timeout", &poll_timeout),
        ("echo-via-poll", &echo_via_poll),
        ("read-timeout", &read_timeout),
        ("send-buffer", &send_buffer),
        ("recv-buffer", &recv_buffer),
        ("keepalive", &keepalive),
    ];
    for (name, step) in steps {
        if !report(name, step(&s)) {
            return;
        }
    }
    if !report("linger-graceful", linger_graceful(s)) {
        return;
    }
    let rest: [(&str, &dyn Fn() -> Check); 4] = [
        ("linger-reset", &|| linger_reset(remote)),
        ("reuse-address", &|| reuse_address(remote)),
        ("write-timeout", &|| write_timeout(remote)),
        ("accept-timeout", &accept_timeout),
    ];
    for (name, step) in rest {
        if !report(name, step()) {
            return;
        }
    }
    println!("sockcheck: {passed} checks passed");
}
