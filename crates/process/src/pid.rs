//! Pid numbers: Linux's cyclic allocator over one pid space.
//!
//! Linux (`alloc_pid` in `kernel/pid.c`) hands out numbers in increasing order from a
//! cursor just past the last number handed out, skips numbers still in use, and at
//! `pid_max` wraps around to [`RESERVED_PIDS`] (300), so that the low numbers of daemons
//! started at boot are not reused soon. Before the cursor first passes 300 a wrap starts
//! at 1. When every number is taken `fork` fails with `EAGAIN`. Thread ids come from the
//! same space (a thread's tid is a pid), and a number stays in use while anything refers
//! to it: a live or zombie task, or a process group or session named after it
//! (Linux frees a `struct pid` only when no task is attached to it in any role).
//! The allocator itself only remembers the cursor; the table says what is in use.

/// A process or thread id (Linux's `pid_t`, always positive here).
pub type Pid = u32;

/// The pid of init, the first process and the reaper of orphans.
pub const INIT_PID: Pid = 1;

/// Linux's `PID_MAX_DEFAULT` (`include/linux/threads.h`): the default `pid_max`, so pids
/// run from 1 to 32767 on machines with up to 32 CPUs.
pub const PID_MAX_DEFAULT: Pid = 0x8000;

/// Linux's `RESERVED_PIDS` (`kernel/pid.c`): where allocation wraps around to.
pub const RESERVED_PIDS: Pid = 300;

/// Linux's `PID_MAX_LIMIT` on 64-bit machines (4 Mi): the largest `pid_max`.
pub const PID_MAX_LIMIT: Pid = 4 * 1024 * 1024;

/// The cursor of the cyclic allocator (Linux's `idr_alloc_cyclic` on the pid namespace).
#[derive(Clone, Debug)]
pub(crate) struct PidAllocator {
    /// The next number to try (one past the last one handed out).
    cursor: Pid,
    /// One past the largest pid (`/proc/sys/kernel/pid_max`).
    pid_max: Pid,
}

impl PidAllocator {
    /// An allocator handing out numbers below `pid_max`, clamped to
    /// `RESERVED_PIDS + 1 ..= PID_MAX_LIMIT` (Linux's `pid_max_min`/`pid_max_max`).
    pub(crate) fn new(pid_max: Pid) -> Self {
        Self {
            cursor: 0,
            pid_max: pid_max.clamp(RESERVED_PIDS + 1, PID_MAX_LIMIT),
        }
    }

    /// The last number handed out (0 before the first): `/proc/loadavg`'s last field.
    pub(crate) fn last(&self) -> Pid {
        self.cursor.saturating_sub(1)
    }

    /// The next free number, or `None` when all of `[min, pid_max)` are in use.
    pub(crate) fn alloc(&mut self, in_use: impl Fn(Pid) -> bool) -> Option<Pid> {
        let min = if self.cursor > RESERVED_PIDS {
            RESERVED_PIDS
        } else {
            1
        };
        let start = self.cursor.max(min);
        let found = (start..self.pid_max)
            .chain(min..start.min(self.pid_max))
            .find(|&pid| !in_use(pid))?;
        self.cursor = found + 1;
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeSet;

    #[test]
    fn increasing_from_one() {
        let mut a = PidAllocator::new(PID_MAX_DEFAULT);
        let got: alloc::vec::Vec<Pid> = (0..5).map(|_| a.alloc(|_| false).unwrap()).collect();
        assert_eq!(got, [1, 2, 3, 4, 5]);
        assert_eq!(a.last(), 5);
        assert_eq!(PidAllocator::new(PID_MAX_DEFAULT).last(), 0);
    }

    #[test]
    fn skips_used_and_wraps_to_reserved() {
        let mut a = PidAllocator::new(400);
        let used: BTreeSet<Pid> = [398, 300, 301].into_iter().collect();
        let mut last = 0;
        for _ in 0..395 {
            last = a.alloc(|p| used.contains(&p)).unwrap();
        }
        assert_eq!(last, 397);
        // 398 is in use, 399 is the last below pid_max, then the wrap skips 300 and 301
        // (this closure does not report the numbers handed out as used).
        assert_eq!(a.alloc(|p| used.contains(&p)), Some(399));
        assert_eq!(a.alloc(|p| used.contains(&p)), Some(302));
    }

    #[test]
    fn full_space_is_none() {
        let mut a = PidAllocator::new(400);
        assert_eq!(a.alloc(|_| true), None);
        // Early on (cursor below 300) a wrap starts at 1.
        let mut b = PidAllocator::new(400);
        assert_eq!(b.alloc(|p| p != 1), Some(1));
    }
}
