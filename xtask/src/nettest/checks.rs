//! The network tests' checks: boot until `NET-UP`, drive traffic from the host or the
//! monitor, read the guest's counters, and power off. Each returns a one-line report of what
//! it measured.

use super::answers::{net_up_address, Counters, GuestPing, PingSummary, RxMoved};
use super::garbage::{self, Defect, Endpoints, DEFECTS};
use super::inject;
use super::NetContext;
use crate::net_mode::{GUEST_MAC, TAP_GUEST_CIDR, TAP_HOST_CIDR, TAP_NAME};
use crate::netns::Netns;
use crate::qemu::session::Session;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The host's ping (iputils).
pub const PING: &str = "ping";
/// Echo requests of `net-tap-ping`; none may be lost.
const PINGS: u32 = 1000;
/// Flood pings of `net-tap-flood`, and its time bound in seconds.
const FLOOD: u32 = 20_000;
const FLOOD_SECONDS: u32 = 20;
/// Echo requests the flood keeps in flight (`ping -l`, root only).
const FLOOD_PRELOAD: u32 = 16;
/// Share of the flood's echo requests that must be answered. Measured over 16 runs (10 of
/// them under `--load`): 0 to 15 of ~20,010 unanswered, which are requests still in flight
/// (`-l 16`) when ping has its 20,000 replies and stops. 99% (200 unanswered) leaves a
/// margin of 13 times that, while any real loss, let alone 1 reply in 20,000, fails.
const FLOOD_MIN_REPLIES_PERCENT: u64 = 99;
/// Malformed frames of `net-tap-garbage`, and their seed (replay a failure with it).
const GARBAGE_FRAMES: usize = 10_000;
const GARBAGE_SEED: u64 = 0x4841_4c59_4152_4431;
/// Frames of one garbage kind the tap may drop before the guest sees them (its queue was
/// full), in percent of the kind's frames; those are not expected in the guest's counters.
const MAX_TAP_DROPPED_PERCENT: u64 = 1;
/// Pings after the garbage that must all be answered.
const PINGS_AFTER_GARBAGE: u32 = 20;
/// How often `counters` is read before the RX invariants are declared broken: a frame may
/// be in flight the moment the first read happens, a stuck state persists.
const QUIESCENT_TRIES: u32 = 5;

/// `net-tap-ping`: 1,000 pings from the host side of the tap, 2 ms apart, none lost.
pub fn tap_ping(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = tap_netns(ctx)?;
    expect_address(&net_up(session)?, TAP_GUEST_CIDR)?;
    let guest = host_part(TAP_GUEST_CIDR);
    let count = PINGS.to_string();
    let args = [
        "-q", "-n", "-c", &count, "-i", "0.002", "-W", "1", "-w", "60", guest,
    ];
    let summary = host_ping(netns, &args, ctx.deadline)?;
    if summary.transmitted != u64::from(PINGS) || summary.received != summary.transmitted {
        return Err(format!(
            "ping from the host lost replies: {}",
            summary.describe()
        ));
    }
    session.send("poweroff\r")?;
    Ok(summary.describe())
}

/// `net-tap-flood`: a bounded flood ping that must be answered (but for
/// [`FLOOD_MIN_REPLIES_PERCENT`]), then the NET_RX invariants in `counters`, with the
/// counters moved by at least the answered requests through NET_RX; reports interrupts per
/// received packet.
pub fn tap_flood(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = tap_netns(ctx)?;
    expect_address(&net_up(session)?, TAP_GUEST_CIDR)?;
    let before = Counters::parse(&session.command("counters")?);
    let (count, seconds) = (FLOOD.to_string(), FLOOD_SECONDS.to_string());
    let guest = host_part(TAP_GUEST_CIDR);
    // Preload: that many requests are kept in flight, so frames arrive in bursts and one
    // interrupt can be followed by a poll that takes several (NAPI's point).
    let preload = FLOOD_PRELOAD.to_string();
    let args = [
        "-q", "-n", "-f", "-l", &preload, "-c", &count, "-w", &seconds, guest,
    ];
    let summary = host_ping(netns, &args, ctx.deadline)?;
    flood_answered(&summary)?;
    let (after, moved) = rx_moved(session, &before, summary.received)?;
    let irqs = after.rise_since(&before, "NET_RX_IRQS")?;
    let polls = after.rise_since(&before, "NET_RX_POLLS")?;
    session.send("poweroff\r")?;
    Ok(format!(
        "{}; {moved}; {irqs} RX interrupts, {polls} polls: {:.3} interrupts/packet",
        summary.describe(),
        irqs as f64 / moved.packets as f64
    ))
}

