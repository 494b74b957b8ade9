//! In-kernel tests, selected with `test=NAME` on the command line and run after boot
//! instead of the monitor. Each prints `TEST-PASS NAME` or `TEST-FAIL NAME: reason` and
//! leaves QEMU with the matching status; the fault tests end in an exception report
//! instead (the xtask checks it). The xtask's test table lists which it runs.
mod bench;
mod fatal;
mod faults;
mod lockdep;
mod memory;
mod pci;
mod redzone;
mod sched;
mod sched_storm;
mod softirq;
mod sse;
mod virtio_net;

use crate::arch::qemu;
use crate::println;

/// A test's verdict: `Err` carries the reason for the failure.
pub type Verdict = Result<(), alloc::string::String>;

/// A test: its `test=` name and its body.
type Test = (&'static str, fn() -> Verdict);

const TESTS: &[Test] = &[
    ("redzone", redzone::run),
    ("sse", sse::run),
    ("pagefault", faults::page_fault),
    ("divide", faults::divide_error),
    ("panic", faults::panic),
    ("fault-in-report", fatal::fault_in_report),
    ("fault-two-cpus", fatal::fault_two_cpus),
    ("stackoverflow", faults::stack_overflow),
    ("wake-ring", sched::wake_ring),
    ("irq-wakes", sched::interrupt_wakes),
    ("mutex", sched::mutex),
    ("sched-storm", sched_storm::run),
    ("might-sleep", sched::might_sleep),
    ("lockup", sched::lockup),
    ("spawn-exhaust", memory::spawn_exhaust),
    #[cfg(feature = "negative-tests")]
    ("lockdep-net", lockdep::net_stack_misuse),
    ("softirq-flood", softirq::flood),
    ("seed-bh", softirq::seed_scenario),
    ("lockdep-bh", lockdep::bh_misuse),
    ("lockdep-order", lockdep::order_inversion),
    ("pci", pci::run),
    ("virtio-net", virtio_net::run),
    ("bench-sched", bench::run),
];

/// Runs test `name` in its own thread and leaves QEMU with its verdict; a test still
/// running at the deadline fails with the state of every thread.
pub fn run(name: &'static str) -> ! {
    let Some(&(_, test)) = TESTS.iter().find(|(n, _)| *n == name) else {
        println!("TEST-FAIL {name}: no such test");
        qemu::exit(qemu::EXIT_TEST_FAILED);
    };
    let verdict = alloc::sync::Arc::new(crate::sync::Mutex::new(None));
    let worker = {
        let verdict = verdict.clone();
        crate::sched::spawn(alloc::format!("test:{name}"), move || {
            *verdict.lock() = Some(test())
        })
    };
    if !crate::sched::join_until(&worker, crate::time::now_ns() + TEST_DEADLINE_NS) {
        println!(
            "TEST-FAIL {name}: still running after {} s; threads:",
            TEST_DEADLINE_NS / 1_000_000_000
        );
        for t in crate::sched::threads() {
            println!("  {} {} cpu{} {}", t.id, t.name, t.cpu(), t.state().name());
        }
        qemu::exit(qemu::EXIT_TEST_FAILED);
    }
    let outcome = verdict.lock().take();
    match outcome {
        Some(Ok(())) => {
            println!("TEST-PASS {name}");
            qemu::exit(qemu::EXIT_SUCCESS)
        }
        Some(Err(reason)) => {
            println!("TEST-FAIL {name}: {reason}");
            qemu::exit(qemu::EXIT_TEST_FAILED)
        }
        None => {
            println!("TEST-FAIL {name}: the test thread ended without a verdict");
            qemu::exit(qemu::EXIT_TEST_FAILED)
        }
    }
}

/// How long an in-kernel test may run before it is declared hung (the xtask's own
/// deadline is longer, so the kernel's report with every thread's state comes first).
const TEST_DEADLINE_NS: u64 = 45_000_000_000;
