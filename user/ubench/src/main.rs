//! `ubench`: the system-call microbenchmarks of `cargo xtask bench` (docs/bench.md,
//! "User space").
//!
//! One static Linux program, run unmodified on Halyard and on the Linux peer, so the two
//! systems are compared on the same instructions: only the kernel under them differs. Each
//! operation runs in batches; a batch times `count` operations with `CLOCK_MONOTONIC` and
//! gives the time per operation; the program prints the median batch. Medians, not means:
//! a batch that a host hiccup slowed (the guest runs under software emulation on a shared
//! machine) does not move the result.
//!
//! Output, one line per operation, then an end marker (the xtask parses these):
//!
//! ```text
//! ubench getpid 412.5
//! ubench fork_exit_wait error fork: Resource temporarily unavailable (os error 11)
//! ubench-done
//! ```
//!
//! The value is nanoseconds per operation. An operation that fails prints `error` and the
//! reason, and the others still run.

mod ops;

use std::time::Instant;

/// How many batches of how many operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sizes {
    batches: usize,
    /// Operations per batch relative to the full size, in percent.
    percent: u64,
}

const USAGE: &str = "usage: ubench [--quick] [--busybox PATH] [--only NAME] [--scale PERCENT]\n\
    Runs the system-call microbenchmarks and prints `ubench NAME NS_PER_OP` per operation.\n\
    --quick         fewer and smaller batches\n\
    --busybox PATH  the busybox whose `true` applet fork_exec_wait runs (default /bin/busybox)\n\
    --only NAME     only this operation (for profiling one)\n\
    --scale PERCENT batch sizes in percent of the full ones (default 100, --quick 10)";

#[derive(Debug, PartialEq, Eq)]
struct Options {
    quick: bool,
    busybox: String,
    only: Option<String>,
    scale: Option<u64>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut opts = Options {
        quick: false,
        busybox: "/bin/busybox".to_string(),
        only: None,
        scale: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => opts.quick = true,
            "--busybox" => opts.busybox = value(&mut it, "--busybox")?,
            "--only" => opts.only = Some(value(&mut it, "--only")?),
            "--scale" => {
                let text = value(&mut it, "--scale")?;
                let percent = text
                    .parse::<u64>()
                    .ok()
                    .filter(|p| (1..=100_000).contains(p))
                    .ok_or_else(|| {
                        format!("--scale needs a percentage from 1 to 100000, not `{text}`")
                    })?;
                opts.scale = Some(percent);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(opts)
}

/// The value after flag `flag`.
fn value<'a>(it: &mut impl Iterator<Item = &'a String>, flag: &str) -> Result<String, String> {
    it.next()
        .cloned()
        .ok_or_else(|| format!("{flag} needs a value"))
}

/// Runs `op` in batches and returns the median nanoseconds per operation.
fn measure(
    sizes: Sizes,
    count: u64,
    op: &mut dyn FnMut(u64) -> Result<(), String>,
) -> Result<f64, String> {
    let count = (count * sizes.percent / 100).max(1);
    // One untimed batch first: page faults of the first run, caches, lazy set-up.
    op(count.div_ceil(4))?;
    let mut per_op = Vec::with_capacity(sizes.batches);
    for _ in 0..sizes.batches {
        let start = Instant::now();
        op(count)?;
        per_op.push(start.elapsed().as_nanos() as f64 / count as f64);
    }
    per_op.sort_by(f64::total_cmp);
    Ok(per_op[per_op.len() / 2])
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("ubench: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let mut sizes = if opts.quick {
        Sizes {
            batches: 3,
            percent: 10,
        }
    } else {
        Sizes {
            batches: 5,
            percent: 100,
        }
    };
    sizes.percent = opts.scale.unwrap_or(sizes.percent);
    let benches = ops::all(&opts.busybox);
    if let Some(name) = &opts.only {
        if !benches.iter().any(|b| b.name == name) {
            eprintln!("ubench: no operation `{name}`\n{USAGE}");
            std::process::exit(2);
        }
    }
    for bench in benches {
        if opts.only.as_ref().is_some_and(|name| name != bench.name) {
            continue;
        }
        let mut run = bench.run;
        match measure(sizes, bench.count, &mut *run) {
            Ok(ns) => println!("ubench {} {ns:.1}", bench.name),
            Err(e) => println!("ubench {} error {e}", bench.name),
        }
    }
    println!("ubench-done");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_parse_and_unknown_ones_are_refused() {
        assert_eq!(
            parse(&args(&["--quick", "--busybox", "/x/busybox"])),
            Ok(Options {
                quick: true,
                busybox: "/x/busybox".into(),
                only: None,
                scale: None,
            })
        );
        let o = parse(&args(&["--only", "getpid", "--scale", "500"])).unwrap();
        assert_eq!((o.only.as_deref(), o.scale), (Some("getpid"), Some(500)));
        assert!(parse(&args(&["--scale", "0"])).is_err());
        assert!(parse(&args(&["--busybox"])).is_err());
        assert_eq!(
            parse(&args(&["-v"])),
            Err("unknown argument `-v`".to_string())
        );
    }

    #[test]
    fn the_median_batch_is_reported_and_errors_pass_through() {
        let sizes = Sizes {
            batches: 3,
            percent: 100,
        };
        let mut calls = Vec::new();
        let got = measure(sizes, 8, &mut |n| {
            calls.push(n);
            Ok(())
        });
        assert!(got.is_ok_and(|ns| ns >= 0.0));
        // The untimed warm-up batch, then three timed batches of the full count.
        assert_eq!(calls, vec![2, 8, 8, 8]);
        let failed = measure(sizes, 8, &mut |_| Err("nope".to_string()));
        assert_eq!(failed, Err("nope".to_string()));
    }

    /// Every operation works on this Linux: the program's output is what the bench parses.
    #[test]
    fn every_operation_runs_on_the_host() {
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("/bin/true");
        let sizes = Sizes {
            batches: 1,
            percent: 1,
        };
        for bench in ops::all(busybox) {
            let mut run = bench.run;
            let ns = measure(sizes, bench.count, &mut *run);
            assert!(
                ns.as_ref().is_ok_and(|ns| *ns > 0.0),
                "{}: {ns:?}",
                bench.name
            );
        }
    }
}
