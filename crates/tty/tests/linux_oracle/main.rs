//! Linux as the oracle: the same termios and the same keystrokes on a real Linux
//! pseudo-terminal and on the crate (as a PTY line), compared byte for byte: what the
//! device end gets back (echo and program output), what a reader of the slave gets (each
//! read's bytes, 0 for end of file, EAGAIN), FIONREAD after every byte, the termios after
//! every TCSETS*, TCFLSH's errno and the window size. The cases cover canonical editing
//! (erase, kill, werase with every echo flag, UTF-8, tabs), VEOF at line start and
//! mid-line, ECHOCTL, signals and their flush, flow control, the CR/NL maps, output
//! post-processing, raw mode and VMIN/VTIME, mode switches with pending input, a full
//! input queue, TCSETSF, TCFLSH and TIOCSWINSZ.
//!
//! A host without /dev/ptmx fails this test with a message saying so: it is the main
//! evidence that the discipline behaves as Linux does, so it is never skipped.

mod cases;
mod harness;
mod pty;
mod random;

use halyard_tty::{Line, Tty};
use proptest::prelude::*;

/// A fresh Linux PTY slave has `tty_std_termios` without HUPCL and a 0x0 window: the
/// crate's defaults for a PTY line must be exactly that.
#[test]
fn defaults_match_a_fresh_linux_pty() {
    let pty = pty::Pty::open().unwrap_or_else(|e| panic!("{e}"));
    let tty = Tty::new(Line::Pty);
    let linux = pty.termios().expect("TCGETS");
    assert_eq!(format!("{:?}", tty.termios()), format!("{linux:?}"));
    let linux = pty.winsize().expect("TIOCGWINSZ");
    assert_eq!(format!("{:?}", tty.winsize()), format!("{linux:?}"));
}

#[test]
fn sessions_match_linux() {
    let cases = cases::all();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| harness::run(case).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Linux:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random termios and random sessions agree with Linux too.
    #[test]
    fn random_sessions_match_linux(session in random::session()) {
        if let Err(report) = random::run(session) {
            prop_assert!(false, "{}", report);
        }
    }
}
