//! Fatal reports under pressure (kernel `ktest::fatal`): every failing CPU's report must
//! be complete, however the failures pile up, and QEMU must still end with the panic
//! status (the runner checks that).
//!
//! - `fault-in-report`: a panic whose message faults while printed. The interrupted
//!   panic line, then a complete `#PF` report marked `while writing a fatal report`, with
//!   the faulting address of the message's read and a backtrace that runs from the fault
//!   through the panic handler; the other CPU's stopped block before it.
//! - `fault-two-cpus`: both CPUs read an unmapped address at once. One reports first;
//!   the other either faulted too (its own complete report, marked `while another CPU
//!   was reporting`) or was stopped by the first one's NMI before its read (its stopped
//!   block). Both are correct outcomes of the race; each CPU must be accounted for.

use super::Context;
use crate::fault_report;
use crate::ksyms::Symbol;
use crate::qemu::session::Session;

/// `ktest::fatal::REPORT_FAULT_ADDR`.
const REPORT_FAULT_ADDR: u64 = 0xbad_0000_0000;
/// `ktest::fatal::CPU_FAULT_ADDRS`.
const CPU_FAULT_ADDRS: [u64; 2] = [0xdea_0000_0000, 0xdea_1000_0000];

const NESTED: &str = "while writing a fatal report";
const BYSTANDER: &str = "while another CPU was reporting";

/// What the console showed about one CPU.
#[derive(Debug)]
enum Account {
    /// A report (exception or panic) through `END-OF-REPORT`.
    Report(Vec<String>),
    /// A `cpuN stopped at` line and its backtrace.
    Stopped(Vec<String>),
}

