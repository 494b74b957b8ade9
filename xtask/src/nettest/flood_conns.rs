//! Connection floods: peers in the test's namespace open and hold thousands of
//! connections to every guest service, a few bytes each, the way the issue's reproduction
//! brought the old thread-per-connection kernel down.
//!
//! - `net-tap-flood-conns` goes beyond the point of refusal: eight peer addresses open
//!   8,640 connections in all, more than the per-peer limit (1,024) lets each peer hold,
//!   more than the discard service's cap (4,096), and more source connections than the
//!   guest's memory can fill the send buffers of. Every connection is either held or
//!   refused with a reset (never left hanging), the guest's counts of held and refused
//!   connections must equal the peers' own, and while all of it is held the guest
//!   answers ping and a new echo connection from a fresh address (or, at its memory
//!   reserve, resets it and counts that). Once the peers close,
//!   the services must be back to no connections and the heap back to its baseline.
//! - `net-tap-c10k` measures: twelve peers hold 10,800 idle connections to echo, discard
//!   and HTTP (within every limit: nothing may be refused), and the line reports the heap
//!   and frames they cost, per connection.
//!
//! The peers are the tap's host address plus aliases the test adds in its namespace
//! (removed with it). Every connect and write has a timeout, every loop a count, and the
//! whole run the test's deadline.

use super::answers::Counters;
use super::checks::{host_ping, tap_netns};
use super::client::in_netns;
use super::tcp::{start, Mem, DISCARD, ECHO, HTTP, SOURCE};
use super::NetContext;
use crate::net_mode::{TAP_GUEST_CIDR, TAP_NAME};
use crate::qemu::session::Session;
use socket2::{Domain, Socket, Type};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpStream};
use std::time::{Duration, Instant};

/// Connections one peer opens to one service.
#[derive(Debug, Clone, Copy)]
struct Wave {
    port: u16,
    count: usize,
}

/// A flood: how many peers, what each opens (waves in order), and what must happen.
struct Plan {
    /// Peer addresses: 192.168.100.1 (the tap's own) and aliases from .11 on.
    peers: usize,
    waves: &'static [Wave],
    /// Refusals are required (the flood goes beyond the limits) or forbidden.
    expect_refusals: bool,
}

/// Beyond the limits: each of eight peers opens 520 discard connections, then 260
/// source, 150 echo and 150 HTTP connections interleaved (1,080 > the per-peer limit of
/// 1,024); the peers' 4,160 discard connections exceed the service's cap of 4,096; and
/// the source connections, whose peers never read, fill their 128 KiB send buffers until
/// memory runs low (about 240 MiB asked of a 256 MiB guest).
const FLOOD: Plan = Plan {
    peers: 8,
    waves: &[
        Wave {
            port: DISCARD,
            count: 520,
        },
        Wave {
            port: SOURCE,
            count: 260,
        },
        Wave {
            port: ECHO,
            count: 150,
        },
        Wave {
            port: HTTP,
            count: 150,
        },
    ],
    expect_refusals: true,
};

/// C10K: twelve peers, 900 idle connections each to echo, discard and HTTP (300 each),
/// within the per-peer limit and the services' caps.
const C10K: Plan = Plan {
    peers: 12,
    waves: &[
        Wave {
            port: ECHO,
            count: 300,
        },
        Wave {
            port: DISCARD,
            count: 300,
        },
        Wave {
            port: HTTP,
            count: 300,
        },
    ],
    expect_refusals: false,
};

/// Longest wait for one connect or write.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the guest may take to accept (or refuse) every connection of the flood.
const ACCOUNT: Duration = Duration::from_secs(15);
/// How long the guest may take to close everything after the peers closed.
const SETTLE: Duration = Duration::from_secs(30);
/// Heap that may stay in use after everything closed: tables sized for the peak that
/// keep their capacity (the engine's connection slots and 4-tuple table, about 100 bytes
/// per connection of the peak).
const HEAP_MARGIN_KIB_PER_PEAK_CONN: u64 = 1;
/// Connections the peers half-close at a time, 10 ms apart.
const CLOSE_BATCH: usize = 256;
/// Receive buffer of the peers' source connections: the guest's data stops after a few
/// KiB per connection (its send buffer still fills to its limit).
const SOURCE_RCVBUF: usize = 4096;
/// Address of the fresh peer that opens an echo connection while the flood is held.
const FRESH_PEER: Ipv4Addr = Ipv4Addr::new(192, 168, 100, 99);

