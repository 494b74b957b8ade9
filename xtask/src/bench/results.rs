//! What the benchmark measured: one row per (CPU count, metric), one cell per system.
//!
//! A cell keeps every round's value in round order (`None` where that round failed) so the
//! report can pair Halyard's round `i` with Linux's round `i` (see [`super::stats`]), and the
//! first error, which becomes the cell's "not available: <reason>" when no round succeeded.
//! The headline cells are Halyard and Linux each running the same user-space programs
//! (`netsvc`, `ubench`); the network rows of the CPU counts the budget names also carry a
//! third cell, Halyard serving the same ports from its kernel ([`System::HalyardKernel`]),
//! reported as a section of its own. The in-kernel scheduler benchmark ([`super::sched`])
//! fills [`SchedRow`]s the same way, with `lockdep=off` and `lockdep=on` in place of the two
//! systems.

use super::stats;

/// What a cell measured: a system running the user-space programs, or Halyard serving the
/// network rows from its kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    /// Halyard running the static user-space programs (`netsvc` with `services=off`).
    Halyard,
    /// Halyard's in-kernel services (`kernel/src/net/services`), no user space: the
    /// network rows only.
    HalyardKernel,
    Linux,
}

impl System {
    /// The two systems running the same programs, in the order each round runs them.
    pub const BOTH: [System; 2] = [System::Halyard, System::Linux];

    pub const fn name(self) -> &'static str {
        match self {
            System::Halyard => "Halyard",
            System::HalyardKernel => "Halyard-kernel",
            System::Linux => "Linux",
        }
    }
}

/// Which direction of a metric is an improvement (`"higher"` or `"lower"` in results.json).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// One measured quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// Stable key in results.json.
    pub id: &'static str,
    /// Short label for the table and the chart.
    pub label: &'static str,
    pub unit: &'static str,
    pub better: Better,
}

const fn metric(
    id: &'static str,
    label: &'static str,
    unit: &'static str,
    better: Better,
) -> Metric {
    Metric {
        id,
        label,
        unit,
        better,
    }
}

/// Every metric, in report order.
pub const METRICS: &[Metric] = &[
    metric("boot_netup", "start to NET-UP", "s", Better::Lower),
    metric("boot_echo", "start to first echo", "s", Better::Lower),
    metric("ping_min", "ping RTT min", "ms", Better::Lower),
    metric("ping_p50", "ping RTT median", "ms", Better::Lower),
    metric("ping_p99", "ping RTT p99", "ms", Better::Lower),
    metric("rr_rate", "TCP 64 B req/resp rate", "1/s", Better::Higher),
    metric("rr_p50", "TCP 64 B req/resp p50", "us", Better::Lower),
    metric("rr_p99", "TCP 64 B req/resp p99", "us", Better::Lower),
    metric(
        "conn_rate",
        "connect+echo+close rate",
        "1/s",
        Better::Higher,
    ),
    metric("bulk_in", "bulk host to guest", "MB/s", Better::Higher),
    metric("bulk_out", "bulk guest to host", "MB/s", Better::Higher),
    metric(
        "bulk_in_cpu",
        "guest CPU per MB, host to guest",
        "ms/MB",
        Better::Lower,
    ),
    metric(
        "bulk_out_cpu",
        "guest CPU per MB, guest to host",
        "ms/MB",
        Better::Lower,
    ),
    metric("http_rate", "HTTP requests (wrk)", "1/s", Better::Higher),
    metric("boot_shell", "start to shell prompt", "s", Better::Lower),
    metric("sys_getpid", "getpid round trip", "ns", Better::Lower),
    metric("sys_fork", "fork+exit+wait", "us", Better::Lower),
    metric(
        "sys_exec",
        "fork+execve+wait (busybox true)",
        "us",
        Better::Lower,
    ),
    metric("sys_pipe", "pipe ping-pong round trip", "us", Better::Lower),
    metric(
        "sys_futex",
        "futex ping-pong round trip",
        "us",
        Better::Lower,
    ),
    metric("sys_mmap", "mmap+touch+munmap 1 MiB", "us", Better::Lower),
    metric(
        "ssh_cycle",
        "ssh command cycle (OpenSSH to hsshd)",
        "s",
        Better::Lower,
    ),
    metric(
        "httpd_rate",
        "busybox httpd requests (wrk)",
        "1/s",
        Better::Higher,
    ),
    metric("min_mem", "smallest -m that passes", "MiB", Better::Lower),
];

