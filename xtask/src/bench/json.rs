//! `results.json`: the run for tools, as typed structs that `serde_json` writes and reads.
//!
//! Why types: the schema is stated once, here. A reader (the tests first) parses the file
//! back into the same structs, so a field renamed or dropped breaks a round trip instead of
//! a script somewhere. The structs mirror [`super::results`] with everything derived spelled
//! out (medians, ratios, the reason a cell is not available) so a reader needs no
//! statistics of its own. The head is [`results::Meta`] itself; its stamp is written with
//! [`run_stamp::Stamp`]'s fields plus `revision` ([`stamp`]). `rows` is the headline table
//! (user space on both systems); `in_kernel` the section of Halyard's in-kernel services.

use super::ablation;
use super::results::{self, Better, Meta};
use super::sched;
use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// The stamp, QEMU, the peer kernel, mode, rounds, when and how long.
    #[serde(flatten)]
    pub meta: Meta,
    /// One per (CPU count, metric): Halyard and Linux, the same user-space programs on both.
    pub rows: Vec<Row>,
    /// One per network row measured with Halyard's in-kernel services as well.
    pub in_kernel: Vec<KernelRow>,
    /// The CPU count of the `bench-sched` boots.
    pub sched_smp: u32,
    /// One per `bench-sched` metric: the lock validator off and on.
    pub sched: Vec<SchedRow>,
    /// One per offload ablation configuration (empty unless the ablation ran).
    pub ablation: Vec<AblationRow>,
}

/// The stamp in results.json: which commit was measured, when, and the command that
/// reproduces the run (`#[serde(with = "stamp")]` on a [`run_stamp::Stamp`]).
pub mod stamp {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// The stamp's fields as written.
    #[derive(Serialize, Deserialize)]
    struct Fields {
        commit: String,
        /// The tree had uncommitted changes.
        dirty: bool,
        /// `commit`, plus `-dirty` when `dirty` (for readers; derived again when read).
        revision: String,
        /// UTC, RFC 3339.
        date: String,
        command: String,
    }

    pub fn serialize<S: Serializer>(stamp: &run_stamp::Stamp, out: S) -> Result<S::Ok, S::Error> {
        Fields {
            commit: stamp.commit.clone(),
            dirty: stamp.dirty,
            revision: stamp.revision(),
            date: stamp.date.clone(),
            command: stamp.command.clone(),
        }
        .serialize(out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<run_stamp::Stamp, D::Error> {
        let f = Fields::deserialize(input)?;
        Ok(run_stamp::Stamp {
            commit: f.commit,
            dirty: f.dirty,
            date: f.date,
            command: f.command,
        })
    }
}

/// One system's (or one validator setting's) values of a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Per round, in order; `null`: that round produced no value.
    pub values: Vec<Option<f64>>,
    /// Median over the rounds that produced a value.
    pub median: Option<f64>,
    /// Why there is no median (`null` when there is one).
    pub not_available: Option<String>,
}

/// A Halyard/Linux row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub smp: u32,
    /// Stable key of the metric.
    pub metric: String,
    pub label: String,
    pub unit: String,
    pub better: Better,
    pub halyard: Cell,
    pub linux: Cell,
    /// Median of the per-round ratios Halyard/Linux.
    pub ratio: Option<f64>,
}

/// A row of the in-kernel section: Halyard serving the ports from its kernel, against the
/// same row's user-space cells (Linux's and Halyard's, in `rows`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelRow {
    pub smp: u32,
    pub metric: String,
    pub label: String,
    pub unit: String,
    pub better: Better,
    pub halyard_kernel: Cell,
    /// Median of the per-round ratios in-kernel/Linux (Linux's user-space `netsvc`).
    pub ratio_linux: Option<f64>,
    /// Median of the per-round ratios in-kernel/Halyard's user-space `netsvc`.
    pub ratio_halyard_user: Option<f64>,
}

/// A `bench-sched` row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedRow {
    /// The kernel's `BENCH` name.
    pub metric: String,
    pub label: String,
    pub unit: String,
    pub lockdep_off: Cell,
    pub lockdep_on: Cell,
    /// Median of the per-round ratios on/off: the lock validator's cost.
    pub ratio_on_off: Option<f64>,
}

