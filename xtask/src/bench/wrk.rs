//! HTTP requests per second with `wrk`, run inside the benchmark's namespace.
//!
//! wrk is a well-known, efficient load generator (Debian package `wrk`); the xtask only
//! parses its summary. For `netsvc`'s keep-alive server a run whose responses were not all
//! 2xx/3xx, or that had socket errors, is not a throughput number and is reported as an
//! error instead ([`parse`]). busybox `httpd` closes every connection after its answer, so
//! wrk reconnects for each request and a few socket errors may come with a valid run: its
//! rate counts only the 2xx/3xx answers, and errors of any kind above [`MAX_ERROR_SHARE`] of
//! the requests fail it ([`parse_tolerant`]).

/// What one wrk run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkSummary {
    pub requests: u64,
    pub requests_per_sec: f64,
}

/// The largest share of non-2xx/3xx answers plus socket errors, relative to the completed
/// requests, that still makes a run of [`parse_tolerant`] a rate.
pub const MAX_ERROR_SHARE: f64 = 0.05;

/// Everything wrk's summary says.
#[derive(Debug, Clone, PartialEq)]
struct WrkRun {
    requests: u64,
    requests_per_sec: f64,
    non_2xx: u64,
    /// `Socket errors:` line, summed (connect, read, write, timeout), and the line itself.
    socket_errors: u64,
    socket_line: String,
}

fn run_of(output: &str) -> Result<WrkRun, String> {
    let mut requests = None;
    let mut rate = None;
    let mut non_2xx = 0;
    let mut socket_errors = 0;
    let mut socket_line = String::new();
    for line in output.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            rate = rest.trim().parse::<f64>().ok();
        } else if line.contains(" requests in ") {
            requests = line.split_whitespace().next().and_then(|n| n.parse().ok());
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            non_2xx = rest
                .trim()
                .parse()
                .map_err(|_| format!("wrk: bad line `{line}`"))?;
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            socket_errors = rest
                .split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum();
            socket_line = rest.to_string();
        }
    }
    match (requests, rate) {
        (Some(0), _) => Err("wrk: no request completed".to_string()),
        (Some(requests), Some(requests_per_sec)) => Ok(WrkRun {
            requests,
            requests_per_sec,
            non_2xx,
            socket_errors,
            socket_line,
        }),
        _ => Err(format!(
            "wrk: no summary in its output: {}",
            output.lines().next().unwrap_or("(empty)")
        )),
    }
}

/// Parses wrk's text summary; any non-2xx/3xx answer or socket error is an error.
pub fn parse(output: &str) -> Result<WrkSummary, String> {
    let run = run_of(output)?;
    if run.non_2xx > 0 {
        return Err(format!("wrk: {} responses were not 2xx/3xx", run.non_2xx));
    }
    if run.socket_errors > 0 {
        return Err(format!("wrk: socket errors:{}", run.socket_line));
    }
    Ok(WrkSummary {
        requests: run.requests,
        requests_per_sec: run.requests_per_sec,
    })
}

/// Parses wrk's summary of a run against a server that closes each connection: the rate of
/// 2xx/3xx answers, or an error when errors exceed [`MAX_ERROR_SHARE`] of the requests.
pub fn parse_tolerant(output: &str) -> Result<WrkSummary, String> {
    let run = run_of(output)?;
    let errors = run.non_2xx + run.socket_errors;
    if errors as f64 > MAX_ERROR_SHARE * run.requests as f64 {
        return Err(format!(
            "wrk: {errors} errors in {} requests ({} not 2xx/3xx; socket errors:{})",
            run.requests, run.non_2xx, run.socket_line
        ));
    }
    let good = run.requests - run.non_2xx.min(run.requests);
    let requests_per_sec = match run.non_2xx {
        0 => run.requests_per_sec,
        _ => run.requests_per_sec * good as f64 / run.requests as f64,
    };
    Ok(WrkSummary {
        requests: good,
        requests_per_sec,
    })
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
    fn a_closing_server_may_have_a_few_errors_but_not_many() {
        let few = GOOD.replace(
            "Requests/sec",
            "  Socket errors: connect 0, read 90, write 0, timeout 0\n  \
             Non-2xx or 3xx responses: 100\nRequests/sec",
        );
        // 190 errors in 9731 requests: under 5%; the rate counts the 9631 good answers.
        let s = parse_tolerant(&few).unwrap();
        assert_eq!(s.requests, 9631);
        assert!((s.requests_per_sec - 1945.52 * 9631.0 / 9731.0).abs() < 1e-9);
        assert!(parse(&few).is_err());
        let many = GOOD.replace(
            "Requests/sec",
            "  Socket errors: connect 0, read 400, write 0, timeout 200\nRequests/sec",
        );
        let err = parse_tolerant(&many).unwrap_err();
        assert!(err.starts_with("wrk: 600 errors in 9731 requests"), "{err}");
        assert_eq!(parse_tolerant(GOOD), parse(GOOD));
    }

    #[test]
    fn arguments() {
        assert_eq!(
            args("http://h/", 1, 8, 5).join(" "),
            "-t1 -c8 -d5s --timeout 2s http://h/"
        );
    }
}
