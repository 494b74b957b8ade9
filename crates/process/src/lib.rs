//! The bookkeeping of Linux processes as pure logic, with Linux's rules and errnos:
//! pids and thread groups, the parent/child tree with zombies, reparenting and reaping,
//! process groups and sessions with orphaned-group hang-ups, `wait4`/`waitid` selection,
//! resource limits with the per-user and system-wide task limits, and credentials.
//!
//! The kernel keeps one [`Table`] and calls it with the syscall arguments; the table
//! answers with values, errnos, and [`Action`]s the kernel carries out (signals to
//! send, waiters to wake). It holds no tasks, stacks or address spaces, no locks and no
//! clock, so all of it is tested on the host: unit tests per rule, property tests
//! against simple models, and the host Linux as the oracle (real `fork`, `setpgid`,
//! `setsid`, `wait4`, `waitid`, `prlimit64`, `setresuid` in forked children).
//!
//! ```
//! use process::{Action, CloneKind, Config, Credentials, Status, Table, WaitOutcome, WaitRequest};
//! use process::ChildEvent;
//!
//! let mut table = Table::new(Config::for_memory(1 << 30), Credentials::root());
//! let shell = table.clone_task(1, CloneKind::Process { exit_signal: 17 }).unwrap();
//! assert_eq!(shell, 2);
//! assert_eq!(table.setsid(shell), Ok(shell));
//! let job = table.clone_task(shell, CloneKind::Process { exit_signal: 17 }).unwrap();
//! table.setpgid(shell, job as i32, 0).unwrap();
//! let exit = table.exit(job, Status::Exited(3), true).unwrap();
//! assert!(exit.actions.contains(&Action::WakeWaiters { pid: shell }));
//! let mut request = WaitRequest::wait4(-1, 0).unwrap();
//! let outcome = table.wait(shell, &mut request).unwrap();
//! assert_eq!(
//!     outcome,
//!     WaitOutcome::Reported { pid: job, uid: 0, event: ChildEvent::Exited(3), reaped: true }
//! );
//! assert!(!table.is_process(job));
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod config;
mod creds;
mod errno;
mod groups;
mod pid;
mod rlimit;
mod table;
mod wait;

pub use config::{
    threads_max_for_memory, Config, MAX_THREADS, MIN_THREADS, NR_OPEN_DEFAULT, THREAD_SIZE,
};
pub use creds::{Credentials, Id};
pub use errno::Errno;
pub use pid::{Pid, INIT_PID, PID_MAX_DEFAULT, PID_MAX_LIMIT, RESERVED_PIDS};
pub use rlimit::{Rlimit, Rlimits, RLIM_INFINITY};
pub use table::{Action, CloneKind, Exec, Exit, Status, Table};
pub use wait::{ChildEvent, WaitOutcome, WaitRequest, WaitTarget};
