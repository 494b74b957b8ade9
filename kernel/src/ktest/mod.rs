//! In-kernel tests, selected with `test=NAME` on the command line and run after boot
//! instead of the monitor. Each prints `TEST-PASS NAME` or `TEST-FAIL NAME: reason` and
//! leaves QEMU with the matching status; the fault tests end in an exception report
//! instead (the xtask checks it). The xtask's test table lists which it runs.
mod bench;
mod faults;
mod lockdep;
mod pci;
mod redzone;
mod sched;
mod softirq;
mod sse;
mod virtio_net;

use crate::arch::qemu;
use crate::println;

/// A test's verdict: `Err` carries the reason for the failure.
pub type Verdict = Result<(), alloc::string::String>;

const TESTS: &[(&str, fn() -> Verdict)] = &[
    ("redzone", redzone::run),
    ("sse", sse::run),
    ("pagefault", faults::page_fault),
    ("divide", faults::divide_error),
    ("panic", faults::panic),
    ("wake-ring", sched::wake_ring),
    ("irq-wakes", sched::interrupt_wakes),
    ("mutex", sched::mutex),
    ("might-sleep", sched::might_sleep),
    ("softirq-flood", softirq::flood),
    ("seed-bh", softirq::seed_scenario),
    ("lockdep-bh", lockdep::bh_misuse),
    ("lockdep-order", lockdep::order_inversion),
    ("pci", pci::run),
    ("virtio-net", virtio_net::run),
    ("bench-sched", bench::run),
];

/// Runs test `name` and leaves QEMU with its verdict. Runs in its own thread.
pub fn run(name: &str) -> ! {
    let Some((_, test)) = TESTS.iter().find(|(n, _)| *n == name) else {
        println!("TEST-FAIL {name}: no such test");
        qemu::exit(qemu::EXIT_TEST_FAILED);
    };
    match test() {
        Ok(()) => {
            println!("TEST-PASS {name}");
            qemu::exit(qemu::EXIT_SUCCESS)
        }
        Err(reason) => {
            println!("TEST-FAIL {name}: {reason}");
            qemu::exit(qemu::EXIT_TEST_FAILED)
        }
    }
}
