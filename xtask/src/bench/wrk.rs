//! HTTP requests per second with `wrk`, run inside the benchmark's namespace.
//!
//! wrk is a well-known, efficient load generator (Debian package `wrk`); the xtask only
//! parses its summary. A run whose responses were not all 2xx/3xx, or that had socket
//! errors, is not a throughput number and is reported as an error instead.

/// What one wrk run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkSummary {
    pub requests: u64,
    pub requests_per_sec: f64,
}

/// Parses wrk's text summary.
pub fn parse(output: &str) -> Result<WrkSummary, String> {
    let mut requests = None;
    let mut rate = None;
    for line in output.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            rate = rest.trim().parse::<f64>().ok();
        } else if line.contains(" requests in ") {
            requests = line.split_whitespace().next().and_then(|n| n.parse().ok());
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            return Err(format!("wrk: {} responses were not 2xx/3xx", rest.trim()));
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            return Err(format!("wrk: socket errors:{rest}"));
        }
    }
    match (requests, rate) {
        (Some(0), _) => Err("wrk: no request completed".to_string()),
        (Some(requests), Some(requests_per_sec)) => Ok(WrkSummary {
            requests,
            requests_per_sec,
        }),
        _ => Err(format!(
            "wrk: no summary in its output: {}",
            output.lines().next().unwrap_or("(empty)")
        )),
    }
}

/// The wrk arguments: `threads` threads, `connections` connections, `secs` seconds.
pub fn args(url: &str, threads: u32, connections: u32, secs: u32) -> Vec<String> {
    vec![
        format!("-t{threads}"),
        format!("-c{connections}"),
        format!("-d{secs}s"),
        "--timeout".into(),
        "2s".into(),
        url.into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
Running 5s test @ http://192.168.100.2/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms    1.02ms  19.83ms   90.12%
    Req/Sec     1.95k   120.55     2.20k    70.00%
  9731 requests in 5.00s, 3.01MB read
Requests/sec:   1945.52
Transfer/sec:    616.01KB
";

    #[test]
    fn a_clean_run_gives_the_rate() {
        assert_eq!(
            parse(GOOD),
            Ok(WrkSummary {
                requests: 9731,
                requests_per_sec: 1945.52
            })
        );
    }

    #[test]
    fn errors_and_garbage_are_not_rates() {
        let bad = GOOD.replace(
            "Requests/sec",
            "  Non-2xx or 3xx responses: 12\nRequests/sec",
        );
        assert_eq!(
            parse(&bad),
            Err("wrk: 12 responses were not 2xx/3xx".to_string())
        );
        let sock = GOOD.replace(
            "Requests/sec",
            "  Socket errors: connect 8, read 0, write 0, timeout 0\nRequests/sec",
        );
        assert!(parse(&sock).unwrap_err().contains("connect 8"));
        let none = GOOD.replace("9731 requests", "0 requests");
        assert!(parse(&none).is_err());
        assert!(parse("unable to connect to 192.168.100.2:80 Connection refused\n").is_err());
    }

    #[test]
    fn arguments() {
        assert_eq!(
            args("http://h/", 1, 8, 5).join(" "),
            "-t1 -c8 -d5s --timeout 2s http://h/"
        );
    }
}