/// The metrics a network boot measures ([`super::Bench::round`]): the rows that also have a
/// cell for Halyard's in-kernel services.
pub const NETWORK_METRICS: &[&str] = &[
    "boot_netup",
    "boot_echo",
    "ping_min",
    "ping_p50",
    "ping_p99",
    "rr_rate",
    "rr_p50",
    "rr_p99",
    "conn_rate",
    "bulk_in",
    "bulk_out",
    "bulk_in_cpu",
    "bulk_out_cpu",
    "http_rate",
];

/// The metrics of the in-kernel `bench-sched` benchmark, in report order (ids are the
/// kernel's `BENCH` names; all nanoseconds).
pub const SCHED_METRICS: &[Metric] = &[
    metric(
        "context_switch",
        "context switch (yield to yield)",
        "ns",
        Better::Lower,
    ),
    metric(
        "wake_latency_same_cpu_p50",
        "wake latency, same CPU, p50",
        "ns",
        Better::Lower,
    ),
    metric(
        "wake_latency_same_cpu_p99",
        "wake latency, same CPU, p99",
        "ns",
        Better::Lower,
    ),
    metric(
        "wake_latency_cross_cpu_p50",
        "wake latency, across CPUs, p50",
        "ns",
        Better::Lower,
    ),
    metric(
        "wake_latency_cross_cpu_p99",
        "wake latency, across CPUs, p99",
        "ns",
        Better::Lower,
    ),
    metric(
        "spin_lock_round_trip",
        "spin lock + unlock, uncontended",
        "ns",
        Better::Lower,
    ),
];

/// One system's values for one row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    /// Per round, in order; `None`: that round produced no value.
    pub values: Vec<Option<f64>>,
    /// Why a round produced no value (the first reason seen).
    pub error: Option<String>,
}

impl Cell {
    /// Records round `round`'s outcome.
    pub fn record(&mut self, round: usize, outcome: Result<f64, String>) {
        if self.values.len() <= round {
            self.values.resize(round + 1, None);
        }
        match outcome {
            Ok(v) => self.values[round] = Some(v),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }

    /// The values that were measured.
    pub fn measured(&self) -> Vec<f64> {
        self.values.iter().flatten().copied().collect()
    }

    /// Median over rounds of `self[i] / other[i]`, for the rounds where both have a value.
    pub fn paired_ratio(&self, other: &Cell) -> Option<f64> {
        let (a, b): (Vec<f64>, Vec<f64>) = self
            .values
            .iter()
            .zip(&other.values)
            .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
            .unzip();
        stats::paired_ratio(&a, &b)
    }

    /// The median, or why there is none.
    pub fn median(&self) -> Result<f64, String> {
        stats::median(&self.measured()).ok_or_else(|| {
            self.error
                .clone()
                .unwrap_or_else(|| "not measured".to_string())
        })
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub smp: u32,
    pub metric: &'static Metric,
    pub halyard: Cell,
    pub linux: Cell,
    /// Halyard's in-kernel services: `Some` for the network rows of the CPU counts that
    /// measure them (the report's in-kernel section), else `None`.
    pub kernel: Option<Cell>,
}

impl Row {
    /// `system`'s cell; `None` for the in-kernel services on a row they do not measure.
    pub fn cell(&self, system: System) -> Option<&Cell> {
        match system {
            System::Halyard => Some(&self.halyard),
            System::HalyardKernel => self.kernel.as_ref(),
            System::Linux => Some(&self.linux),
        }
    }

    /// Median of the per-round ratios Halyard/Linux over rounds where both have a value.
    pub fn ratio(&self) -> Option<f64> {
        self.halyard.paired_ratio(&self.linux)
    }

    /// The in-kernel services over Linux's user-space `netsvc`, paired by round.
    pub fn kernel_ratio(&self) -> Option<f64> {
        self.kernel.as_ref()?.paired_ratio(&self.linux)
    }

    /// The in-kernel services over Halyard's own user-space `netsvc`, paired by round: what
    /// leaving the kernel costs (below 1 where higher is better: the kernel is slower).
    pub fn kernel_over_user(&self) -> Option<f64> {
        self.kernel.as_ref()?.paired_ratio(&self.halyard)
    }
}

/// One row of the `bench-sched` table: the same metric with the lock validator off and on.
#[derive(Debug, Clone, PartialEq)]
pub struct SchedRow {
    pub metric: &'static Metric,
    pub lockdep_off: Cell,
    pub lockdep_on: Cell,
}

impl SchedRow {
    /// The validator's cost: median of the per-round ratios on/off.
    pub fn ratio(&self) -> Option<f64> {
        self.lockdep_on.paired_ratio(&self.lockdep_off)
    }
}

/// Facts about the run that a reader needs to interpret the numbers (the head of
/// results.json, [`super::json`]).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    /// Which commit was measured, when, and the command that reproduces the run.
    #[serde(with = "super::json::stamp")]
    pub stamp: run_stamp::Stamp,
    pub qemu_version: String,
    /// The Linux peer's QEMU command line (Halyard's differs only in kernel and initrd).
    pub qemu_line: String,
    pub peer_kernel: String,
    /// `quick` or `full`.
    pub mode: String,
    /// Rounds per system and CPU count.
    pub rounds: usize,
    /// Unix time the run started, seconds.
    pub started_unix: u64,
    pub duration_s: f64,
}

/// Everything a run produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    pub meta: Meta,
    pub rows: Vec<Row>,
    /// The `bench-sched` rows (Halyard only, at [`super::sched::SMP`] CPUs).
    pub sched: Vec<SchedRow>,
    /// The offload ablation's rows ([`super::ablation`]); empty unless it ran.
    pub ablation: Vec<super::ablation::Row>,
}

