//! The output side: post-processing (OPOST) and the queue of bytes for the device.
//!
//! Two stages, as in Linux. Echoes of typed input are first recorded as operations in an
//! echo buffer ([`Echo`]); they are rendered (post-processed, the column updated) into the
//! device queue when the discipline processes its echoes: at the end of each
//! [`crate::Tty::receive`], before a program's write, and when stopped output restarts.
//! A program's writes are rendered into the device queue at once. The device queue is
//! the driver's transmit buffer. The difference is visible, and Linux is followed in each
//! case: an ISIG flush empties both buffers, so echoes of bytes received in the same call
//! before the signal character never reach the device and never move the column; a
//! stopped PTY has no room, so its echoes wait as operations, and `TCOFLUSH` (which
//! flushes the driver's buffer only) leaves them to appear on VSTART; a UART still takes
//! echoes while stopped, so there `TCOFLUSH` discards them. (Linux also renders echoes
//! every 256 operation bytes within one burst of input; this queue does not, so an ISIG
//! flush discards every echo of the same `receive` call before it.)
//!
//! Programs may fill the device queue to [`OUTPUT_ROOM`] bytes (then `write` takes no
//! more and the writer waits); echoes may go on to [`ECHO_LIMIT`] so that typing is still
//! echoed next to a full queue. Beyond that echoes wait as operations, and beyond
//! [`ECHO_OPS`] pending operations new echoes are dropped (Linux's echo buffer likewise
//! discards entries when it overruns).
//!
//! Post-processing follows Linux's `do_output_char`: ONLCR turns `\n` into `\r\n`, OCRNL
//! `\r` into `\n`, ONOCR drops a `\r` in column 0, ONLRET makes `\n` return the column to
//! 0, OLCUC folds to upper case, and tab expansion is done when `TABDLY == XTABS`
//! (`TAB3`), 8 columns per stop. The other delay fields (NLDLY, CRDLY, BSDLY, VTDLY,
//! FFDLY) and OFILL are ignored, as Linux ignores them. The column (for tab stops and
//! for erasing a tab) counts printable bytes, not UTF-8 continuation bytes under IUTF8.
//!
//! A VSTOP under IXON stops transmission: [`crate::Tty::pop_output`] hands out nothing
//! until VSTART, except the one pending flow-control byte (IXOFF), which goes ahead of the
//! queue as a UART sends its `x_char`.

use crate::ctype;
use crate::termios::Termios;
use alloc::collections::VecDeque;
use linux_raw_sys::general as g;

/// Bytes a program's writes may queue for the device (Linux's UART transmit buffer is one
/// 4 KiB page).
pub const OUTPUT_ROOM: usize = 4096;

/// Bytes the device queue may hold including echoes.
pub const ECHO_LIMIT: usize = 2 * OUTPUT_ROOM;

/// Echo operations that may wait to be rendered (Linux's echo buffer is 4 KiB).
pub const ECHO_OPS: usize = 4096;

/// An echo operation (Linux's echo buffer entries).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Echo {
    /// A byte through output processing (if OPOST).
    Byte(u8),
    /// A control character shown as `^X`.
    Caret(u8),
    /// A literal 0xFF, unprocessed (Linux's escaped `ECHO_OP_START`).
    Ff,
    /// Record the column as the input line's start (`ECHO_OP_SET_CANON_COL`).
    LineStart,
    /// One column back (`ECHO_OP_MOVE_BACK_COL`, ECHOPRT of multi-byte characters).
    ColumnBack,
    /// Backspaces over an erased tab (`ECHO_OP_ERASE_TAB`): `width` is the number of
    /// columns the characters since the previous tab use, or since the line's start, in
    /// which case the line's start column is added.
    EraseTab { width: u32, after_tab: bool },
}

#[derive(Clone, Debug)]
pub(crate) struct Output {
    /// Echoes not yet rendered.
    echo: VecDeque<Echo>,
    /// The device's transmit queue.
    queue: VecDeque<u8>,
    /// A flow-control byte to send before the queue (IXOFF).
    pub(crate) x_char: Option<u8>,
    /// Linux `column`: where the cursor is, as far as output processing knows.
    column: u32,
    /// Linux `canon_column`: the column where the current input line started.
    canon_column: u32,
    /// Output stopped by VSTOP (IXON).
    stopped: bool,
}