/// Peer `i`'s address.
fn peer(i: usize) -> Ipv4Addr {
    if i == 0 {
        Ipv4Addr::new(192, 168, 100, 1)
    } else {
        Ipv4Addr::new(192, 168, 100, 10 + i as u8)
    }
}

fn guest() -> Ipv4Addr {
    TAP_GUEST_CIDR
        .split('/')
        .next()
        .and_then(|a| a.parse().ok())
        .expect("the tap guest address is an IPv4 CIDR")
}

/// What a peer sends first on a connection to `port`: a few bytes (for HTTP, the start
/// of a request head that never ends).
fn first_bytes(port: u16) -> &'static [u8] {
    match port {
        HTTP => b"GET / HTTP/1.1\r\nHost: flood\r\n",
        ECHO => b"held",
        _ => b"x",
    }
}

/// What became of a connection attempt.
enum Opened {
    /// Connected, first bytes sent (or refused by a reset since: see [`liveness`]).
    Stream(TcpStream),
    /// The guest answered the SYN with a reset (the per-peer limit).
    RefusedAtSyn,
    /// Connected, then reset before the connect call returned (a full service).
    ResetAtOnce,
}

/// A connection from `from` to guest port `port` with its first bytes sent.
fn open(from: Ipv4Addr, port: u16) -> Result<Opened, String> {
    let socket =
        Socket::new(Domain::IPV4, Type::STREAM, None).map_err(|e| format!("socket: {e}"))?;
    socket
        .bind(&SocketAddr::from(SocketAddrV4::new(from, 0)).into())
        .map_err(|e| format!("bind {from}: {e}"))?;
    if port == SOURCE {
        socket
            .set_recv_buffer_size(SOURCE_RCVBUF)
            .map_err(|e| format!("SO_RCVBUF: {e}"))?;
    }
    let to = SocketAddr::from(SocketAddrV4::new(guest(), port));
    match socket.connect_timeout(&to.into(), IO_TIMEOUT) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => return Ok(Opened::RefusedAtSyn),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(Opened::ResetAtOnce),
        Err(e) => return Err(format!("connect {from} -> {to}: {e}")),
    }
    let mut stream: TcpStream = socket.into();
    stream
        .set_write_timeout(Some(IO_TIMEOUT))
        .map_err(|e| format!("SO_SNDTIMEO: {e}"))?;
    // A connection the guest accepted and reset (service full) may fail here: it is
    // counted as refused by the liveness check below.
    let _ = stream.write_all(first_bytes(port));
    Ok(Opened::Stream(stream))
}

/// The connections of one flood, and how many the guest refused before the connect
/// call returned (at the SYN, or with a reset right after the handshake).
struct Held {
    streams: Vec<(u16, TcpStream)>,
    refused_at_once: usize,
    opened_in: f64,
}

/// Every peer opens its waves (one thread per peer, connections one after the other),
/// inside the namespace, before `deadline`.
fn flood(netns: &str, plan: &Plan, deadline: Instant) -> Result<Held, String> {
    let t = Instant::now();
    let per_peer = in_netns(netns, || {
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..plan.peers)
                .map(|i| {
                    s.spawn(move || {
                        let from = peer(i);
                        let mut streams = Vec::new();
                        let mut refused = 0;
                        for port in order(plan.waves) {
                            if Instant::now() >= deadline {
                                return Err(format!("deadline passed while {from} connected"));
                            }
                            match open(from, port)? {
                                Opened::Stream(stream) => streams.push((port, stream)),
                                Opened::RefusedAtSyn | Opened::ResetAtOnce => refused += 1,
                            }
                        }
                        Ok((streams, refused))
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().map_err(|_| "a peer thread panicked".to_string())?)
                .collect::<Result<Vec<_>, String>>()
        })
    })?;
    let mut held = Held {
        streams: Vec::new(),
        refused_at_once: 0,
        opened_in: t.elapsed().as_secs_f64(),
    };
    for (streams, refused) in per_peer {
        held.streams.extend(streams);
        held.refused_at_once += refused;
    }
    Ok(held)
}

