//! Terminals: the serial console and pseudo-terminals, both [`terminal::Terminal`]s.
//!
//! The line discipline itself is the host-tested `halyard-tty` crate; [`terminal`] wires
//! it to wait queues, timers and processes (the foreground process group that receives
//! ^C/^Z/^\, the session whose controlling terminal it is, hang-up); [`console`] puts the
//! UART under one terminal, [`pty`] a PTY master under each slave.
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

pub mod console;
pub mod pty;
pub mod terminal;

use terminal::Terminal;

/// The controlling terminal of session `sid` (the terminal whose session it is), if any.
pub fn of_session(sid: u32) -> Option<Arc<Terminal>> {
    if sid == 0 {
        return None;
    }
    let owns = |t: &Terminal| t.session.load(Ordering::Relaxed) == sid as i32;
    console::try_get()
        .filter(|c| owns(c))
        .or_else(|| pty::all().into_iter().map(|p| p.term).find(|t| owns(t)))
}

/// The calling process's controlling terminal.
pub fn controlling() -> Option<Arc<Terminal>> {
    of_session(crate::process::current_session())
}

/// `/proc/PID/stat`'s `tty_nr` and `tpgid` for session `sid`: the terminal's device
/// number in Linux's `new_encode_dev` form and its foreground group, or `(0, -1)`.
pub fn stat_fields(sid: u32) -> (u64, i32) {
    match of_session(sid) {
        // `encode_dev` is `new_encode_dev` already.
        Some(t) => (t.rdev(), t.foreground.load(Ordering::Relaxed)),
        None => (0, -1),
    }
}
