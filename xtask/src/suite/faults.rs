//! Fault tests: the kernel provokes a fault or a panic and must report it completely,
//! with a symbolised backtrace, before leaving QEMU with status 3. Where a report of the
//! same kind could come from elsewhere (a boot-time panic, another division, another lock
//! misuse), the check requires the deliberate fault's own function and site
//! ([`FaultSite`]).

use super::fault_site::FaultSite;
use super::Context;
use crate::fault_report::{self, Frame};
use crate::ksyms::Symbol;
use crate::paths::Paths;
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

/// The function of `test=divide` (kernel/src/ktest/faults.rs): `xor ecx, ecx; div ecx`.
const DIVIDE: &str = "halyard::ktest::faults::divide_error";

/// `test=panic`'s `panic!` (kernel/src/ktest/faults.rs) and its message.
const TEST_PANIC: FaultSite = FaultSite {
    file: "src/ktest/faults.rs",
    symbol: "halyard::ktest::faults::panic",
    needle: "panic!(",
};
const TEST_PANIC_MESSAGE: &str = "deliberate test panic";

/// `test=divide`: an `EXCEPTION #DE` report of the test's own division.
pub fn divide_error(session: &mut Session, ctx: &Context) -> Result<(), String> {
    let report = expect_report(session, ctx, "EXCEPTION #DE")?;
    check_test_division(&report, ctx.ksyms)
}

/// The #DE is the test's: `RIP` lies in [`DIVIDE`] (by the symbol file), the divisor
/// `RCX` is 0, and the backtrace's first frame is that RIP, symbolised as [`DIVIDE`].
fn check_test_division(report: &[String], ksyms: &[Symbol]) -> Result<(), String> {
    let rip = register(report, "RIP").ok_or("the #DE report has no `RIP=` register")?;
    let f = ksyms
        .iter()
        .find(|s| s.name == DIVIDE)
        .ok_or_else(|| format!("the symbol file has no {DIVIDE}"))?;
    if !(f.addr..f.addr + f.size).contains(&rip) {
        return Err(format!(
            "RIP={rip:#x} is outside {DIVIDE} ({:#x}..{:#x}): not the test's division",
            f.addr,
            f.addr + f.size
        ));
    }
    match register(report, "RCX") {
        Some(0) => {}
        other => return Err(format!("the divisor RCX is {other:?}, expected Some(0)")),
    }
    let top = fault_report::frames(report)
        .into_iter()
        .next()
        .ok_or("the #DE backtrace has no frames")?;
    if top.addr != rip {
        return Err(format!(
            "the first backtrace frame is {:#x}, not RIP={rip:#x}",
            top.addr
        ));
    }
    frame_in(&[top], DIVIDE, ksyms).map(drop)
}

/// `test=panic`: a `KERNEL PANIC` report of the test's own `panic!`.
pub fn panic(session: &mut Session, ctx: &Context) -> Result<(), String> {
    let report = expect_report(session, ctx, "KERNEL PANIC")?;
    check_test_panic(&report, ctx.ksyms, &TEST_PANIC.locate(&Paths::repo())?)
}

/// The panic is the test's: its message, raised at `site` (`FILE:LINE`), with a
/// backtrace frame in the test's function.
fn check_test_panic(report: &[String], ksyms: &[Symbol], site: &str) -> Result<(), String> {
    let message = report[0].split_once(": ").map(|(_, m)| m.trim_end());
    if message != Some(TEST_PANIC_MESSAGE) {
        return Err(format!(
            "expected the test's panic `{TEST_PANIC_MESSAGE}`, got: {}",
            report[0]
        ));
    }
    let at = format!("at {site}:");
    if !report.iter().any(|l| l.trim_start().starts_with(&at)) {
        return Err(format!("the panic report does not place it at {site}"));
    }
    frame_in(&fault_report::frames(report), TEST_PANIC.symbol, ksyms).map(drop)
}

/// The value of register `name` in a report's `NAME=0x...` fields.
fn register(report: &[String], name: &str) -> Option<u64> {
    let key = format!("{name}=");
    report
        .iter()
        .flat_map(|l| l.split_whitespace())
        .find_map(|w| {
            let hex = w.strip_prefix(&key)?.strip_prefix("0x")?;
            u64::from_str_radix(hex, 16).ok()
        })
}

