//! Halyard's SSH-2 implementation: the protocol core shared by `hsshd` and `hssh`.
//!
//! Why hand-written: the issue suggested the `sunset` crate, but its 0.6 server API has no way
//! to send `exit-status`, `EOF` or `CLOSE` on a channel and answers a client's EOF with its own
//! at once, so OpenSSH's `ssh host cmd` could never finish with the command's status (see
//! docs/ssh.md). The protocol is therefore written here on top of RustCrypto primitives.
//!
//! Design: everything except [`os`] is `no_std` + `alloc` and *sans-IO*. The caller feeds the
//! bytes it read from the socket into a [`server::ServerConn`] or [`client::ClientConn`], takes
//! the bytes to write from it, and reacts to events (run this command, here is channel data).
//! That keeps the protocol testable in memory (client against server, fuzzing) and leaves
//! sockets, `poll` and processes to the small [`os`] layer of the programs.
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![forbid(unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod auth;
pub mod authorized_keys;
pub mod channel;
pub mod cipher;
pub mod client;
pub mod error;
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;
pub mod kex;
pub mod keys;
pub mod known_hosts;
pub mod msg;
pub mod names;
pub mod openssh_key;
pub mod packet;
pub mod pty_req;
pub mod server;
pub mod transport;
pub mod version;
pub mod wire;

#[cfg(test)]
mod loopback_tests;

#[cfg(feature = "std")]
pub mod os;

pub use error::Error;
