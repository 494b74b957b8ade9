//! The TCP tests (issue 6): the kernel's echo, discard, source and HTTP services driven by
//! ordinary host clients, many connections without a leak, connections in both directions
//! on one boot, and a stress run aimed at the seed's deadlock class.
//!
//! Tap tests reach the guest at 192.168.100.2 from the test's namespace; user-networking
//! tests reach it through QEMU's `127.0.0.1` forwards, which live in the test's private
//! namespace (see [`super::NetTest::fwds`]). Either way the clients run inside that
//! namespace ([`client::in_netns`]). Each check reports what it measured.

use super::answers::Counters;
use super::checks::{
    expect_address, host_part, net_up, no_fatal_line, quiescent_counters, run_bounded, rx_moved,
    tap_netns,
};
use super::client::{self, in_netns, EchoServer};
use super::host_flood::{self, Hammered, HAMMERS};
use super::NetContext;
use crate::net_mode::{NetMode, TAP_GUEST_CIDR, TAP_HOST_CIDR};
use crate::qemu::session::Session;
use crate::tools;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// The guest's service ports.
pub(super) const ECHO: u16 = 7;
pub(super) const DISCARD: u16 = 9;
pub(super) const SOURCE: u16 = 19;
pub(super) const HTTP: u16 = 80;
/// Echo size of each connection (the single one and each of the concurrent ones).
const ECHO_ONE: usize = 1 << 20;
const ECHO_CONNS: usize = 50;
/// Echo size of each cycle of the seed's proof.
const ECHO_EACH: usize = 64 * 1024;
/// Bulk transfer size of each leg (into discard, from source, through echo), over the
/// tap and over slirp alike.
const BULK: u64 = 200_000_000;
/// Sequential connections of the leak test, how long their leftovers may take to go, and
/// how much the heap may have grown and the free memory shrunk afterwards. One leaked
/// connection thread keeps its `Thread` (heap) and its 64 KiB stack (frames); the frame
/// margin is the page tables of the stack region, whose virtual addresses are never
/// reused: one 4 KiB table per 2 MiB, i.e. about 136 KiB per 1,000 threads ever started.
const SEQUENTIAL: u32 = 1000;
const SETTLE: Duration = Duration::from_secs(20);
const HEAP_MARGIN_KIB: u64 = 8;
const FREE_MARGIN_KIB: u64 = 192;
/// Back-to-back cycles of the both-ways test.
const CYCLES: u32 = 4;
/// Most TCP payload one frame carries from the host to the guest (1500-byte MTU minus the
/// IPv4 and TCP headers): 64 KiB echoed take at least 45 frames.
const MAX_SEGMENT: usize = 1460;
/// The stress run: seconds of `tcpstress` in the guest, host threads hammering port 7
/// meanwhile, and the flood ping's bounds.
const STRESS_SECONDS: u32 = 20;
const STRESS_PINGS: u32 = 20_000;
/// Host-side echo listener the guest connects out to (inside the namespace).
pub(super) const HOST_ECHO_PORT: u16 = 7777;

/// Boots to `NET-UP` (the tap address for tap tests) and returns the namespace's name.
pub(super) fn start<'a>(session: &mut Session, ctx: &NetContext<'a>) -> Result<&'a str, String> {
    let netns = tap_netns(ctx)?;
    let address = net_up(session)?;
    if ctx.test.mode == NetMode::Tap {
        expect_address(&address, TAP_GUEST_CIDR)?;
    }
    Ok(netns.name())
}

/// Where the client reaches guest port `port`: the guest's tap address, or the 127.0.0.1
/// forward of a user-networking test.
pub(super) fn service(ctx: &NetContext, port: u16) -> Result<SocketAddr, String> {
    match ctx.test.mode {
        NetMode::Tap => {
            let ip: Ipv4Addr = host_part(TAP_GUEST_CIDR)
                .parse()
                .map_err(|_| "bad tap address")?;
            Ok(SocketAddr::new(IpAddr::V4(ip), port))
        }
        _ => ctx
            .test
            .fwds
            .iter()
            .find(|f| f.1 == port)
            .map(|f| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), f.0))
            .ok_or_else(|| format!("{} has no forward to guest port {port}", ctx.test.name)),
    }
}