/// At least [`FLOOD_MIN_REPLIES_PERCENT`] of the flood's requests were answered.
fn flood_answered(summary: &PingSummary) -> Result<(), String> {
    if summary.received * 100 >= summary.transmitted * FLOOD_MIN_REPLIES_PERCENT
        && summary.received > 0
    {
        Ok(())
    } else {
        Err(format!(
            "the flood got fewer than {FLOOD_MIN_REPLIES_PERCENT}% replies: {}",
            summary.describe()
        ))
    }
}

/// `net-tap-garbage`: 10,000 seeded malformed frames on the tap, kind by kind; after each
/// kind the counters that kind's frames end in ([`Defect::counted_as`]) must have risen by
/// the frames of the kind that reached the guest (all but those the tap dropped, at most
/// [`MAX_TAP_DROPPED_PERCENT`]), through NET_RX. No panic, and ping is answered after.
pub fn tap_garbage(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = tap_netns(ctx)?;
    expect_address(&net_up(session)?, TAP_GUEST_CIDR)?;
    let ends = Endpoints {
        guest_mac: parse_mac(GUEST_MAC)?,
        host_mac: parse_mac(
            netns
                .run("cat", &[&format!("/sys/class/net/{TAP_NAME}/address")])?
                .trim(),
        )?,
        host_ip: ipv4_octets(host_part(TAP_HOST_CIDR))?,
        guest_ip: ipv4_octets(host_part(TAP_GUEST_CIDR))?,
    };
    let corpus = garbage::corpus(GARBAGE_SEED, GARBAGE_FRAMES, &ends);
    let mut counters = Counters::parse(&session.command("counters")?);
    let mut lines = Vec::new();
    let (mut sent, mut refused, mut tap_lost) = (0, 0, 0);
    for defect in DEFECTS {
        let frames: Vec<Vec<u8>> = corpus
            .iter()
            .filter(|(d, _)| *d == defect)
            .map(|(_, f)| f.clone())
            .collect();
        let tap_dropped = || tap_tx_dropped(netns);
        let dropped_before = tap_dropped()?;
        let batch = inject::send_frames(netns.name(), TAP_NAME, frames, ctx.deadline)?;
        let lost = tap_dropped()? - dropped_before;
        let arrived = (batch.sent as u64)
            .checked_sub(lost)
            .filter(|_| lost * 100 <= batch.sent as u64 * MAX_TAP_DROPPED_PERCENT)
            .ok_or_else(|| {
                format!(
                    "{defect:?}: the tap dropped {lost} of {} frames before the guest saw them",
                    batch.sent
                )
            })?;
        let (after, _) = rx_moved(session, &counters, arrived)
            .map_err(|e| format!("after {arrived} {defect:?} frames: {e}"))?;
        let rise = counted_as_dropped(defect, arrived, &counters, &after)
            .map_err(|e| format!("{e} (seed {GARBAGE_SEED:#x})"))?;
        lines.push(format!("{defect:?} {arrived}/+{rise}"));
        (sent, refused, tap_lost) = (sent + batch.sent, refused + batch.refused, tap_lost + lost);
        counters = after;
    }
    let count = PINGS_AFTER_GARBAGE.to_string();
    let guest = host_part(TAP_GUEST_CIDR);
    let args = [
        "-q", "-n", "-c", &count, "-i", "0.05", "-W", "1", "-w", "20", guest,
    ];
    let summary = host_ping(netns, &args, ctx.deadline)?;
    if summary.received != u64::from(PINGS_AFTER_GARBAGE) {
        return Err(format!(
            "after the garbage, ping lost replies: {}",
            summary.describe()
        ));
    }
    session.send("poweroff\r")?;
    Ok(format!(
        "{sent} frames sent ({refused} refused by the host, {tap_lost} dropped by the tap); \
         per kind, frames that reached the guest/rise of its counters: {}; then {}",
        lines.join(", "),
        summary.describe()
    ))
}

