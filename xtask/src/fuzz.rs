//! `cargo xtask fuzz` and the short fuzz run of `cargo xtask test`: coverage-guided fuzzing
//! of every parser that reads untrusted bytes, through cargo-fuzz and libFuzzer.
//!
//! The targets live in `fuzz/` (its own workspace; docs/fuzzing.md). This module installs
//! cargo-fuzz when it is missing (from crates.io, like the apt packages of `tools.rs`), builds
//! every target once into `target/fuzz` so later runs rebuild nothing, then runs each
//! target for a bounded time with its corpus in `target/fuzz/corpus/TARGET`. Seeds are not
//! checked in: the target writes them into that directory from the crates' own fixtures
//! before libFuzzer reads it (`HALYARD_FUZZ_SEEDS`). libFuzzer's output goes to
//! `target/fuzz/logs/TARGET.log`; what matters of it (executions, time, a crash and its
//! input) is parsed by [`parse_log`] and reported, with the command that reproduces a crash.
//!
//! The build uses `--sanitizer none`: the fuzzed crates are safe Rust, where AddressSanitizer
//! finds nothing a panic does not, and without it the build needs no unstable compiler flag,
//! so it works on the stable toolchain and runs several times faster. Overflow checks and
//! debug assertions are on (`fuzz/Cargo.toml`), so arithmetic bugs panic.

use crate::cli::FuzzOptions;
use crate::kernel_build::cargo;
use crate::paths::Paths;
use crate::tools::find_in;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Seconds each target runs in `cargo xtask test` (the whole step, build included, stays
/// well under three minutes on two cores).
pub const SHORT_RUN_SECONDS: u32 = 8;
/// libFuzzer's limit for one input: slower counts as a hang (a `timeout-` artifact).
const INPUT_TIMEOUT_SECONDS: u32 = 10;
/// Environment variable through which a target is told where to write its seeds.
const SEEDS_ENV: &str = "HALYARD_FUZZ_SEEDS";
/// Longest crash input printed in hex in full.
const HEX_LIMIT: usize = 512;

/// `cargo xtask fuzz`: returns the exit status (0 no crash, 1 a crash, 2 unknown target).
pub fn run(opts: &FuzzOptions, paths: &Paths) -> Result<u8, String> {
    ensure_cargo_fuzz()?;
    let all = list_targets(paths)?;
    let targets = match &opts.target {
        None => all,
        Some(t) if all.contains(t) => vec![t.clone()],
        Some(t) => {
            eprintln!(
                "xtask: no fuzz target `{t}`; the targets are: {}",
                all.join(", ")
            );
            return Ok(2);
        }
    };
    let failures = fuzz(paths, &targets, opts.seconds)?;
    Ok(u8::from(!failures.is_empty()))
}

/// The step of `cargo xtask test`: every target for [`SHORT_RUN_SECONDS`]; fails on a crash
/// with its input and the command that reproduces it.
pub fn short_run(paths: &Paths) -> Result<(), String> {
    ensure_cargo_fuzz()?;
    let targets = list_targets(paths)?;
    let failures = fuzz(paths, &targets, SHORT_RUN_SECONDS)?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzzing found {}", failures.join(", ")))
    }
}

