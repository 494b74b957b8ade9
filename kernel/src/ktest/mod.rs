//! In-kernel tests, selected with `test=NAME` on the command line and run after boot
//! instead of the monitor. Each prints `TEST-PASS NAME` or `TEST-FAIL NAME: reason` and
//! leaves QEMU with the matching status; the fault tests end in an exception report
//! instead (the xtask checks it). The xtask's test table lists which it runs.
mod bench;
mod fatal;
mod faults;
mod lazy_tlb;
mod lockdep;
mod memory;
mod pci;
mod random;
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
    ("lazy-tlb", lazy_tlb::run),
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
    ("random", random::with_device),
    ("random-fallback", random::without_device),
    ("bench-sched", bench::run),
];

/// Runs test `name` in its own thread and leaves QEMU with its verdict; a test still
/// running at the deadline fails with the state of every thread.
pub fn run(name: &'static str) -> ! {
    let Some(&(_, test)) = TESTS.iter().find(|(n, _)| *n == name) else {
        println!("TEST-FAIL {name}: no such test");
        qemu::exit(qemu::EXIT_TEST_FAILED);
    };
    let worker = TestThread::start(alloc::format!("test:{name}"), None, test);
    if !crate::sched::join_until(&worker.thread, crate::time::now_ns() + TEST_DEADLINE_NS) {
        println!(
            "TEST-FAIL {name}: still running after {} s; threads:",
            TEST_DEADLINE_NS / 1_000_000_000
        );
        for t in crate::sched::threads() {
            println!("  {} {} cpu{} {}", t.id, t.name, t.cpu(), t.state().name());
        }
        qemu::exit(qemu::EXIT_TEST_FAILED);
    }
    match worker.verdict() {
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

/// A test body running on a thread of its own, and the slot its verdict lands in.
struct TestThread {
    thread: alloc::sync::Arc<crate::sched::Thread>,
    verdict: alloc::sync::Arc<crate::sync::Mutex<Option<Verdict>>>,
}

impl TestThread {
    /// Starts `test` on a new thread, pinned to CPU `cpu` if given. Process context.
    fn start(name: alloc::string::String, cpu: Option<u32>, test: fn() -> Verdict) -> TestThread {
        let verdict = alloc::sync::Arc::new(crate::sync::Mutex::new(None));
        let slot = verdict.clone();
        let body = move || *slot.lock() = Some(test());
        let thread = match cpu {
            Some(cpu) => crate::sched::spawn_pinned(name, cpu, body),
            None => crate::sched::spawn(name, body),
        };
        TestThread { thread, verdict }
    }

    /// The verdict, once the thread has ended; one that ended without a verdict failed.
    fn verdict(&self) -> Verdict {
        let outcome = self.verdict.lock().take();
        outcome.unwrap_or_else(|| Err("the test thread ended without a verdict".into()))
    }
}

/// How long an in-kernel test may run before it is declared hung (the xtask's own
/// deadline is longer, so the kernel's report with every thread's state comes first).
const TEST_DEADLINE_NS: u64 = 45_000_000_000;
