//! `report.md`: the run for people (results.json, for tools, is [`super::json`]).
//!
//! It starts with the run's stamp (commit, `-dirty` if the tree had changes, date, the
//! exact command): a table pasted into the README or `docs/` carries that line along, so
//! every quoted number says what produced it and how to produce it again. The headline
//! table is Halyard against Linux with the same user-space programs on both; the section
//! after it puts Halyard's in-kernel services beside the same Linux column, clearly apart,
//! since a kernel serving the ports itself skips every system call and copy that user space
//! pays. Below both it shows the chart of the ratios ([`super::chart`], a file beside it).
//!
//! It is rendered from [`Results`] by a pure function (a string out), so the smoke tests
//! check its content without running a benchmark.

use super::ablation;
use super::chart;
use super::results::{Better, Cell, Results, Row};
use super::sched;
use std::fmt::Write;

/// A number with about three significant digits: readable in a table, honest about noise.
pub fn format_value(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn cell_text(cell: &Cell) -> String {
    match cell.median() {
        Ok(m) => format!("{} (n={})", format_value(m), cell.measured().len()),
        Err(reason) => format!(
            "not available: {}",
            reason.replace('|', "/").replace('\n', " ")
        ),
    }
}

fn ratio_text(row: &Row, ratio: Option<f64>) -> String {
    match ratio {
        Some(r) => {
            let good = match row.metric.better {
                Better::Higher => r >= 1.0,
                Better::Lower => r <= 1.0,
            };
            format!("{r:.2}{}", if good { "" } else { " (worse)" })
        }
        None => "-".to_string(),
    }
}

fn better_text(better: Better) -> &'static str {
    match better {
        Better::Higher => "higher",
        Better::Lower => "lower",
    }
}

/// The heading of the in-kernel section (the chart uses it too).
pub const KERNEL_SECTION: &str = "Halyard in-kernel services vs Linux user-space netsvc";

/// The Markdown report.
pub fn markdown(results: &Results) -> String {
    let m = &results.meta;
    let mut out = String::new();
    let _ = writeln!(out, "# Halyard vs Linux on the same virtual hardware\n");
    let _ = writeln!(out, "{}\n", m.stamp.markdown());
    let _ = writeln!(
        out,
        "Mode: {}, {} round(s) per system and CPU count, run alternately (Halyard, Linux, ...); \
         values are medians over rounds, the ratio is the median of the per-round ratios \
         Halyard/Linux. Run took {:.0} s.\n",
        m.mode, m.rounds, m.duration_s
    );
    let _ = writeln!(
        out,
        "User space on both: the network rows are the same static `netsvc` serving ports 7, \
         9, 19 and 80 on each system (Halyard booted with `services=off`, its in-kernel \
         services off, and `netsvc` as process 1), the shell rows the same `ubench`.\n"
    );
    let _ = writeln!(out, "- QEMU: {}", m.qemu_version);
    let _ = writeln!(out, "- Linux peer kernel: {}", m.peer_kernel);
    let _ = writeln!(out, "- QEMU command line (Linux peer; Halyard boots its ELF with its own initramfs on the same flags):\n");
    let _ = writeln!(out, "  `{}`\n", m.qemu_line);
    let _ = writeln!(
        out,
        "| CPUs | metric | unit | better | Halyard | Linux | Halyard/Linux |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- |");
    for row in &results.rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.smp,
            row.metric.label,
            row.metric.unit,
            better_text(row.metric.better),
            cell_text(&row.halyard),
            cell_text(&row.linux),
            ratio_text(row, row.ratio())
        );
    }
    kernel_markdown(results, &mut out);
    let _ = writeln!(
        out,
        "\n![Halyard/Linux per row, both tables: bars right of 1 where Halyard is better]({})",
        chart::FILE
    );
    sched_markdown(results, &mut out);
    ablation_markdown(results, &mut out);
    out
}

