//! `cargo xtask test`: every test of the project, in one command, with one verdict.
//!
//! Order: the lints (formatting, clippy: lint.rs), host unit tests (the workspace, then
//! the xtask's own), a short run of every fuzz
//! target (fuzz.rs), the kernel build with its symbol file, then the QEMU tests one at a
//! time (two cores: parallel QEMUs would only make timeouts flaky). Every step counts once
//! in the closing `N passed, N failed` line; QEMU tests that cannot run (no kernel, no
//! QEMU) count as failed, never as skipped, so a broken setup cannot look green.

use crate::cli::TestOptions;
use crate::kernel_build::{self, cargo};
use crate::paths::Paths;
use crate::{fuzz, ksyms, lint, nettest, suite, tools};
use std::time::{Duration, Instant};

/// Results so far.
#[derive(Debug, Default)]
pub struct Summary {
    results: Vec<(String, Duration, Result<(), String>)>,
}

impl Summary {
    /// Runs `step`, timing it and printing its verdict at once (stderr).
    fn step(&mut self, name: &str, step: impl FnOnce() -> Result<(), String>) -> bool {
        eprintln!("xtask: --- {name}");
        let start = Instant::now();
        let result = step();
        self.record(name, start.elapsed(), result)
    }

    fn record(&mut self, name: &str, took: Duration, result: Result<(), String>) -> bool {
        let ok = result.is_ok();
        eprintln!("{}", line(name, took, &result));
        self.results.push((name.to_string(), took, result));
        ok
    }

    pub fn failed(&self) -> usize {
        self.results.iter().filter(|(_, _, r)| r.is_err()).count()
    }

    /// The closing line: exactly `N passed, N failed`.
    pub fn verdict(&self) -> String {
        let failed = self.failed();
        format!("{} passed, {failed} failed", self.results.len() - failed)
    }

    /// One line per step, for the recap at the end.
    pub fn recap(&self) -> String {
        self.results
            .iter()
            .map(|(n, t, r)| line(n, *t, r) + "\n")
            .collect()
    }
}

fn line(name: &str, took: Duration, result: &Result<(), String>) -> String {
    let secs = took.as_secs_f64();
    match result {
        Ok(()) => format!("PASS {name:<46} {secs:>6.1} s"),
        Err(why) => format!("FAIL {name:<46} {secs:>6.1} s: {why}"),
    }
}

/// Runs everything `opts` selects; returns the summary.
pub fn run(opts: &TestOptions, paths: &Paths) -> Summary {
    let mut summary = Summary::default();
    if !opts.skip_host {
        summary.step("lint: cargo fmt --check", || lint::fmt_check(paths));
        summary.step(
            "lint: cargo clippy, warnings and undocumented unsafe denied",
            || lint::clippy(paths),
        );
        summary.step("host: cargo test --workspace --exclude xtask", || {
            tools::ensure(tools::HOST_TEST_TOOLS)?;
            cargo_test(paths, &["--workspace", "--exclude", "xtask"])
        });
        summary.step("host: loom models of the wake queue", || loom_test(paths));
        summary.step("host: cargo test -p xtask", || {
            cargo_test(paths, &["-p", "xtask"])
        });
        summary.step("fuzz: short run", || fuzz::short_run(paths));
    }
    let tests = suite::select(opts.only.as_deref());
    let built = summary.step("kernel build + ksyms", || kernel_build::build(paths));
    let ready = if built {
        qemu_ready(paths)
    } else {
        Err("kernel build failed".to_string())
    };
    for test in tests {
        let name = format!("qemu: {}", test.name);
        match &ready {
            Ok(symbols) => summary.step(&name, || suite::run(test, paths, symbols)),
            Err(why) => summary.record(&name, Duration::ZERO, Err(format!("not run: {why}"))),
        };
    }
    for test in nettest::select(opts.only.as_deref()) {
        let name = format!("qemu: {}", test.name);
        match &ready {
            Ok(_) => summary.step(&name, || {
                let report = nettest::run(test, paths)?;
                eprintln!("xtask: {}: {report}", test.name);
                Ok(())
            }),
            Err(why) => summary.record(&name, Duration::ZERO, Err(format!("not run: {why}"))),
        };
    }
    summary
}

/// QEMU is installed and the kernel's symbols are readable: returns the symbols.
fn qemu_ready(paths: &Paths) -> Result<Vec<ksyms::Symbol>, String> {
    tools::ensure(&[tools::QEMU])?;
    let text =
        std::fs::read_to_string(paths.ksyms()).map_err(|e| format!("cannot read ksyms: {e}"))?;
    ksyms::parse(&text)
}

/// The wake queue's loom model checks: they need `--cfg loom`, so they get their own
/// target directory (the flag would otherwise invalidate the normal build cache).
fn loom_test(paths: &Paths) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["test", "--release", "-p", "wakeq"])
        .env("RUSTFLAGS", "--cfg loom")
        .env("CARGO_TARGET_DIR", paths.root.join("target/loom"));
    run_cargo(cmd, paths, "loom tests")
}

fn cargo_test(paths: &Paths, args: &[&str]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.arg("test").args(args);
    run_cargo(cmd, paths, "cargo test")
}

/// Runs `cmd` in the repository root; `what` names it in the error.
fn run_cargo(mut cmd: std::process::Command, paths: &Paths, what: &str) -> Result<(), String> {
    let status = cmd
        .current_dir(&paths.root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_counts_every_step_once() {
        let mut s = Summary::default();
        assert_eq!(s.verdict(), "0 passed, 0 failed");
        assert!(s.record("a", Duration::from_millis(1500), Ok(())));
        assert!(!s.record("b", Duration::ZERO, Err("boom".into())));
        s.record("c", Duration::ZERO, Ok(()));
        assert_eq!(s.verdict(), "2 passed, 1 failed");
        assert_eq!(s.failed(), 1);
        let recap = s.recap();
        assert_eq!(recap.lines().count(), 3);
        assert!(recap.lines().next().unwrap().starts_with("PASS a") && recap.contains("1.5 s"));
        assert!(recap.contains("FAIL b") && recap.contains(": boom"));
    }
}
