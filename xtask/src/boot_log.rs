//! Checks the boot stages on a serial log.
//!
//! The kernel prints `HALYARD-STAGE <name>` for every stage of `boot-stages`, in order, then
//! `BOOT-OK`. When a boot test fails the useful answer is *which stage did not come*, so the
//! checker is a small state machine fed one line at a time: the live test feeds it as QEMU
//! talks and, on a timeout or an early exit, asks it what is missing. It is pure, so it is
//! unit tested on hand-written logs.

use boot_stages::{Stage, BOOT_OK, STAGES};
use std::fmt;

/// The next thing the boot log should show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Stage(&'static Stage),
    BootOk,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Stage(s) => write!(f, "boot stage `{}` ({})", s.name, s.what),
            Step::BootOk => write!(f, "`{BOOT_OK}` after the last stage"),
        }
    }
}

/// Why a boot log is not a good boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootError {
    /// This step never appeared.
    Missing(Step),
    /// A stage marker came while `expected` was still due (skipped or repeated stage).
    OutOfOrder { expected: Step, got: &'static Stage },
    /// The kernel reported a panic or a fatal exception during boot (the line is kept).
    Crashed(String),
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::Missing(step) => write!(f, "missing {step}"),
            BootError::OutOfOrder { expected, got } => {
                write!(
                    f,
                    "boot stage `{}` out of order: expected {expected}",
                    got.name
                )
            }
            BootError::Crashed(line) => write!(f, "kernel crashed during boot: {line}"),
        }
    }
}

/// How far a boot has come.
#[derive(Debug, Clone, Default)]
pub struct BootProgress {
    /// Number of stages seen, in order.
    seen: usize,
    booted: bool,
}

impl BootProgress {
    /// Feeds one console line. `Ok(true)` once `BOOT-OK` closed a complete, ordered boot.
    pub fn feed(&mut self, line: &str) -> Result<bool, BootError> {
        if self.booted {
            return Ok(true);
        }
        let line = line.trim_end();
        if let Some(stage) = boot_stages::parse_marker(line) {
            if STAGES.get(self.seen) != Some(stage) {
                return Err(BootError::OutOfOrder {
                    expected: self.next_step(),
                    got: stage,
                });
            }
            self.seen += 1;
        } else if line == BOOT_OK {
            if self.seen < STAGES.len() {
                return Err(self.missing());
            }
            self.booted = true;
        } else if line.starts_with("KERNEL PANIC") || line.starts_with("EXCEPTION ") {
            return Err(BootError::Crashed(line.to_string()));
        }
        Ok(self.booted)
    }

    /// The step still due.
    pub fn next_step(&self) -> Step {
        STAGES.get(self.seen).map_or(Step::BootOk, Step::Stage)
    }

    /// The error to report if the log ends (or times out) now.
    pub fn missing(&self) -> BootError {
        BootError::Missing(self.next_step())
    }
}

/// The last boot stage marker in `log`, for failure messages.
pub fn last_stage(log: &str) -> Option<&'static Stage> {
    log.lines().rev().find_map(boot_stages::parse_marker)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks a whole serial log: every stage in order, then `BOOT-OK`.
    fn check_log(log: &str) -> Result<(), BootError> {
        let mut progress = BootProgress::default();
        for line in log.lines() {
            if progress.feed(line)? {
                return Ok(());
            }
        }
        Err(progress.missing())
    }

    /// A good boot log with log noise between the markers, CRLF line ends like a serial port.
    fn log_with(stages: &[&str], boot_ok: bool) -> String {
        let mut log = String::from("SeaBIOS noise\r\n");
        for (i, name) in stages.iter().enumerate() {
            log += &format!("[    0.{i:06}] INFO cpu0: doing {name}\r\n");
            log += &format!("HALYARD-STAGE {name}\r\n");
        }
        if boot_ok {
            log += "BOOT-OK\r\nhalyard> ";
        }
        log
    }

    fn all_names() -> Vec<&'static str> {
        STAGES.iter().map(|s| s.name).collect()
    }

    #[test]
    fn a_complete_boot_passes() {
        assert_eq!(check_log(&log_with(&all_names(), true)), Ok(()));
    }

    #[test]
    fn a_log_missing_one_stage_names_exactly_that_stage() {
        for (i, skipped) in STAGES.iter().enumerate() {
            // The log stops right before the stage: a hang in that stage.
            let hung = log_with(&all_names()[..i], false);
            assert_eq!(
                check_log(&hung),
                Err(BootError::Missing(Step::Stage(skipped)))
            );
            // BOOT-OK printed without it also names it.
            assert_eq!(
                check_log(&log_with(&all_names()[..i], true)),
                Err(BootError::Missing(Step::Stage(skipped)))
            );
        }
    }

    #[test]
    fn all_stages_without_boot_ok_reports_boot_ok() {
        let err = check_log(&log_with(&all_names(), false)).unwrap_err();
        assert_eq!(err, BootError::Missing(Step::BootOk));
        assert!(err.to_string().starts_with("missing `BOOT-OK`"));
    }

    #[test]
    fn skipped_swapped_and_repeated_stages_are_out_of_order() {
        let mut names = all_names();
        names.swap(2, 3);
        assert_eq!(
            check_log(&log_with(&names, true)),
            Err(BootError::OutOfOrder {
                expected: Step::Stage(&STAGES[2]),
                got: &STAGES[3]
            })
        );
        let mut skipped = all_names();
        skipped.remove(1);
        assert_eq!(
            check_log(&log_with(&skipped, true)),
            Err(BootError::OutOfOrder {
                expected: Step::Stage(&STAGES[1]),
                got: &STAGES[2]
            })
        );
        let mut repeated = all_names();
        repeated.insert(1, STAGES[0].name);
        assert_eq!(
            check_log(&log_with(&repeated, true)),
            Err(BootError::OutOfOrder {
                expected: Step::Stage(&STAGES[1]),
                got: &STAGES[0]
            })
        );
    }

    #[test]
    fn a_panic_during_boot_is_reported_with_its_line() {
        let mut log = log_with(&all_names()[..3], false);
        log += "KERNEL PANIC at kernel/src/mm.rs:10: out of frames\r\n";
        assert_eq!(
            check_log(&log),
            Err(BootError::Crashed(
                "KERNEL PANIC at kernel/src/mm.rs:10: out of frames".into()
            ))
        );
    }

    #[test]
    fn last_stage_is_the_last_marker() {
        assert_eq!(
            last_stage(&log_with(&all_names()[..3], false)),
            Some(&STAGES[2])
        );
        assert_eq!(last_stage("no markers\n"), None);
    }

    #[test]
    fn messages_name_the_stage_and_its_meaning() {
        let msg = check_log(&log_with(&all_names()[..1], false))
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            format!(
                "missing boot stage `{}` ({})",
                STAGES[1].name, STAGES[1].what
            )
        );
        let first = format!("missing boot stage `{}`", STAGES[0].name);
        assert!(check_log("").unwrap_err().to_string().starts_with(&first));
    }
}
