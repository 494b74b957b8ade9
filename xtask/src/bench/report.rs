//! The two text outputs: `report.md` for people and `results.json` for tools.
//!
//! Both start with the run's stamp (commit, `-dirty` if the tree had changes, date, the
//! exact command): a table pasted into the README or `docs/` carries that line along, so
//! every quoted number says what produced it and how to produce it again.
//!
//! Both are rendered from [`Results`] by pure functions (strings out), so the smoke tests
//! check their content without running a benchmark. JSON is written by hand: the structure
//! is small and fixed, and a serialisation framework would be the xtask's heaviest
//! dependency.

use super::results::{Better, Cell, Results, Row, SchedRow, System};
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
        Err(reason) => format!("not available: {}", reason.replace('|', "/")),
    }
}

fn ratio_text(row: &Row) -> String {
    match row.ratio() {
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
    let _ = writeln!(out, "- QEMU: {}", m.qemu_version);
    let _ = writeln!(out, "- Linux peer kernel: {}", m.peer_kernel);
    let _ = writeln!(out, "- QEMU command line (Linux peer; Halyard boots its ELF without `-initrd` on the same flags):\n");
    let _ = writeln!(out, "  `{}`\n", m.qemu_line);
    let _ = writeln!(
        out,
        "| CPUs | metric | unit | better | Halyard | Linux | Halyard/Linux |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- |");
    for row in &results.rows {
        let better = match row.metric.better {
            Better::Higher => "higher",
            Better::Lower => "lower",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.smp,
            row.metric.label,
            row.metric.unit,
            better,
            cell_text(&row.halyard),
            cell_text(&row.linux),
            ratio_text(row)
        );
    }
    sched_markdown(results, &mut out);
    out
}

/// The `bench-sched` section: the in-kernel benchmark with the lock validator off and on.
fn sched_markdown(results: &Results, out: &mut String) {
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

/// `s` as a JSON string literal.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_number(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => "null".to_string(),
    }
}

fn json_cell(cell: &Cell) -> String {
    let values: Vec<String> = cell.values.iter().map(|v| json_number(*v)).collect();
    let (median, error) = match cell.median() {
        Ok(m) => (Some(m), "null".to_string()),
        Err(e) => (None, json_string(&e)),
    };
    format!(
        "{{\"values\": [{}], \"median\": {}, \"not_available\": {}}}",
        values.join(", "),
        json_number(median),
        error
    )
}

/// The machine-readable results.
pub fn json(results: &Results) -> String {
    let m = &results.meta;
    let mut out = String::from("{\n");
    let _ = writeln!(
        out,
        "  \"stamp\": {{\"commit\": {}, \"dirty\": {}, \"revision\": {}, \"date\": {}, \"command\": {}}},",
        json_string(&m.stamp.commit),
        m.stamp.dirty,
        json_string(&m.stamp.revision()),
        json_string(&m.stamp.date),
        json_string(&m.stamp.command)
    );
    let _ = writeln!(out, "  \"qemu_version\": {},", json_string(&m.qemu_version));
    let _ = writeln!(out, "  \"qemu_line\": {},", json_string(&m.qemu_line));
    let _ = writeln!(out, "  \"peer_kernel\": {},", json_string(&m.peer_kernel));
    let _ = writeln!(out, "  \"mode\": {},", json_string(&m.mode));
    let _ = writeln!(out, "  \"rounds\": {},", m.rounds);
    let _ = writeln!(out, "  \"started_unix\": {},", m.started_unix);
    let _ = writeln!(
        out,
        "  \"duration_s\": {},",
        json_number(Some(m.duration_s))
    );
    out.push_str("  \"rows\": [\n");
    let rows: Vec<String> = results
        .rows
        .iter()
        .map(|row| {
            let better = match row.metric.better {
                Better::Higher => "higher",
                Better::Lower => "lower",
            };
            format!(
                "    {{\"smp\": {}, \"metric\": {}, \"label\": {}, \"unit\": {}, \"better\": \"{better}\", \
                 \"halyard\": {}, \"linux\": {}, \"ratio\": {}}}",
                row.smp,
                json_string(row.metric.id),
                json_string(row.metric.label),
                json_string(row.metric.unit),
                json_cell(row.cell(System::Halyard)),
                json_cell(row.cell(System::Linux)),
                json_number(row.ratio())
            )
        })
        .collect();
    out.push_str(&rows.join(",\n"));
    out.push_str("\n  ],\n");
    let _ = writeln!(out, "  \"sched_smp\": {},", sched::SMP);
    out.push_str("  \"sched\": [\n");
    let sched: Vec<String> = results.sched.iter().map(json_sched_row).collect();
    out.push_str(&sched.join(",\n"));
    out.push_str("\n  ]\n}\n");
    out
}

