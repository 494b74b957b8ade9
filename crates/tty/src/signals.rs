//! A set of signals for the terminal's foreground process group.
//!
//! The discipline never sends signals itself (it knows no processes); it reports which
//! ones its input generated (VINTR, VQUIT, VSUSP under ISIG) or which a window-size change
//! generated (SIGWINCH), and the kernel delivers them. A set, not a list: these are
//! standard signals, which Linux keeps pending at most once and delivers lowest number
//! first, so two `^C` in one burst of input are one SIGINT either way.

use core::fmt;

/// Signal numbers (`linux_raw_sys::general::SIG*`, 1..=64) to send to the foreground
/// process group of the terminal.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals(u64);

impl Signals {
    /// No signal.
    pub const NONE: Signals = Signals(0);

    /// Adds `sig`; numbers outside 1..=64 are ignored (the discipline only adds constants).
    pub(crate) fn add(&mut self, sig: u32) {
        if let Some(bit) = sig.checked_sub(1).and_then(|b| 1u64.checked_shl(b)) {
            self.0 |= bit;
        }
    }

    /// Whether `sig` is in the set.
    pub fn contains(self, sig: u32) -> bool {
        let mut one = Signals::NONE;
        one.add(sig);
        one.0 != 0 && self.0 & one.0 == one.0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The signal numbers, lowest first (Linux's delivery order for standard signals).
    pub fn iter(self) -> impl Iterator<Item = u32> {
        (1..=64u32).filter(move |&s| self.contains(s))
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linux_raw_sys::general::{SIGINT, SIGTSTP, SIGWINCH};

    #[test]
    fn set_holds_each_signal_once_and_lists_lowest_first() {
        let mut s = Signals::NONE;
        assert!(s.is_empty());
        s.add(SIGTSTP);
        s.add(SIGINT);
        s.add(SIGINT);
        s.add(0);
        s.add(65);
        assert!(s.contains(SIGINT) && s.contains(SIGTSTP) && !s.contains(SIGWINCH));
        assert!(!s.contains(0) && !s.contains(65));
        assert_eq!(s.iter().collect::<alloc::vec::Vec<_>>(), [SIGINT, SIGTSTP]);
    }
}