fn mb_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / 1e6 / seconds.max(1e-9)
}

/// `net-*-tcp-echo`: 1 MiB of seeded random data echoed on one connection, then 50
/// concurrent connections of 1 MiB each; every echo has the sent length and SHA-256.
pub fn echo(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = start(session, ctx)?;
    let addr = service(ctx, ECHO)?;
    let data = client::seeded_bytes(1, ECHO_ONE);
    let t = Instant::now();
    in_netns(netns, || client::echo(addr, &data, ctx.deadline))?;
    let one = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let total = in_netns(netns, || {
        client::echo_concurrent(addr, ECHO_CONNS, ECHO_ONE, ctx.deadline)
    })?;
    let many = t.elapsed().as_secs_f64();
    session.send("poweroff\r")?;
    Ok(format!(
        "1 MiB echoed in {one:.2} s ({:.2} MB/s each way); {ECHO_CONNS} concurrent \
         connections x 1 MiB in {many:.2} s ({:.2} MB/s each way), SHA-256 all equal",
        mb_per_s(ECHO_ONE as u64, one),
        mb_per_s(total, many)
    ))
}

/// `net-*-tcp-bulk*`: a bulk send into discard (the guest closes after our end of stream),
/// a bulk read from source (its SHA-256 that of the service's pattern) and a bulk echo
/// (what comes back has the SHA-256 of what went), [`BULK`] bytes each; reports the rates
/// and how the offloads carried the data in and out ([`expect_offloads`]); the NET_RX
/// invariants must hold afterwards. The row's kernel words say whether the offloads are
/// on (`offload=off` turns them off, GRO included).
pub fn bulk(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = start(session, ctx)?;
    let before = Counters::parse(&session.command("counters")?);
    let (discard, source) = (service(ctx, DISCARD)?, service(ctx, SOURCE)?);
    let sent = in_netns(netns, || client::discard(discard, BULK, ctx.deadline))?;
    let (read, digest) = in_netns(netns, || client::source(source, BULK, ctx.deadline))?;
    if digest != source_digest(BULK) {
        return Err(format!(
            "the {BULK} bytes read from source differ from its pattern (SHA-256)"
        ));
    }
    let data = client::seeded_bytes(15, BULK as usize);
    let echo = service(ctx, ECHO)?;
    let t = Instant::now();
    in_netns(netns, || client::echo(echo, &data, ctx.deadline))?;
    let echoed = t.elapsed().as_secs_f64();
    let (after, _) = rx_moved(session, &before, 1)?;
    let carried = Carried::since(&after, &before)?;
    expect_offloads(ctx, &carried)?;
    session.send("poweroff\r")?;
    let mb = BULK / 1_000_000;
    Ok(format!(
        "discard: {mb} MB in {sent:.1} s ({:.2} MB/s); source: {mb} MB in {read:.1} s \
         ({:.2} MB/s), SHA-256 of the pattern; echo: {mb} MB each way in {echoed:.1} s \
         ({:.2} MB/s), SHA-256 equal; {carried}",
        mb_per_s(BULK, sent),
        mb_per_s(BULK, read),
        mb_per_s(BULK, echoed)
    ))
}

/// The SHA-256 of the first `bytes` bytes of the source service's pattern (the 95
/// printable ASCII characters repeated).
fn source_digest(bytes: u64) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let period: Vec<u8> = (b' '..=b'~').collect();
    let block = period.repeat(64 * 1024 / period.len());
    let mut hash = Sha256::new();
    let mut left = bytes as usize;
    while left > 0 {
        let n = left.min(block.len());
        hash.update(&block[..n]);
        left -= n;
    }
    hash.finalize().into()
}

/// Whether the row's kernel words turn the offloads off.
pub(super) fn offloads_off(ctx: &NetContext) -> bool {
    ctx.test
        .cmdline
        .split_whitespace()
        .any(|w| w == "offload=off")
}

