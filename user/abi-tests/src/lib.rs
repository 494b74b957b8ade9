//! The shared half of the ABI test programs (`src/bin/*.rs`, one per syscall family).
//!
//! Each program is an ordinary static Linux program, run on the host Linux and, later,
//! inside Halyard; both runs print a transcript and the two must be identical (the
//! approach of Fuchsia Starnix's tests: Linux is the oracle). A transcript has one line per
//! check, `family.check: value`, where the value never depends on the system it runs on:
//! errno names, booleans, sizes, wait statuses, never pids, addresses, times or inode
//! numbers (relations between them instead, such as `pid_is_positive: true`). When a
//! value differs from Linux's documented answer the line says `FAIL: expected …, got …`,
//! so the run on the host Linux checks the programs themselves. docs/userspace.md
//! (`## User-space test programs`) specifies the format; the xtask's `abi_tests.rs` runs
//! the programs and compares transcripts.
//!
//! The programs talk to the kernel through the `libc` crate (glibc, linked statically),
//! and through `syscall(SYS_…)` where glibc would do work of its own (the vDSO clocks, a
//! wrapper that checks arguments before the kernel does). Constants that `libc` lacks
//! come from `linux-raw-sys`.

pub mod errno;
pub mod fd;
pub mod inet;
pub mod process;
pub mod report;
pub mod signal;

pub use errno::Errno;
pub use report::Transcript;
