//! Round-trip times with iputils `ping`, run inside the benchmark's namespace.
//!
//! `ping` rather than a raw socket of our own: it is the tool people compare numbers with,
//! and it needs no extra privileges in the xtask. Each reply line carries `time=T ms`; the
//! statistics are computed from those lines so min, median and p99 come from one place.

/// The reply times in milliseconds, one per `... time=T ms` line of `ping` output.
pub fn reply_times_ms(output: &str) -> Vec<f64> {
    output
        .lines()
        .filter(|line| line.contains("bytes from"))
        .filter_map(|line| {
            let after = &line[line.find("time=")? + "time=".len()..];
            let number = after.split_whitespace().next()?;
            number.parse::<f64>().ok()
        })
        .collect()
}

/// The `ping` arguments for `count` echo requests `interval_ms` apart to `addr`, each
/// waited for at most one second.
pub fn args(addr: &str, count: u32, interval_ms: u32) -> Vec<String> {
    vec![
        "-n".into(),
        "-c".into(),
        count.to_string(),
        "-i".into(),
        format!("{:.3}", f64::from(interval_ms) / 1000.0),
        "-W".into(),
        "1".into(),
        // Whole run bounded in time even if replies stop.
        "-w".into(),
        (count * interval_ms / 1000 + 5).to_string(),
        addr.into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
PING 192.168.100.2 (192.168.100.2) 56(84) bytes of data.
64 bytes from 192.168.100.2: icmp_seq=1 ttl=64 time=1.52 ms
64 bytes from 192.168.100.2: icmp_seq=2 ttl=64 time=0.412 ms
From 192.168.100.1 icmp_seq=3 Destination Host Unreachable
64 bytes from 192.168.100.2: icmp_seq=4 ttl=64 time=0.398 ms (DUP!)
64 bytes from 192.168.100.2: icmp_seq=5 ttl=64 time=garbage ms

--- 192.168.100.2 ping statistics ---
5 packets transmitted, 3 received, +1 duplicates, 40% packet loss, time 204ms
rtt min/avg/max/mdev = 0.398/0.776/1.520/0.528 ms
";

    #[test]
    fn reply_lines_give_times_and_everything_else_is_skipped() {
        assert_eq!(reply_times_ms(OUTPUT), [1.52, 0.412, 0.398]);
        assert!(reply_times_ms("ping: connect: Network is unreachable\n").is_empty());
    }

    #[test]
    fn arguments_bound_count_and_time() {
        let a = args("192.168.100.2", 50, 20);
        assert_eq!(a.join(" "), "-n -c 50 -i 0.020 -W 1 -w 6 192.168.100.2");
    }
}