/// An offload ablation row: one boot configuration's bulk rows (docs/bench.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AblationRow {
    /// `Halyard` or `Linux`.
    pub system: String,
    /// What is off: `all on`, a `virtio-net-pci` property (`guest_tso4=off`) or Halyard's
    /// `offload=off`.
    pub off: String,
    pub bulk_in: Cell,
    pub bulk_out: Cell,
    pub bulk_in_cpu: Cell,
    pub bulk_out_cpu: Cell,
    /// Medians of the per-round ratios to the same system's `all on` row.
    pub bulk_in_vs_all_on: Option<f64>,
    pub bulk_out_vs_all_on: Option<f64>,
}

impl From<&results::Cell> for Cell {
    fn from(cell: &results::Cell) -> Cell {
        let (median, not_available) = match cell.median() {
            Ok(m) => (Some(m), None),
            Err(why) => (None, Some(why)),
        };
        Cell {
            values: cell.values.clone(),
            median,
            not_available,
        }
    }
}

impl From<&results::Results> for Results {
    fn from(r: &results::Results) -> Results {
        let rows = r
            .rows
            .iter()
            .map(|row| Row {
                smp: row.smp,
                metric: row.metric.id.to_string(),
                label: row.metric.label.to_string(),
                unit: row.metric.unit.to_string(),
                better: row.metric.better,
                halyard: Cell::from(&row.halyard),
                linux: Cell::from(&row.linux),
                ratio: row.ratio(),
            })
            .collect();
        let in_kernel = r
            .rows
            .iter()
            .filter_map(|row| {
                Some(KernelRow {
                    smp: row.smp,
                    metric: row.metric.id.to_string(),
                    label: row.metric.label.to_string(),
                    unit: row.metric.unit.to_string(),
                    better: row.metric.better,
                    halyard_kernel: Cell::from(row.kernel.as_ref()?),
                    ratio_linux: row.kernel_ratio(),
                    ratio_halyard_user: row.kernel_over_user(),
                })
            })
            .collect();
        let sched = r
            .sched
            .iter()
            .map(|row| SchedRow {
                metric: row.metric.id.to_string(),
                label: row.metric.label.to_string(),
                unit: row.metric.unit.to_string(),
                lockdep_off: Cell::from(&row.lockdep_off),
                lockdep_on: Cell::from(&row.lockdep_on),
                ratio_on_off: row.ratio(),
            })
            .collect();
        let cell = |row: &ablation::Row, id: &str| {
            row.cell(id)
                .map_or_else(|| Cell::from(&results::Cell::default()), Cell::from)
        };
        let ablation = r
            .ablation
            .iter()
            .map(|row| AblationRow {
                system: row.config.system.name().to_string(),
                off: row.config.label.to_string(),
                bulk_in: cell(row, "bulk_in"),
                bulk_out: cell(row, "bulk_out"),
                bulk_in_cpu: cell(row, "bulk_in_cpu"),
                bulk_out_cpu: cell(row, "bulk_out_cpu"),
                bulk_in_vs_all_on: ablation::vs_baseline(&r.ablation, row, "bulk_in"),
                bulk_out_vs_all_on: ablation::vs_baseline(&r.ablation, row, "bulk_out"),
            })
            .collect();
        Results {
            meta: r.meta.clone(),
            rows,
            in_kernel,
            sched_smp: sched::SMP,
            sched,
            ablation,
        }
    }
}