/// Builds every target, then runs each of `targets` for `seconds`, printing a line per
/// target and the details of every crash; returns `TARGET: KIND` for each crash.
fn fuzz(paths: &Paths, targets: &[String], seconds: u32) -> Result<Vec<String>, String> {
    let start = Instant::now();
    eprintln!("xtask: building the fuzz targets into target/fuzz");
    let status = cargo_fuzz(paths, "build")
        .status()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    if !status.success() {
        return Err(format!("building the fuzz targets failed ({status})"));
    }
    eprintln!(
        "xtask: fuzz targets built in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let mut failures = Vec::new();
    for target in targets {
        let report = run_target(paths, target, seconds)?;
        eprintln!("xtask: {}", report.summary(target));
        if let Some(crash) = &report.crash {
            eprintln!("{}", crash_details(paths, target, crash));
            failures.push(format!("{target}: {}", crash.kind));
        }
    }
    Ok(failures)
}

/// `cargo fuzz SUBCOMMAND` with the options every invocation must share (or cargo would
/// rebuild): the fuzz directory, the target directory, no sanitizer. cargo-fuzz appends
/// `RUSTFLAGS` from the environment to its instrumentation flags (and cargo would prefer
/// `CARGO_ENCODED_RUSTFLAGS` to both), so neither reaches it from a caller's shell.
fn cargo_fuzz(paths: &Paths, subcommand: &str) -> Command {
    let mut cmd = cargo();
    cmd.args(["fuzz", subcommand, "--fuzz-dir"])
        .arg(paths.root.join("fuzz"))
        .current_dir(&paths.root)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if subcommand != "list" {
        cmd.arg("--target-dir")
            .arg(fuzz_dir(paths))
            .args(["--sanitizer", "none"]);
    }
    cmd
}

/// Where the instrumented build, the corpora and the logs go.
fn fuzz_dir(paths: &Paths) -> PathBuf {
    paths.root.join("target/fuzz")
}

/// Runs one target for `seconds`, its output in its log file, and parses that log.
fn run_target(paths: &Paths, target: &str, seconds: u32) -> Result<Report, String> {
    let corpus = fuzz_dir(paths).join("corpus").join(target);
    let logs = fuzz_dir(paths).join("logs");
    // libFuzzer refuses a missing corpus directory; targets without seeds never create it.
    for dir in [&corpus, &logs] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let log_path = logs.join(format!("{target}.log"));
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("cannot share the log: {e}"))?;
    eprintln!(
        "xtask: fuzzing {target} for {seconds} s (log: {})",
        paths.show(&log_path)
    );
    let start = Instant::now();
    let status = cargo_fuzz(paths, "run")
        .arg(target)
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"))
        .arg("-print_final_stats=1")
        .env(SEEDS_ENV, &corpus)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .status()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    let text = std::fs::read_to_string(&log_path)
        .map_err(|e| format!("cannot read {}: {e}", log_path.display()))?;
    let mut report = parse_log(&text);
    report.wall_seconds = start.elapsed().as_secs_f64();
    if !status.success() && report.crash.is_none() {
        return Err(format!(
            "fuzzing {target} failed ({status}) without a crash input; see {}",
            paths.show(&log_path)
        ));
    }
    if let Some(crash) = &mut report.crash {
        crash.path = paths.root.join(&crash.path);
    }
    Ok(report)
}

/// What one libFuzzer run reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Inputs executed (`stat::number_of_executed_units`, else `Done N runs`).
    pub executions: Option<u64>,
    /// Fuzzing time libFuzzer reported (`Done N runs in S second(s)`).
    pub fuzz_seconds: Option<u64>,
    /// Wall time of the whole `cargo fuzz run`.
    pub wall_seconds: f64,
    /// Coverage at the end (libFuzzer's `cov:` of the last status line).
    pub coverage: Option<u64>,
    /// The crash, hang or out-of-memory input libFuzzer wrote, if any.
    pub crash: Option<Crash>,
}

/// An input that made a target fail.
#[derive(Debug, Clone, PartialEq)]
pub struct Crash {
    /// `crash`, `timeout`, `oom`, `leak` or `slow-unit`: libFuzzer's file name prefix.
    pub kind: String,
    /// The input file.
    pub path: PathBuf,
    /// The panic message and location, when the target panicked.
    pub panic: Option<String>,
}

impl Report {
    /// Executions per second of fuzzing time (wall time if libFuzzer reported none).
    pub fn executions_per_second(&self) -> Option<f64> {
        let secs = self
            .fuzz_seconds
            .map_or(self.wall_seconds, |s| s.max(1) as f64);
        self.executions.map(|n| n as f64 / secs.max(1e-3))
    }

    /// One line: target, executions, rate, coverage, and the verdict.
    pub fn summary(&self, target: &str) -> String {
        let mut line = format!("{target:<14}");
        match (self.executions, self.executions_per_second()) {
            (Some(n), Some(rate)) => {
                let _ = write!(line, " {n:>10} execs {rate:>9.0}/s");
            }
            _ => line.push_str("  executions unknown"),
        }
        if let Some(cov) = self.coverage {
            let _ = write!(line, "  cov {cov:>5}");
        }
        let _ = write!(line, "  {:>5.1} s", self.wall_seconds);
        match &self.crash {
            None => line.push_str("  no crash"),
            Some(c) => {
                let _ = write!(line, "  {} {}", c.kind.to_uppercase(), c.path.display());
            }
        }
        line
    }
}

