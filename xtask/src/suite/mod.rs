//! The QEMU tests: one table, one runner.
//!
//! Each test boots the kernel with its own CPU count and command line, drives the serial
//! console with a check function, then requires a given kernel exit status. Adding a test is
//! adding a row to [`TESTS`] (and, if needed, a check function in the module of its kind).
//! Every test gets one deadline, its serial log in `target/test-logs/<name>.log`, and its
//! QEMU is killed by PID however the test ends.

pub mod fatal;
mod fault_site;
pub mod faults;
pub mod in_kernel;
mod monitor;
mod random;
pub mod smoke;
pub mod user;

use crate::boot_log;
use crate::exit_status::{QemuEnd, KERNEL_OK, KERNEL_PANIC};
use crate::ksyms::Symbol;
use crate::net_mode::Network;
use crate::paths::Paths;
use crate::qemu::cmdline::QemuConfig;
use crate::qemu::session::Session;
use std::time::{Duration, Instant};

/// What a check function may look at besides the console.
pub struct Context<'a> {
    pub test: &'a QemuTest,
    /// The kernel's symbols, to verify symbolised backtraces.
    pub ksyms: &'a [Symbol],
}

/// A check run against the serial console; `Err` names the failing check.
pub type Check = fn(&mut Session, &Context) -> Result<(), String>;

/// One QEMU test.
pub struct QemuTest {
    pub name: &'static str,
    pub smp: u32,
    /// Kernel command line.
    pub cmdline: &'static str,
    /// Deadline for the whole test, boot included (software emulation on a busy machine).
    pub timeout: Duration,
    pub check: Check,
    /// Kernel status QEMU must end with.
    pub status: u8,
    /// Attach the virtio-rng entropy device (`false` only to test the kernel without it).
    pub rng: bool,
}

const BOOT_TIMEOUT: Duration = Duration::from_secs(90);
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Every QEMU test, in the order they run (sequentially: one QEMU at a time).
pub const TESTS: &[QemuTest] = &[
    QemuTest {
        name: "boot-smp1",
        smp: 1,
        cmdline: "",
        timeout: BOOT_TIMEOUT,
        check: monitor::boot_and_use_monitor,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "boot-smp2",
        smp: 2,
        cmdline: "",
        timeout: BOOT_TIMEOUT,
        check: monitor::boot_and_use_monitor,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "redzone",
        smp: 2,
        cmdline: "test=redzone panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "sse",
        smp: 2,
        cmdline: "test=sse panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "exception-pf",
        smp: 1,
        cmdline: "test=pagefault panic=exit",
        timeout: TEST_TIMEOUT,
        check: faults::page_fault,
        status: KERNEL_PANIC,
        rng: true,
    },
    QemuTest {
        name: "stack-overflow",
        smp: 1,
        cmdline: "test=stackoverflow panic=exit",
        timeout: TEST_TIMEOUT,
        check: faults::stack_overflow,
        status: KERNEL_PANIC,
        rng: true,
    },
    QemuTest {
        name: "exception-de",
        smp: 1,
        cmdline: "test=divide panic=exit",
        timeout: TEST_TIMEOUT,
        check: faults::divide_error,
        status: KERNEL_PANIC,
        rng: true,
    },
    QemuTest {
        name: "panic",
        smp: 1,
        cmdline: "test=panic panic=exit",
        timeout: TEST_TIMEOUT,
        check: faults::panic,
        status: KERNEL_PANIC,
        rng: true,
    },
    QemuTest {
        name: "fault-in-report",
        smp: 2,
        cmdline: "test=fault-in-report panic=exit",
        timeout: TEST_TIMEOUT,
        check: fatal::fault_in_report,
        status: KERNEL_PANIC,
        rng: true,
    },
    QemuTest {
        name: "fault-two-cpus",
        smp: 2,
        cmdline: "test=fault-two-cpus panic=exit",
        timeout: TEST_TIMEOUT,
        check: fatal::fault_two_cpus,
        status: KERNEL_PANIC,
        rng: true,
    },
    QemuTest {
        name: "wake-ring",
        smp: 2,
        cmdline: "test=wake-ring panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "irq-wakes",
        smp: 2,
        cmdline: "test=irq-wakes panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "mutex",
        smp: 2,
        cmdline: "test=mutex panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "lazy-tlb",
        smp: 2,
        cmdline: "test=lazy-tlb panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "sched-storm",
        smp: 2,
        cmdline: "test=sched-storm panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "softirq-flood",
        smp: 2,
        cmdline: "test=softirq-flood panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "seed-bh-smp1",
        smp: 1,
        cmdline: "test=seed-bh panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "seed-bh-smp2",
        smp: 2,
        cmdline: "test=seed-bh panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "lockdep-bh",
        smp: 2,
        cmdline: "test=lockdep-bh panic=exit",
        timeout: TEST_TIMEOUT,
        check: faults::lockdep_softirq_misuse,
        status: KERNEL_PANIC,
        rng: true,
    },
    QemuTest {
        name: "lockdep-order",
        smp: 2,
        cmdline: "test=lockdep-order panic=exit",
        timeout: TEST_TIMEOUT,
        check: faults::lockdep_order_inversion,
        status: KERNEL_PANIC,
        rng: true,
    },
    QemuTest {
        name: "might-sleep",
        smp: 2,
        cmdline: "test=might-sleep panic=exit",
        timeout: TEST_TIMEOUT,
        check: faults::might_sleep,
        status: KERNEL_PANIC,
        rng: true,
    },
    QemuTest {
        name: "lockup",
        smp: 2,
        cmdline: "test=lockup panic=exit",
        timeout: TEST_TIMEOUT,
        check: faults::lockup,
        status: KERNEL_PANIC,
        rng: true,
    },
    QemuTest {
        name: "spawn-exhaust",
        smp: 2,
        cmdline: "test=spawn-exhaust panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "pci",
        smp: 2,
        cmdline: "test=pci panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "random",
        smp: 2,
        cmdline: "test=random panic=exit",
        timeout: TEST_TIMEOUT,
        check: in_kernel::passes,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "random-fallback",
        smp: 2,
        cmdline: "test=random-fallback panic=exit",
        timeout: TEST_TIMEOUT,
        check: random::fallback_warned,
        status: KERNEL_OK,
        rng: false,
    },
    QemuTest {
        name: "user-shell-smp1",
        smp: 1,
        cmdline: "init=/sbin/init panic=exit",
        timeout: USER_TIMEOUT,
        check: user::shell_session,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "user-shell-smp2",
        smp: 2,
        cmdline: "init=/sbin/init panic=exit",
        timeout: USER_TIMEOUT,
        check: user::shell_session,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "user-abi",
        smp: 2,
        cmdline: "init=/sbin/init panic=exit log=warn",
        timeout: Duration::from_secs(400),
        check: user::abi_programs,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "user-stress",
        smp: 2,
        cmdline: "init=/sbin/init panic=exit",
        timeout: USER_TIMEOUT,
        check: user::stress,
        status: KERNEL_OK,
        rng: true,
    },
    QemuTest {
        name: "user-busybox",
        smp: 2,
        cmdline: "init=/sbin/init panic=exit log=warn",
        timeout: USER_TIMEOUT,
        check: user::busybox_smoke,
        status: KERNEL_OK,
        rng: true,
    },
];

