//! `net-tap-user-stress`: the seed's deadlock class (NET_RX on a CPU spinning on a socket
//! lock a thread of its own CPU holds, breenix PR 400) from user space, over tap with two
//! CPUs. The guest boots to busybox's shell; `sockstress` (user/sockstress) runs there for
//! [`SECONDS`]: worker processes and threads on every CPU loop blocking and epoll-driven
//! TCP echoes to its own epoll server over `lo` and to the host's echo listener in the
//! namespace (192.168.100.1:[`HOST_ECHO_PORT`]), `AF_UNIX` socketpairs, eventfds and
//! timerfds, and racer processes close or shut down sockets under a thread blocked in
//! recv. Meanwhile the host floods the program's server (port [`SERVE_PORT`]) with short
//! connections and the guest with `ping -f` ([`host_flood`]).
//!
//! Pass: `sockstress` exits 0 (no lost wakeup, no wrong answer, every kind made progress,
//! every process ended normally) with its counts, its server took connections from the
//! host (at least one per completed host connection), the host's threads held their
//! connections; the serial log has no validator report, panic, watchdog or exception
//! line; the NET_RX counters are balanced and moved by at least one packet per answered
//! ping and completed host connection ([`shell_rx_moved`]).

use super::checks::{no_fatal_line, shell_counters, shell_rx_moved, tap_netns};
use super::client::EchoServer;
use super::host_flood::{self, Plan};
use super::tcp::{host_echo_addr, rx_summary, Mem, HOST_ECHO_PORT};
use super::NetContext;
use crate::net_mode::{TAP_GUEST_CIDR, TAP_HOST_CIDR};
use crate::qemu::session::Session;
use crate::suite::user::{boot_to_shell, command_output, run, start_command, status_line};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// Where the test archive puts the program (`test_cmd`'s initramfs step).
pub const SOCKSTRESS: &str = "/opt/net/sockstress";
/// How long the program's loops run.
const SECONDS: u32 = 15;
/// The program's echo server, which the host floods.
const SERVE_PORT: u16 = 7100;
/// The host's flood: it ends before the program's loops, whose server stops with them.
/// The run was cut to 8 s for a while: at the rate the virtio-net offloads allow (about
/// 22,000 operations in 15 s) 15 s filled the 256 MiB guest. Every connection it closed
/// kept its whole socket for the 60 s of TIME-WAIT (now a compact record of the endpoint,
/// `halyard_tcp`'s `time_wait.rs`), and, most of the memory, every exited thread kept its
/// 64 KiB kernel stack until the timeout of its last timed wait had passed (sleep timers
/// now refer to their thread weakly). The test reports the heap and free memory before
/// and after, with the sockets, engine connections and TIME-WAIT records left.
const FLOOD: Plan = Plan {
    hammer: Duration::from_secs(12),
    ping_seconds: 12,
    pings: 15_000,
};

/// One `sockstress: kind NAME key=value ...` line: the counts by key.
#[derive(Debug, PartialEq)]
struct KindCounts {
    name: String,
    counts: BTreeMap<String, u64>,
}

impl KindCounts {
    fn parse(line: &str) -> Option<KindCounts> {
        let rest = line.trim().strip_prefix("sockstress: kind ")?;
        let mut words = rest.split_whitespace();
        let name = words.next()?.to_string();
        let counts = words
            .filter_map(|w| {
                let (k, v) = w.split_once('=')?;
                Some((k.to_string(), v.parse().ok()?))
            })
            .collect();
        Some(KindCounts { name, counts })
    }

    fn get(&self, key: &str) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
    }
}

/// What the program printed at the end.
#[derive(Debug)]
struct Report {
    kinds: Vec<KindCounts>,
    /// `W s, N operations, ...` of `sockstress: wall W s, N operations, ...`.
    totals: String,
}

impl Report {
    fn parse(lines: &[String]) -> Result<Report, String> {
        let kinds: Vec<KindCounts> = lines.iter().filter_map(|l| KindCounts::parse(l)).collect();
        let totals = lines
            .iter()
            .find_map(|l| l.trim().strip_prefix("sockstress: wall "))
            .ok_or("no `sockstress: wall W s, ...` line")?
            .to_string();
        let wall = totals.split_once(" s,").map(|(w, _)| w.parse::<f64>());
        if !matches!(wall, Some(Ok(_))) {
            return Err(format!("bad totals line: {totals}"));
        }
        if kinds.is_empty() {
            return Err("no `sockstress: kind ...` lines".into());
        }
        Ok(Report { kinds, totals })
    }

    fn kind(&self, name: &str) -> Result<&KindCounts, String> {
        self.kinds
            .iter()
            .find(|k| k.name == name)
            .ok_or_else(|| format!("no counts for kind {name}"))
    }

    /// `NAME OPS` for each kind, with the timeouts, errors and extra counts that are not 0.
    fn figures(&self) -> String {
        let kinds: Vec<String> = self
            .kinds
            .iter()
            .map(|k| {
                let others: Vec<String> = k
                    .counts
                    .iter()
                    .filter(|(key, &v)| !matches!(key.as_str(), "ops" | "lost" | "wrong") && v > 0)
                    .map(|(key, v)| format!("{key} {v}"))
                    .collect();
                if others.is_empty() {
                    format!("{} {}", k.name, k.get("ops"))
                } else {
                    format!("{} {} ({})", k.name, k.get("ops"), others.join(", "))
                }
            })
            .collect();
        kinds.join(", ")
    }
}

/// The program's command line.
fn command() -> String {
    format!(
        "{SOCKSTRESS} --seconds {SECONDS} --serve {SERVE_PORT} --host {}:{HOST_ECHO_PORT}",
        super::checks::host_part(TAP_HOST_CIDR)
    )
}

