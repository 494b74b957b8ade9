//! Reading what the network tests are told: the guest's `NET-UP` line, its monitor answers
//! (`counters`, `ping`) and the summary of the host's iputils `ping`.
//!
//! Parsers only (text in, values or a reason out), so every format is unit tested without a
//! guest. Lines that do not match are skipped: kernel log lines may interleave with answers.

use std::collections::BTreeMap;

/// The address in a `NET-UP <address>` line (the line may start with a prompt).
pub fn net_up_address(line: &str) -> Option<&str> {
    let (_, rest) = line.split_once("NET-UP ")?;
    rest.split_whitespace().next()
}

/// The answer of the monitor's `counters`: `NAME=VALUE` lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters(pub BTreeMap<String, u64>);

impl Counters {
    /// Collects every `NAME=VALUE` line with a decimal value.
    pub fn parse(lines: &[String]) -> Counters {
        let pairs = lines.iter().filter_map(|line| {
            let (name, value) = line.trim().split_once('=')?;
            let plain =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            Some((
                name.to_string(),
                value.trim().parse().ok().filter(|_| plain)?,
            ))
        });
        Counters(pairs.collect())
    }

    /// The value of `name`, or an error naming it.
    pub fn get(&self, name: &str) -> Result<u64, String> {
        self.0
            .get(name)
            .copied()
            .ok_or_else(|| format!("`counters` has no {name}"))
    }

    /// How much counter `name` rose since `before` (counters only grow; a wrap of the
    /// 64-bit value is read modulo 2^64).
    pub fn rise_since(&self, before: &Counters, name: &str) -> Result<u64, String> {
        Ok(self.get(name)?.wrapping_sub(before.get(name)?))
    }

    /// The NET_RX invariants that must hold once the link is quiet: every softirq entry has
    /// its exit, no one holds the RX processing, and the driver consumed every used buffer.
    pub fn rx_quiescent(&self) -> Result<(), String> {
        let entry = self.get("NET_RX_SOFTIRQ_ENTRY_TOTAL")?;
        let exit = self.get("NET_RX_SOFTIRQ_EXIT_TOTAL")?;
        let held = self.get("NET_RX_PROCESSING_HELD")?;
        let used = self.get("NET_RX_USED_IDX")?;
        let last = self.get("NET_RX_LAST_USED_IDX")?;
        let mut broken = Vec::new();
        if entry != exit {
            broken.push(format!(
                "NET_RX_SOFTIRQ_ENTRY_TOTAL={entry} != EXIT_TOTAL={exit}"
            ));
        }
        if held != 0 {
            broken.push(format!("NET_RX_PROCESSING_HELD={held}"));
        }
        if used != last {
            broken.push(format!(
                "NET_RX_USED_IDX={used} != NET_RX_LAST_USED_IDX={last}"
            ));
        }
        if broken.is_empty() {
            Ok(())
        } else {
            Err(broken.join(", "))
        }
    }
}

/// Most frames one NET_RX run takes off the ring: it polls up to the weight (64) at a time
/// until its round budget (300) is reached (kernel/src/net/napi.rs), so 299 + 64.
pub const MAX_FRAMES_PER_NET_RX: u64 = 363;

/// Driver counters of received frames (or continuation buffers) that were not handed up
/// as packets.
const RX_DRIVER_DROPS: [&str; 8] = [
    "NET_RX_DROP_SHORT",
    "NET_RX_DROP_TOO_LONG",
    "NET_RX_DROP_CONTINUATION",
    "NET_RX_DROP_NUM_BUFFERS",
    "NET_RX_DROP_GSO_SIZE",
    "NET_RX_DROP_GSO_TYPE",
    "NET_RX_DROP_GSO_IP_LENGTH",
    "NET_RX_DROP_CSUM_START",
];

/// How the receive path moved between two reads of `counters`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxMoved {
    /// NET_RX softirq runs.
    pub runs: u64,
    /// Frames NET_RX took off the ring (`NET_RX_FRAMES_POLLED`, less `lo`'s datagrams).
    pub frames: u64,
    /// Of those, packets handed to the stack (`NET_RX_PACKETS`).
    pub packets: u64,
    /// Datagrams NET_RX took off `lo`'s queue (`LO_RX_PACKETS`).
    pub looped: u64,
}