/// The ports one peer connects to, in order: the first wave alone, then the others
/// interleaved (so the per-peer limit cuts across them).
fn order(waves: &[Wave]) -> Vec<u16> {
    let Some((first, rest)) = waves.split_first() else {
        return Vec::new();
    };
    let mut ports = vec![first.port; first.count];
    let most = rest.iter().map(|w| w.count).max().unwrap_or(0);
    for round in 0..most {
        ports.extend(rest.iter().filter(|w| round < w.count).map(|w| w.port));
    }
    ports
}

/// How the peers' connections stand: alive (open, maybe with data to read), reset by
/// the guest, or ended by it.
#[derive(Debug, Default, Clone, Copy)]
struct Liveness {
    alive: usize,
    reset: usize,
    ended: usize,
}

fn liveness(streams: &[(u16, TcpStream)]) -> Result<Liveness, String> {
    let mut l = Liveness::default();
    let mut byte = [0u8; 1];
    for (_, s) in streams {
        s.set_nonblocking(true)
            .map_err(|e| format!("O_NONBLOCK: {e}"))?;
        match s.peek(&mut byte) {
            Ok(0) => l.ended += 1,
            Ok(_) => l.alive += 1,
            Err(e) if e.kind() == ErrorKind::WouldBlock => l.alive += 1,
            Err(_) => l.reset += 1,
        }
    }
    Ok(l)
}

/// Sum of the guest's per-service counters ending in `what` (`OPEN`, `REFUSED_FULL`...).
fn service_sum(c: &Counters, what: &str) -> Result<u64, String> {
    ["ECHO", "DISCARD", "SOURCE", "HTTP"]
        .iter()
        .map(|s| c.get(&format!("SVC_{s}_{what}")))
        .sum()
}

/// Refusals the guest counted since `before`: SYNs beyond the per-peer limit, and
/// connections reset by a full service (or a full accept queue) or for low memory.
fn guest_refusals(now: &Counters, before: &Counters) -> Result<(u64, u64, u64), String> {
    let delta = |f: &dyn Fn(&Counters) -> Result<u64, String>| -> Result<u64, String> {
        Ok(f(now)?.saturating_sub(f(before)?))
    };
    Ok((
        delta(&|c| c.get("TCP_PEER_LIMIT_REFUSED"))?,
        delta(&|c| Ok(service_sum(c, "REFUSED_FULL")? + c.get("TCP_ACCEPT_QUEUE_OVERFLOWS")?))?,
        delta(&|c| service_sum(c, "REFUSED_MEMORY"))?,
    ))
}

/// Raises this process's open-file limit to at least `need` (root may raise the hard
/// limit too).
fn raise_fd_limit(need: u64) -> Result<(), String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
    }
    if lim.rlim_cur >= need {
        return Ok(());
    }
    lim.rlim_cur = need;
    lim.rlim_max = lim.rlim_max.max(need);
    // SAFETY: setrlimit reads the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        return Err(format!(
            "cannot raise the open-file limit to {need}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// An echo round trip on a new connection from `from` (which holds nothing else).
fn fresh_echo(from: Ipv4Addr) -> Result<(), String> {
    let Opened::Stream(mut s) = open(from, ECHO)? else {
        return Err("the fresh echo connection was refused".into());
    };
    s.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| format!("SO_RCVTIMEO: {e}"))?;
    let mut back = [0u8; 4];
    s.read_exact(&mut back)
        .map_err(|e| format!("reading the fresh echo: {e}"))?;
    if back != first_bytes(ECHO) {
        return Err(format!("the fresh echo answered {back:?}"));
    }
    Ok(())
}

/// `net-tap-flood-conns`.
pub fn flood_conns(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    run(session, ctx, &FLOOD)
}

/// `net-tap-c10k`.
pub fn c10k(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    run(session, ctx, &C10K)
}

