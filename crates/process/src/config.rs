//! System-wide limits of the process table: `pid_max`, `threads-max`, `nr_open`.
//!
//! Linux lets root (`CAP_SYS_RESOURCE` or `CAP_SYS_ADMIN`, and the root user itself)
//! exceed `RLIMIT_NPROC`, so the per-user count alone does not stop a fork bomb run as
//! root. What stops it is `threads-max` (`max_threads`, `/proc/sys/kernel/threads-max`):
//! `copy_process` refuses a new task with `EAGAIN` once the system has that many,
//! whoever asks. Linux sizes it from memory so that task stacks (`THREAD_SIZE`, 16 KiB
//! on x86_64) take at most an eighth of RAM; Halyard does the same
//! ([`threads_max_for_memory`]), so a root fork bomb gets `EAGAIN` instead of exhausting
//! the kernel's memory, and init's `RLIMIT_NPROC` default is half of it, as in Linux's
//! `fork_init`.

use crate::pid::{Pid, PID_MAX_DEFAULT};

/// Linux's `THREAD_SIZE` on x86_64 without KASAN: the kernel stack of a task.
pub const THREAD_SIZE: u64 = 16 * 1024;

/// Linux's `MIN_THREADS` (`kernel/fork.c`): the smallest `threads-max`.
pub const MIN_THREADS: u32 = 20;

/// Linux's `MAX_THREADS` (`FUTEX_TID_MASK`): the largest `threads-max`, since a tid must
/// fit the futex word's tid field.
pub const MAX_THREADS: u32 = linux_raw_sys::general::FUTEX_TID_MASK;

/// Linux's default `/proc/sys/fs/nr_open` (1 Mi): the largest hard `RLIMIT_NOFILE`.
pub const NR_OPEN_DEFAULT: u64 = 1024 * 1024;

/// `threads-max` for a machine with `memory` bytes of RAM (Linux's `set_max_threads`):
/// the number of kernel stacks that fill an eighth of it, within
/// [`MIN_THREADS`]..=[`MAX_THREADS`].
pub fn threads_max_for_memory(memory: u64) -> u32 {
    let threads = memory / (THREAD_SIZE * 8);
    u32::try_from(threads)
        .unwrap_or(MAX_THREADS)
        .clamp(MIN_THREADS, MAX_THREADS)
}

/// The system-wide limits (Linux's sysctls of the same names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// `kernel.pid_max`: pids (and tids) are below it.
    pub pid_max: Pid,
    /// `kernel.threads-max`: the most tasks (threads, zombies included) at once.
    pub threads_max: u32,
    /// `fs.nr_open`: the largest hard `RLIMIT_NOFILE` anyone may set.
    pub nr_open: u64,
}

impl Config {
    /// Linux's defaults for a machine with `memory` bytes of RAM.
    pub fn for_memory(memory: u64) -> Self {
        Self {
            pid_max: PID_MAX_DEFAULT,
            threads_max: threads_max_for_memory(memory),
            nr_open: NR_OPEN_DEFAULT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_max_is_an_eighth_of_memory_in_stacks() {
        // 24 GiB: 24 Gi / 128 Ki = 196608.
        assert_eq!(threads_max_for_memory(24 << 30), 196_608);
        assert_eq!(threads_max_for_memory(0), MIN_THREADS);
        assert_eq!(threads_max_for_memory(u64::MAX), MAX_THREADS);
    }
}