/// Splits the console output into per-CPU accounts, in order.
fn accounts(lines: &[String]) -> Vec<(u32, Account)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        if let Some(cpu) = report_cpu(line) {
            // Through `END-OF-REPORT`, or up to a report that interrupted this one.
            let end = lines[i + 1..]
                .iter()
                .position(|l| l.trim_end() == "END-OF-REPORT" || report_cpu(l).is_some())
                .map_or(lines.len(), |p| {
                    let at = i + 1 + p;
                    if report_cpu(&lines[at]).is_some() {
                        at
                    } else {
                        at + 1
                    }
                });
            out.push((cpu, Account::Report(lines[i..end].to_vec())));
            i = end;
        } else if let Some(cpu) = stopped_cpu(line) {
            let end = lines[i + 1..]
                .iter()
                .position(|l| !(l.starts_with('#') || l.trim() == "BACKTRACE"))
                .map_or(lines.len(), |p| i + 1 + p);
            out.push((cpu, Account::Stopped(lines[i..end].to_vec())));
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The CPU of an `EXCEPTION ... on cpuN` or `KERNEL PANIC on cpuN` line.
fn report_cpu(line: &str) -> Option<u32> {
    if !(line.starts_with("EXCEPTION ") || line.starts_with("KERNEL PANIC")) {
        return None;
    }
    cpu_number(line.split_once(" on cpu")?.1)
}

fn stopped_cpu(line: &str) -> Option<u32> {
    cpu_number(line.strip_prefix("cpu")?).filter(|_| line.contains(" stopped at "))
}

fn cpu_number(text: &str) -> Option<u32> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A complete exception report: registers, `CR2` equal to `addr`, a symbolised
/// backtrace with a frame in `function`, `END-OF-REPORT`.
fn check_fault_report(
    report: &[String],
    addr: u64,
    function: &str,
    ksyms: &[Symbol],
) -> Result<(), String> {
    for register in ["RIP=", "RAX=", "RSP=", "R15=", "CR3="] {
        if !report.iter().any(|l| l.contains(register)) {
            return Err(format!(
                "the report has no `{register}` register:\n{}",
                report.join("\n")
            ));
        }
    }
    match fault_report::cr2(report) {
        Some(a) if a == addr => {}
        other => return Err(format!("CR2={other:x?}, expected {addr:#x}")),
    }
    fault_report::check(report, ksyms)?;
    let frames = fault_report::frames(report);
    if !frames
        .iter()
        .any(|f| f.symbol.as_ref().is_some_and(|(n, _)| n.contains(function)))
    {
        return Err(format!(
            "no backtrace frame in `{function}`:\n{}",
            report.join("\n")
        ));
    }
    Ok(())
}

fn check_stopped(block: &[String], ksyms: &[Symbol]) -> Result<(), String> {
    fault_report::symbolised_frame(&fault_report::frames(block), ksyms)
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", block[0]))
}

/// Every line until QEMU ends.
fn all_output(session: &mut Session) -> Vec<String> {
    let mut lines = Vec::new();
    while let Ok(line) = session.next_line() {
        lines.push(line);
    }
    lines
}

/// `test=fault-in-report` (see the module docs).
pub fn fault_in_report(session: &mut Session, ctx: &Context) -> Result<(), String> {
    check_fault_in_report(&all_output(session), ctx.test.smp, ctx.ksyms)
}

fn check_fault_in_report(lines: &[String], smp: u32, ksyms: &[Symbol]) -> Result<(), String> {
    let accounts = accounts(lines);
    let panic = accounts.iter().find_map(|(_, a)| match a {
        Account::Report(r) if r[0].starts_with("KERNEL PANIC") => Some(r),
        _ => None,
    });
    let Some(panic) = panic else {
        return Err("no `KERNEL PANIC` line".to_string());
    };
    if !panic[0].contains("deliberate panic whose message faults") {
        return Err(format!("not the deliberate panic: {}", panic[0]));
    }
    let nested = accounts.iter().find_map(|(_, a)| match a {
        Account::Report(r) if r[0].starts_with("EXCEPTION #PF") => Some(r),
        _ => None,
    });
    let Some(nested) = nested else {
        return Err("no `EXCEPTION #PF` report of the fault inside the panic report".to_string());
    };
    if !nested[0].contains(NESTED) {
        return Err(format!(
            "the nested report is not marked `{NESTED}`: {}",
            nested[0]
        ));
    }
    check_fault_report(
        nested,
        REPORT_FAULT_ADDR,
        "ktest::fatal::fault_in_report",
        ksyms,
    )?;
    check_fault_report(nested, REPORT_FAULT_ADDR, "FaultingMessage", ksyms)?;
    for cpu in 1..smp {
        let block = accounts.iter().find_map(|(c, a)| match a {
            Account::Stopped(b) if *c == cpu => Some(b),
            _ => None,
        });
        check_stopped(
            block.ok_or(format!("no `cpu{cpu} stopped at` block"))?,
            ksyms,
        )?;
    }
    Ok(())
}

/// `test=fault-two-cpus` (see the module docs).
pub fn fault_two_cpus(session: &mut Session, ctx: &Context) -> Result<(), String> {
    let outcome = check_fault_two_cpus(&all_output(session), ctx.ksyms)?;
    eprintln!("xtask: fault-two-cpus: {outcome}");
    Ok(())
}

fn check_fault_two_cpus(lines: &[String], ksyms: &[Symbol]) -> Result<String, String> {
    let accounts = accounts(lines);
    let reports: Vec<_> = accounts
        .iter()
        .filter_map(|(c, a)| match a {
            Account::Report(r) => Some((*c, r)),
            Account::Stopped(_) => None,
        })
        .collect();
    let Some(&(first, report)) = reports.iter().find(|(_, r)| !r[0].contains(BYSTANDER)) else {
        return Err("no report by the first CPU to fault".to_string());
    };
    if reports
        .iter()
        .filter(|(_, r)| !r[0].contains(BYSTANDER))
        .count()
        != 1
    {
        return Err("more than one CPU reported as the first to fault".to_string());
    }
    let addr = |cpu: u32| {
        CPU_FAULT_ADDRS
            .get(cpu as usize)
            .copied()
            .ok_or(format!("cpu{cpu}?"))
    };
    check_fault_report(report, addr(first)?, "ktest::fatal::read_unmapped", ksyms)
        .map_err(|e| format!("cpu{first}'s report: {e}"))?;
    let other = 1 - first.min(1);
    if let Some((_, r)) = reports.iter().find(|(c, _)| *c == other) {
        check_fault_report(r, addr(other)?, "ktest::fatal::read_unmapped", ksyms)
            .map_err(|e| format!("cpu{other}'s report: {e}"))?;
        return Ok(format!(
            "cpu{first} reported, cpu{other} faulted meanwhile and reported too"
        ));
    }
    let stopped = accounts.iter().find_map(|(c, a)| match a {
        Account::Stopped(b) if *c == other => Some(b),
        _ => None,
    });
    check_stopped(
        stopped.ok_or(format!("cpu{other} is not accounted for"))?,
        ksyms,
    )?;
    Ok(format!(
        "cpu{first} reported, cpu{other} was stopped before its read"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols() -> Vec<Symbol> {
        [
            (
                0x2000,
                "<halyard::ktest::fatal::FaultingMessage as core::fmt::Display>::fmt",
            ),
            (0x3000, "halyard::sched::idle_loop"),
            (0x4000, "halyard::ktest::fatal::read_unmapped"),
            (0x5000, "halyard::ktest::fatal::fault_in_report"),
        ]
        .iter()
        .map(|&(addr, name)| Symbol {
            addr,
            size: 0x100,
            name: name.to_string(),
        })
        .collect()
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    fn report(cpu: u32, suffix: &str, cr2: u64, frames: &str) -> String {
        format!(
            "EXCEPTION #PF (page fault) on cpu{cpu}{suffix}\nerror code=0x0 RIP=0x1 CS=0x8 RFLAGS=0x2\nCR2={cr2:#x} (page not present on read in kernel mode)\nRAX=0 RBX=0\nRSI=0 RDI=0 RBP=0 RSP=0\nR12=0 R13=0 R14=0 R15=0\nSS=0x10 CR3=0x1000\nBACKTRACE\n{frames}END-OF-REPORT\n"
        )
    }

    const STOPPED1: &str =
        "cpu1 stopped at 0x3010\nBACKTRACE\n#0 0x3010 halyard::sched::idle_loop+0x10\n";
    const NESTED_FRAMES: &str = "#0 0x2010 <halyard::ktest::fatal::FaultingMessage as core::fmt::Display>::fmt+0x10\n#1 0x5020 halyard::ktest::fatal::fault_in_report+0x20\n";
    const CPU_FRAMES: &str = "#0 0x4010 halyard::ktest::fatal::read_unmapped+0x10\n";

    #[test]
    fn fault_in_report_needs_the_nested_report() {
        let good = format!(
            "{STOPPED1}KERNEL PANIC on cpu0: deliberate panic whose message faults: \n{}",
            report(
                0,
                " while writing a fatal report",
                REPORT_FAULT_ADDR,
                NESTED_FRAMES
            )
        );
        check_fault_in_report(&lines(&good), 2, &symbols()).unwrap();
        // The report stops part-way (the bug this guards against).
        let cut: String = good.lines().take(6).collect::<Vec<_>>().join("\n");
        assert!(check_fault_in_report(&lines(&cut), 2, &symbols()).is_err());
        // Not marked as nested, wrong address, no stopped block for cpu1.
        let plain = good.replace(" while writing a fatal report", "");
        assert!(check_fault_in_report(&lines(&plain), 2, &symbols()).is_err());
        let wrong = good.replace("0xbad00000000", "0xbad00001000");
        assert!(check_fault_in_report(&lines(&wrong), 2, &symbols()).is_err());
        let alone = good.replace(STOPPED1, "");
        assert!(check_fault_in_report(&lines(&alone), 2, &symbols()).is_err());
    }

    #[test]
    fn two_cpus_each_accounted_for() {
        let both = format!(
            "{}{}",
            report(1, BYSTANDER_SUFFIX, CPU_FAULT_ADDRS[1], CPU_FRAMES),
            report(0, "", CPU_FAULT_ADDRS[0], CPU_FRAMES)
        );
        let outcome = check_fault_two_cpus(&lines(&both), &symbols()).unwrap();
        assert!(outcome.contains("cpu1 faulted meanwhile"), "{outcome}");
        let stopped = format!(
            "{STOPPED1}{}",
            report(0, "", CPU_FAULT_ADDRS[0], CPU_FRAMES)
        );
        let outcome = check_fault_two_cpus(&lines(&stopped), &symbols()).unwrap();
        assert!(outcome.contains("cpu1 was stopped"), "{outcome}");
        // cpu1 missing entirely, the bystander's report cut short, two "first" reports.
        let alone = report(0, "", CPU_FAULT_ADDRS[0], CPU_FRAMES);
        assert!(check_fault_two_cpus(&lines(&alone), &symbols()).is_err());
        let cut = both.replacen("END-OF-REPORT\n", "", 1);
        assert!(check_fault_two_cpus(&lines(&cut), &symbols()).is_err());
        let two_first = both.replace(BYSTANDER_SUFFIX, "");
        assert!(check_fault_two_cpus(&lines(&two_first), &symbols()).is_err());
    }

    const BYSTANDER_SUFFIX: &str = " while another CPU was reporting";
}