fn json_sched_row(row: &SchedRow) -> String {
    format!(
        "    {{\"metric\": {}, \"label\": {}, \"unit\": {}, \"lockdep_off\": {}, \
         \"lockdep_on\": {}, \"ratio_on_off\": {}}}",
        json_string(row.metric.id),
        json_string(row.metric.label),
        json_string(row.metric.unit),
        json_cell(&row.lockdep_off),
        json_cell(&row.lockdep_on),
        json_number(row.ratio())
    )
}

#[cfg(test)]
mod tests {
    use super::super::results::{Meta, METRICS, SCHED_METRICS};
    use super::*;

    fn sample() -> Results {
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
        let mut r = Results::new(meta, &[1]);
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
        }
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

    #[test]
    fn both_outputs_carry_the_stamp() {
        let r = sample();
        let md = markdown(&r);
        assert!(
            md.contains(
                "Measured at commit `0123abcd-dirty` on 2025-01-31T12:00:00Z with \
                 `cargo xtask bench --quick`."
            ),
            "{md}"
        );
        assert!(json(&r).starts_with(
            "{\n  \"stamp\": {\"commit\": \"0123abcd\", \"dirty\": true, \
             \"revision\": \"0123abcd-dirty\", \"date\": \"2025-01-31T12:00:00Z\", \
             \"command\": \"cargo xtask bench --quick\"},\n"
        ));
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
        let j = json(&r);
        assert!(j.contains(
            "{\"metric\": \"spin_lock_round_trip\", \"label\": \"spin lock + unlock, uncontended\", \
             \"unit\": \"ns\", \"lockdep_off\": {\"values\": [200, 250], \"median\": 225, \
             \"not_available\": null}, \"lockdep_on\": {\"values\": [600, 500], \"median\": 550, \
             \"not_available\": null}, \"ratio_on_off\": 2.5}"
        ), "{j}");
    }

    #[test]
    fn markdown_has_a_row_per_metric_with_medians_and_ratios() {
        let md = markdown(&sample());
        assert!(md.contains("QEMU emulator version 7.2.0") && md.contains("6.1.0-56-cloud-amd64"));
        let table: Vec<&str> = md.lines().filter(|l| l.starts_with("| 1 |")).collect();
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
        let http = table.iter().find(|l| l.contains("HTTP")).unwrap();
        // The reason is kept, with the table separator neutralised.
        assert!(
            http.contains("not available: no \"NET-UP\" / line"),
            "{http}"
        );
    }

    #[test]
    fn json_is_well_formed_and_keeps_nulls_and_reasons() {
        let j = json(&sample());
        assert!(j.contains("\"ratio\": 0.5"), "{j}");
        assert!(j.contains("\"not_available\": \"no \\\"NET-UP\\\" | line\""));
        assert!(j.contains("\"median\": null"));
        // Balanced brackets and quotes (outside escapes): a cheap well-formedness check.
        let mut depth = 0i32;
        let mut in_str = false;
        let mut esc = false;
        for c in j.chars() {
            match (in_str, esc, c) {
                (true, true, _) => esc = false,
                (true, false, '\\') => esc = true,
                (true, false, '"') => in_str = false,
                (false, _, '"') => in_str = true,
                (false, _, '{' | '[') => depth += 1,
                (false, _, '}' | ']') => depth -= 1,
                _ => {}
            }
            assert!(depth >= 0);
        }
        assert_eq!((depth, in_str), (0, false));
        assert_eq!(json_string("a\u{1}\n"), "\"a\\u0001\\n\"");
    }

    #[test]
    fn values_keep_about_three_digits() {
        assert_eq!(format_value(2345.6), "2346");
        assert_eq!(format_value(45.67), "45.7");
        assert_eq!(format_value(4.567), "4.57");
        assert_eq!(format_value(0.4567), "0.457");
    }
}