/// Extracts the run's numbers and any failing input from libFuzzer's output.
pub fn parse_log(text: &str) -> Report {
    let mut report = Report::default();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            report.executions = n.trim().parse().ok();
        } else if let Some(rest) = line.strip_prefix("Done ") {
            // "Done 1234 runs in 8 second(s)"
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let [runs, "runs", "in", secs, ..] = words[..] {
                report.executions = report.executions.or(runs.parse().ok());
                report.fuzz_seconds = secs.parse().ok();
            }
        } else if let Some(path) = line.split("Test unit written to ").nth(1) {
            let path = PathBuf::from(path.trim());
            let kind = path
                .file_name()
                .and_then(|f| f.to_str())
                .and_then(|f| f.rsplit_once('-'))
                .map_or("crash", |(kind, _hash)| kind)
                .to_string();
            let panic = report.crash.take().and_then(|c| c.panic);
            report.crash = Some(Crash { kind, path, panic });
        } else if line.contains("panicked at") {
            let message =
                lines.next_if(|l| !l.starts_with("stack backtrace") && !l.starts_with("note:"));
            let panic = format!(
                "{}{}",
                line.trim(),
                message.map_or(String::new(), |m| format!(" {}", m.trim()))
            );
            report.crash = Some(Crash {
                kind: "crash".to_string(),
                path: PathBuf::new(),
                panic: Some(panic),
            });
        }
        if let Some(cov) = line.split(" cov: ").nth(1) {
            report.coverage = cov.split_whitespace().next().and_then(|n| n.parse().ok());
        }
    }
    // A panic message without an input file (the run died before writing it) is not a
    // reproducible report; the caller sees the non-zero status instead.
    report.crash = report.crash.filter(|c| !c.path.as_os_str().is_empty());
    report
}

/// The failing input in hex, its panic and the command that reproduces it.
fn crash_details(paths: &Paths, target: &str, crash: &Crash) -> String {
    let mut out = format!(
        "xtask: {target}: {} input {}\n",
        crash.kind,
        crash.path.display()
    );
    if let Some(panic) = &crash.panic {
        let _ = writeln!(out, "xtask:   {panic}");
    }
    match std::fs::read(&crash.path) {
        Ok(bytes) => {
            let shown = &bytes[..bytes.len().min(HEX_LIMIT)];
            let more = if bytes.len() > HEX_LIMIT { " ..." } else { "" };
            let _ = writeln!(out, "xtask:   {} bytes: {}{more}", bytes.len(), hex(shown));
        }
        Err(e) => {
            let _ = writeln!(out, "xtask:   cannot read it: {e}");
        }
    }
    let _ = write!(
        out,
        "xtask:   reproduce with: cargo fuzz run --fuzz-dir fuzz --target-dir target/fuzz \
         --sanitizer none {target} {}",
        paths.show(&crash.path)
    );
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The targets `fuzz/Cargo.toml` declares (`cargo fuzz list`), so that file stays the one
/// list.
fn list_targets(paths: &Paths) -> Result<Vec<String>, String> {
    let out = cargo_fuzz(paths, "list")
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo fuzz list: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo fuzz list failed ({})", out.status));
    }
    let targets: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if targets.is_empty() {
        return Err("cargo fuzz list found no fuzz targets in fuzz/".to_string());
    }
    Ok(targets)
}