impl std::fmt::Display for RxMoved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "NET_RX ran {} times for {} frames ({} packets)",
            self.runs, self.frames, self.packets
        )?;
        if self.looped > 0 {
            write!(f, " and {} datagrams through lo", self.looped)?;
        }
        Ok(())
    }
}

impl Counters {
    /// The counters moved since `before` as traffic of at least `min_packets` received
    /// packets must move them, and only through NET_RX: `NET_RX_PACKETS` rose by at least
    /// `min_packets`, a GSO frame counting as the segments it carries
    /// (`NET_RX_GSO_SEGMENTS`); every frame NET_RX took off the ring is a packet or a driver
    /// drop (`NET_RX_FRAMES_POLLED` counts `lo`'s datagrams too: they are `LO_RX_PACKETS`);
    /// the driver's last used index moved by exactly the buffers those frames filled
    /// (`NET_RX_BUFFERS`: a frame may span several), plus used entries that named no
    /// buffer, modulo 2^16 (the ring index's width); and NET_RX ran at least once per
    /// [`MAX_FRAMES_PER_NET_RX`] frames. Balanced counters that did not move (0 == 0)
    /// fail here, as does a receive path that bypasses NET_RX.
    pub fn rx_moved_since(&self, before: &Counters, min_packets: u64) -> Result<RxMoved, String> {
        let delta = |name: &str| self.rise_since(before, name);
        let looped = delta("LO_RX_PACKETS")?;
        let moved = RxMoved {
            runs: delta("NET_RX_SOFTIRQ_ENTRY_TOTAL")?,
            frames: delta("NET_RX_FRAMES_POLLED")?.wrapping_sub(looped),
            packets: delta("NET_RX_PACKETS")?,
            looped,
        };
        let mut dropped = 0;
        for name in RX_DRIVER_DROPS {
            dropped += delta(name)?;
        }
        let used = delta("NET_RX_LAST_USED_IDX")? % (1 << 16);
        let buffers = delta("NET_RX_BUFFERS")?;
        let bad_used = delta("NET_RX_DROP_BAD_USED")?;
        // A GSO frame is the sender's segments joined by the host: count those.
        let gso_frames = delta("NET_RX_GSO_FRAMES")?;
        let wire = moved.packets - gso_frames.min(moved.packets) + delta("NET_RX_GSO_SEGMENTS")?;
        if wire < min_packets {
            return Err(format!(
                "NET_RX_PACKETS rose by {} ({wire} segments as sent, GSO frames counted by \
                 their segments), fewer than the {min_packets} packets the traffic delivered",
                moved.packets
            ));
        }
        if moved.frames != moved.packets + dropped {
            return Err(format!(
                "NET_RX_FRAMES_POLLED rose by {} (less {looped} datagrams through lo) but \
                 NET_RX_PACKETS by {} and the driver's drops by {dropped}: frames were \
                 received outside NET_RX",
                moved.frames.wrapping_add(looped),
                moved.packets
            ));
        }
        if buffers < moved.frames || used != (buffers + bad_used) % (1 << 16) {
            return Err(format!(
                "NET_RX_LAST_USED_IDX moved by {used} (mod 65536), but NET_RX took {} frames \
                 in {buffers} buffers and skipped {bad_used} bad used entries",
                moved.frames
            ));
        }
        if moved.runs * MAX_FRAMES_PER_NET_RX < moved.frames {
            return Err(format!(
                "NET_RX_SOFTIRQ_ENTRY_TOTAL rose by {} for {} frames: more than \
                 {MAX_FRAMES_PER_NET_RX} per NET_RX run",
                moved.runs, moved.frames
            ));
        }
        Ok(moved)
    }
}

/// The answer of the monitor's `ping ADDR COUNT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestPing {
    /// `seq` and `time` (µs) of each `reply from ADDR seq=N time=USus` line.
    pub replies: Vec<(u64, u64)>,
    pub sent: u64,
    pub received: u64,
}

impl GuestPing {
    /// Parses the reply lines from `addr` and the final `N sent, M received` line.
    pub fn parse(lines: &[String], addr: &str) -> Result<GuestPing, String> {
        let prefix = format!("reply from {addr} ");
        let replies = lines
            .iter()
            .filter_map(|l| {
                let rest = &l[l.find(&prefix)? + prefix.len()..];
                let seq = field(rest, "seq=")?.parse().ok()?;
                let time = field(rest, "time=")?.strip_suffix("us")?.parse().ok()?;
                Some((seq, time))
            })
            .collect();
        let summary = lines
            .iter()
            .find_map(|l| {
                let (sent, received) = l.trim().split_once(" sent, ")?;
                let received = received.strip_suffix(" received")?;
                Some((sent.parse().ok()?, received.parse().ok()?))
            })
            .ok_or_else(|| format!("no `N sent, M received` line in {lines:?}"))?;
        Ok(GuestPing {
            replies,
            sent: summary.0,
            received: summary.1,
        })
    }
}