/// Time for a user-space session (boot, init, shell, the commands, poweroff).
const USER_TIMEOUT: Duration = Duration::from_secs(180);

/// The tests whose name contains `pattern` (all of them without one).
pub fn select(pattern: Option<&str>) -> Vec<&'static QemuTest> {
    TESTS
        .iter()
        .filter(|t| pattern.is_none_or(|p| t.name.contains(p)))
        .collect()
}

/// Runs one test. The error names the failing check and the log file.
pub fn run(test: &QemuTest, paths: &Paths, ksyms: &[Symbol]) -> Result<(), String> {
    let config = QemuConfig {
        rng: test.rng,
        ..QemuConfig::for_test(paths, test.smp, test.cmdline.to_string(), Network::none())
    };
    let log = paths.test_log(test.name);
    let deadline = Instant::now() + test.timeout;
    let outcome = Session::start(config.command(), &log, deadline).and_then(|mut session| {
        (test.check)(&mut session, &Context { test, ksyms })?;
        expect_status(session.wait_exit()?, test.status)
    });
    outcome.map_err(|e| explain_failure(&e, &log, paths))
}

/// The failure `e` of a QEMU test, with the last boot stage in its `log` and the log's path.
pub fn explain_failure(e: &str, log: &std::path::Path, paths: &Paths) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let stage = boot_log::last_stage(&text).map_or("none".to_string(), |s| format!("`{}`", s.name));
    format!(
        "{e}\n      last boot stage in the log: {stage}\n      log: {}",
        paths.show(log)
    )
}

/// `Ok` if QEMU ended with kernel status `wanted`.
pub fn expect_status(end: QemuEnd, wanted: u8) -> Result<(), String> {
    match end.kernel_status() {
        Some(v) if v == wanted => Ok(()),
        _ => Err(format!(
            "expected kernel status {wanted}, got {}",
            end.describe()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_well_formed() {
        for (i, t) in TESTS.iter().enumerate() {
            assert!(
                TESTS[..i].iter().all(|o| o.name != t.name),
                "duplicate {}",
                t.name
            );
            assert!(t.smp >= 1 && t.timeout >= Duration::from_secs(10));
            // Every kernel boots with its entropy device, except the test of its absence.
            assert_eq!(t.rng, t.name != "random-fallback", "{}", t.name);
            // Tests that end in a panic must ask the kernel to exit rather than halt.
            if t.status == KERNEL_PANIC {
                assert!(
                    t.cmdline.split(' ').any(|w| w == "panic=exit"),
                    "{}",
                    t.name
                );
            }
        }
    }

    #[test]
    fn selection_by_pattern() {
        assert_eq!(select(None).len(), TESTS.len());
        let names: Vec<_> = select(Some("exception")).iter().map(|t| t.name).collect();
        assert_eq!(names, ["exception-pf", "exception-de"]);
        assert!(select(Some("nothing-matches")).is_empty());
    }

    #[test]
    fn status_mismatches_are_explained() {
        assert_eq!(expect_status(QemuEnd::Kernel(3), 3), Ok(()));
        assert_eq!(
            expect_status(QemuEnd::Kernel(0), 3),
            Err("expected kernel status 3, got kernel status 0 (poweroff or test passed)".into())
        );
        assert!(expect_status(QemuEnd::NoStatus(0), 0)
            .unwrap_err()
            .contains("no kernel status"));
    }
}
