//! Fault tests: the kernel provokes a fault or a panic and must report it completely,
//! with a symbolised backtrace, before leaving QEMU with status 3.

use super::Context;
use crate::fault_report;
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

/// `test=divide`: an `EXCEPTION #DE` report.
pub fn divide_error(session: &mut Session, ctx: &Context) -> Result<(), String> {
    expect_report(session, ctx, "EXCEPTION #DE").map(|_| ())
}

/// `test=panic`: a `KERNEL PANIC` report.
pub fn panic(session: &mut Session, ctx: &Context) -> Result<(), String> {
    expect_report(session, ctx, "KERNEL PANIC").map(|_| ())
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