/// The word after `key` in `text` (up to the next space).
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(key)? + key.len();
    text[start..].split_whitespace().next()
}

/// The summary of iputils `ping`.
#[derive(Debug, Clone, PartialEq)]
pub struct PingSummary {
    pub transmitted: u64,
    pub received: u64,
    /// min/avg/max round trip in ms (absent when nothing came back).
    pub rtt_ms: Option<(f64, f64, f64)>,
}

impl PingSummary {
    /// Parses `N packets transmitted, M received, ...` and `rtt min/avg/max/mdev = a/b/c/d ms`.
    pub fn parse(output: &str) -> Result<PingSummary, String> {
        let counts = output
            .lines()
            .find_map(|l| {
                let (tx, rest) = l.split_once(" packets transmitted, ")?;
                let rx = rest.split_once(" received")?.0;
                Some((tx.trim().parse().ok()?, rx.trim().parse().ok()?))
            })
            .ok_or_else(|| format!("no ping summary in: {}", output.trim()))?;
        let rtt_ms = output.lines().find_map(|l| {
            let values = l.strip_prefix("rtt min/avg/max/mdev = ")?;
            let mut v = values.split([' ', '/']).map(|x| x.parse::<f64>().ok());
            Some((v.next()??, v.next()??, v.next()??))
        });
        Ok(PingSummary {
            transmitted: counts.0,
            received: counts.1,
            rtt_ms,
        })
    }

