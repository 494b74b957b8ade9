//! Terminals: the serial console as a TTY (PTYs come with issue 14).
//!
//! The line discipline itself is the host-tested `halyard-tty` crate; this module wires it
//! to the UART, to wait queues and timers, and to processes (the foreground process group
//! that receives ^C/^Z/^\, the session whose controlling terminal it is).
pub mod console;
