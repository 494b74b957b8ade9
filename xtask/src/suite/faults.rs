//! Fault tests: the kernel provokes a fault or a panic and must report it completely,
//! with a symbolised backtrace, before leaving QEMU with status 3.

use super::Context;
use crate::fault_report;
use crate::ksyms::Symbol;
use crate::qemu::session::Session;

/// The address the kernel's `test=pagefault` touches.
const PAGE_FAULT_ADDR: u64 = 0xdeadbeef000;

/// `test=pagefault`: an `EXCEPTION #PF` report with `CR2=0xdeadbeef000`.
pub fn page_fault(session: &mut Session, ctx: &Context) -> Result<(), String> {
    let report = expect_report(session, ctx, "EXCEPTION #PF")?;
    match fault_report::cr2(&report) {
        Some(PAGE_FAULT_ADDR) => Ok(()),
        Some(other) => Err(format!("CR2={other:#x}, expected {PAGE_FAULT_ADDR:#x}")),
        None => Err("the #PF report has no `CR2=` line".to_string()),
    }
}

/// `test=stackoverflow`: a thread on a reused (cached) stack overflows it; an
/// `EXCEPTION #PF` report must name the kernel stack overflow.
pub fn stack_overflow(session: &mut Session, ctx: &Context) -> Result<(), String> {
    let line = session.expect_line("the `stack-overflow:` line", |l| {
        l.starts_with("stack-overflow: ")
    })?;
    if !line.contains("reused stack") {
        return Err(format!(
            "the overflowing thread did not get a cached stack: {line}"
        ));
    }
    let report = expect_report(session, ctx, "EXCEPTION #PF")?;
    if report
        .iter()
        .any(|l| l.starts_with("KERNEL STACK OVERFLOW"))
    {
        Ok(())
    } else {
        Err("the #PF report does not name a kernel stack overflow".to_string())
    }
}

/// `test=divide`: an `EXCEPTION #DE` report.
pub fn divide_error(session: &mut Session, ctx: &Context) -> Result<(), String> {
    expect_report(session, ctx, "EXCEPTION #DE").map(|_| ())
}

/// `test=panic`: a `KERNEL PANIC` report.
pub fn panic(session: &mut Session, ctx: &Context) -> Result<(), String> {
    expect_report(session, ctx, "KERNEL PANIC").map(|_| ())
}

/// `test=lockdep-bh`: the validator reports the seed's mistake (a lock taken in softirq
/// context and with softirqs enabled), naming the class and both sites, then panics.
pub fn lockdep_softirq_misuse(session: &mut Session, ctx: &Context) -> Result<(), String> {
    expect_lockdep_report(
        session,
        ctx.ksyms,
        &[
            "inconsistent SOFTIRQ lock usage",
            "test.conn_table_wrong_kind",
            "softirq context",
            "softirqs on",
        ],
    )
}

/// `test=lockdep-order`: the validator reports A->B then B->A with both sites.
pub fn lockdep_order_inversion(session: &mut Session, ctx: &Context) -> Result<(), String> {
    expect_lockdep_report(
        session,
        ctx.ksyms,
        &["lock order inversion", "test.order_a", "test.order_b"],
    )
}

/// `test=might-sleep`: blocking with a spin lock held panics with a clear message.
pub fn might_sleep(session: &mut Session, ctx: &Context) -> Result<(), String> {
    let report = expect_report(session, ctx, "KERNEL PANIC")?;
    if report[0].contains("might_sleep: blocking call in atomic context") {
        Ok(())
    } else {
        Err(format!("expected a might_sleep panic, got: {}", report[0]))
    }
}

/// `test=lockup`: the watchdog reports the CPU spinning with preemption off as a soft
/// lockup, and the other CPU, stopped by the panic, prints where it was with a symbolised
/// backtrace before the report.
pub fn lockup(session: &mut Session, ctx: &Context) -> Result<(), String> {
    let mut before = Vec::new();
    let panic = loop {
        let line = session.expect_line("a `KERNEL PANIC` from the watchdog", |_| true)?;
        if line.starts_with("KERNEL PANIC") || line.starts_with("EXCEPTION ") {
            break line;
        }
        before.push(line);
    };
    if !(panic.contains("watchdog:") && panic.contains("soft lockup")) {
        return Err(format!(
            "expected a watchdog soft-lockup panic, got: {panic}"
        ));
    }
    let stopped = before
        .iter()
        .position(|l| l.starts_with("cpu1 stopped at"))
        .ok_or("no `cpu1 stopped at` block before the panic report")?;
    let block: Vec<String> = before[stopped..]
        .iter()
        .skip(1)
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("cpu"))
        .cloned()
        .collect();
    fault_report::symbolised_frame(&fault_report::frames(&block), ctx.ksyms)
        .map_err(|e| format!("cpu1's backtrace: {e}"))?;
    let mut report = vec![panic];
    report.extend(session.lines_through("END-OF-REPORT")?);
    fault_report::check(&report, ctx.ksyms)
}

/// Waits for `LOCKDEP REPORT`, requires each of `needles` in the report (the lines up to
/// the panic it ends with), then the panic report itself with a backtrace symbolised
/// against `ksyms`.
pub fn expect_lockdep_report(
    session: &mut Session,
    ksyms: &[Symbol],
    needles: &[&str],
) -> Result<(), String> {
    session
        .expect_line("a `LOCKDEP REPORT`", |l| {
            l.starts_with("LOCKDEP REPORT") || l.starts_with("KERNEL PANIC")
        })
        .and_then(|l| {
            if l.starts_with("LOCKDEP REPORT") {
                Ok(l)
            } else {
                Err(format!("panic without a lockdep report: {l}"))
            }
        })?;
    let mut body = Vec::new();
    let panic = loop {
        let line = session.expect_line("the report's end", |_| true)?;
        if line.starts_with("KERNEL PANIC") {
            break line;
        }
        body.push(line);
    };
    let text = body.join("\n");
    if let Some(missing) = needles.iter().find(|n| !text.contains(**n)) {
        return Err(format!("the lockdep report lacks `{missing}`:\n{text}"));
    }
    if text.matches(" at src/").count() < 2 {
        return Err(format!(
            "the lockdep report does not name two acquisition sites:\n{text}"
        ));
    }
    let mut report = vec![panic];
    report.extend(session.lines_through("END-OF-REPORT")?);
    crate::fault_report::check(&report, ksyms)
}

/// Waits for a report starting with `header`, reads it through `END-OF-REPORT` and checks
/// its backtrace against the kernel's symbols. A different report fails at once.
fn expect_report(
    session: &mut Session,
    ctx: &Context,
    header: &str,
) -> Result<Vec<String>, String> {
    let first = session.expect_line(&format!("a `{header}` report"), |l| {
        l.starts_with("KERNEL PANIC") || l.starts_with("EXCEPTION ")
    })?;
    if !first.starts_with(header) {
        return Err(format!("expected a `{header}` report, got: {first}"));
    }
    let mut report = vec![first];
    report.extend(session.lines_through("END-OF-REPORT")?);
    fault_report::check(&report, ctx.ksyms)?;
    Ok(report)
}