/// What the offloads did between two reads of `counters`: receive, transmit, GRO.
pub(super) struct Carried {
    rx: RxOffloads,
    tx: TxOffloads,
    gro_merged: u64,
    gro_flushed: u64,
}

impl Carried {
    pub(super) fn since(after: &Counters, before: &Counters) -> Result<Carried, String> {
        Ok(Carried {
            rx: RxOffloads::since(after, before)?,
            tx: TxOffloads::since(after, before)?,
            gro_merged: after.rise_since(before, "NET_RX_GRO_MERGED")?,
            gro_flushed: after.rise_since(before, "NET_RX_GRO_FLUSHED")?,
        })
    }
}

impl std::fmt::Display for Carried {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "in: {}; GRO: {} segments joined into {} ({} per joined segment); out: {}",
            self.rx,
            self.gro_merged,
            self.gro_flushed,
            (self.gro_merged + self.gro_flushed)
                .checked_div(self.gro_flushed)
                .unwrap_or(0),
            self.tx
        )
    }
}

/// What the offloads must have done in a bulk transfer. Off (`offload=off`): no GSO frame
/// received, no TSO frame sent, nothing joined. On, over the tap (whose host side segments
/// nothing once the guest takes GSO frames): data arrived in GSO frames with partial
/// checksums, unchecked, and left in TSO frames with checksums left to the device (the
/// host's kernel cuts and checksums them). On, over slirp (no `vnet_hdr`, so no device
/// offload): GRO joined segments.
pub(super) fn expect_offloads(ctx: &NetContext, c: &Carried) -> Result<(), String> {
    let wrong = match (offloads_off(ctx), ctx.test.mode) {
        (true, _) => c.rx.gso_frames != 0 || c.tx.tso_frames != 0 || c.gro_merged != 0,
        (false, NetMode::Tap) => {
            c.rx.gso_frames == 0
                || c.rx.partial == 0
                || c.tx.tso_frames == 0
                || c.tx.csum_offloaded == 0
        }
        (false, _) => c.gro_merged == 0,
    };
    if wrong {
        let offloads = if offloads_off(ctx) { "off" } else { "on" };
        return Err(format!(
            "with the offloads {offloads} over {:?} networking they carried the data wrongly \
             (see docs/xtask.md, net-*-tcp-bulk): {c}",
            ctx.test.mode
        ));
    }
    Ok(())
}

/// How received frames used the offloads between two reads of `counters`.
struct RxOffloads {
    gso_frames: u64,
    gso_bytes: u64,
    multi_buffer: u64,
    copied: u64,
    partial: u64,
    valid: u64,
    software: u64,
}

impl RxOffloads {
    fn since(after: &Counters, before: &Counters) -> Result<RxOffloads, String> {
        let d = |name: &str| after.rise_since(before, name);
        Ok(RxOffloads {
            gso_frames: d("NET_RX_GSO_FRAMES")?,
            gso_bytes: d("NET_RX_GSO_BYTES")?,
            multi_buffer: d("NET_RX_MULTI_BUFFER")?,
            copied: d("NET_RX_ASSEMBLED_COPIES")?,
            partial: d("NET_RX_CSUM_PARTIAL")?,
            valid: d("NET_RX_CSUM_VALID")?,
            software: d("NET_RX_CSUM_SOFTWARE")?,
        })
    }
}

impl std::fmt::Display for RxOffloads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} GSO frames of {} bytes on average, {} in several buffers ({} copied), \
             checksums: {} partial, {} valid, {} verified",
            self.gso_frames,
            self.gso_bytes.checked_div(self.gso_frames).unwrap_or(0),
            self.multi_buffer,
            self.copied,
            self.partial,
            self.valid,
            self.software
        )
    }
}

/// How sent frames used the offloads between two reads of `counters`.
struct TxOffloads {
    packets: u64,
    tso_frames: u64,
    tso_segments: u64,
    csum_offloaded: u64,
}

