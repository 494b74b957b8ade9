//! The operating-system side of `hsshd` and `hssh` (feature `std`): command lines, key and
//! host files, the `poll` loop over sockets and pipes, and process creation.
//!
//! System-call budget (see docs/ssh.md for the measured list): blocking sockets, `poll`,
//! pipes, and processes through `std::process`. No threads and no async runtime: each server
//! session is its own process (the daemon re-executes itself with the accepted socket as
//! standard input), so one session's blocking write or crash cannot stall or take down another.

pub mod cli;
pub mod client;
pub mod daemon;
pub mod files;
pub mod login;
pub mod outbox;
pub mod poll;
pub mod pty;
pub mod session;
