//! CPU-time and load-average arithmetic the way Linux does it, and the text of the
//! `/proc` files that show them (`top`, `uptime`, `vmstat` read these).
//!
//! - [`loadavg`]: the fixed-point exponential load average (`kernel/sched/loadavg.c`)
//!   and how `/proc/loadavg` and `sysinfo` show it.
//! - [`cputime`]: clock ticks (`USER_HZ`), the CPU-time classes of `/proc/stat`, and
//!   the scaling of tick-sampled user/system time to a thread's exact run time
//!   (`cputime_adjust` in `kernel/sched/cputime.c`).
//! - [`format`]: `/proc/stat`, `/proc/loadavg` and `/proc/uptime`, byte for byte as
//!   `fs/proc/{stat,loadavg,uptime}.c` print them.
#![no_std]
#![forbid(unsafe_code)]

pub mod cputime;
pub mod format;
pub mod loadavg;