/// The counters `defect`'s frames end in rose from `before` to `after` by at least the
/// `arrived` frames of that kind; returns the rise.
fn counted_as_dropped(
    defect: Defect,
    arrived: u64,
    before: &Counters,
    after: &Counters,
) -> Result<u64, String> {
    let mut rise = 0;
    for name in defect.counted_as() {
        rise += after.rise_since(before, name)?;
    }
    if rise >= arrived {
        Ok(rise)
    } else {
        Err(format!(
            "{arrived} {defect:?} frames reached the guest, but {} rose by {rise} only",
            defect.counted_as().join(" + ")
        ))
    }
}

/// The tap's transmit drops (frames for the guest its queue had no room for).
fn tap_tx_dropped(netns: &Netns) -> Result<u64, String> {
    let path = format!("/sys/class/net/{TAP_NAME}/statistics/tx_dropped");
    let text = netns.run("cat", &[&path])?;
    text.trim()
        .parse()
        .map_err(|_| format!("{path} says `{}`", text.trim()))
}

/// `net-user-dhcp`: the guest gets a slirp address by DHCP and pings the gateway.
pub fn user_dhcp(session: &mut Session, _ctx: &NetContext) -> Result<String, String> {
    let address = net_up(session)?;
    if !address.starts_with("10.0.2.") || !address.contains('/') {
        return Err(format!("DHCP gave `{address}`, expected 10.0.2.x/N"));
    }
    let gateway = "10.0.2.2";
    let ping = GuestPing::parse(&session.command(&format!("ping {gateway} 3"))?, gateway)?;
    let mut seqs: Vec<u64> = ping.replies.iter().map(|r| r.0).collect();
    seqs.dedup();
    if (ping.sent, ping.received, seqs.len()) != (3, 3, 3) {
        return Err(format!("`ping {gateway} 3` from the guest: {ping:?}"));
    }
    session.send("poweroff\r")?;
    let times: Vec<String> = ping.replies.iter().map(|r| format!("{} us", r.1)).collect();
    Ok(format!(
        "DHCP address {address}; ping {gateway}: {}",
        times.join(", ")
    ))
}

pub(super) fn tap_netns<'a>(ctx: &NetContext<'a>) -> Result<&'a Netns, String> {
    ctx.netns
        .ok_or_else(|| format!("{} needs a tap namespace", ctx.test.name))
}

/// Reads the console until `NET-UP <address>` (a panic ends the wait), then brings the
/// monitor to a fresh prompt; returns the address.
pub(super) fn net_up(session: &mut Session) -> Result<String, String> {
    let line = session.expect_line("`NET-UP <address>`", |l| {
        net_up_address(l).is_some() || l.contains("KERNEL PANIC") || l.contains("EXCEPTION #")
    })?;
    let address = net_up_address(&line)
        .ok_or_else(|| format!("the kernel failed before NET-UP: {line}"))?
        .to_string();
    settle(session)?;
    Ok(address)
}

/// Gets the monitor to a known state: whether the prompt came before or after `NET-UP`, an
/// unknown marker command is answered and followed by exactly one fresh prompt.
fn settle(session: &mut Session) -> Result<(), String> {
    const MARKER: &str = "xtask-sync";
    session.send(&format!("{MARKER}\r"))?;
    session.expect_line("the answer to the sync command", |l| {
        l.contains("unknown command") && l.contains(MARKER)
    })?;
    session.expect_prompt().map(drop)
}

pub(super) fn expect_address(got: &str, wanted: &str) -> Result<(), String> {
    if got == wanted {
        Ok(())
    } else {
        Err(format!("NET-UP says {got}, expected {wanted}"))
    }
}

/// `counters`, read again (a little later) until the NET_RX invariants hold.
pub(super) fn quiescent_counters(session: &mut Session) -> Result<Counters, String> {
    settled_counters(session, monitor_counters, |_| Ok(())).map(|(counters, ())| counters)
}

