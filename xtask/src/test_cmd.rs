//! `cargo xtask test`: every test of the project, in one command, with one verdict.
//!
//! Order: the lints (formatting, clippy: lint.rs), host unit tests (the workspace, then
//! the xtask's own), a short run of every fuzz
//! target (fuzz.rs), the ABI test programs on the host Linux (abi_tests.rs; selected by
//! `--only` like a QEMU test, under the name `abi-host`, and not part of `--skip-host`),
//! the initramfs and its check on the host (initramfs/; these two run with `--skip-host`
//! too: the QEMU tests boot that archive), the kernel build with its symbol file, then the
//! QEMU tests one at a
//! time (two cores: parallel QEMUs would only make timeouts flaky). Every step counts once
//! in the closing `N passed, N failed` line; QEMU tests that cannot run (no kernel, no
//! QEMU) count as failed, never as skipped, so a broken setup cannot look green.
//!
//! `--repeat N` runs the QEMU tests N times instead of once (repeat.rs); `--load` keeps the
//! host's cores busy while they run (cpu_load.rs).

use crate::cli::TestOptions;
use crate::cpu_load::CpuLoad;
use crate::kernel_build::{self, cargo};
use crate::paths::Paths;
use crate::repeat::{self, Tally};
use crate::{abi_tests, fuzz, initramfs, ksyms, lint, nettest, suite, tools};
use std::time::{Duration, Instant};