impl Results {
    /// Rows for every metric at each CPU count in `smps`, all empty; the network rows at
    /// the CPU counts in `kernel_smps` get an (empty) in-kernel cell.
    pub fn new(meta: Meta, smps: &[u32], kernel_smps: &[u32]) -> Results {
        let rows = smps
            .iter()
            .flat_map(|&smp| {
                METRICS.iter().map(move |metric| Row {
                    smp,
                    metric,
                    halyard: Cell::default(),
                    linux: Cell::default(),
                    kernel: (kernel_smps.contains(&smp) && NETWORK_METRICS.contains(&metric.id))
                        .then(Cell::default),
                })
            })
            .collect();
        let sched = SCHED_METRICS
            .iter()
            .map(|metric| SchedRow {
                metric,
                lockdep_off: Cell::default(),
                lockdep_on: Cell::default(),
            })
            .collect();
        Results {
            meta,
            rows,
            sched,
            ablation: Vec::new(),
        }
    }

    /// Drops the row of metric `id` at `smp`: a measurement this mode does not make, which
    /// therefore is neither a value nor a gap.
    pub fn remove(&mut self, smp: u32, id: &str) {
        self.rows.retain(|r| !(r.smp == smp && r.metric.id == id));
    }

    /// Records `system`'s value (or failure) of metric `id` at `smp` in round `round`.
    /// Unknown rows are a programming error and are reported, not silently dropped.
    pub fn record(
        &mut self,
        smp: u32,
        system: System,
        id: &str,
        round: usize,
        outcome: Result<f64, String>,
    ) {
        let row = self
            .rows
            .iter_mut()
            .find(|r| r.smp == smp && r.metric.id == id);
        let cell = row.and_then(|row| match system {
            System::Halyard => Some(&mut row.halyard),
            System::HalyardKernel => row.kernel.as_mut(),
            System::Linux => Some(&mut row.linux),
        });
        match cell {
            Some(cell) => cell.record(round, outcome),
            None => eprintln!(
                "xtask: bench: no {} cell for metric `{id}` at smp {smp}",
                system.name()
            ),
        }
    }

    /// Records round `round` of `bench-sched` metric `id` with the validator on or off.
    pub fn record_sched(
        &mut self,
        lockdep: bool,
        id: &str,
        round: usize,
        outcome: Result<f64, String>,
    ) {
        match self.sched.iter_mut().find(|r| r.metric.id == id) {
            Some(row) if lockdep => row.lockdep_on.record(round, outcome),
            Some(row) => row.lockdep_off.record(round, outcome),
            None => eprintln!("xtask: bench: no bench-sched row for `{id}`"),
        }
    }

    /// Records the same failure for every metric `system` has at `smp` in `round` (the
    /// in-kernel services: the network rows).
    pub fn record_all_failed(&mut self, smp: u32, system: System, round: usize, reason: &str) {
        let ids: Vec<&str> = match system {
            System::HalyardKernel => NETWORK_METRICS.to_vec(),
            System::Halyard | System::Linux => METRICS.iter().map(|m| m.id).collect(),
        };
        for id in ids {
            self.record(smp, system, id, round, Err(reason.to_string()));
        }
    }

    /// `system`'s cell of metric `id` at `smp`, if that row (and cell) exists.
    pub fn cell(&self, smp: u32, id: &str, system: System) -> Option<&Cell> {
        self.rows
            .iter()
            .find(|r| r.smp == smp && r.metric.id == id)
            .and_then(|r| r.cell(system))
    }