    /// One line for the test's report.
    pub fn describe(&self) -> String {
        let lost = self.transmitted.saturating_sub(self.received);
        let rtt = self.rtt_ms.map_or("no rtt".to_string(), |(min, avg, max)| {
            format!("rtt min/avg/max {min:.3}/{avg:.3}/{max:.3} ms")
        });
        format!(
            "{} sent, {} received, {lost} lost, {rtt}",
            self.transmitted, self.received
        )
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// `text` as console lines (shared with the other network tests' tests).
    pub(in crate::nettest) fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn net_up_lines_with_and_without_a_prompt() {
        assert_eq!(
            net_up_address("NET-UP 192.168.100.2/24"),
            Some("192.168.100.2/24")
        );
        assert_eq!(
            net_up_address("halyard> NET-UP 10.0.2.15/24"),
            Some("10.0.2.15/24")
        );
        assert_eq!(net_up_address("NET-UP"), None);
        assert_eq!(net_up_address("[ 1.0] INFO cpu0: net up"), None);
    }

    #[test]
    fn counters_invariants_and_drop_deltas() {
        let before = Counters::parse(&lines(
            "NET_RX_SOFTIRQ_ENTRY_TOTAL=5\nNET_RX_SOFTIRQ_EXIT_TOTAL=5\nNET_RX_PROCESSING_HELD=0\n\
             NET_RX_USED_IDX=17\nNET_RX_LAST_USED_IDX=17\ndrop_ipv4_checksum=1\ndrop_arp_short=4",
        ));
        assert_eq!(before.rx_quiescent(), Ok(()));
        assert_eq!(before.get("NET_RX_USED_IDX"), Ok(17));
        assert!(before
            .get("NET_RX_IRQS")
            .unwrap_err()
            .contains("NET_RX_IRQS"));
        let after = Counters::parse(&lines(
            "[  2.0] INFO cpu1: noise=3 words\nNET_RX_SOFTIRQ_ENTRY_TOTAL=9\n\
             NET_RX_SOFTIRQ_EXIT_TOTAL=8\nNET_RX_PROCESSING_HELD=1\nNET_RX_USED_IDX=20\n\
             NET_RX_LAST_USED_IDX=19\ndrop_ipv4_checksum=11\ndrop_arp_short=4\n\
             drop_unknown_ethertype=2\n bad=x",
        ));
        // The log line is not a counter; neither is a non-numeric value.
        assert_eq!(after.0.len(), 8);
        let err = after.rx_quiescent().unwrap_err();
        assert!(
            err.contains("ENTRY_TOTAL=9 != EXIT_TOTAL=8")
                && err.contains("HELD=1")
                && err.contains("USED_IDX=20 != NET_RX_LAST_USED_IDX=19"),
            "{err}"
        );
        assert_eq!(after.rise_since(&before, "drop_ipv4_checksum"), Ok(10));
        assert_eq!(after.rise_since(&before, "drop_arp_short"), Ok(0));
        assert!(after
            .rise_since(&before, "drop_unknown_ethertype")
            .unwrap_err()
            .contains("has no drop_unknown_ethertype"));
        assert!(Counters::default()
            .rx_quiescent()
            .unwrap_err()
            .contains("has no NET_RX_SOFTIRQ_ENTRY_TOTAL"));
    }

    /// `counters` after `runs` NET_RX runs took `frames` frames, `packets` of them packets
    /// and `drops` dropped by the driver, with its last used index at `used`.
    fn rx(runs: u64, frames: u64, packets: u64, drops: u64, used: u64) -> Counters {
        rx_in_buffers(runs, frames, frames, packets, drops, used, 0)
    }

    /// [`rx`] with the frames in `buffers` buffers, `gso` of the packets GSO frames of 10
    /// segments each.
    fn rx_in_buffers(
        runs: u64,
        frames: u64,
        buffers: u64,
        packets: u64,
        drops: u64,
        used: u64,
        gso: u64,
    ) -> Counters {
        Counters::parse(&lines(&format!(
            "NET_RX_SOFTIRQ_ENTRY_TOTAL={runs}\nNET_RX_SOFTIRQ_EXIT_TOTAL={runs}\n\
             NET_RX_FRAMES_POLLED={frames}\nNET_RX_PACKETS={packets}\n\
             NET_RX_DROP_SHORT={drops}\nNET_RX_DROP_TOO_LONG=0\nNET_RX_DROP_CONTINUATION=0\n\
             NET_RX_DROP_NUM_BUFFERS=0\nNET_RX_DROP_GSO_SIZE=0\nNET_RX_DROP_GSO_TYPE=0\n\
             NET_RX_DROP_GSO_IP_LENGTH=0\nNET_RX_DROP_CSUM_START=0\nNET_RX_BUFFERS={buffers}\n\
             NET_RX_GSO_FRAMES={gso}\nNET_RX_GSO_SEGMENTS={}\n\
             NET_RX_DROP_BAD_USED=0\nNET_RX_USED_IDX={used}\nNET_RX_LAST_USED_IDX={used}\n\
             LO_RX_PACKETS=7",
            gso * 10
        )))
    }

    #[test]
    fn rx_counters_must_move_through_net_rx() {
        let before = rx(10, 500, 498, 2, 500);
        // 20,000 frames in 1,800 runs, one of them dropped by the driver.
        let after = rx(1810, 20_500, 20_497, 3, 20_500);
        let moved = after.rx_moved_since(&before, 19_990).unwrap();
        assert_eq!(
            moved,
            RxMoved {
                runs: 1800,
                frames: 20_000,
                packets: 19_999,
                looped: 0
            }
        );
        assert_eq!(
            moved.to_string(),
            "NET_RX ran 1800 times for 20000 frames (19999 packets)"
        );
        // Datagrams through lo: NET_RX polls them too, and they fill no ring buffer.
        let mut with_lo = after.clone();
        with_lo
            .0
            .insert("NET_RX_FRAMES_POLLED".into(), 20_500 + 3000);
        with_lo.0.insert("LO_RX_PACKETS".into(), 7 + 3000);
        let moved = with_lo.rx_moved_since(&before, 19_990).unwrap();
        assert_eq!((moved.frames, moved.looped), (20_000, 3000));
        assert_eq!(
            moved.to_string(),
            "NET_RX ran 1800 times for 20000 frames (19999 packets) and 3000 datagrams through lo"
        );
        with_lo.0.insert("LO_RX_PACKETS".into(), 7 + 2000);
        let err = with_lo.rx_moved_since(&before, 1).unwrap_err();
        assert!(err.contains("received outside NET_RX"), "{err}");
        // The 16-bit used index wraps.
        let from_high = rx(10, 500, 498, 2, 65_000);
        let wrapped = rx(1810, 20_500, 20_497, 3, (65_000 + 20_000) % 65_536);
        assert!(wrapped.rx_moved_since(&from_high, 1).is_ok());
        // Balanced but unmoved: 0 == 0 is not a pass.
        let err = before.rx_moved_since(&before, 1).unwrap_err();
        assert!(err.contains("NET_RX_PACKETS rose by 0"), "{err}");
        // Fewer packets than the host saw answered.
        assert!(after.rx_moved_since(&before, 20_000).is_err());
        // Packets taken off the ring outside NET_RX: the driver counted them, NET_RX did not.
        let bypass = rx(10, 500, 20_498, 2, 20_500);
        let err = bypass.rx_moved_since(&before, 1).unwrap_err();
        assert!(err.contains("received outside NET_RX"), "{err}");
        // The used index did not move with the frames.
        let stuck = rx(1810, 20_500, 20_497, 3, 500);
        assert!(stuck
            .rx_moved_since(&before, 1)
            .unwrap_err()
            .contains("NET_RX_LAST_USED_IDX moved by 0"));
        // Frames spanning several buffers: the used index follows the buffers.
        let multi = rx_in_buffers(1810, 20_500, 40_500, 20_497, 3, 40_500, 0);
        let multi_before = rx_in_buffers(10, 500, 500, 498, 2, 500, 0);
        assert!(multi.rx_moved_since(&multi_before, 1).is_ok());
        // 1,000 GSO frames of 10 segments among 19,999 packets: 28,999 segments as sent.
        let gso = rx_in_buffers(1810, 20_500, 40_500, 20_497, 3, 40_500, 1000);
        assert!(gso.rx_moved_since(&multi_before, 28_999).is_ok());
        let err = gso.rx_moved_since(&multi_before, 29_000).unwrap_err();
        assert!(err.contains("(28999 segments as sent"), "{err}");
        let by_frames = rx_in_buffers(1810, 20_500, 40_500, 20_497, 3, 20_500, 0);
        assert!(by_frames
            .rx_moved_since(&multi_before, 1)
            .unwrap_err()
            .contains("in 40000 buffers"));
        // Too few runs for the frames: NET_RX did not do that work.
        let few = rx(11, 20_500, 20_497, 3, 20_500);
        assert!(few
            .rx_moved_since(&before, 1)
            .unwrap_err()
            .contains("more than 363 per NET_RX run"));
        assert!(Counters::default().rx_moved_since(&before, 0).is_err());
    }

    #[test]
    fn guest_ping_answers() {
        let answer = lines(
            "reply from 10.0.2.2 seq=0 time=812us\nreply from 10.0.2.2 seq=1 time=95us\n\
             reply from 10.0.2.9 seq=2 time=1us\n3 sent, 2 received",
        );
        let ping = GuestPing::parse(&answer, "10.0.2.2").unwrap();
        assert_eq!(ping.replies, [(0, 812), (1, 95)]);
        assert_eq!((ping.sent, ping.received), (3, 2));
        assert!(
            GuestPing::parse(&lines("reply from 10.0.2.2 seq=0 time=1us"), "10.0.2.2").is_err()
        );
    }

    #[test]
    fn iputils_ping_summaries() {
        let ok = "PING 192.168.100.2 (192.168.100.2) 56(84) bytes of data.\n\n\
                  --- 192.168.100.2 ping statistics ---\n\
                  1000 packets transmitted, 1000 received, 0% packet loss, time 2997ms\n\
                  rtt min/avg/max/mdev = 0.101/0.322/2.750/0.150 ms, ipg/ewma 3.000/0.300 ms\n";
        let s = PingSummary::parse(ok).unwrap();
        assert_eq!((s.transmitted, s.received), (1000, 1000));
        assert_eq!(s.rtt_ms, Some((0.101, 0.322, 2.75)));
        assert_eq!(
            s.describe(),
            "1000 sent, 1000 received, 0 lost, rtt min/avg/max 0.101/0.322/2.750 ms"
        );
        let lossy = "20000 packets transmitted, 19990 received, +4 errors, 0.05% packet loss, \
                     time 20001ms\nrtt min/avg/max/mdev = 0.1/0.2/0.3/0.01 ms\n";
        let s = PingSummary::parse(lossy).unwrap();
        assert_eq!((s.transmitted, s.received), (20000, 19990));
        let none = "5 packets transmitted, 0 received, 100% packet loss, time 4090ms\n";
        assert_eq!(PingSummary::parse(none).unwrap().rtt_ms, None);
        assert!(PingSummary::parse("ping: connect: Network is unreachable").is_err());
    }
}