/// The check.
pub fn user_stress(s: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = tap_netns(ctx)?;
    let server = EchoServer::start(netns.name(), host_echo_addr()?, ctx.deadline)?;
    boot_to_shell(s)?;
    let before = shell_counters(s)?;
    let mem_before = shell_mem(s)?;
    let command = command();
    let target: SocketAddr = format!("{}:{SERVE_PORT}", super::checks::host_part(TAP_GUEST_CIDR))
        .parse()
        .map_err(|e| format!("the guest's address: {e}"))?;
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    start_command(s, &command)?;
    let first = s.expect_line("sockstress's first line", |l| {
        l.contains("sockstress: ") || status_line(l).is_some()
    })?;
    if !first.contains(" serving ") {
        return Err(format!("sockstress did not start: {first}"));
    }
    let (output, (hammered, ping)) = std::thread::scope(|scope| {
        let flood = host_flood::start(scope, netns, target, &FLOOD, &stop, ctx.deadline);
        (command_output(s, &command), flood.finish())
    });
    let took = start.elapsed().as_secs_f64();
    let (lines, status) = output?;
    let accepted_by_host = server.accepted();
    drop(server);
    let show = || lines.join("\n");
    if status != 0 || !lines.iter().any(|l| l.trim() == "sockstress: PASS") {
        return Err(format!(
            "sockstress ended with status {status}:\n{first}\n{}",
            show()
        ));
    }
    let report = Report::parse(&lines).map_err(|e| format!("{e}:\n{}", show()))?;
    let ping = ping?;
    if ping.received == 0 {
        return Err(format!("the flood ping got no reply: {}", ping.describe()));
    }
    hammered.held()?;
    let remote = report.kind("server")?.get("remote");
    if remote < hammered.connections {
        return Err(format!(
            "sockstress's server counted {remote} connections from the host, the host \
             completed {}",
            hammered.connections
        ));
    }
    let host_ops = report.kind("host-tcp")?.get("ops") + report.kind("host-epoll")?.get("ops");
    no_fatal_line(ctx.log)?;
    // Each answered ping and each completed connection from or to the host brought the
    // guest a frame at least.
    let min_packets = ping.received + hammered.connections + host_ops;
    let (counters, moved) = shell_rx_moved(s, &before, min_packets)?;
    let mem_after = shell_mem(s)?;
    s.send("poweroff\r")?;
    Ok(format!(
        "{took:.1} s: sockstress wall {}; {}; host flood: {} connections to its \
         server ({} failed), ping {}; the host accepted {accepted_by_host} of the guest's \
         connections; {moved}; {}; heap {} -> {} KiB, free memory {} -> {} KiB with {} \
         sockets, {} engine connections and {} TIME-WAIT records left",
        report.totals,
        report.figures(),
        hammered.connections,
        hammered.failures,
        ping.describe(),
        rx_summary(&counters)?,
        mem_before.heap_used,
        mem_after.heap_used,
        mem_before.free,
        mem_after.free,
        counters.get("TCP_SOCKETS")?,
        counters.get("TCP_CONNECTIONS")?,
        counters.get("TCP_TIME_WAIT")?,
    ))
}

/// The kernel's `mem` view at the shell (`/proc/halyard/mem`).
fn shell_mem(s: &mut Session) -> Result<Mem, String> {
    let (lines, status) = run(s, "cat /proc/halyard/mem")?;
    if status != 0 {
        return Err(format!("`cat /proc/halyard/mem`: status {status}"));
    }
    Mem::parse(&lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::user::NET_DIR;

    /// The end of a host run of `sockstress --seconds 5 --host 127.0.0.1:7777`.
    const TRANSCRIPT: &str = "\
sockstress: kind lo-tcp ops=3156 timeouts=0 errors=0 lost=0 wrong=0
sockstress: kind host-tcp ops=3157 timeouts=1 errors=2 lost=0 wrong=0 errnos=ECONNRESET:2
sockstress: kind host-epoll ops=3156 timeouts=0 errors=0 lost=0 wrong=0
sockstress: kind close-tcp ops=415 timeouts=0 errors=0 lost=0 wrong=0 closed-first=3
sockstress: kind server ops=6313 timeouts=0 errors=0 lost=0 wrong=0 remote=40
sockstress: wall 5.0 s, 16197 operations, 1 timeouts, 2 errors, 0 lost, 0 wrong
sockstress: PASS";

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn the_report_is_parsed_and_summed_up() {
        let report = Report::parse(&lines(TRANSCRIPT)).unwrap();
        assert!(report.totals.starts_with("5.0 s, 16197 operations"));
        assert_eq!(report.kinds.len(), 5);
        assert_eq!(report.kind("server").unwrap().get("remote"), 40);
        assert_eq!(report.kind("host-tcp").unwrap().get("errors"), 2);
        assert!(report.kind("timerfd").is_err());
        assert_eq!(
            report.figures(),
            "lo-tcp 3156, host-tcp 3157 (errors 2, timeouts 1), host-epoll 3156, close-tcp 415 \
             (closed-first 3), server 6313 (remote 40)"
        );
        assert!(Report::parse(&lines("sockstress: PASS")).is_err());
        assert!(Report::parse(&lines(&TRANSCRIPT.replace("wall 5.0 s", "wall x s"))).is_err());
    }

    #[test]
    fn the_program_is_in_the_net_directory_and_reaches_the_namespace() {
        assert_eq!(SOCKSTRESS.rsplit_once('/').map(|p| p.0), Some(NET_DIR));
        assert_eq!(
            command(),
            "/opt/net/sockstress --seconds 15 --serve 7100 --host 192.168.100.1:7777"
        );
        assert!(FLOOD.hammer < Duration::from_secs(u64::from(SECONDS)));
    }
}
