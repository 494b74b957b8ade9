//! Canonical-mode erasing: VERASE, VWERASE and VKILL (Linux `eraser`).
//!
//! What is erased: VERASE one character, VKILL the whole line being edited, VWERASE (with
//! IEXTEN) back over non-word characters and then over one word, where word characters
//! are the kernel's `isalnum` and `_` (BSD's ALTWERASE). Under IUTF8 a "character" is a
//! UTF-8 sequence: a lead byte and its continuation bytes go together, and a run of
//! continuation bytes with no lead byte before it in the line is left alone rather than
//! erased in part.
//!
//! What is echoed (with ECHO): under ECHOPRT the erased characters between `\` and `/`;
//! VERASE without ECHOE the erase character itself; a tab as enough backspaces to return
//! to where it started (the columns used since the previous tab, or since the line's start
//! column); otherwise `\b \b` per character (twice for a control character shown as `^X`
//! under ECHOCTL, none for one not shown). VKILL erases character by character only when
//! ECHOK, ECHOKE and ECHOE are all set; otherwise the kill character is echoed, followed by
//! a newline under ECHOK.

use crate::ctype;
use crate::output::Echo;
use crate::tty::Tty;
use linux_raw_sys::general as g;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Erase,
    Werase,
    Kill,
}

impl Tty {
    fn continuation(&self, c: u8) -> bool {
        self.iflag(g::IUTF8) && c & 0xc0 == 0x80
    }

    /// Applies the erase function `c` (VERASE, VWERASE or VKILL) to the line being edited.
    pub(crate) fn erase(&mut self, c: u8) {
        if self.input.at_line_start() {
            return;
        }
        let echo = self.lflag(g::ECHO);
        let kind = if c == self.cc(g::VERASE) {
            Kind::Erase
        } else if c == self.cc(g::VWERASE) {
            Kind::Werase
        } else {
            let start = self.input.edit_start();
            if !echo {
                self.input.truncate(start);
                return;
            }
            if !(self.lflag(g::ECHOK) && self.lflag(g::ECHOKE) && self.lflag(g::ECHOE)) {
                self.input.truncate(start);
                self.finish_erasing();
                self.echo_char(self.cc(g::VKILL));
                if self.lflag(g::ECHOK) {
                    self.echo_raw(b'\n');
                }
                return;
            }
            Kind::Kill
        };

        let start = self.input.edit_start();
        let mut seen_alnum = false;
        while self.input.len() > start {
            // Back up over one (possibly multi-byte) character.
            let end = self.input.len();
            let mut at = end - 1;
            let mut lead = self.input.byte(at).unwrap_or(0);
            while self.continuation(lead) && at > start {
                at -= 1;
                lead = self.input.byte(at).unwrap_or(0);
            }
            if self.continuation(lead) {
                break;
            }
            if kind == Kind::Werase {
                if ctype::is_alnum(lead) || lead == b'_' {
                    seen_alnum = true;
                } else if seen_alnum {
                    break;
                }
            }
            if echo {
                self.echo_erased(kind, lead, at, end, start);
            }
            self.input.truncate(at);
            if kind == Kind::Erase {
                break;
            }
        }
        if echo && self.input.at_line_start() {
            self.finish_erasing();
        }
    }

    /// Echoes the erasure of the character at `at..end` (lead byte `lead`) in a line that
    /// starts at `start`.
    fn echo_erased(&mut self, kind: Kind, lead: u8, at: usize, end: usize, start: usize) {
        if self.lflag(g::ECHOPRT) {
            if !self.erasing {
                self.echo_raw(b'\\');
                self.erasing = true;
            }
            self.echo_char(lead);
            for index in at + 1..end {
                if let Some(b) = self.input.byte(index) {
                    self.echo_raw(b);
                }
                self.output.echo(Echo::ColumnBack);
            }
        } else if kind == Kind::Erase && !self.lflag(g::ECHOE) {
            self.echo_char(self.cc(g::VERASE));
        } else if lead == b'\t' {
            let echoctl = self.lflag(g::ECHOCTL);
            let mut width: u32 = 0;
            let mut after_tab = false;
            for index in (start..at).rev() {
                let b = self.input.byte(index).unwrap_or(0);
                if b == b'\t' {
                    after_tab = true;
                    break;
                } else if ctype::is_cntrl(b) {
                    if echoctl {
                        width = width.wrapping_add(2);
                    }
                } else if !self.continuation(b) {
                    width = width.wrapping_add(1);
                }
            }
            self.output.echo(Echo::EraseTab { width, after_tab });
        } else {
            let control = ctype::is_cntrl(lead);
            let echoctl = self.lflag(g::ECHOCTL);
            let times = match (control, echoctl) {
                (true, true) => 2,
                (true, false) => 0,
                (false, _) => 1,
            };
            for _ in 0..times {
                for b in *b"\x08 \x08" {
                    self.echo_raw(b);
                }
            }
        }
    }
}