/// The text of `results.json` for `results`.
pub fn render(results: &results::Results) -> Result<String, String> {
    serde_json::to_string_pretty(&Results::from(results))
        .map(|text| text + "\n")
        .map_err(|e| format!("cannot write results.json: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::results::{sample, METRICS, NETWORK_METRICS, SCHED_METRICS};

    #[test]
    fn the_file_reads_back_into_the_same_values() {
        let text = render(&sample()).unwrap();
        let back: Results = serde_json::from_str(&text).unwrap();
        assert_eq!(back, Results::from(&sample()));
        assert_eq!(back.meta, sample().meta);
        assert_eq!(
            (back.meta.stamp.commit.as_str(), back.meta.stamp.dirty),
            ("0123abcd", true)
        );
        assert_eq!(
            (back.rows.len(), back.in_kernel.len(), back.sched.len()),
            (METRICS.len(), NETWORK_METRICS.len(), SCHED_METRICS.len())
        );
        assert_eq!(
            (back.meta.rounds, back.meta.mode.as_str(), back.sched_smp),
            (2, "quick", sched::SMP)
        );
        let row = |id: &str| back.rows.iter().find(|r| r.metric == id).unwrap();
        let rr = row("rr_rate");
        assert_eq!(
            (rr.smp, rr.better, rr.unit.as_str()),
            (1, Better::Higher, "1/s")
        );
        assert_eq!(rr.halyard.values, [Some(1000.0), Some(1000.0)]);
        assert_eq!(rr.linux.median, Some(2050.0));
        // Ratios 1000/2000 and 1000/2100: their median.
        let ratio = rr.ratio.unwrap();
        assert!(
            (ratio - (0.5 + 1000.0 / 2100.0) / 2.0).abs() < 1e-12,
            "{ratio}"
        );
        // A failed round is `null`, and the cell says why it has no median.
        let http = row("http_rate");
        assert_eq!(http.halyard.values, [None]);
        assert_eq!(http.halyard.median, None);
        assert_eq!(
            http.halyard.not_available.as_deref(),
            Some("no \"NET-UP\" | line")
        );
        assert_eq!((http.linux.median, http.ratio), (None, None));
        assert_eq!(http.linux.not_available.as_deref(), Some("not measured"));
        // The in-kernel section: its own cell, paired with both user-space cells.
        let kernel = |id: &str| back.in_kernel.iter().find(|r| r.metric == id).unwrap();
        let rr = kernel("rr_rate");
        assert_eq!(rr.halyard_kernel.values, [Some(4000.0), Some(4000.0)]);
        assert_eq!(rr.ratio_halyard_user, Some(4.0));
        let ratio = rr.ratio_linux.unwrap();
        assert!(
            (ratio - (2.0 + 4000.0 / 2100.0) / 2.0).abs() < 1e-12,
            "{ratio}"
        );
        assert_eq!(
            kernel("conn_rate").halyard_kernel.not_available.as_deref(),
            Some("no echo answer")
        );
        let spin = back
            .sched
            .iter()
            .find(|r| r.metric == "spin_lock_round_trip")
            .unwrap();
        assert_eq!(spin.lockdep_off.values, [Some(200.0), Some(250.0)]);
        assert_eq!(
            (spin.lockdep_on.median, spin.ratio_on_off),
            (Some(550.0), Some(2.5))
        );
        let switch = back
            .sched
            .iter()
            .find(|r| r.metric == "context_switch")
            .unwrap();
        assert_eq!(
            switch.lockdep_on.not_available.as_deref(),
            Some("bench-sched: timed out")
        );
    }

    #[test]
    fn ablation_rows_read_back_with_their_ratios() {
        let mut r = sample();
        r.ablation = ablation::rows();
        r.ablation[6].record("bulk_out", 0, Ok(100.0));
        r.ablation[7].record("bulk_out", 0, Ok(40.0));
        let back: Results = serde_json::from_str(&render(&r).unwrap()).unwrap();
        assert_eq!(back, Results::from(&r));
        let off = &back.ablation[7];
        assert_eq!(
            (off.system.as_str(), off.off.as_str()),
            ("Halyard", "offload=off")
        );
        assert_eq!(
            (off.bulk_out_vs_all_on, off.bulk_in_vs_all_on),
            (Some(0.4), None)
        );
        assert!(render(&sample()).unwrap().contains("\"ablation\": []"));
    }

    #[test]
    fn the_text_uses_the_documented_names() {
        let text = render(&sample()).unwrap();
        // docs/bench.md names these keys and values.
        for key in [
            "\"stamp\": {\n    \"commit\": \"0123abcd\",\n    \"dirty\": true,\n    \
             \"revision\": \"0123abcd-dirty\",\n    \"date\": \"2025-01-31T12:00:00Z\",\n    \
             \"command\": \"cargo xtask bench --quick\"\n  }",
            "\"qemu_version\": \"QEMU emulator version 7.2.0\"",
            "\"better\": \"higher\"",
            "\"better\": \"lower\"",
            "\"not_available\": null",
            "\"lockdep_off\"",
            "\"in_kernel\": [",
            "\"halyard_kernel\": {",
            "\"ratio_halyard_user\": 4.0",
            "\"ratio_on_off\": 2.5",
        ] {
            assert!(text.contains(key), "{key} missing from {text}");
        }
        assert!(text.ends_with("}\n"));
    }
}