impl TxOffloads {
    fn since(after: &Counters, before: &Counters) -> Result<TxOffloads, String> {
        let d = |name: &str| after.rise_since(before, name);
        Ok(TxOffloads {
            packets: d("NET_TX_PACKETS")?,
            tso_frames: d("NET_TX_TSO_FRAMES")?,
            tso_segments: d("NET_TX_TSO_SEGMENTS")?,
            csum_offloaded: d("NET_TX_CSUM_OFFLOADED")?,
        })
    }
}

impl std::fmt::Display for TxOffloads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} frames, {} of them TSO carrying {} segments ({} per frame), {} checksums \
             left to the device",
            self.packets,
            self.tso_frames,
            self.tso_segments,
            self.tso_segments.checked_div(self.tso_frames).unwrap_or(0),
            self.csum_offloaded
        )
    }
}

/// The `curl` binary (Debian package `curl`) and the Python interpreter.
pub const CURL: &str = "curl";
pub const PYTHON: &str = "python3";

/// Four requests on one keep-alive connection with Python's `http.client`; prints one
/// line per request (`path status has-counter`), then the number of local ports used.
const PYTHON_CLIENT: &str = r#"
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=20)
ports = set()
for path in ["/", "/status", "/missing", "/status"]:
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode("utf-8", "replace")
    ports.add(c.sock.getsockname()[1])
    print(path, r.status, "NET_RX_SOFTIRQ_ENTRY_TOTAL=" in body, "Halyard" in body)
print("connections", len(ports))
"#;

/// `net-*-http`: `curl` fetches `/`, `/status` and `/` again over one kept-alive
/// connection; Python's `http.client` does four requests on one connection (a 404 among
/// them). `/status` must carry the NET_RX counters.
pub fn http(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = tap_netns(ctx)?;
    tools::ensure(&[CURL, PYTHON])?;
    start(session, ctx)?;
    let addr = service(ctx, HTTP)?;
    let url = |path: &str| format!("http://{addr}{path}");
    let mut curl = netns.command(CURL);
    curl.args([
        "-sS",
        "--max-time",
        "30",
        "-w",
        "\nCURL %{http_code} %{num_connects}\n",
    ])
    .args([url("/"), url("/status"), url("/")]);
    let t = Instant::now();
    let out = run_bounded(curl, ctx.deadline)?;
    let curl_time = t.elapsed().as_secs_f64();
    let results: Vec<(&str, &str)> = out
        .lines()
        .filter_map(|l| l.strip_prefix("CURL "))
        .filter_map(|l| l.split_once(' '))
        .collect();
    let connects: u32 = results.iter().filter_map(|r| r.1.parse::<u32>().ok()).sum();
    if results.len() != 3 || results.iter().any(|r| r.0 != "200") || connects != 1 {
        return Err(format!(
            "curl: expected 3 answers 200 on one connection, got {results:?}:\n{out}"
        ));
    }
    if !out.contains("NET_RX_SOFTIRQ_ENTRY_TOTAL=") || !out.contains("Halyard") {
        return Err(format!(
            "curl: the page or /status lacks its content:\n{out}"
        ));
    }
    let mut python = netns.command(PYTHON);
    python.args([
        "-c",
        PYTHON_CLIENT,
        &addr.ip().to_string(),
        &addr.port().to_string(),
    ]);
    let out = run_bounded(python, ctx.deadline)?;
    let expected = "/ 200 False True\n/status 200 True False\n/missing 404 False False\n\
                    /status 200 True False\nconnections 1\n";
    if out != expected {
        return Err(format!(
            "python http.client: expected\n{expected}got\n{out}"
        ));
    }
    session.send("poweroff\r")?;
    Ok(format!(
        "curl: 3 requests on 1 connection in {curl_time:.2} s; python http.client: 4 requests \
         on 1 connection; /status has the NET_RX counters"
    ))
}

/// What `mem` says, in KiB: heap used (`heap: N KiB used of M KiB`) and free physical
/// memory (`frames: F free of T (K KiB free)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mem {
    pub heap_used: u64,
    pub free: u64,
}