/// The first of `frames` in `function`, symbolised consistently with `ksyms`.
fn frame_in(frames: &[Frame], function: &str, ksyms: &[Symbol]) -> Result<Frame, String> {
    let frames: Vec<Frame> = frames
        .iter()
        .filter(|f| f.symbol.as_ref().is_some_and(|(name, _)| name == function))
        .cloned()
        .collect();
    if frames.is_empty() {
        return Err(format!("no backtrace frame in {function}"));
    }
    fault_report::symbolised_frame(&frames, ksyms).cloned()
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
    let (body, panic) = read_lockdep_report(session)?;
    check_lockdep_report(&body, &panic, ksyms, needles)
}

/// The negative-control kernel's `test=lockdep-net`: the thread takes the network stack's
/// lock with bottom halves enabled (kernel/src/net/mod.rs) after NET_RX took it.
const NET_STACK_MISUSE: FaultSite = FaultSite {
    file: "src/net/mod.rs",
    symbol: "halyard::net::negative_test_take_stack_with_bh_enabled",
    needle: ".lock_with_bottom_halves_enabled()",
};

/// `test=lockdep-net`: the report is of that misuse: an inconsistent SOFTIRQ usage of
/// `net.stack`, taken by NET_RX in softirq context and, with softirqs on in process
/// context, at the deliberate misuse's line; the panic's backtrace passes through the
/// misusing function.
pub fn lockdep_net_misuse(session: &mut Session, ksyms: &[Symbol]) -> Result<(), String> {
    let site = NET_STACK_MISUSE.locate(&Paths::repo())?;
    let (body, panic) = read_lockdep_report(session)?;
    check_net_stack_misuse(&body, &panic, ksyms, &site)
}

fn check_net_stack_misuse(
    body: &[String],
    panic: &[String],
    ksyms: &[Symbol],
    site: &str,
) -> Result<(), String> {
    let needles = [
        "lockdep: inconsistent SOFTIRQ lock usage",
        "lock class `net.stack`",
    ];
    check_lockdep_report(body, panic, ksyms, &needles)?;
    let text = body.join("\n");
    let in_softirq = line_after(body, "is taken in softirq context:")?;
    if !in_softirq.contains("(softirq context,") {
        return Err(format!(
            "the softirq acquisition is not in softirq context:\n{text}"
        ));
    }
    let enabled = line_after(body, "and taken with softirqs enabled:")?;
    let misuse = format!("at {site}:");
    if !(enabled.starts_with(&misuse)
        && enabled.contains("(process context, hardirqs on, softirqs on)"))
    {
        return Err(format!(
            "the softirqs-on acquisition is not the deliberate one ({misuse} in process \
             context with softirqs on):\n{text}"
        ));
    }
    frame_in(&fault_report::frames(panic), NET_STACK_MISUSE.symbol, ksyms).map(drop)
}

/// The trimmed line after the line `heading` of a report.
fn line_after<'a>(body: &'a [String], heading: &str) -> Result<&'a str, String> {
    body.iter()
        .skip_while(|l| l.trim() != heading)
        .nth(1)
        .map(|l| l.trim())
        .ok_or_else(|| format!("the lockdep report has no `{heading}` line followed by a site"))
}

/// Reads from `LOCKDEP REPORT` to the `KERNEL PANIC` it ends with, and that panic's report
/// through `END-OF-REPORT`: (the lockdep report's lines, the panic report).
fn read_lockdep_report(session: &mut Session) -> Result<(Vec<String>, Vec<String>), String> {
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
    let mut report = vec![panic];
    report.extend(session.lines_through("END-OF-REPORT")?);
    Ok((body, report))
}