/// `counters`, read again until the NET_RX invariants hold and the receive path moved
/// since `before` by at least `min_packets` packets, through NET_RX
/// ([`Counters::rx_moved_since`]).
pub(super) fn rx_moved(
    session: &mut Session,
    before: &Counters,
    min_packets: u64,
) -> Result<(Counters, RxMoved), String> {
    settled_counters(session, monitor_counters, |c| {
        c.rx_moved_since(before, min_packets)
    })
}

/// The monitor's `counters`.
fn monitor_counters(session: &mut Session) -> Result<Counters, String> {
    Ok(Counters::parse(&session.command("counters")?))
}

/// `cat /proc/halyard/counters` at the shell of a user-space test (`init=/sbin/init`).
pub(super) fn shell_counters(session: &mut Session) -> Result<Counters, String> {
    let (lines, status) = crate::suite::user::run(session, "cat /proc/halyard/counters")?;
    if status != 0 {
        return Err(format!("`cat /proc/halyard/counters`: status {status}"));
    }
    Ok(Counters::parse(&lines))
}

/// [`quiescent_counters`] at the shell of a user-space test.
pub(super) fn shell_quiescent_counters(session: &mut Session) -> Result<Counters, String> {
    settled_counters(session, shell_counters, |_| Ok(())).map(|(counters, ())| counters)
}

/// [`rx_moved`] at the shell of a user-space test.
pub(super) fn shell_rx_moved(
    session: &mut Session,
    before: &Counters,
    min_packets: u64,
) -> Result<(Counters, RxMoved), String> {
    settled_counters(session, shell_counters, |c| {
        c.rx_moved_since(before, min_packets)
    })
}

