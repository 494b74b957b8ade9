//! `netsvc`: the four TCP services Halyard's kernel offers (echo 7, discard 9, source 19,
//! HTTP/1.1 80), as an ordinary static Linux program.
//!
//! It exists for the benchmark (docs/bench.md): the Linux guest that Halyard is compared
//! with runs this program, so both systems answer the same clients with the same protocol
//! behaviour on the same ports. Kept deliberately plain (blocking sockets, one thread per
//! connection) because the thing measured is the kernel's network path, not a clever server.
//!
//! HTTP requests are framed by the `halyard-http` crate, which the kernel's web service
//! shares; the responses are in [`http`]; the socket loops live in [`services`]; [`config`]
//! reads the command line.

pub mod config;
pub mod http;
pub mod services;
