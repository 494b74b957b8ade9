//! The offload ablation (issue 15): the bulk rows with one virtio-net offload off at a time,
//! to show where each system's bulk throughput comes from.
//!
//! Linux is booted with one property of QEMU's `virtio-net-pci` device off per
//! configuration (QEMU then does not offer that feature, so the guest cannot use it):
//! `guest_tso4` (the guest takes coalesced 64 KB TCP frames: host to guest), `guest_csum`
//! (the guest takes frames with partial checksums; without it no receive offload at all),
//! `host_tso4` (the guest sends 64 KB frames for QEMU to segment: guest to host), `csum`
//! (the guest leaves its checksums to QEMU; without it no transmit offload at all) and
//! `mrg_rxbuf` (a large frame may span several receive buffers). Halyard is booted with
//! `offload=off` on its command line (its driver then negotiates none of them) instead:
//! its offloads are switched as a set. Each system's first configuration has everything on
//! and is the baseline of its other rows, paired by round like Halyard/Linux.
//!
//! Part of a full run (not of `--quick` or `--only` runs, unless `--ablation` asks for it;
//! `--only ablation` runs it alone), at `-smp 1`, the run's rounds (configurations
//! alternating within a round like the systems of the headline table), smaller transfers
//! ([`BULK_BYTES`] or [`BULK_TIME`]): eight short boots per round, about a minute.

use super::results::{Cell, System};
use std::time::Duration;

/// One boot configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub system: System,
    /// What is off (`all on` for the baseline).
    pub label: &'static str,
    /// Properties appended to Linux's `virtio-net-pci` device.
    pub nic_props: Option<&'static str>,
    /// Words appended to Halyard's kernel command line.
    pub halyard_append: Option<&'static str>,
}

const fn linux(label: &'static str, nic_props: Option<&'static str>) -> Config {
    Config {
        system: System::Linux,
        label,
        nic_props,
        halyard_append: None,
    }
}

/// The configurations, each system's baseline first.
pub const CONFIGS: [Config; 8] = [
    linux(BASELINE, None),
    linux("guest_tso4=off", Some("guest_tso4=off")),
    linux("guest_csum=off", Some("guest_csum=off")),
    linux("host_tso4=off", Some("host_tso4=off")),
    linux("csum=off", Some("csum=off")),
    linux("mrg_rxbuf=off", Some("mrg_rxbuf=off")),
    Config {
        system: System::Halyard,
        label: BASELINE,
        nic_props: None,
        halyard_append: None,
    },
    Config {
        system: System::Halyard,
        label: "offload=off",
        nic_props: None,
        halyard_append: Some("offload=off"),
    },
];

/// The baseline's label.
pub const BASELINE: &str = "all on";
/// The metrics of each configuration (ids of [`super::results::METRICS`]).
pub const METRICS: [&str; 4] = ["bulk_in", "bulk_out", "bulk_in_cpu", "bulk_out_cpu"];
/// CPU count and transfer bounds of the ablation boots.
pub const SMP: u32 = 1;
pub const BULK_BYTES: u64 = 100_000_000;
pub const BULK_TIME: Duration = Duration::from_secs(10);

/// One configuration's values: a cell per [`METRICS`] entry, in that order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub config: Config,
    pub cells: [Cell; 4],
}

impl Row {
    /// The cell of metric `id`.
    pub fn cell(&self, id: &str) -> Option<&Cell> {
        METRICS
            .iter()
            .position(|m| *m == id)
            .map(|i| &self.cells[i])
    }

    /// Records round `round` of metric `id`.
    pub fn record(&mut self, id: &str, round: usize, outcome: Result<f64, String>) {
        if let Some(i) = METRICS.iter().position(|m| *m == id) {
            self.cells[i].record(round, outcome);
        }
    }
}

/// Empty rows, one per configuration.
pub fn rows() -> Vec<Row> {
    CONFIGS
        .iter()
        .map(|&config| Row {
            config,
            cells: Default::default(),
        })
        .collect()
}

/// The ratio of `row`'s metric `id` to its system's baseline, paired by round.
pub fn vs_baseline(rows: &[Row], row: &Row, id: &str) -> Option<f64> {
    let base = rows
        .iter()
        .find(|r| r.config.system == row.config.system && r.config.label == BASELINE)?;
    row.cell(id)?.paired_ratio(base.cell(id)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_system_has_its_baseline_first_and_one_switch_per_row() {
        for system in System::BOTH {
            let mine: Vec<&Config> = CONFIGS.iter().filter(|c| c.system == system).collect();
            assert_eq!(mine[0].label, BASELINE);
            assert!(mine[0].nic_props.is_none() && mine[0].halyard_append.is_none());
            assert!(mine[1..]
                .iter()
                .all(|c| c.nic_props.is_some() != c.halyard_append.is_some()));
        }
        for c in CONFIGS.iter().filter(|c| c.system == System::Linux) {
            assert_eq!(c.nic_props.unwrap_or(BASELINE), c.label);
        }
        for id in METRICS {
            assert!(super::super::results::METRICS.iter().any(|m| m.id == id));
        }
    }

    #[test]
    fn ratios_are_against_the_same_systems_baseline() {
        let mut rows = rows();
        rows[0].record("bulk_in", 0, Ok(200.0));
        rows[1].record("bulk_in", 0, Ok(50.0));
        rows[6].record("bulk_in", 0, Ok(100.0));
        rows[7].record("bulk_in", 0, Ok(80.0));
        assert_eq!(vs_baseline(&rows, &rows[1], "bulk_in"), Some(0.25));
        assert_eq!(vs_baseline(&rows, &rows[7], "bulk_in"), Some(0.8));
        assert_eq!(vs_baseline(&rows, &rows[0], "bulk_in"), Some(1.0));
        assert_eq!(vs_baseline(&rows, &rows[2], "bulk_in"), None);
        assert_eq!(rows[3].cell("nope"), None);
    }
}