impl Output {
    pub(crate) fn new() -> Output {
        Output {
            echo: VecDeque::new(),
            queue: VecDeque::new(),
            x_char: None,
            column: 0,
            canon_column: 0,
            stopped: false,
        }
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Stops transmission (VSTOP). Returns whether it was running.
    pub(crate) fn stop(&mut self) -> bool {
        !core::mem::replace(&mut self.stopped, true)
    }

    /// Restarts transmission (Linux `start_tty`). Returns whether it was stopped.
    pub(crate) fn start(&mut self) -> bool {
        core::mem::replace(&mut self.stopped, false)
    }

    /// Records an echo operation (dropped if [`ECHO_OPS`] are already waiting).
    pub(crate) fn echo(&mut self, op: Echo) {
        if self.echo.len() < ECHO_OPS {
            self.echo.push_back(op);
        }
    }

    /// Renders waiting echoes into the device queue (Linux `process_echoes`), as far as
    /// they fit; `no_room` (a stopped PTY) renders none.
    pub(crate) fn process_echoes(&mut self, t: &Termios, no_room: bool) {
        if no_room {
            return;
        }
        while let Some(&op) = self.echo.front() {
            let rendered = match op {
                Echo::Byte(c) if t.c_oflag & g::OPOST != 0 => self.put_processed(c, t, ECHO_LIMIT),
                Echo::Byte(c) => self.put_raw(c, ECHO_LIMIT),
                Echo::Caret(c) => self.put_caret(c),
                Echo::Ff => self.put_ff(),
                Echo::LineStart => {
                    self.canon_column = self.column;
                    true
                }
                Echo::ColumnBack => {
                    self.column = self.column.saturating_sub(1);
                    true
                }
                Echo::EraseTab { width, after_tab } => self.put_tab_erase(width, after_tab),
            };
            if !rendered {
                break;
            }
            self.echo.pop_front();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Discards waiting echoes and the device queue (ISIG), but not a pending
    /// flow-control byte nor the column.
    pub(crate) fn clear(&mut self) {
        self.echo.clear();
        self.queue.clear();
    }

    /// `TCOFLUSH`: discards the device queue only.
    pub(crate) fn flush_device(&mut self) {
        self.queue.clear();
    }

    /// Moves transmittable bytes into `buf`; returns how many.
    pub(crate) fn pop(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        for dst in buf.iter_mut() {
            let next = match self.x_char.take() {
                Some(x) => Some(x),
                None if self.stopped => None,
                None => self.queue.pop_front(),
            };
            let Some(byte) = next else {
                break;
            };
            *dst = byte;
            n += 1;
        }
        n
    }

    fn room(&self, limit: usize) -> usize {
        limit.saturating_sub(self.queue.len())
    }

    fn put(&mut self, bytes: &[u8]) {
        self.queue.extend(bytes);
    }

    /// Queues `c` unprocessed if there is room below `limit`.
    pub(crate) fn put_raw(&mut self, c: u8, limit: usize) -> bool {
        let fits = self.room(limit) >= 1;
        if fits {
            self.put(&[c]);
        }
        fits
    }

    /// Linux `do_output_char`: queues `c` with OPOST processing if the result fits below
    /// `limit`; returns false (and changes nothing) if it does not.
    pub(crate) fn put_processed(&mut self, c: u8, t: &Termios, limit: usize) -> bool {
        let oflag = |f: u32| t.c_oflag & f != 0;
        let room = self.room(limit);
        if room == 0 {
            return false;
        }
        let mut c = c;
        match c {
            b'\n' => {
                if oflag(g::ONLRET) {
                    self.column = 0;
                }
                if oflag(g::ONLCR) {
                    if room < 2 {
                        return false;
                    }
                    self.column = 0;
                    self.canon_column = 0;
                    self.put(b"\r\n");
                    return true;
                }
                self.canon_column = self.column;
            }
            b'\r' => {
                if oflag(g::ONOCR) && self.column == 0 {
                    return true;
                }
                if oflag(g::OCRNL) {
                    c = b'\n';
                    if oflag(g::ONLRET) {
                        self.column = 0;
                        self.canon_column = 0;
                    }
                } else {
                    self.column = 0;
                    self.canon_column = 0;
                }
            }
            b'\t' => {
                let spaces = 8 - (self.column & 7);
                if t.c_oflag & g::TABDLY == g::XTABS {
                    let spaces = spaces as usize;
                    if room < spaces {
                        return false;
                    }
                    self.column = self.column.wrapping_add(spaces as u32);
                    self.put(&b"        "[..spaces]);
                    return true;
                }
                self.column = self.column.wrapping_add(spaces);
            }
            0x08 => self.column = self.column.saturating_sub(1),
            _ if !ctype::is_cntrl(c) => {
                if oflag(g::OLCUC) {
                    c = ctype::to_upper(c);
                }
                let continuation = t.c_iflag & g::IUTF8 != 0 && c & 0xc0 == 0x80;
                if !continuation {
                    self.column = self.column.wrapping_add(1);
                }
            }
            _ => {}
        }
        self.put(&[c]);
        true
    }

    /// `^X` for a control character.
    fn put_caret(&mut self, c: u8) -> bool {
        let fits = self.room(ECHO_LIMIT) >= 2;
        if fits {
            self.put(&[b'^', c ^ 0x40]);
            self.column = self.column.wrapping_add(2);
        }
        fits
    }

    /// A literal 0xFF, unprocessed.
    fn put_ff(&mut self) -> bool {
        let fits = self.put_raw(0xff, ECHO_LIMIT);
        if fits {
            self.column = self.column.wrapping_add(1);
        }
        fits
    }

    /// Backspaces back to where an erased tab started.
    fn put_tab_erase(&mut self, width: u32, after_tab: bool) -> bool {
        let from = if after_tab {
            width
        } else {
            width.wrapping_add(self.canon_column)
        };
        let backspaces = 8 - (from & 7) as usize;
        let fits = self.room(ECHO_LIMIT) >= backspaces;
        if fits {
            for _ in 0..backspaces {
                self.put(&[0x08]);
                self.column = self.column.saturating_sub(1);
            }
        }
        fits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::termios::{default_termios, Line};

    fn run(oflag: u32, input: &[u8]) -> alloc::vec::Vec<u8> {
        let mut t = default_termios(Line::Serial);
        t.c_oflag = oflag;
        let mut out = Output::new();
        for &c in input {
            assert!(out.put_processed(c, &t, OUTPUT_ROOM));
        }
        let mut buf = [0; 64];
        let n = out.pop(&mut buf);
        buf[..n].to_vec()
    }

    /// termios(3): ONLCR "map NL to CR-NL on output".
    #[test]
    fn onlcr_maps_newline_to_crlf() {
        assert_eq!(run(g::OPOST | g::ONLCR, b"a\nb"), b"a\r\nb");
    }

    /// termios(3): OCRNL "map CR to NL"; ONOCR "don't output CR at column 0".
    #[test]
    fn ocrnl_and_onocr() {
        assert_eq!(run(g::OPOST | g::OCRNL, b"a\r"), b"a\n");
        assert_eq!(run(g::OPOST | g::ONOCR, b"\ra\r\r"), b"a\r");
    }

    /// termios(3): ONLRET "don't output CR": NL itself returns the column to 0, so a
    /// following CR at column 0 is dropped under ONOCR.
    #[test]
    fn onlret_resets_column() {
        assert_eq!(run(g::OPOST | g::ONLRET | g::ONOCR, b"ab\n\r"), b"ab\n");
        assert_eq!(run(g::OPOST | g::ONOCR, b"ab\n\r"), b"ab\n\r");
    }

    /// termios(3): TABDLY = XTABS (TAB3) expands tabs to spaces, stops every 8 columns.
    #[test]
    fn xtabs_expands_to_the_next_stop() {
        assert_eq!(run(g::OPOST | g::XTABS, b"ab\tc"), b"ab      c");
        assert_eq!(run(g::OPOST, b"ab\tc"), b"ab\tc");
    }

    /// termios(3): OLCUC "map lowercase characters to uppercase on output".
    #[test]
    fn olcuc_folds_to_upper_case() {
        assert_eq!(run(g::OPOST | g::OLCUC, b"aZ1\xe9"), b"AZ1\xc9");
    }

    #[test]
    fn crlf_needs_two_bytes_of_room() {
        let t = default_termios(Line::Serial);
        let mut out = Output::new();
        for _ in 0..OUTPUT_ROOM - 1 {
            assert!(out.put_processed(b'x', &t, OUTPUT_ROOM));
        }
        assert!(!out.put_processed(b'\n', &t, OUTPUT_ROOM));
        assert!(out.put_processed(b'y', &t, OUTPUT_ROOM));
        assert!(!out.put_processed(b'z', &t, OUTPUT_ROOM));
        assert_eq!(out.len(), OUTPUT_ROOM);
    }

    /// A stopped line transmits only its pending flow-control byte.
    #[test]
    fn stopped_output_sends_only_x_char() {
        let mut out = Output::new();
        out.put(b"abc");
        assert!(out.stop());
        assert!(!out.stop());
        out.x_char = Some(0x13);
        let mut buf = [0; 8];
        assert_eq!(out.pop(&mut buf), 1);
        assert_eq!(buf[0], 0x13);
        assert_eq!(out.pop(&mut buf), 0);
        assert!(out.start());
        assert_eq!(out.pop(&mut buf), 3);
    }

    /// Echo operations render at processing time: flushed before that, they never move
    /// the column (Linux clears its echo buffer on ISIG).
    #[test]
    fn unprocessed_echoes_do_not_move_the_column() {
        let t = default_termios(Line::Serial);
        let mut out = Output::new();
        out.echo(Echo::LineStart);
        out.echo(Echo::Byte(b'a'));
        out.process_echoes(&t, true);
        assert_eq!(out.len(), 0, "no room: nothing rendered");
        out.clear();
        out.echo(Echo::Caret(3));
        out.echo(Echo::LineStart);
        out.echo(Echo::EraseTab {
            width: 0,
            after_tab: false,
        });
        out.process_echoes(&t, false);
        let mut buf = [0; 16];
        let n = out.pop(&mut buf);
        assert_eq!(&buf[..n], b"^C\x08\x08\x08\x08\x08\x08");
    }
}
