//! Running the kernel in QEMU: the command line, the process, and the serial session.
//!
//! Split in three because they change for different reasons: the command line follows the
//! console contract and grows devices with later issues; the process module owns the one
//! thing that must never go wrong (no QEMU left behind, even on Ctrl-C); the session is the
//! expect/send engine the tests are written in.

pub mod cmdline;
pub mod process;
pub mod session;