    /// Why `system` has no value in some row, if it lacks any: the first such reason.
    /// Halyard's include its in-kernel services' rows and `bench-sched`'s.
    pub fn first_gap(&self, system: System) -> Option<String> {
        let gap = |system: System| {
            self.rows.iter().find_map(|row| {
                let suffix = match system {
                    System::HalyardKernel => " (in-kernel services)",
                    System::Halyard | System::Linux => "",
                };
                row.cell(system)?
                    .median()
                    .err()
                    .map(|e| format!("smp {} {}{suffix}: {e}", row.smp, row.metric.label))
            })
        };
        let network = gap(system);
        let sched = || {
            self.sched.iter().find_map(|row| {
                [("off", &row.lockdep_off), ("on", &row.lockdep_on)]
                    .into_iter()
                    .find_map(|(word, cell)| {
                        cell.median().err().map(|e| {
                            format!("bench-sched {} (lockdep={word}): {e}", row.metric.label)
                        })
                    })
            })
        };
        let ablation = || {
            self.ablation
                .iter()
                .filter(|row| row.config.system == System::Halyard)
                .find_map(|row| {
                    row.cells.iter().find_map(|cell| {
                        cell.median()
                            .err()
                            .map(|e| format!("ablation {}: {e}", row.config.label))
                    })
                })
        };
        match system {
            System::Halyard => network
                .or_else(|| gap(System::HalyardKernel))
                .or_else(sched)
                .or_else(ablation),
            System::HalyardKernel | System::Linux => network,
        }
    }
}