/// The in-kernel section: Halyard serving the ports from its kernel, beside Linux's
/// user-space `netsvc` (the headline table's column) and Halyard's own.
fn kernel_markdown(results: &Results, out: &mut String) {
    let rows: Vec<&Row> = results.rows.iter().filter(|r| r.kernel.is_some()).collect();
    if rows.is_empty() {
        return;
    }
    let mut smps: Vec<u32> = rows.iter().map(|r| r.smp).collect();
    smps.dedup();
    let smps: Vec<String> = smps.iter().map(u32::to_string).collect();
    let _ = writeln!(out, "\n## {KERNEL_SECTION}\n");
    let _ = writeln!(
        out,
        "Not like for like: Halyard booted without an initramfs, its kernel serving the same \
         four ports itself (kernel/src/net/services), once more in each round at -smp {}. \
         The Linux column is the headline table's (user-space `netsvc`); in-kernel/netsvc \
         pairs the in-kernel services with Halyard's own `netsvc` of the same round: what \
         user space costs on Halyard.\n",
        smps.join(", ")
    );
    let _ = writeln!(
        out,
        "| CPUs | metric | unit | better | Halyard in-kernel | Linux netsvc | in-kernel/Linux | Halyard netsvc | in-kernel/netsvc |"
    );
    let _ = writeln!(
        out,
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for row in rows {
        let kernel = row.kernel.as_ref().map_or_else(String::new, cell_text);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {kernel} | {} | {} | {} | {} |",
            row.smp,
            row.metric.label,
            row.metric.unit,
            better_text(row.metric.better),
            cell_text(&row.linux),
            ratio_text(row, row.kernel_ratio()),
            cell_text(&row.halyard),
            row.kernel_over_user()
                .map_or("-".to_string(), |r| format!("{r:.2}"))
        );
    }
}

/// The heading of the offload ablation's section.
pub const ABLATION_SECTION: &str = "Offload ablation: bulk with one virtio-net offload off";

/// The offload ablation's section (only when it ran: `--ablation`, `--only ablation`).
fn ablation_markdown(results: &Results, out: &mut String) {
    let rows = &results.ablation;
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## {ABLATION_SECTION}\n");
    let _ = writeln!(
        out,
        "Not in the headline table. -smp {}, {} round(s), {} MB or {} s per direction; \
         `netsvc` on both. Linux: one `virtio-net-pci` property off per row (QEMU then does \
         not offer that feature); Halyard: `offload=off` on its command line (all of its \
         offloads). \"vs all on\" pairs each row with its own system's first row. Guest \
         CPU is the vCPU threads' CPU time per MB moved (lower is better).\n",
        ablation::SMP,
        results.meta.rounds,
        ablation::BULK_BYTES / 1_000_000,
        ablation::BULK_TIME.as_secs()
    );
    let _ = writeln!(
        out,
        "| system | off | host to guest MB/s | vs all on | guest to host MB/s | vs all on | CPU ms/MB in | CPU ms/MB out |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- | --- |");
    for row in rows {
        let ratio = |id| {
            ablation::vs_baseline(rows, row, id).map_or("-".to_string(), |r| format!("{r:.2}"))
        };
        let cell = |id| row.cell(id).map_or(String::new(), cell_text);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            row.config.system.name(),
            row.config.label,
            cell("bulk_in"),
            ratio("bulk_in"),
            cell("bulk_out"),
            ratio("bulk_out"),
            cell("bulk_in_cpu"),
            cell("bulk_out_cpu")
        );
    }
}

