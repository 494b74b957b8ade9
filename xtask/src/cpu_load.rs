//! `cargo xtask test --load`: CPU hogs on the host while the QEMU tests run.
//!
//! On an idle host every vCPU thread of QEMU has a core to itself, the guest's timer ticks
//! arrive on time and two vCPUs advance in near lockstep, so races that need one CPU to stall
//! at the wrong moment (a softirq preempted half-way, a wakeup racing a sleeper) hide. On a
//! busy host the kernel deschedules vCPU threads at arbitrary instructions; that is when
//! such bugs showed up here. `--load` makes that happen on purpose: one busy-loop thread
//! per host core ([`std::thread::available_parallelism`]).
//!
//! Priority: each hog runs at QEMU's nice value (both inherit the xtask's), lowered to 0 if
//! the xtask runs with a negative one, so hogs never outrank anything on a shared machine.
//! Neutral rather than lowered further on purpose: a hog at nice 19 gets about 1.5% of a
//! core against a nice-0 vCPU thread and would perturb almost nothing.
//!
//! Bounded: the hogs stop when their [`CpuLoad`] guard is dropped (the runs ended, an error
//! returned early, a panic unwound) or at their deadline, whichever comes first. They are
//! threads rather than child processes so that they cannot outlive the xtask: Ctrl-C or
//! SIGTERM ends the process (after killing QEMU, `qemu::process`) and the hogs with it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Arithmetic steps between two looks at the stop flag and the clock (well under 1 ms).
const SPINS_PER_ROUND: u32 = 100_000;

/// Running CPU hogs; dropping this stops and joins them.
pub struct CpuLoad {
    stop: Arc<AtomicBool>,
    hogs: Vec<JoinHandle<u64>>,
    started: Instant,
}

/// What the hogs did, for the log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadReport {
    pub hogs: usize,
    pub seconds: f64,
    /// Busy-loop rounds of all hogs together (proof that they ran).
    pub rounds: u64,
}

impl CpuLoad {
    /// Starts one hog per host core; each stops on its own after `bound` at the latest.
    pub fn start(bound: Duration) -> CpuLoad {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let stop = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + bound;
        let hogs = (0..cores)
            .filter_map(|i| {
                let stop = stop.clone();
                std::thread::Builder::new()
                    .name(format!("cpu-hog-{i}"))
                    .spawn(move || hog(&stop, deadline))
                    .ok()
            })
            .collect();
        CpuLoad {
            stop,
            hogs,
            started: Instant::now(),
        }
    }

    /// How many hogs run.
    pub fn hogs(&self) -> usize {
        self.hogs.len()
    }

    /// Stops the hogs, waits for them and says what they did.
    pub fn stop(mut self) -> LoadReport {
        self.halt()
    }

    fn halt(&mut self) -> LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        let hogs = self.hogs.len();
        let rounds = self.hogs.drain(..).filter_map(|h| h.join().ok()).sum();
        LoadReport {
            hogs,
            seconds: self.started.elapsed().as_secs_f64(),
            rounds,
        }
    }
}

impl Drop for CpuLoad {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Busy-loops until `stop` or `deadline`; returns the rounds done.
fn hog(stop: &AtomicBool, deadline: Instant) -> u64 {
    at_most_normal_priority();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rounds = 0;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        for _ in 0..SPINS_PER_ROUND {
            x = std::hint::black_box(x.rotate_left(7) ^ 0x2545_f491_4f6c_dd1d).wrapping_mul(3);
        }
        rounds += 1;
    }
    std::hint::black_box(x);
    rounds
}

/// Sets the calling thread's nice value to at least 0 (Linux nice values are per thread).
/// A failing `getpriority` reads as -1 and only leads to asking for 0: never a raise.
fn at_most_normal_priority() {
    // SAFETY: gettid has no preconditions and cannot fail.
    let tid = unsafe { libc::gettid() } as libc::id_t;
    // SAFETY: getpriority only reads the scheduling attributes of thread `tid` (ourselves).
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, tid) };
    if nice < 0 {
        // SAFETY: lowers our own thread's priority; nothing else is affected.
        unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hog_per_core_that_runs_and_stops() {
        let cores = std::thread::available_parallelism().unwrap().get();
        let load = CpuLoad::start(Duration::from_secs(60));
        assert_eq!(load.hogs(), cores);
        std::thread::sleep(Duration::from_millis(100));
        let report = load.stop();
        assert_eq!(report.hogs, cores);
        assert!(report.rounds > 0, "{report:?}");
        assert!(report.seconds < 30.0, "{report:?}");
    }

    #[test]
    fn hogs_stop_at_their_deadline_and_when_dropped() {
        let stop = AtomicBool::new(false);
        let start = Instant::now();
        let rounds = hog(&stop, start + Duration::from_millis(50));
        assert!(rounds > 0 && start.elapsed() < Duration::from_secs(20));
        stop.store(true, Ordering::Relaxed);
        assert_eq!(hog(&stop, Instant::now() + Duration::from_secs(60)), 0);
        // Dropping the guard (an early return, a panic) stops the hogs too.
        let load = CpuLoad::start(Duration::from_secs(60));
        let flag = load.stop.clone();
        drop(load);
        assert!(flag.load(Ordering::Relaxed));
    }
}