/// A small run for the output tests: two rounds at one CPU count with the in-kernel
/// services, with a failed cell and a failed `bench-sched` boot.
#[cfg(test)]
pub fn sample() -> Results {
    let meta = Meta {
        stamp: run_stamp::Stamp {
            commit: "0123abcd".into(),
            dirty: true,
            date: "2025-01-31T12:00:00Z".into(),
            command: "cargo xtask bench --quick".into(),
        },
        qemu_version: "QEMU emulator version 7.2.0".into(),
        qemu_line: "qemu-system-x86_64 -machine q35".into(),
        peer_kernel: "6.1.0-56-cloud-amd64".into(),
        mode: "quick".into(),
        rounds: 2,
        started_unix: 1,
        duration_s: 12.0,
    };
    let mut r = Results::new(meta, &[1], &[1]);
    for round in 0..2 {
        r.record(
            1,
            System::Linux,
            "rr_rate",
            round,
            Ok(2000.0 + 100.0 * round as f64),
        );
        r.record(1, System::Halyard, "rr_rate", round, Ok(1000.0));
        r.record(1, System::Linux, "ping_p50", round, Ok(0.5));
        r.record(1, System::Halyard, "ping_p50", round, Ok(0.25));
        r.record(1, System::HalyardKernel, "rr_rate", round, Ok(4000.0));
    }
    r.record(
        1,
        System::HalyardKernel,
        "conn_rate",
        0,
        Err("no echo answer".into()),
    );
    r.record(
        1,
        System::Halyard,
        "http_rate",
        0,
        Err("no \"NET-UP\" | line".into()),
    );
    for (round, (off, on)) in [(200.0, 600.0), (250.0, 500.0)].into_iter().enumerate() {
        r.record_sched(false, "spin_lock_round_trip", round, Ok(off));
        r.record_sched(true, "spin_lock_round_trip", round, Ok(on));
    }
    r.record_sched(
        true,
        "context_switch",
        0,
        Err("bench-sched: timed out".into()),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_keep_rounds_aligned_and_the_first_error() {
        let mut c = Cell::default();
        c.record(1, Ok(2.0));
        c.record(0, Err("first".into()));
        c.record(2, Err("second".into()));
        assert_eq!(c.values, [None, Some(2.0), None]);
        assert_eq!(c.median(), Ok(2.0));
        let mut empty = Cell::default();
        empty.record(0, Err("no NET-UP".into()));
        assert_eq!(empty.median(), Err("no NET-UP".into()));
        assert_eq!(Cell::default().median(), Err("not measured".into()));
    }

    #[test]
    fn rows_pair_rounds_where_both_systems_have_values() {
        let mut r = Results::new(Meta::default(), &[1, 2], &[]);
        assert_eq!(r.rows.len(), 2 * METRICS.len());
        assert!(r.rows.iter().all(|row| row.kernel.is_none()));
        for (round, (h, l)) in [
            (Some(4.0), Some(2.0)),
            (None, Some(9.0)),
            (Some(3.0), Some(3.0)),
        ]
        .into_iter()
        .enumerate()
        {
            let to = |v: Option<f64>| v.ok_or_else(|| "lost".to_string());
            r.record(2, System::Halyard, "rr_rate", round, to(h));
            r.record(2, System::Linux, "rr_rate", round, to(l));
        }
        let row = r
            .rows
            .iter()
            .find(|x| x.smp == 2 && x.metric.id == "rr_rate")
            .unwrap();
        // Pairs (4,2) and (3,3): ratios 2 and 1, median 1.5.
        assert_eq!(row.ratio(), Some(1.5));
        assert_eq!(row.linux.median(), Ok(3.0));
        assert_eq!(row.metric.better, Better::Higher);
    }

    #[test]
    fn the_in_kernel_cells_are_the_network_rows_of_their_cpu_counts() {
        let mut r = Results::new(Meta::default(), &[1, 2], &[1]);
        let with_kernel: Vec<(u32, &str)> = r
            .rows
            .iter()
            .filter(|row| row.kernel.is_some())
            .map(|row| (row.smp, row.metric.id))
            .collect();
        let expected: Vec<(u32, &str)> = NETWORK_METRICS.iter().map(|&id| (1, id)).collect();
        assert_eq!(with_kernel, expected);
        for (round, (k, h, l)) in [(6.0, 2.0, 3.0), (8.0, 2.0, 4.0)].into_iter().enumerate() {
            r.record(1, System::HalyardKernel, "rr_rate", round, Ok(k));
            r.record(1, System::Halyard, "rr_rate", round, Ok(h));
            r.record(1, System::Linux, "rr_rate", round, Ok(l));
        }
        let row = |smp: u32, id: &str| {
            r.rows
                .iter()
                .find(|x| x.smp == smp && x.metric.id == id)
                .unwrap()
        };
        let rr = row(1, "rr_rate");
        // Kernel/Linux 2 and 2; kernel/user 3 and 4; user/Linux 2/3 and 1/2.
        assert_eq!(
            (rr.kernel_ratio(), rr.kernel_over_user()),
            (Some(2.0), Some(3.5))
        );
        assert_eq!(rr.ratio(), Some((2.0 / 3.0 + 0.5) / 2.0));
        // No in-kernel cell at -smp 2, nor on the shell's rows.
        assert!(r.cell(2, "rr_rate", System::HalyardKernel).is_none());
        assert!(r.cell(1, "sys_getpid", System::HalyardKernel).is_none());
        assert_eq!(row(2, "rr_rate").kernel_ratio(), None);
    }

    #[test]
    fn halyards_gaps_include_its_in_kernel_rows() {
        let mut r = Results::new(Meta::default(), &[1], &[1]);
        for m in METRICS {
            for system in System::BOTH {
                r.record(1, system, m.id, 0, Ok(1.0));
            }
        }
        r.sched.clear();
        assert_eq!(
            r.first_gap(System::Halyard).unwrap(),
            "smp 1 start to NET-UP (in-kernel services): not measured"
        );
        r.record_all_failed(1, System::HalyardKernel, 0, "no NET-UP line");
        let cell = r.cell(1, "http_rate", System::HalyardKernel).unwrap();
        assert_eq!(cell.median(), Err("no NET-UP line".to_string()));
        for &id in NETWORK_METRICS {
            r.record(1, System::HalyardKernel, id, 1, Ok(1.0));
        }
        assert_eq!(r.first_gap(System::Halyard), None);
        assert_eq!(r.first_gap(System::HalyardKernel), None);
    }

    #[test]
    fn gaps_name_the_first_missing_row() {
        let mut r = Results::new(Meta::default(), &[1], &[]);
        for m in METRICS {
            r.record(1, System::Linux, m.id, 0, Ok(1.0));
        }
        r.record_all_failed(1, System::Halyard, 0, "no NET-UP line");
        assert_eq!(r.first_gap(System::Linux), None);
        assert_eq!(
            r.cell(1, "boot_echo", System::Halyard).unwrap().median(),
            Err("no NET-UP line".to_string())
        );
        r.remove(1, "boot_netup");
        assert!(r.cell(1, "boot_netup", System::Linux).is_none());
        assert_eq!(r.rows.len(), METRICS.len() - 1);
        assert_eq!(
            r.first_gap(System::Halyard).unwrap(),
            "smp 1 start to first echo: no NET-UP line"
        );
    }
}
