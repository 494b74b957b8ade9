//! `cargo xtask test --repeat N`: the same QEMU tests many times, to find the flaky ones.
//!
//! A race that fails one run in twenty passes a single suite run nineteen times out of
//! twenty; running the tests in question N times on one kernel build, and counting, is how
//! such a failure is found and how a fix is shown to hold. The runs go round by round (run
//! 1 of every selected test, then run 2, ...), so every test sees the machine in several
//! states and an interrupted soak has covered all tests evenly.
//!
//! Each test counts once in the closing `N passed, N failed` line: failed if any of its runs
//! failed. The serial log of a test's first failing run is copied to
//! `target/test-logs/repeat/<test>.run<K>.log` (the live `target/test-logs/<test>.log` is
//! overwritten by the next run) and named in the table printed at the end. Kept logs of the
//! selected tests from an earlier soak are removed first, so the directory only ever shows
//! this soak's failures.

use crate::paths::Paths;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One test's record over the runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub name: &'static str,
    pub runs: u32,
    pub failures: u32,
    /// Run number, reason and kept log (`Err`: why the copy failed) of the first failure.
    pub first: Option<(u32, String, Result<PathBuf, String>)>,
    /// Time spent in this test's runs together.
    pub took: Duration,
}

impl Tally {
    pub fn new(name: &'static str) -> Tally {
        Tally {
            name,
            runs: 0,
            failures: 0,
            first: None,
            took: Duration::ZERO,
        }
    }

    /// Records run `run`; the first failure copies the run's serial log `log` to `keep`.
    pub fn record(
        &mut self,
        run: u32,
        took: Duration,
        result: Result<(), String>,
        log: &Path,
        keep: &Path,
    ) {
        self.runs += 1;
        self.took += took;
        let Err(why) = result else { return };
        self.failures += 1;
        if self.first.is_none() {
            self.first = Some((run, why, keep_log(log, keep)));
        }
    }

    /// The test's one verdict: failed if any run failed, with the first failure's reason.
    pub fn verdict(&self, paths: &Paths) -> Result<(), String> {
        match &self.first {
            None => Ok(()),
            Some((run, why, kept)) => Err(format!(
                "{} of {} runs failed; the first, run {run}: {why}\n      kept log: {}",
                self.failures,
                self.runs,
                shown(kept, paths)
            )),
        }
    }
}

/// Copies `log` to `keep`, creating its directory.
fn keep_log(log: &Path, keep: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = keep.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::copy(log, keep)
        .map(|_| keep.to_path_buf())
        .map_err(|e| format!("cannot copy {}: {e}", log.display()))
}

fn shown(kept: &Result<PathBuf, String>, paths: &Paths) -> String {
    match kept {
        Ok(path) => paths.show(path),
        Err(why) => format!("none ({why})"),
    }
}

/// Removes the logs an earlier soak kept in `dir` for the tests `names`.
pub fn clear_kept_logs(dir: &Path, names: &[&str]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let ours = names
            .iter()
            .any(|n| file.strip_prefix(n).is_some_and(|r| r.starts_with(".run")));
        if ours {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The table printed at the end of a soak: test, runs, failures, first failing log.
pub fn table(tallies: &[Tally], paths: &Paths) -> String {
    let width = tallies
        .iter()
        .map(|t| t.name.len())
        .chain(std::iter::once("test".len()))
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "{:<width$}  {:>5}  {:>8}  first failing log\n",
        "test", "runs", "failures"
    );
    for t in tallies {
        let log = t
            .first
            .as_ref()
            .map_or("-".to_string(), |(_, _, kept)| shown(kept, paths));
        let _ = writeln!(
            out,
            "{:<width$}  {:>5}  {:>8}  {log}",
            t.name, t.runs, t.failures
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lines_up_and_names_the_kept_logs() {
        let paths = Paths::repo();
        let mut flaky = Tally::new("net-tap-flood");
        flaky.runs = 5;
        flaky.failures = 2;
        flaky.first = Some((3, "boom".into(), Ok(paths.repeat_log("net-tap-flood", 3))));
        let mut steady = Tally::new("panic");
        steady.runs = 5;
        let mut lost = Tally::new("sse");
        lost.runs = 1;
        lost.failures = 1;
        lost.first = Some((1, "x".into(), Err("cannot copy a: gone".into())));
        assert_eq!(
            table(&[flaky, steady, lost], &paths),
            "test            runs  failures  first failing log\n\
             net-tap-flood      5         2  target/test-logs/repeat/net-tap-flood.run3.log\n\
             panic              5         0  -\n\
             sse                1         1  none (cannot copy a: gone)\n"
        );
        // The header still fits when every name is shorter than `test`.
        assert!(table(&[Tally::new("pci")], &paths).starts_with("test   runs  failures"));
    }

    #[test]
    fn runs_are_tallied_and_the_first_failing_log_is_kept() {
        let dir = std::env::temp_dir().join(format!("xtask-repeat-{}", std::process::id()));
        let log = dir.join("live.log");
        std::fs::create_dir_all(&dir).unwrap();
        let keep = |run: u32| dir.join("kept").join(format!("t.run{run}.log"));
        let paths = Paths::repo();
        let mut t = Tally::new("t");
        let second = Duration::from_secs(1);
        std::fs::write(&log, "run 1\n").unwrap();
        t.record(1, second, Ok(()), &log, &keep(1));
        assert_eq!(t.verdict(&paths), Ok(()));
        std::fs::write(&log, "run 2 failed\n").unwrap();
        t.record(2, second, Err("stage `net` missing".into()), &log, &keep(2));
        std::fs::write(&log, "run 3 failed too\n").unwrap();
        t.record(3, second, Err("again".into()), &log, &keep(3));
        assert_eq!((t.runs, t.failures, t.took), (3, 2, 3 * second));
        assert_eq!(
            std::fs::read_to_string(keep(2)).unwrap(),
            "run 2 failed\n",
            "the first failing run's log is kept as it was"
        );
        assert!(!keep(3).exists(), "only the first failure is kept");
        let verdict = t.verdict(&paths).unwrap_err();
        assert!(
            verdict.starts_with("2 of 3 runs failed; the first, run 2: stage `net` missing"),
            "{verdict}"
        );
        assert!(verdict.contains("t.run2.log"), "{verdict}");
        // A log that cannot be copied is reported, not fatal.
        let mut gone = Tally::new("gone");
        gone.record(
            1,
            second,
            Err("no QEMU".into()),
            &dir.join("absent"),
            &keep(9),
        );
        assert!(gone
            .verdict(&paths)
            .unwrap_err()
            .contains("kept log: none (cannot copy"));
        // A new soak of `t` removes `t`'s kept logs, and only those.
        let other = dir.join("kept").join("t2.run1.log");
        std::fs::write(&other, "").unwrap();
        clear_kept_logs(&dir.join("kept"), &["t"]);
        assert!(!keep(2).exists() && other.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