/// The `bench-sched` section: the in-kernel benchmark with the lock validator off and on
/// (none when the run did not measure it, `--only`).
fn sched_markdown(results: &Results, out: &mut String) {
    if results.sched.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n## Scheduler and lock validator (in-kernel `test=bench-sched`, -smp {})\n",
        sched::SMP
    );
    let _ = writeln!(
        out,
        "kernel/src/ktest/bench.rs, booted {} time(s) with `lockdep=off` and as many with \
         `lockdep=on`, alternately, without a NIC; values are medians over boots, on/off is \
         the median of the per-round ratios: the lock validator's cost.\n",
        results.meta.rounds
    );
    let _ = writeln!(out, "| metric | unit | lockdep off | lockdep on | on/off |");
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    for row in &results.sched {
        let ratio = row.ratio().map_or("-".to_string(), |r| format!("{r:.2}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {ratio} |",
            row.metric.label,
            row.metric.unit,
            cell_text(&row.lockdep_off),
            cell_text(&row.lockdep_on)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::results::{sample, METRICS, NETWORK_METRICS, SCHED_METRICS};
    use super::*;

    #[test]
    fn the_report_carries_the_stamp_and_shows_the_chart() {
        let md = markdown(&sample());
        assert!(
            md.contains(
                "Measured at commit `0123abcd-dirty` on 2025-01-31T12:00:00Z with \
                 `cargo xtask bench --quick`."
            ),
            "{md}"
        );
        // The chart is a file beside the report, shown after both Halyard/Linux tables.
        let image = md.find("](ratios.svg)").expect("no chart");
        assert!(md.rfind("| 1 |").unwrap() < image && image < md.find("## Scheduler").unwrap());
        assert!(md.find("## Halyard in-kernel services").unwrap() < image);
    }

    #[test]
    fn the_in_kernel_rows_are_a_section_of_their_own() {
        let md = markdown(&sample());
        let start = md.find(&format!("## {KERNEL_SECTION}")).unwrap();
        let section = &md[start..md.find("## Scheduler").unwrap()];
        assert!(section.contains("-smp 1."), "{section}");
        let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| 1 |")).collect();
        assert_eq!(rows.len(), NETWORK_METRICS.len(), "{section}");
        // Kernel 4000 against Linux 2000 and 2100, and against Halyard's netsvc at 1000.
        let rr = rows.iter().find(|l| l.contains("req/resp rate")).unwrap();
        assert!(
            rr.ends_with("| 4000 (n=2) | 2050 (n=2) | 1.95 | 1000 (n=2) | 4.00 |"),
            "{rr}"
        );
        let conn = rows.iter().find(|l| l.contains("connect+echo")).unwrap();
        assert!(conn.contains("| not available: no echo answer |"), "{conn}");
        // The headline table says what both systems run, and stays user space on both.
        let head = &md[..start];
        assert!(head.contains("`services=off`") && head.contains("same static `netsvc`"));
        assert!(head.contains("| 1000 (n=2) | 2050 (n=2) | 0.49 (worse) |"));
        assert!(!head.contains("4000"));
    }

    #[test]
    fn the_sched_section_gives_both_validator_settings_and_their_ratio() {
        let r = sample();
        let md = markdown(&r);
        let section = &md[md.find("## Scheduler and lock validator").unwrap()..];
        let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| ")).collect();
        // Header, separator and one row per metric.
        assert_eq!(rows.len(), 2 + SCHED_METRICS.len(), "{section}");
        // Ratios 3.0 and 2.0 -> median 2.5.
        assert!(
            rows.contains(
                &"| spin lock + unlock, uncontended | ns | 225 (n=2) | 550 (n=2) | 2.50 |"
            ),
            "{section}"
        );
        assert!(
            section.contains("| not available: bench-sched: timed out | - |"),
            "{section}"
        );
    }

    #[test]
    fn markdown_has_a_row_per_metric_with_medians_and_ratios() {
        let md = markdown(&sample());
        assert!(md.contains("QEMU emulator version 7.2.0") && md.contains("6.1.0-56-cloud-amd64"));
        let headline = &md[..md.find(&format!("## {KERNEL_SECTION}")).unwrap()];
        let table: Vec<&str> = headline
            .lines()
            .filter(|l| l.starts_with("| 1 |"))
            .collect();
        assert_eq!(table.len(), METRICS.len());
        let rr = table.iter().find(|l| l.contains("req/resp rate")).unwrap();
        // Linux median 2050; ratios 1000/2000 and 1000/2100 -> median ~0.488, worse.
        assert!(
            rr.contains("| 1000 (n=2) | 2050 (n=2) | 0.49 (worse) |"),
            "{rr}"
        );
        let ping = table
            .iter()
            .find(|l| l.contains("ping RTT median"))
            .unwrap();
        assert!(
            ping.ends_with("| 0.250 (n=2) | 0.500 (n=2) | 0.50 |"),
            "{ping}"
        );
        let http = table
            .iter()
            .find(|l| l.contains("| HTTP requests"))
            .unwrap();
        // The reason is kept, on one line, with the table separator neutralised.
        assert!(
            http.contains("not available: no \"NET-UP\" / line"),
            "{http}"
        );
    }

    #[test]
    fn the_ablation_is_a_section_of_its_own_only_when_it_ran() {
        let mut r = sample();
        assert!(!markdown(&r).contains(ABLATION_SECTION));
        r.ablation = ablation::rows();
        r.ablation[0].record("bulk_in", 0, Ok(200.0));
        r.ablation[1].record("bulk_in", 0, Ok(50.0));
        r.ablation[1].record("bulk_in_cpu", 0, Ok(12.5));
        let md = markdown(&r);
        let section = &md[md.find(&format!("## {ABLATION_SECTION}")).unwrap()..];
        let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| ")).collect();
        assert_eq!(rows.len(), 2 + ablation::CONFIGS.len(), "{section}");
        assert!(
            rows[3].starts_with("| Linux | guest_tso4=off | 50.0 (n=1) | 0.25 | not available"),
            "{}",
            rows[3]
        );
        assert!(rows[3].contains("| 12.5 (n=1) |"), "{}", rows[3]);
        assert!(rows
            .last()
            .unwrap()
            .starts_with("| Halyard | offload=off |"));
    }

    #[test]
    fn a_reason_stays_inside_its_table_cell() {
        let mut cell = Cell::default();
        cell.record(
            0,
            Err("ssh failed: a | b\nHost key verification failed.".into()),
        );
        assert_eq!(
            cell_text(&cell),
            "not available: ssh failed: a / b Host key verification failed."
        );
    }

    #[test]
    fn values_keep_about_three_digits() {
        assert_eq!(format_value(2345.6), "2346");
        assert_eq!(format_value(45.67), "45.7");
        assert_eq!(format_value(4.567), "4.57");
        assert_eq!(format_value(0.4567), "0.457");
    }
}