impl Mem {
    pub(super) fn parse(lines: &[String]) -> Result<Mem, String> {
        let heap_used = lines.iter().find_map(|l| {
            l.trim()
                .strip_prefix("heap: ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        });
        let free = lines.iter().find_map(|l| {
            let rest = l.trim().strip_prefix("frames: ")?;
            rest.split_once('(')?.1.split(' ').next()?.parse().ok()
        });
        match (heap_used, free) {
            (Some(heap_used), Some(free)) => Ok(Mem { heap_used, free }),
            _ => Err(format!("`mem` lacks the heap or frames line: {lines:?}")),
        }
    }
}

/// What `netstat` says: the engine's connection count and the connections still open in
/// a state that means someone holds them (ESTABLISHED, CLOSE-WAIT).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Netstat {
    connections: u64,
    open: Vec<String>,
}

impl Netstat {
    fn parse(lines: &[String]) -> Result<Netstat, String> {
        let connections = lines
            .iter()
            .find_map(|l| {
                l.trim()
                    .strip_suffix(
                        " connections in the engine (including those finishing after close)",
                    )?
                    .parse()
                    .ok()
            })
            .ok_or_else(|| format!("no connection count in `netstat`: {lines:?}"))?;
        let open = lines
            .iter()
            .filter(|l| {
                l.starts_with("tcp ") && (l.contains(" Established ") || l.contains(" CloseWait "))
            })
            .cloned()
            .collect();
        Ok(Netstat { connections, open })
    }
}

/// `net-*-tcp-conns`: 1,000 sequential connect / 16-byte echo / close. The host closes
/// first, so TIME-WAIT (2·MSL = 60 s) is the host's and the guest's side ends in LAST-ACK
/// → CLOSED: within [`SETTLE`] the engine must be back to its connection count from
/// before, with no ESTABLISHED or CLOSE-WAIT leftovers, and heap use and free memory back
/// within their margins (threads and their stacks freed).
pub fn sequential_connections(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = start(session, ctx)?;
    let addr = service(ctx, ECHO)?;
    // One connection first, so one-time allocations (thread structures, tables) are in
    // the baseline.
    in_netns(netns, || client::sequential(addr, 1, ctx.deadline))?;
    std::thread::sleep(Duration::from_millis(500));
    let base_stat = Netstat::parse(&session.command("netstat")?)?;
    let base = Mem::parse(&session.command("mem")?)?;
    let took = in_netns(netns, || client::sequential(addr, SEQUENTIAL, ctx.deadline))?;
    let settle = Instant::now();
    let (after, mem) = loop {
        let stat = Netstat::parse(&session.command("netstat")?)?;
        let mem = Mem::parse(&session.command("mem")?)?;
        let closed = stat.connections <= base_stat.connections && stat.open.is_empty();
        let freed = mem.heap_used <= base.heap_used + HEAP_MARGIN_KIB
            && mem.free + FREE_MARGIN_KIB >= base.free;
        if closed && freed {
            break (stat, mem);
        }
        if settle.elapsed() > SETTLE {
            let threads = session.command("threads")?.join("\n");
            return Err(format!(
                "{SETTLE:?} after {SEQUENTIAL} closed connections: the engine has {} \
                 connections (before: {}), open: {:?}; heap used {} -> {} KiB, free {} -> {} KiB; \
                 threads:\n{threads}",
                stat.connections,
                base_stat.connections,
                stat.open,
                base.heap_used,
                mem.heap_used,
                base.free,
                mem.free
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let settled = settle.elapsed().as_secs_f64();
    session.send("poweroff\r")?;
    Ok(format!(
        "{SEQUENTIAL} connections in {took:.1} s ({:.0} conn/s); engine back to {} connections \
         in {settled:.1} s; heap used {} -> {} KiB, free {} -> {} KiB",
        f64::from(SEQUENTIAL) / took,
        after.connections,
        base.heap_used,
        mem.heap_used,
        base.free,
        mem.free
    ))
}

/// The host's tap address (where the namespace's echo listener is).
pub(super) fn host_echo_addr() -> Result<SocketAddr, String> {
    let ip: Ipv4Addr = host_part(TAP_HOST_CIDR)
        .parse()
        .map_err(|_| "bad tap address")?;
    Ok(SocketAddr::new(IpAddr::V4(ip), HOST_ECHO_PORT))
}

/// `nc HOST PORT TEXT` in the guest against the namespace's echo listener: the reply must
/// be TEXT, and the summary `sent N bytes, received N bytes ... (peer closed)`.
fn guest_nc(session: &mut Session, text: &str) -> Result<(), String> {
    let host = host_part(TAP_HOST_CIDR);
    let answer = session.command(&format!("nc {host} {HOST_ECHO_PORT} {text}"))?;
    let n = text.len() + 1;
    let summary = format!("nc: sent {n} bytes, received {n} bytes in ");
    let echoed = answer.iter().any(|l| l.trim() == text);
    let complete = answer
        .iter()
        .any(|l| l.starts_with(&summary) && l.ends_with("(peer closed)"));
    if echoed && complete {
        Ok(())
    } else {
        Err(format!(
            "`nc {host} {HOST_ECHO_PORT} {text}` answered: {answer:?}"
        ))
    }
}

/// `net-tap-tcp-cycles`: on one boot, four cycles of the host connecting in (a 64 KiB
/// echo) and the guest connecting out (`nc` to an echo listener in the namespace), then
/// the NET_RX invariants in `counters`.
pub fn both_ways(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = start(session, ctx)?;
    let before = Counters::parse(&session.command("counters")?);
    let server = EchoServer::start(netns, host_echo_addr()?, ctx.deadline)?;
    let addr = service(ctx, ECHO)?;
    for cycle in 0..CYCLES {
        let data = client::seeded_bytes(u64::from(cycle) + 100, ECHO_EACH);
        in_netns(netns, || client::echo(addr, &data, ctx.deadline))
            .map_err(|e| format!("cycle {cycle}, host to guest: {e}"))?;
        guest_nc(session, &format!("halyard-cycle-{cycle}-{}", cycle * 7919))
            .map_err(|e| format!("cycle {cycle}, guest to host: {e}"))?;
    }
    // Each cycle's 64 KiB reached the guest in full-size segments at best, and each `nc`
    // got its echo back in at least one frame.
    let min_packets = u64::from(CYCLES) * (ECHO_EACH.div_ceil(MAX_SEGMENT) as u64 + 1);
    let (counters, moved) = rx_moved(session, &before, min_packets)?;
    let accepted = server.accepted();
    drop(server);
    session.send("poweroff\r")?;
    Ok(format!(
        "{CYCLES} cycles each way ({accepted} guest connections accepted); {moved}; {}",
        rx_summary(&counters)?
    ))
}

pub(super) fn rx_summary(c: &Counters) -> Result<String, String> {
    Ok(format!(
        "NET_RX entries = exits = {}, used idx = last used = {}",
        c.get("NET_RX_SOFTIRQ_ENTRY_TOTAL")?,
        c.get("NET_RX_USED_IDX")?
    ))
}

/// The last line of `tcpstress`: `tcpstress: N connections, M failures, W of T workers
/// failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StressTotals {
    connections: u64,
    failures: u64,
    failed_workers: u64,
    workers: u64,
}

impl StressTotals {
    fn parse(lines: &[String]) -> Option<StressTotals> {
        lines.iter().find_map(|l| {
            let rest = l.trim().strip_prefix("tcpstress: ")?;
            let (n, rest) = rest.split_once(" connections, ")?;
            let (m, rest) = rest.split_once(" failures, ")?;
            let (w, rest) = rest.split_once(" of ")?;
            let t = rest.strip_suffix(" workers failed")?;
            Some(StressTotals {
                connections: n.parse().ok()?,
                failures: m.parse().ok()?,
                failed_workers: w.parse().ok()?,
                workers: t.parse().ok()?,
            })
        })
    }
}

/// The stress run's connection loops: every guest worker (one per CPU, `smp` of them) made
/// connections with failures within 1% of them (under the flood a connection may time
/// out or meet a full queue; more means the stack loses connections), and so did the
/// host's threads ([`Hammered::held`]).
fn stress_loops_held(guest: &StressTotals, smp: u32, host: &Hammered) -> Result<(), String> {
    if guest.failed_workers != 0 || guest.workers != u64::from(smp) {
        return Err(format!(
            "failed workers: {} of {} in the guest ({smp} CPUs)",
            guest.failed_workers, guest.workers
        ));
    }
    if guest.connections == 0 || guest.failures * 100 > guest.connections {
        return Err(format!(
            "tcpstress: {} connections, {} failures",
            guest.connections, guest.failures
        ));
    }
    host.held()
}

/// Parses `sockcheck: N checks passed`.
fn sockcheck_passed(lines: &[String]) -> Option<u32> {
    lines.iter().find_map(|l| {
        let n = l
            .trim()
            .strip_prefix("sockcheck: ")?
            .strip_suffix(" checks passed")?;
        n.parse().ok()
    })
}

/// `net-tap-socket-api`: the guest's `sockcheck` against the namespace's echo listener
/// (non-blocking calls, poll, timeouts, buffer limits, keepalive, linger, address
/// reuse): every check must pass, then the NET_RX invariants must hold.
pub fn socket_api(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = start(session, ctx)?;
    let server = EchoServer::start(netns, host_echo_addr()?, ctx.deadline)?;
    let host = host_part(TAP_HOST_CIDR);
    let answer = session.command(&format!("sockcheck {host} {HOST_ECHO_PORT}"))?;
    if let Some(failed) = answer.iter().find(|l| l.contains("FAIL")) {
        return Err(failed.trim().to_string());
    }
    let passed = sockcheck_passed(&answer)
        .ok_or_else(|| format!("no `sockcheck: N checks passed` line in {answer:?}"))?;
    let counters = quiescent_counters(session)?;
    drop(server);
    session.send("poweroff\r")?;
    Ok(format!(
        "{passed} socket API checks passed; {}",
        rx_summary(&counters)?
    ))
}

/// `net-tap-tcp-stress`: `tcpstress` in the guest (a thread per CPU looping connect /
/// echo / close against the namespace's listener) while the host hammers the guest's echo
/// port from several threads and flood-pings it. Afterwards the monitor must answer, the
/// NET_RX invariants hold with the counters moved by at least the traffic's frames, the log
/// has no lockdep report, panic or watchdog line, no guest worker or host thread failed,
/// and both connection loops succeeded with at most 1% failures.
pub fn stress(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    start(session, ctx)?;
    let netns = tap_netns(ctx)?;
    let before = Counters::parse(&session.command("counters")?);
    let server = EchoServer::start(netns.name(), host_echo_addr()?, ctx.deadline)?;
    let addr = service(ctx, ECHO)?;
    let plan = host_flood::Plan {
        hammer: Duration::from_secs(u64::from(STRESS_SECONDS) + 2),
        ping_seconds: STRESS_SECONDS,
        pings: STRESS_PINGS,
    };
    let stop = AtomicBool::new(false);
    let host = host_part(TAP_HOST_CIDR);
    let t = Instant::now();
    let (answer, (hammered, ping)) = std::thread::scope(|s| {
        let flood = host_flood::start(s, netns, addr, &plan, &stop, ctx.deadline);
        let answer = session.command(&format!(
            "tcpstress {host} {HOST_ECHO_PORT} {STRESS_SECONDS}"
        ));
        (answer, flood.finish())
    });
    let took = t.elapsed().as_secs_f64();
    let answer = answer?;
    let loops = StressTotals::parse(&answer).ok_or_else(|| {
        format!("no `tcpstress: N connections, M failures, W of T workers failed` line: {answer:?}")
    })?;
    let ping = ping?;
    let uptime = session.command("uptime")?;
    if uptime.is_empty() {
        return Err("the monitor did not answer `uptime` after the stress".into());
    }
    // Every completed connection and every answered ping brought the guest a frame at least.
    let min_packets = ping.received + hammered.connections + loops.connections;
    let (counters, moved) = rx_moved(session, &before, min_packets)?;
    no_fatal_line(ctx.log)?;
    stress_loops_held(&loops, ctx.test.smp, &hammered)?;
    if ping.received == 0 {
        return Err(format!("the flood ping got no reply: {}", ping.describe()));
    }
    let accepted = server.accepted();
    drop(server);
    session.send("poweroff\r")?;
    Ok(format!(
        "{took:.1} s: guest tcpstress {} connections ({} failed, {} of {} workers failed, \
         {accepted} accepted by the host), host -> guest echo {} connections ({} failed, {} \
         of {HAMMERS} threads failed), flood ping {}; {moved}; {}",
        loops.connections,
        loops.failures,
        loops.failed_workers,
        loops.workers,
        hammered.connections,
        hammered.failures,
        hammered.failed_threads,
        ping.describe(),
        rx_summary(&counters)?
    ))
}

#[cfg(test)]
mod tests {
    use super::super::answers::tests::lines;
    use super::*;

    #[test]
    fn monitor_answers_parse() {
        assert_eq!(
            Mem::parse(&lines(
                "frames: 32056 free of 65022 (128224 KiB free)\nheap: 1234 KiB used of 8192 KiB"
            )),
            Ok(Mem {
                heap_used: 1234,
                free: 128224
            })
        );
        assert!(Mem::parse(&lines("frames: 1 free of 2 (4 KiB free)\nheap: lots")).is_err());
        let netstat = lines(
            "proto     local                 remote                state         recv-q\n\
             tcp       192.168.100.2:7       192.168.100.1:4000    Established        0\n\
             tcp       192.168.100.2:7       192.168.100.1:4001    LastAck            0\n\
             2 connections in the engine (including those finishing after close)",
        );
        let stat = Netstat::parse(&netstat).unwrap();
        assert_eq!(stat.connections, 2);
        assert_eq!(stat.open.len(), 1);
        assert!(Netstat::parse(&lines("nothing")).is_err());
        assert_eq!(
            StressTotals::parse(&lines(
                "cpu0: 5 connections, 0 failures\ncpu1: 0 connections, 1 failures\n\
                 tcpstress: 5 connections, 1 failures, 1 of 2 workers failed"
            )),
            Some(StressTotals {
                connections: 5,
                failures: 1,
                failed_workers: 1,
                workers: 2
            })
        );
        for old_or_bad in [
            "tcpstress: 10 connections, 1 failures",
            "tcpstress: x connections, 1 failures, 0 of 2 workers failed",
            "tcpstress: 10 connections, 1 failures, 0 of workers failed",
        ] {
            assert_eq!(
                StressTotals::parse(&lines(old_or_bad)),
                None,
                "{old_or_bad}"
            );
        }
        assert_eq!(
            sockcheck_passed(&lines(
                "sockcheck: poll-timeout ok\nsockcheck: 13 checks passed"
            )),
            Some(13)
        );
        assert_eq!(
            sockcheck_passed(&lines("sockcheck: FAIL keepalive: 0 probes")),
            None
        );
    }

    #[test]
    fn no_stress_worker_may_fail() {
        let guest = StressTotals {
            connections: 4000,
            failures: 3,
            failed_workers: 0,
            workers: 2,
        };
        let mut host = Hammered::default();
        for _ in 0..HAMMERS {
            host.add(Ok((1000, 2)));
        }
        assert_eq!(stress_loops_held(&guest, 2, &host), Ok(()));
        // One guest CPU's loop got nowhere, hidden in the totals before.
        let stuck = StressTotals {
            failed_workers: 1,
            ..guest
        };
        assert!(stress_loops_held(&stuck, 2, &host)
            .unwrap_err()
            .contains("1 of 2 in the guest"));
        // A guest that ran fewer workers than it has CPUs.
        let one = StressTotals {
            workers: 1,
            ..guest
        };
        assert!(stress_loops_held(&one, 2, &host).is_err());
        // A host thread that failed.
        let mut lost = host;
        lost.add(Err("setns: denied".to_string()));
        assert!(stress_loops_held(&guest, 2, &lost)
            .unwrap_err()
            .contains("1 of 4 host threads"));
        // Failures above 1% of the successes.
        let lossy = StressTotals {
            failures: 41,
            ..guest
        };
        assert!(stress_loops_held(&lossy, 2, &host)
            .unwrap_err()
            .contains("41 failures"));
    }
}
