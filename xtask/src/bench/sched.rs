//! The in-kernel scheduler and lock benchmark (`test=bench-sched`,
//! kernel/src/ktest/bench.rs) and the lock validator's cost.
//!
//! Why here: the network rows run Halyard with `lockdep=off` (a distribution kernel has no
//! lockdep), so the validator's cost must be measured somewhere else, by the same command.
//! Each round boots the benchmark kernel twice, `lockdep=off` then `lockdep=on`, with no
//! NIC at [`SMP`] CPUs (so wake latency across CPUs is measured too); the report gives the
//! medians of each setting and the median of the per-round ratios on/off. The validator is
//! chosen on the command line rather than switched inside one boot: turning it off while
//! another CPU holds a lock would leave that CPU's held-lock stack stale.
//!
//! The kernel prints `BENCH-CONFIG lockdep=on|off cpus=N`, then `BENCH name value unit`
//! per measurement, then `TEST-PASS bench-sched`; [`parse`] reads that and checks the
//! configuration is the one asked for, so a mislabelled column cannot happen silently.

use super::results::{Results, SCHED_METRICS};
use crate::exit_status::KERNEL_OK;
use crate::net_mode::Network;
use crate::paths::Paths;
use crate::qemu::cmdline::QemuConfig;
use crate::qemu::session::Session;
use crate::suite::{self, in_kernel};
use std::time::{Duration, Instant};

/// CPUs of the benchmark boots.
pub const SMP: u32 = 2;
/// One boot's deadline: the kernel declares the test hung after 45 s and says so first.
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

/// One measurement line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

/// What one boot of the benchmark printed.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub lockdep: bool,
    pub cpus: u32,
    pub samples: Vec<Sample>,
}

impl Run {
    /// The value of metric `id`, which must be in nanoseconds.
    pub fn value(&self, id: &str) -> Result<f64, String> {
        let s = self
            .samples
            .iter()
            .find(|s| s.name == id)
            .ok_or_else(|| format!("the kernel printed no `BENCH {id}` line"))?;
        if s.unit == "ns" {
            Ok(s.value)
        } else {
            Err(format!("`BENCH {id}` is in `{}`, expected ns", s.unit))
        }
    }
}

/// Reads the serial output of a `test=bench-sched` boot: exactly one `BENCH-CONFIG` line,
/// and every `BENCH` line well formed (anything else, the boot log, is skipped).
pub fn parse(serial: &str) -> Result<Run, String> {
    let mut config = None;
    let mut samples = Vec::new();
    for line in serial.lines().map(str::trim_end) {
        if let Some(rest) = line.strip_prefix("BENCH-CONFIG ") {
            if config.is_some() {
                return Err("two BENCH-CONFIG lines".to_string());
            }
            config = Some(parse_config(rest).ok_or_else(|| format!("malformed `{line}`"))?);
        } else if let Some(rest) = line.strip_prefix("BENCH ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let sample = match words[..] {
                [name, value, unit] => value.parse::<f64>().ok().map(|value| Sample {
                    name: name.to_string(),
                    value,
                    unit: unit.to_string(),
                }),
                _ => None,
            };
            samples.push(sample.ok_or_else(|| format!("malformed `{line}`"))?);
        }
    }
    let (lockdep, cpus) = config.ok_or("the kernel printed no BENCH-CONFIG line")?;
    Ok(Run {
        lockdep,
        cpus,
        samples,
    })
}

/// `lockdep=on|off cpus=N`.
fn parse_config(words: &str) -> Option<(bool, u32)> {
    let mut lockdep = None;
    let mut cpus = None;
    for word in words.split_whitespace() {
        match word.split_once('=')? {
            ("lockdep", "on") => lockdep = Some(true),
            ("lockdep", "off") => lockdep = Some(false),
            ("cpus", n) => cpus = Some(n.parse().ok()?),
            _ => return None,
        }
    }
    Some((lockdep?, cpus?))
}

/// The kernel command line of one benchmark boot.
pub fn cmdline(lockdep: bool) -> String {
    let word = if lockdep { "on" } else { "off" };
    format!("test=bench-sched panic=exit lockdep={word}")
}