fn run(session: &mut Session, ctx: &NetContext, plan: &Plan) -> Result<String, String> {
    let netns = tap_netns(ctx)?;
    start(session, ctx)?;
    let attempts: usize = plan.peers * plan.waves.iter().map(|w| w.count).sum::<usize>();
    raise_fd_limit(attempts as u64 + 1024)?;
    for i in (1..plan.peers).map(peer).chain([FRESH_PEER]) {
        netns.run("ip", &["addr", "add", &format!("{i}/24"), "dev", TAP_NAME])?;
    }
    // One connection to each service first, so one-time allocations are in the baseline.
    in_netns(netns.name(), || {
        for w in plan.waves {
            drop(open(peer(0), w.port)?);
        }
        Ok(())
    })?;
    std::thread::sleep(Duration::from_millis(500));
    let base = Mem::parse(&session.command("mem")?)?;
    let before = Counters::parse(&session.command("counters")?);

    let held = flood(netns.name(), plan, ctx.deadline)?;
    // Until every attempt is accounted for on the guest (held by a service, or refused),
    // some connections may still wait in an accept queue.
    let accounted = Instant::now();
    let (guest_open, (peer_limit, full, memory)) = loop {
        let counters = Counters::parse(&session.command("counters")?);
        let open = service_sum(&counters, "OPEN")?;
        let refusals = guest_refusals(&counters, &before)?;
        let all = open + refusals.0 + refusals.1 + refusals.2 >= attempts as u64;
        if all || accounted.elapsed() > ACCOUNT || Instant::now() >= ctx.deadline {
            break (open, refusals);
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    // Resets for refused connections are on their way: let them land.
    std::thread::sleep(Duration::from_millis(500));
    let during = Mem::parse(&session.command("mem")?)?;
    let live = liveness(&held.streams)?;
    let refused = held.refused_at_once + live.reset;
    let summary = format!(
        "{attempts} connections from {} peers in {:.1} s: {} held (guest: {guest_open} open), \
         {refused} refused (guest: {peer_limit} at the per-peer limit, {full} by full \
         services, {memory} for low memory), {} ended",
        plan.peers, held.opened_in, live.alive, live.ended
    );
    if live.ended > 0 || live.alive as u64 != guest_open {
        return Err(format!("held connections do not add up: {summary}"));
    }
    if refused as u64 != peer_limit + full + memory {
        return Err(format!("refusals do not add up: {summary}"));
    }
    if plan.expect_refusals && (peer_limit == 0 || full == 0) {
        return Err(format!(
            "the flood did not reach both the per-peer and the service limits: {summary}"
        ));
    }
    if !plan.expect_refusals && refused > 0 {
        return Err(format!(
            "connections within every limit were refused: {summary}"
        ));
    }
    // Held: the guest still answers.
    let ping = host_ping(
        netns,
        &[
            "-q",
            "-n",
            "-c",
            "5",
            "-i",
            "0.2",
            "-W",
            "2",
            "192.168.100.2",
        ],
        ctx.deadline,
    )?;
    if ping.received == 0 {
        return Err(format!("no ping answer while the flood is held; {summary}"));
    }
    // A new connection is answered, or, when the flood took the guest's memory down to
    // its reserve, refused with a reset and counted as such.
    let memory_refusals = |session: &mut Session| {
        service_sum(
            &Counters::parse(&session.command("counters")?),
            "REFUSED_MEMORY",
        )
    };
    let before_fresh = memory_refusals(session)?;
    let fresh = match in_netns(netns.name(), || fresh_echo(FRESH_PEER)) {
        Ok(()) => "a new echo connection answered",
        Err(e) if memory_refusals(session)? > before_fresh => {
            eprintln!("xtask: {}: {e} (refused for low memory)", ctx.test.name);
            "a new echo connection refused for low memory"
        }
        Err(e) => return Err(format!("{e}; {summary}")),
    };

    // The peers close; the guest must let go of everything. A reset carries no
    // retransmission: when the tap's queue overflows under thousands of them at once, an
    // idle connection whose reset was lost stays open on the guest (as it would on any
    // host without keepalive). So the peers close gracefully where they can: a FIN is
    // retransmitted until acknowledged. Source connections still have the guest's data
    // unread and end with a reset; the guest's next zero-window probe learns it if that
    // reset is lost.
    let peak = live.alive as u64;
    let (source, others): (Vec<_>, Vec<_>) = held
        .streams
        .into_iter()
        .partition(|(port, _)| *port == SOURCE);
    drop(source);
    // In batches, so the FINs do not all arrive in one burst (a lost one waits for the
    // peer's retransmission timeout).
    for batch in others.chunks(CLOSE_BATCH) {
        for (_, s) in batch {
            let _ = s.shutdown(Shutdown::Write);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let settle = Instant::now();
    let heap_margin = peak * HEAP_MARGIN_KIB_PER_PEAK_CONN;
    let after = loop {
        let counters = Counters::parse(&session.command("counters")?);
        let mem = Mem::parse(&session.command("mem")?)?;
        let open = service_sum(&counters, "OPEN")?;
        if open == 0 && mem.heap_used <= base.heap_used + heap_margin {
            break mem;
        }
        if settle.elapsed() > SETTLE || Instant::now() >= ctx.deadline {
            let services: Vec<String> = counters
                .0
                .iter()
                .filter(|(k, _)| k.starts_with("SVC_") || k.starts_with("TCP_"))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            return Err(format!(
                "{SETTLE:?} after the peers closed: {open} connections still open, heap used \
                 {} KiB (baseline {} KiB, margin {heap_margin} KiB); {summary}; {}",
                mem.heap_used,
                base.heap_used,
                services.join(" ")
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let settled = settle.elapsed().as_secs_f64();
    drop(others);
    in_netns(netns.name(), || fresh_echo(peer(0))).map_err(|e| format!("after the flood: {e}"))?;
    session.send("poweroff\r")?;
    let per_conn = |kib: u64| kib as f64 * 1024.0 / peak.max(1) as f64;
    Ok(format!(
        "{summary}; held: ping {}/{} answered, {fresh}; heap used \
         {} -> {} -> {} KiB ({:.0} B per held connection), free memory {} -> {} -> {} KiB \
         ({:.0} B per held connection); all closed and heap back in {settled:.1} s",
        ping.received,
        ping.transmitted,
        base.heap_used,
        during.heap_used,
        after.heap_used,
        per_conn(during.heap_used.saturating_sub(base.heap_used)),
        base.free,
        during.free,
        after.free,
        per_conn(base.free.saturating_sub(during.free)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_go_beyond_or_stay_within_the_guest_limits() {
        // Mirrors kernel/src/net/tcp.rs (MAX_CONNECTIONS_PER_PEER) and
        // kernel/src/net/services/event_loop.rs (MAX_OPEN).
        const PER_PEER: usize = 1024;
        const PER_SERVICE: usize = 4096;
        let per_peer = |p: &Plan| p.waves.iter().map(|w| w.count).sum::<usize>();
        let per_service = |p: &Plan, port| {
            p.peers
                * p.waves
                    .iter()
                    .filter(|w| w.port == port)
                    .map(|w| w.count)
                    .sum::<usize>()
        };
        assert!(per_peer(&FLOOD) > PER_PEER);
        assert!(per_service(&FLOOD, DISCARD) > PER_SERVICE);
        for port in [ECHO, DISCARD, SOURCE, HTTP] {
            assert!(per_service(&FLOOD, port) > 0, "the flood skips port {port}");
        }
        assert!(per_peer(&C10K) <= PER_PEER);
        assert!([ECHO, DISCARD, HTTP]
            .iter()
            .all(|&p| per_service(&C10K, p) <= PER_SERVICE));
        assert!(C10K.peers * per_peer(&C10K) >= 10_000);
    }

    #[test]
    fn the_first_wave_comes_first_then_the_rest_interleave() {
        let waves = [
            Wave { port: 9, count: 2 },
            Wave { port: 7, count: 2 },
            Wave { port: 80, count: 1 },
        ];
        assert_eq!(order(&waves), [9, 9, 7, 80, 7]);
        assert_eq!(peer(0), Ipv4Addr::new(192, 168, 100, 1));
        assert_eq!(peer(5), Ipv4Addr::new(192, 168, 100, 15));
    }
}
