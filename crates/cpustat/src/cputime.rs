//! CPU time: what a timer tick is charged to, clock ticks, and user/system time scaled to
//! the exact run time.
//!
//! Halyard accounts CPU time the way Linux does without `CONFIG_VIRT_CPU_ACCOUNTING`
//! (`account_process_tick` in `kernel/sched/cputime.c`): each timer tick charges one tick
//! period to what the CPU was doing when it came, both to the CPU's
//! counters ([`CpuTimes`], `/proc/stat`) by [`Tick::class`] and, for user and system time, to the running
//! thread. The thread's exact run time (nanoseconds on a CPU, measured at every switch)
//! is then split in the sampled ratio ([`Prev::adjust`], Linux's `cputime_adjust`), so
//! `times`, `getrusage` and `/proc/PID/stat` add up to the run time and never go back.

/// Linux's `USER_HZ`: the unit of `/proc/stat`, `/proc/PID/stat` and `times` (`CLK_TCK`).
pub const USER_HZ: u64 = 100;

/// Nanoseconds in clock ticks (Linux's `nsec_to_clock_t`, rounding down).
pub const fn ns_to_clock_t(ns: u64) -> u64 {
    ns / (1_000_000_000 / USER_HZ)
}

/// The classes of `/proc/stat`'s `cpu` lines, in their order (Linux's `cpu_usage_stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    User = 0,
    Nice = 1,
    System = 2,
    Idle = 3,
    Iowait = 4,
    Irq = 5,
    Softirq = 6,
    Steal = 7,
    Guest = 8,
    GuestNice = 9,
}

/// How many classes a `cpu` line has.
pub const CLASSES: usize = 10;

/// What the CPU was doing when a timer tick came (the inputs of Linux's
/// `account_process_tick`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    /// The tick interrupted ring 3.
    pub user_mode: bool,
    /// It interrupted another interrupt handler (the tick's own hardirq does not count).
    pub nested_hardirq: bool,
    /// It interrupted a softirq handler (also in `ksoftirqd`).
    pub serving_softirq: bool,
    /// The CPU's idle thread was running.
    pub idle: bool,
}

impl Tick {
    /// The class the tick is charged to. Never nice (Halyard has no `nice`) nor iowait
    /// (it has no block I/O to wait for).
    pub const fn class(self) -> Class {
        if self.user_mode {
            Class::User
        } else if self.nested_hardirq {
            Class::Irq
        } else if self.serving_softirq {
            Class::Softirq
        } else if self.idle {
            Class::Idle
        } else {
            Class::System
        }
    }
}

/// One CPU's time per class, in nanoseconds (Linux's `kernel_cpustat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes(pub [u64; CLASSES]);

impl CpuTimes {
    /// The time of `class`.
    pub const fn get(&self, class: Class) -> u64 {
        self.0[class as usize]
    }

    /// Adds another CPU's times (the aggregate `cpu` line sums nanoseconds, then
    /// converts, as Linux does).
    pub fn add(&mut self, other: &CpuTimes) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

/// The user and system time last reported for a thread or process (Linux's
/// `prev_cputime`), which later reports never go below.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prev {
    pub utime: u64,
    pub stime: u64,
}

impl Prev {
    /// Splits the exact run time `rtime` in the ratio of the tick-sampled `utime` and
    /// `stime` (Linux's `cputime_adjust`), keeping both monotonic across calls; returns
    /// (user, system) and remembers them. All in nanoseconds.
    pub fn adjust(&mut self, rtime: u64, utime: u64, stime: u64) -> (u64, u64) {
        if self.utime + self.stime >= rtime {
            return (self.utime, self.stime);
        }
        let mut stime = if stime == 0 {
            0
        } else if utime == 0 {
            rtime
        } else {
            (u128::from(stime) * u128::from(rtime) / (u128::from(stime) + u128::from(utime))) as u64
        };
        // stime never goes back; then utime takes the rest, and if that would go back,
        // utime keeps its value and stime takes the rest (rtime itself only grows).
        stime = stime.max(self.stime);
        let mut utime = rtime - stime;
        if utime < self.utime {
            utime = self.utime;
            stime = rtime - utime;
        }
        *self = Prev { utime, stime };
        (utime, stime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_ticks_are_hundredths() {
        assert_eq!(ns_to_clock_t(9_999_999), 0);
        assert_eq!(ns_to_clock_t(10_000_000), 1);
        assert_eq!(ns_to_clock_t(2_345_000_000), 234);
    }

    #[test]
    fn ticks_are_classified_as_linux_does() {
        let tick = |user_mode, nested_hardirq, serving_softirq, idle| Tick {
            user_mode,
            nested_hardirq,
            serving_softirq,
            idle,
        };
        assert_eq!(tick(true, false, false, false).class(), Class::User);
        assert_eq!(tick(false, true, true, true).class(), Class::Irq);
        assert_eq!(tick(false, false, true, true).class(), Class::Softirq);
        assert_eq!(tick(false, false, true, false).class(), Class::Softirq);
        assert_eq!(tick(false, false, false, true).class(), Class::Idle);
        assert_eq!(tick(false, false, false, false).class(), Class::System);
    }

    #[test]
    fn aggregate_sums_each_class() {
        let mut sum = CpuTimes::default();
        sum.add(&CpuTimes([1, 0, 2, 3, 0, 0, 4, 0, 0, 0]));
        sum.add(&CpuTimes([5, 0, 6, 7, 0, 8, 0, 0, 0, 0]));
        assert_eq!(sum.0, [6, 0, 8, 10, 0, 8, 4, 0, 0, 0]);
        assert_eq!(sum.get(Class::Idle), 10);
        assert_eq!(sum.get(Class::Irq), 8);
    }

    #[test]
    fn run_time_is_split_in_the_sampled_ratio() {
        let mut prev = Prev::default();
        assert_eq!(prev.adjust(1000, 3, 1), (750, 250));
        // No sample or only user samples: all of it is user time; only system samples:
        // all system time.
        let mut prev = Prev::default();
        assert_eq!(prev.adjust(500, 0, 0), (500, 0));
        let mut prev = Prev::default();
        assert_eq!(prev.adjust(500, 0, 7), (0, 500));
        let mut prev = Prev::default();
        assert_eq!(prev.adjust(500, 7, 0), (500, 0));
    }

    #[test]
    fn reports_never_go_back() {
        let mut prev = Prev::default();
        assert_eq!(prev.adjust(1000, 1, 1), (500, 500));
        // More user samples: the ratio says stime 1100/4 = 275, below 500: kept at 500.
        assert_eq!(prev.adjust(1100, 3, 1), (600, 500));
        // The run time did not grow: the last answer again.
        assert_eq!(prev.adjust(1100, 0, 9), (600, 500));
        // Now mostly system: utime would be 1200 - 1080 = 120 < 600: kept.
        assert_eq!(prev.adjust(1200, 1, 9), (600, 600));
        // Monotonic and summing to the run time over a long random-ish run.
        let mut prev = Prev::default();
        let (mut last_u, mut last_s) = (0, 0);
        let (mut r, mut u, mut s) = (0u64, 0u64, 0u64);
        for i in 0..1000u64 {
            r += 1 + i % 7;
            if i % 3 == 0 {
                u += 1;
            } else if i % 5 == 0 {
                s += 1;
            }
            let (nu, ns) = prev.adjust(r, u, s);
            assert!(nu >= last_u && ns >= last_s);
            assert_eq!(nu + ns, r);
            (last_u, last_s) = (nu, ns);
        }
    }
}