/// Installs cargo-fuzz from crates.io (`cargo install cargo-fuzz --locked`) if cargo cannot
/// find it: on `PATH` or in cargo's own bin directory.
fn ensure_cargo_fuzz() -> Result<(), String> {
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(home) = cargo_home() {
        path.push(":");
        path.push(home.join("bin"));
    }
    if find_in("cargo-fuzz", &path).is_some() {
        return Ok(());
    }
    eprintln!("xtask: cargo-fuzz missing; installing it: cargo install cargo-fuzz --locked");
    let status = cargo()
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo install cargo-fuzz --locked` failed ({status})"
        ))
    }
}

/// `$CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN: &str = "\
INFO: Running with entropic power schedule (0xFF, 100).
#18\tINITED cov: 418 ft: 496 corp: 12/2080b exec/s: 0 rss: 34Mb
#1747922\tDONE   cov: 430 ft: 866 corp: 338/108Kb lim: 4096 exec/s: 158902 rss: 34Mb
Done 1747922 runs in 11 second(s)
stat::number_of_executed_units: 1747922
stat::average_exec_per_sec:     158902
";

    const CRASHED: &str = "\
#2\tINITED cov: 12 ft: 12 corp: 1/1b exec/s: 0 rss: 30Mb

thread '<unnamed>' (77) panicked at crates/net/src/wire/ipv4.rs:42:9:
attempt to subtract with overflow
stack backtrace:
==77== ERROR: libFuzzer: deadly signal
MS: 1 ChangeByte-; base unit: 0
0x45,0x0,
E\\x00
artifact_prefix='/r/fuzz/artifacts/net_frame/'; Test unit written to /r/fuzz/artifacts/net_frame/crash-da39a3ee
Base64: RQA=
stat::number_of_executed_units: 1234
";

    #[test]
    fn a_clean_run_gives_its_numbers() {
        let r = parse_log(CLEAN);
        assert_eq!(r.executions, Some(1_747_922));
        assert_eq!(r.fuzz_seconds, Some(11));
        assert_eq!(r.coverage, Some(430));
        assert_eq!(r.crash, None);
        let rate = r.executions_per_second().unwrap();
        assert!((rate - 1_747_922.0 / 11.0).abs() < 1.0, "{rate}");
        let line = r.summary("net_frame");
        assert!(
            line.starts_with("net_frame") && line.ends_with("no crash"),
            "{line}"
        );
        assert!(
            line.contains("1747922 execs") && line.contains("cov   430"),
            "{line}"
        );
    }

    #[test]
    fn a_crash_gives_its_input_kind_and_panic() {
        let r = parse_log(CRASHED);
        assert_eq!(r.executions, Some(1234));
        let crash = r.crash.clone().expect("crash found");
        assert_eq!(crash.kind, "crash");
        assert_eq!(
            crash.path,
            Path::new("/r/fuzz/artifacts/net_frame/crash-da39a3ee")
        );
        assert_eq!(
            crash.panic.as_deref(),
            Some(
                "thread '<unnamed>' (77) panicked at crates/net/src/wire/ipv4.rs:42:9: \
                 attempt to subtract with overflow"
            )
        );
        assert!(r
            .summary("net_frame")
            .contains("CRASH /r/fuzz/artifacts/net_frame/crash-"));
        let hang = parse_log("Test unit written to ./artifacts/x/timeout-0123\n");
        assert_eq!(hang.crash.map(|c| c.kind), Some("timeout".to_string()));
    }

    #[test]
    fn a_panic_without_an_input_file_is_no_crash_report() {
        let r = parse_log("thread 'main' panicked at src/lib.rs:1:1:\nboom\n");
        assert_eq!(r.crash, None);
        assert_eq!(r.executions, None);
        assert!(r.summary("x").contains("executions unknown"));
    }

    #[test]
    fn crash_details_show_the_input_and_the_reproduction() {
        let paths = Paths::repo();
        let dir = std::env::temp_dir().join(format!("xtask-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("crash-1");
        std::fs::write(&input, [0x45, 0x00, 0xff]).unwrap();
        let crash = Crash {
            kind: "crash".into(),
            path: input.clone(),
            panic: Some("panicked at x".into()),
        };
        let text = crash_details(&paths, "net_frame", &crash);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(text.contains("3 bytes: 4500ff\n"), "{text}");
        assert!(text.contains("panicked at x"), "{text}");
        assert!(
            text.ends_with(&format!(
                "cargo fuzz run --fuzz-dir fuzz --target-dir target/fuzz --sanitizer none \
                 net_frame {}",
                input.display()
            )),
            "{text}"
        );
    }
}