/// Each of `needles` is in the lockdep report `body`, which names two acquisition sites,
/// and the `panic` report after it has a backtrace symbolised against `ksyms`.
fn check_lockdep_report(
    body: &[String],
    panic: &[String],
    ksyms: &[Symbol],
    needles: &[&str],
) -> Result<(), String> {
    let text = body.join("\n");
    if let Some(missing) = needles.iter().find(|n| !text.contains(**n)) {
        return Err(format!("the lockdep report lacks `{missing}`:\n{text}"));
    }
    if text.matches(" at src/").count() < 2 {
        return Err(format!(
            "the lockdep report does not name two acquisition sites:\n{text}"
        ));
    }
    fault_report::check(panic, ksyms)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    /// The symbols the reports below were printed with (from a real build).
    fn ksyms() -> Vec<Symbol> {
        let sym = |addr, size, name: &str| Symbol {
            addr,
            size,
            name: name.to_string(),
        };
        vec![
            sym(0xffff_ffff_8011_2580, 0x90, NET_STACK_MISUSE.symbol),
            sym(0xffff_ffff_8013_f670, 0x20, DIVIDE),
            sym(
                0xffff_ffff_8013_f690,
                0x40,
                "halyard::ktest::faults::stack_overflow",
            ),
            sym(0xffff_ffff_8013_f970, 0x20, TEST_PANIC.symbol),
            sym(
                0xffff_ffff_8015_2710,
                0x400,
                "halyard::sync::lockdep::acquire",
            ),
            sym(0xffff_ffff_8018_4860, 0x40, "core::panicking::panic_fmt"),
        ]
    }

    /// `test=divide`'s report, as the kernel printed it.
    const DIVIDE_REPORT: &str = "\
EXCEPTION #DE (divide error) on cpu0
error code=0x0 RIP=0xffffffff8013f67c CS=0x8 RFLAGS=0x246
RAX=0xffffffff8013f670 RBX=0xffffc00000032f70 RCX=0x0000000000000000 RDX=0x0000000000000000
SS=0x10 CR3=0x205000
BACKTRACE
#0 0xffffffff8013f67c halyard::ktest::faults::divide_error+0xc
#1 0xffffffff80112a25 core::ops::function::FnOnce::call_once{{vtable.shim}}+0x25
END-OF-REPORT";

    #[test]
    fn only_the_tests_own_division_passes() {
        let ok = lines(DIVIDE_REPORT);
        assert_eq!(check_test_division(&ok, &ksyms()), Ok(()));
        assert_eq!(register(&ok, "RIP"), Some(0xffff_ffff_8013_f67c));
        assert_eq!(register(&ok, "RCX"), Some(0));
        assert_eq!(register(&ok, "R15"), None);
        // A #DE elsewhere (another function's division, its frame symbolised correctly).
        let elsewhere = DIVIDE_REPORT
            .replace("RIP=0xffffffff8013f67c", "RIP=0xffffffff8013f6a4")
            .replace(
                "#0 0xffffffff8013f67c halyard::ktest::faults::divide_error+0xc",
                "#0 0xffffffff8013f6a4 halyard::ktest::faults::stack_overflow+0x14",
            );
        let err = check_test_division(&lines(&elsewhere), &ksyms()).unwrap_err();
        assert!(
            err.contains("outside halyard::ktest::faults::divide_error"),
            "{err}"
        );
        // A division in the function, but not by the zeroed ECX.
        let divisor = DIVIDE_REPORT.replace("RCX=0x0000000000000000", "RCX=0x0000000000000007");
        let err = check_test_division(&lines(&divisor), &ksyms()).unwrap_err();
        assert!(err.contains("divisor RCX is Some(7)"), "{err}");
        // The backtrace must start at RIP, named as the test's function.
        let skipped = DIVIDE_REPORT.replace("#0 0xffffffff8013f67c", "#0 0xffffffff8013f67e");
        assert!(check_test_division(&lines(&skipped), &ksyms())
            .unwrap_err()
            .contains("not RIP"));
        let misnamed = DIVIDE_REPORT.replace("divide_error+0xc", "divide_error+0xd");
        assert!(check_test_division(&lines(&misnamed), &ksyms()).is_err());
        let no_rip = DIVIDE_REPORT.replace("RIP=", "RIP ");
        assert!(check_test_division(&lines(&no_rip), &ksyms()).is_err());
    }

    /// `test=panic`'s report, as the kernel printed it.
    const PANIC_REPORT: &str = "\
KERNEL PANIC on cpu0: deliberate test panic
at src/ktest/faults.rs:66:5
BACKTRACE
#0 0xffffffff8018488b core::panicking::panic_fmt+0x2b
#1 0xffffffff8013f98b halyard::ktest::faults::panic+0x1b
END-OF-REPORT";

    #[test]
    fn only_the_tests_own_panic_passes() {
        let site = "src/ktest/faults.rs:66";
        assert_eq!(
            check_test_panic(&lines(PANIC_REPORT), &ksyms(), site),
            Ok(())
        );
        // A panic during boot is a KERNEL PANIC with a symbolised backtrace too.
        let boot = PANIC_REPORT
            .replace("deliberate test panic", "out of memory: heap exhausted")
            .replace("src/ktest/faults.rs:66:5", "src/mm/heap.rs:80:9");
        let err = check_test_panic(&lines(&boot), &ksyms(), site).unwrap_err();
        assert!(err.contains("expected the test's panic"), "{err}");
        let longer = PANIC_REPORT.replace("test panic", "test panic, and more");
        assert!(check_test_panic(&lines(&longer), &ksyms(), site).is_err());
        let moved = PANIC_REPORT.replace("faults.rs:66:5", "faults.rs:12:5");
        assert!(check_test_panic(&lines(&moved), &ksyms(), site)
            .unwrap_err()
            .contains("does not place it at src/ktest/faults.rs:66"));
        let no_frame = PANIC_REPORT.replace(
            "#1 0xffffffff8013f98b halyard::ktest::faults::panic+0x1b\n",
            "",
        );
        assert_eq!(
            check_test_panic(&lines(&no_frame), &ksyms(), site),
            Err(format!("no backtrace frame in {}", TEST_PANIC.symbol))
        );
    }

    /// `test=lockdep-net`'s report (negative-control kernel), as the kernel printed it.
    const NET_MISUSE: &str = "\
=====================================================
lockdep: inconsistent SOFTIRQ lock usage
lock class `net.stack` (defined at src/net/mod.rs:65:33)
is taken in softirq context:
    at src/net/mod.rs:164:27 (softirq context, hardirqs on, softirqs off)
and taken with softirqs enabled:
    at src/net/mod.rs:153:28 (process context, hardirqs on, softirqs on)
a softirq on the CPU holding the lock can interrupt the holder and spin on it forever.
=====================================================";
    const NET_MISUSE_PANIC: &str = "\
KERNEL PANIC on cpu0: lock validator: see the report above
at src/sync/lockdep.rs:144:9
BACKTRACE
#0 0xffffffff8018488b core::panicking::panic_fmt+0x2b
#1 0xffffffff80152a43 halyard::sync::lockdep::acquire+0x333
#2 0xffffffff801125f2 halyard::net::negative_test_take_stack_with_bh_enabled+0x72
END-OF-REPORT";

    #[test]
    fn only_the_deliberate_net_stack_misuse_passes() {
        let check = |body: &str, panic: &str| {
            check_net_stack_misuse(&lines(body), &lines(panic), &ksyms(), "src/net/mod.rs:153")
        };
        assert_eq!(check(NET_MISUSE, NET_MISUSE_PANIC), Ok(()));
        // The same class and contexts, but taken with softirqs on somewhere else.
        let elsewhere = NET_MISUSE.replace("mod.rs:153:28", "mod.rs:210:17");
        assert!(check(&elsewhere, NET_MISUSE_PANIC)
            .unwrap_err()
            .contains("not the deliberate one"));
        // Another kind of violation naming the same words.
        let kind = NET_MISUSE.replace(
            "inconsistent SOFTIRQ lock usage",
            "SOFTIRQ-safe -> SOFTIRQ-unsafe lock order",
        );
        assert!(check(&kind, NET_MISUSE_PANIC)
            .unwrap_err()
            .contains("lacks `lockdep: inconsistent SOFTIRQ lock usage`"));
        let class = NET_MISUSE.replace("`net.stack`", "`net.device`");
        assert!(check(&class, NET_MISUSE_PANIC).is_err());
        let context = NET_MISUSE.replace(
            "(softirq context, hardirqs on",
            "(process context, hardirqs on",
        );
        assert!(check(&context, NET_MISUSE_PANIC)
            .unwrap_err()
            .contains("not in softirq context"));
        // The panic's backtrace must pass through the misusing function.
        let panic = NET_MISUSE_PANIC.replace(
            "#2 0xffffffff801125f2 halyard::net::negative_test_take_stack_with_bh_enabled+0x72\n",
            "",
        );
        assert!(check(NET_MISUSE, &panic)
            .unwrap_err()
            .contains("no backtrace frame in halyard::net::negative_test"));
    }
}