/// Boots the benchmark once (no NIC) and returns what it measured, checked against the
/// configuration asked for. The serial log stays in `target/bench/logs/`.
fn boot(paths: &Paths, lockdep: bool, round: usize) -> Result<Run, String> {
    let cmdline = cmdline(lockdep);
    let config = QemuConfig::for_test(paths, SMP, cmdline.clone(), Network::none());
    let log = paths.root.join("target/bench/logs").join(format!(
        "halyard-smp{SMP}-sched-lockdep-{}-round{}.log",
        if lockdep { "on" } else { "off" },
        round + 1
    ));
    let mut session = Session::start(config.command(), &log, Instant::now() + BOOT_TIMEOUT)?;
    let outcome = in_kernel::expect_pass(&mut session, &cmdline)
        .and_then(|()| suite::expect_status(session.wait_exit()?, KERNEL_OK))
        .and_then(|()| {
            let text = std::fs::read_to_string(&log)
                .map_err(|e| format!("cannot read {}: {e}", log.display()))?;
            parse(&text)
        })
        .and_then(|run| {
            if (run.lockdep, run.cpus) == (lockdep, SMP) {
                Ok(run)
            } else {
                Err(format!(
                    "asked for lockdep={lockdep} on {SMP} CPUs, the kernel ran lockdep={} on {}",
                    run.lockdep, run.cpus
                ))
            }
        });
    outcome.map_err(|e| format!("bench-sched: {e} (serial log {})", paths.show(&log)))
}

/// Runs `rounds` rounds (lockdep off, then on) into `results`; with `blocked` (the kernel
/// did not build) every cell records that reason instead. A boot that fails is recorded
/// and the next one still runs: one hung boot does not say the others would hang.
pub fn measure(paths: &Paths, rounds: usize, blocked: Option<&str>, results: &mut Results) {
    for round in 0..rounds {
        for lockdep in [false, true] {
            let outcome = match blocked {
                Some(reason) => Err(reason.to_string()),
                None => {
                    eprintln!(
                        "xtask: bench: bench-sched round {} lockdep={}",
                        round + 1,
                        if lockdep { "on" } else { "off" }
                    );
                    boot(paths, lockdep, round)
                }
            };
            if let Err(e) = &outcome {
                eprintln!("xtask: bench: {e}");
            }
            for metric in SCHED_METRICS {
                let value = outcome
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|run| run.value(metric.id));
                results.record_sched(lockdep, metric.id, round, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the kernel printed in a real `lockdep=on` boot at -smp 2 (log lines trimmed).
    const SAMPLE: &str = "\
HALYARD-STAGE monitor\r
BOOT-OK
BENCH-CONFIG lockdep=on cpus=2
BENCH context_switch 2440 ns
BENCH wake_latency_same_cpu_p50 4577 ns
[    0.501234] INFO  cpu1: something else
BENCH wake_latency_same_cpu_p99 15331 ns
BENCH wake_latency_cross_cpu_p50 13462 ns
BENCH wake_latency_cross_cpu_p99 986222 ns
BENCH spin_lock_round_trip 652 ns
TEST-PASS bench-sched
";

    #[test]
    fn the_kernel_output_is_read_into_every_metric() {
        let run = parse(SAMPLE).unwrap();
        assert_eq!((run.lockdep, run.cpus, run.samples.len()), (true, 2, 6));
        let values: Vec<f64> = SCHED_METRICS
            .iter()
            .map(|m| run.value(m.id).unwrap())
            .collect();
        assert_eq!(values, [2440.0, 4577.0, 15331.0, 13462.0, 986222.0, 652.0]);
        let off = parse("BENCH-CONFIG lockdep=off cpus=1\nBENCH context_switch 9 ns\n").unwrap();
        assert_eq!((off.lockdep, off.cpus), (false, 1));
        assert_eq!(
            off.value("wake_latency_cross_cpu_p50"),
            Err("the kernel printed no `BENCH wake_latency_cross_cpu_p50` line".into())
        );
    }

    #[test]
    fn malformed_output_is_an_error_that_names_the_line() {
        assert_eq!(
            parse("BOOT-OK\nTEST-PASS bench-sched\n"),
            Err("the kernel printed no BENCH-CONFIG line".into())
        );
        assert_eq!(
            parse("BENCH-CONFIG lockdep=on cpus=2\nBENCH context_switch fast ns\n"),
            Err("malformed `BENCH context_switch fast ns`".into())
        );
        assert_eq!(
            parse("BENCH-CONFIG lockdep=maybe cpus=2\n"),
            Err("malformed `BENCH-CONFIG lockdep=maybe cpus=2`".into())
        );
        assert_eq!(
            parse("BENCH-CONFIG lockdep=on cpus=2\nBENCH-CONFIG lockdep=on cpus=2\n"),
            Err("two BENCH-CONFIG lines".into())
        );
        let us = parse("BENCH-CONFIG lockdep=on cpus=2\nBENCH context_switch 3 us\n").unwrap();
        assert_eq!(
            us.value("context_switch"),
            Err("`BENCH context_switch` is in `us`, expected ns".into())
        );
    }

    #[test]
    fn the_command_line_selects_the_test_and_the_validator() {
        assert_eq!(cmdline(true), "test=bench-sched panic=exit lockdep=on");
        assert_eq!(
            in_kernel::kernel_test_name(&cmdline(false)),
            Some("bench-sched")
        );
    }
}