/// The counters (as `read` gets them), read again (a little later) until the NET_RX
/// invariants hold and `check` accepts the read: a frame may arrive while the listing is
/// printed (it is not one atomic snapshot), a stuck or wrong state persists.
fn settled_counters<T>(
    session: &mut Session,
    read: fn(&mut Session) -> Result<Counters, String>,
    check: impl Fn(&Counters) -> Result<T, String>,
) -> Result<(Counters, T), String> {
    let mut why = String::new();
    for _ in 0..QUIESCENT_TRIES {
        let counters = read(session)?;
        match counters.rx_quiescent().and_then(|()| check(&counters)) {
            Ok(value) => return Ok((counters, value)),
            Err(e) => why = e,
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!(
        "NET_RX counters wrong in {QUIESCENT_TRIES} reads: {why}"
    ))
}

/// Runs `ping ARGS` inside the namespace (ping bounds itself with `-w`; the test's deadline
/// bounds it too) and parses its summary.
pub(super) fn host_ping(
    netns: &Netns,
    args: &[&str],
    deadline: Instant,
) -> Result<PingSummary, String> {
    let mut cmd = netns.command(PING);
    cmd.args(args);
    let output = run_bounded(cmd, deadline)?;
    PingSummary::parse(&output)
}

/// Runs `cmd` to completion (its output: stdout then stderr), killing it by PID at
/// `deadline`. The commands used here print a few lines, well within a pipe's buffer.
pub(super) fn run_bounded(cmd: Command, deadline: Instant) -> Result<String, String> {
    let out = output_bounded(cmd, deadline)?;
    Ok(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Runs `cmd` to completion with stdin from `/dev/null`, killing it by PID at `deadline`;
/// its status and outputs (a few lines, well within a pipe's buffer).
pub(super) fn output_bounded(mut cmd: Command, deadline: Instant) -> Result<Output, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    loop {
        match child
            .try_wait()
            .map_err(|e| format!("waiting for {cmd:?}: {e}"))?
        {
            Some(_) => break,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{cmd:?} did not finish before the deadline"));
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    child
        .wait_with_output()
        .map_err(|e| format!("reading the output of {cmd:?}: {e}"))
}

/// Lines that must never appear in a stress test's serial log: a validator (lockdep)
/// report, a panic, the watchdog, a CPU exception.
const FATAL_MARKS: [&str; 4] = ["LOCKDEP REPORT", "KERNEL PANIC", "watchdog:", "EXCEPTION "];

/// The serial log `log` has none of the [`FATAL_MARKS`].
pub(super) fn no_fatal_line(log: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(log).map_err(|e| format!("reading the log: {e}"))?;
    match text
        .lines()
        .find(|l| FATAL_MARKS.iter().any(|m| l.contains(m)))
    {
        Some(line) => Err(format!("the log has `{line}`")),
        None => Ok(()),
    }
}

/// `A.B.C.D` of `A.B.C.D/N`.
pub(super) fn host_part(cidr: &str) -> &str {
    cidr.split('/').next().unwrap_or(cidr)
}

fn ipv4_octets(addr: &str) -> Result<[u8; 4], String> {
    addr.parse::<std::net::Ipv4Addr>()
        .map(|a| a.octets())
        .map_err(|_| format!("bad IPv4 address `{addr}`"))
}

/// Parses `aa:bb:cc:dd:ee:ff`.
fn parse_mac(text: &str) -> Result<[u8; 6], String> {
    let bytes: Vec<u8> = text
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).ok().filter(|_| b.len() == 2))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("bad MAC address `{text}`"))?;
    bytes
        .try_into()
        .map_err(|_| format!("bad MAC address `{text}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        assert_eq!(parse_mac(GUEST_MAC), Ok([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        for bad in [
            "52:54:00:12:34",
            "52:54:00:12:34:56:78",
            "5:54:00:12:34:56",
            "zz:54:00:12:34:56",
        ] {
            assert!(parse_mac(bad).is_err(), "{bad}");
        }
        assert_eq!(host_part(TAP_GUEST_CIDR), "192.168.100.2");
        assert_eq!(ipv4_octets("192.168.100.1"), Ok([192, 168, 100, 1]));
        assert!(ipv4_octets("192.168.100").is_err());
        assert_eq!(expect_address("10.0.2.15/24", "10.0.2.15/24"), Ok(()));
        assert!(expect_address("10.0.2.15/24", TAP_GUEST_CIDR).is_err());
    }

    /// A monitor that reports `NET-UP` after its first prompt (the awkward order), answers
    /// `ping`, `counters` (stuck the first time if `$STUCK` is set) and `poweroff` like the
    /// kernel's contract says, and anything else with `unknown command`. bash's `read -d`
    /// stops at the `\r` a terminal sends for Enter.
    const FAKE_GUEST: &str = r#"
        printf 'BOOT-OK\r\nhalyard> NET-UP 10.0.2.15/24\r\n'
        reads=0
        while IFS= read -r -d $'\r' line; do
            printf '%s\r\n' "$line"
            if [ "$line" = 'ping 10.0.2.2 3' ]; then
                for s in 0 1 2; do printf 'reply from 10.0.2.2 seq=%s time=1%sus\r\n' $s $s; done
                printf '3 sent, 3 received\r\n'
            elif [ "$line" = counters ]; then
                reads=$((reads + 1))
                held=0; [ -n "$STUCK" ] && [ $reads -eq 1 ] && held=1
                printf 'NET_RX_SOFTIRQ_ENTRY_TOTAL=4\r\nNET_RX_SOFTIRQ_EXIT_TOTAL=4\r\n'
                printf 'NET_RX_PROCESSING_HELD=%s\r\nNET_RX_USED_IDX=9\r\n' $held
                printf 'NET_RX_LAST_USED_IDX=9\r\n'
            elif [ "$line" = poweroff ]; then
                exit 1
            else
                printf 'unknown command: %s (try `help`)\r\n' "$line"
            fi
            printf 'halyard> '
        done
    "#;

    fn fake_guest(name: &str, stuck: bool) -> (Session, std::path::PathBuf) {
        let log = std::env::temp_dir().join(format!("xtask-net-{}-{name}.log", std::process::id()));
        let mut cmd = Command::new("bash");
        cmd.args(["-c", FAKE_GUEST]);
        if stuck {
            cmd.env("STUCK", "1");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        (Session::start(cmd, &log, deadline).unwrap(), log)
    }

    #[test]
    fn dhcp_check_against_a_fake_guest() {
        let (mut session, log) = fake_guest("dhcp", false);
        let test = &super::super::NET_TESTS[3];
        let ctx = NetContext {
            test,
            netns: None,
            deadline: Instant::now(),
            ksyms: &[],
            log: &log,
            guestfwd_listeners: &[],
        };
        let report = user_dhcp(&mut session, &ctx).unwrap();
        assert_eq!(
            report,
            "DHCP address 10.0.2.15/24; ping 10.0.2.2: 10 us, 11 us, 12 us"
        );
        assert_eq!(
            session.wait_exit().unwrap(),
            crate::exit_status::QemuEnd::Kernel(0)
        );
        // Tap checks refuse to run without their namespace.
        assert!(tap_ping(&mut session, &ctx)
            .unwrap_err()
            .contains("needs a tap namespace"));
        std::fs::remove_file(log).unwrap();
    }

    #[test]
    fn counters_are_reread_until_quiescent() {
        let (mut session, log) = fake_guest("stuck", true);
        assert_eq!(net_up(&mut session).unwrap(), "10.0.2.15/24");
        let counters = quiescent_counters(&mut session).unwrap();
        assert_eq!(counters.get("NET_RX_PROCESSING_HELD"), Ok(0));
        // A fresh prompt after each answer: the next command gets its own answer.
        assert_eq!(
            session.command("frob").unwrap(),
            ["unknown command: frob (try `help`)"]
        );
        drop(session);
        std::fs::remove_file(log).unwrap();
    }

    #[test]
    fn the_flood_must_be_answered() {
        let ping = |transmitted, received| PingSummary {
            transmitted,
            received,
            rtt_ms: None,
        };
        assert_eq!(flood_answered(&ping(20_014, 20_005)), Ok(()));
        assert_eq!(flood_answered(&ping(20_000, 19_800)), Ok(()));
        assert!(flood_answered(&ping(20_000, 19_799))
            .unwrap_err()
            .contains("fewer than 99% replies"));
        assert!(flood_answered(&ping(20_000, 1)).is_err());
        assert!(flood_answered(&ping(0, 0)).is_err());
    }

    #[test]
    fn each_garbage_kind_must_raise_its_own_counters() {
        let counters =
            |text: &str| Counters::parse(&text.lines().map(String::from).collect::<Vec<_>>());
        let before = counters(
            "drop_bad_checksum=5\ndrop_bad_version=0\nrx_fragment_held=0\n\
             drop_reassembly_overflow=0\ndrop_reassembly_overlap=0\ndrop_reassembly_duplicate=0",
        );
        let after = counters(
            "drop_bad_checksum=5\ndrop_bad_version=769\nrx_fragment_held=16\n\
             drop_reassembly_overflow=753\ndrop_reassembly_overlap=0\ndrop_reassembly_duplicate=0",
        );
        let kind = |defect, arrived| counted_as_dropped(defect, arrived, &before, &after);
        assert_eq!(kind(Defect::Ipv4BadVersion, 769), Ok(769));
        // Held or refused, every valid fragment is accounted for.
        assert_eq!(kind(Defect::Ipv4Fragment, 769), Ok(769));
        // Frames counted under another reason do not count for this kind.
        let err = kind(Defect::Ipv4BadChecksum, 769).unwrap_err();
        assert_eq!(
            err,
            "769 Ipv4BadChecksum frames reached the guest, but drop_bad_checksum rose by 0 only"
        );
        assert!(kind(Defect::Ipv4BadVersion, 770).is_err());
        // A reason the kernel does not list at all.
        assert!(kind(Defect::ArpMalformed, 1)
            .unwrap_err()
            .contains("has no drop_arp_malformed"));
    }

    #[test]
    fn bounded_commands_are_killed_at_the_deadline() {
        let mut quick = Command::new("sh");
        quick.args(["-c", "echo out; echo err >&2; exit 3"]);
        let far = Instant::now() + Duration::from_secs(20);
        assert_eq!(run_bounded(quick, far).unwrap(), "out\nerr\n");
        let mut slow = Command::new("sleep");
        slow.arg("30");
        let start = Instant::now();
        let err = run_bounded(slow, start + Duration::from_millis(200)).unwrap_err();
        assert!(err.contains("deadline"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(20));
    }
}