/// Results so far.
#[derive(Debug, Default)]
pub struct Summary {
    results: Vec<(String, Duration, Result<(), String>)>,
    /// `--repeat`'s table of runs and failures (empty otherwise), shown after the recap.
    pub table: String,
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

/// The initramfs steps' names.
const INITRAMFS_BUILD: &str = "initramfs: build target/initramfs/halyard.cpio";
const INITRAMFS_HOST: &str = "initramfs: /sbin/init as PID 1 on the host, shell, poweroff";
const NO_INITRAMFS: &str = "not run: the initramfs build failed";

/// What the test archive adds to the initramfs: the ABI test programs in
/// [`suite::user::ABI_DIR`], the network programs (`hsshd` and `hssh` among them, where
/// init does not start them) in [`suite::user::NET_DIR`] with the SSH proof's keys, and
/// the destructive ones in [`suite::user::STRESS_DIR`].
fn test_programs(paths: &Paths) -> Result<Vec<initramfs::Add>, String> {
    let mut adds = Vec::new();
    for (_, program) in abi_tests::build(paths)? {
        adds.push(initramfs::Add::parse(&format!(
            "{}:{}/",
            program.display(),
            suite::user::ABI_DIR
        ))?);
    }
    adds.push(initramfs::Add::parse(&format!(
        "{}:{}",
        suite::smoke::script_file(paths)?.display(),
        suite::smoke::GUEST_PATH
    ))?);
    adds.push(crate::bench::userland::initramfs_add(paths)?);
    let net_programs = [
        ("sockcheck", "sockcheck"),
        ("techo", "techo"),
        ("sockstress", "sockstress"),
        ("halyard-ssh", "hsshd"),
        ("halyard-ssh", "hssh"),
    ];
    for (package, bin) in net_programs {
        let program = crate::user_build::build_static(paths, package, bin)?;
        adds.push(initramfs::Add::parse(&format!(
            "{}:{}/",
            program.display(),
            suite::user::NET_DIR
        ))?);
    }
    let ssh_keys = nettest::ssh_proof::Keys::prepare(paths)?;
    adds.push(initramfs::Add::parse(&format!(
        "{}:{}",
        ssh_keys.guest_dir().display(),
        nettest::ssh_proof::GUEST_KEYS
    ))?);
    for bin in ["segv", "forkbomb", "memhog"] {
        let program = crate::user_build::build_static(paths, "stress", bin)?;
        adds.push(initramfs::Add::parse(&format!(
            "{}:{}/",
            program.display(),
            suite::user::STRESS_DIR
        ))?);
    }
    Ok(adds)
}

/// Runs everything `opts` selects; returns the summary.
pub fn run(opts: &TestOptions, paths: &Paths) -> Summary {
    let mut summary = Summary::default();
    if opts.host_steps() {
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
    if opts.repeat.is_none() && abi_tests::selected(opts.only.as_deref()) {
        summary.step(
            "abi-host: user-space test programs on the host Linux",
            || abi_tests::host_step(paths),
        );
    }
    let cases = QemuCase::select(opts.only.as_deref());
    if cases.is_empty() {
        // `--only` chose the ABI programs alone: no kernel needed.
        return summary;
    }
    let initramfs_built = summary.step(INITRAMFS_BUILD, || {
        initramfs::build(paths, &test_programs(paths)?, None).map(drop)
    });
    if initramfs_built {
        summary.step(INITRAMFS_HOST, || initramfs::host_check::run(paths));
    } else {
        summary.record(
            INITRAMFS_HOST,
            Duration::ZERO,
            Err(NO_INITRAMFS.to_string()),
        );
    }
    let built = summary.step(
        "kernel build + ksyms (release, then with test commands)",
        || kernel_build::build_release_then_test(paths),
    );
    let ready = match (built, initramfs_built) {
        (true, true) => qemu_ready(paths),
        (false, _) => Err("kernel build failed".to_string()),
        (true, false) => Err(NO_INITRAMFS.to_string()),
    };
    let symbols = match ready {
        Ok(symbols) => symbols,
        Err(why) => {
            for case in cases {
                let result = Err(format!("not run: {why}"));
                summary.record(&case.label(), Duration::ZERO, result);
            }
            return summary;
        }
    };
    let runs = opts.repeat.unwrap_or(1);
    let load = opts.load.then(|| start_load(&cases, runs));
    match opts.repeat {
        None => {
            for case in cases {
                summary.step(&case.label(), || case.run(paths, &symbols));
            }
        }
        Some(runs) => {
            let tallies = repeat_runs(&cases, runs, paths, &symbols);
            summary.table = repeat::table(&tallies, paths);
            for t in &tallies {
                summary.record(&format!("qemu: {}", t.name), t.took, t.verdict(paths));
            }
        }
    }
    if let Some(load) = load {
        let r = load.stop();
        eprintln!(
            "xtask: --load: {} CPU hogs stopped after {:.0} s ({} busy-loop rounds)",
            r.hogs, r.seconds, r.rounds
        );
    }
    summary
}

/// Starts `--load` for `runs` rounds of `cases`: bounded by the sum of their deadlines
/// (the runs cannot take longer) plus a margin for builds between them.
fn start_load(cases: &[QemuCase], runs: u32) -> CpuLoad {
    const MARGIN: Duration = Duration::from_secs(600);
    let bound = cases.iter().map(|c| c.timeout()).sum::<Duration>() * runs + MARGIN;
    let load = CpuLoad::start(bound);
    eprintln!(
        "xtask: --load: {} CPU hogs (one per core) until the QEMU tests end, at most {} s",
        load.hogs(),
        bound.as_secs()
    );
    load
}

/// `--repeat`: every case `runs` times, round by round; one tally per case.
fn repeat_runs(
    cases: &[QemuCase],
    runs: u32,
    paths: &Paths,
    symbols: &[ksyms::Symbol],
) -> Vec<Tally> {
    let names: Vec<&str> = cases.iter().map(|c| c.name()).collect();
    repeat::clear_kept_logs(&paths.repeat_logs(), &names);
    let mut tallies: Vec<Tally> = cases.iter().map(|c| Tally::new(c.name())).collect();
    for run in 1..=runs {
        for (case, tally) in cases.iter().zip(&mut tallies) {
            let name = format!("{} (run {run}/{runs})", case.label());
            eprintln!("xtask: --- {name}");
            let start = Instant::now();
            let result = case.run(paths, symbols);
            let took = start.elapsed();
            eprintln!("{}", line(&name, took, &result));
            let (log, keep) = (
                paths.test_log(case.name()),
                paths.repeat_log(case.name(), run),
            );
            tally.record(run, took, result, &log, &keep);
        }
    }
    tallies
}

/// A QEMU test of either table: the suite's ([`suite::TESTS`]) or a network test
/// ([`nettest::NET_TESTS`]).
#[derive(Clone, Copy)]
enum QemuCase {
    Suite(&'static suite::QemuTest),
    Net(&'static nettest::NetTest),
}

impl QemuCase {
    /// The tests whose name contains `pattern`, suite first (the order they run in).
    fn select(pattern: Option<&str>) -> Vec<QemuCase> {
        let suite = suite::select(pattern).into_iter().map(QemuCase::Suite);
        let net = nettest::select(pattern).into_iter().map(QemuCase::Net);
        suite.chain(net).collect()
    }

    fn name(self) -> &'static str {
        match self {
            QemuCase::Suite(t) => t.name,
            QemuCase::Net(t) => t.name,
        }
    }

    /// How the summary names it.
    fn label(self) -> String {
        format!("qemu: {}", self.name())
    }

    fn timeout(self) -> Duration {
        match self {
            QemuCase::Suite(t) => t.timeout,
            QemuCase::Net(t) => t.timeout,
        }
    }

    /// Runs the test once; a network test's measurements go to stderr.
    fn run(self, paths: &Paths, symbols: &[ksyms::Symbol]) -> Result<(), String> {
        match self {
            QemuCase::Suite(t) => suite::run(t, paths, symbols),
            QemuCase::Net(t) => {
                let report = nettest::run(t, paths)?;
                eprintln!("xtask: {}: {report}", t.name);
                Ok(())
            }
        }
    }
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
    cmd.current_dir(&paths.root);
    lint::run(cmd, what)
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
