//! Input processing: bytes from the device through the discipline (Linux
//! `n_tty_receive_buf`).
//!
//! Each byte goes through, in Linux's order: VLNEXT (the byte after it is taken
//! literally), ISTRIP, IUCLC (with IEXTEN); then, if it is special under the current
//! termios, flow control (IXON: VSTOP/VSTART), signals (ISIG: VINTR, VQUIT, VSUSP),
//! IXANY, the CR/NL maps (IGNCR, ICRNL, INLCR), canonical editing (VERASE, VKILL,
//! VWERASE, VLNEXT, VREPRINT, newline, VEOF, VEOL, VEOL2); whatever is left is queued and
//! echoed. A `c_cc` value of 0 disables its function, and a NUL byte is never special.
//!
//! **A full queue.** The queue holds [`N_TTY_BUF_SIZE`] bytes. Linux takes input only
//! while there is room for one more byte beyond it; when there is not, it stops taking
//! input and leaves the rest in the driver's buffer until a read makes room (that is how
//! "input typed faster than the shell reads is not lost" holds, while the throttle tells
//! the sender to pause). The one exception is canonical mode with no completed line: the
//! whole queue is one unfinished line, which no read can shorten, so Linux keeps taking
//! bytes, each new one replacing the last queued one; erase characters still work and a
//! newline can always end the line. [`Tty::receive`] does the same and reports how many
//! bytes it took; the caller keeps the rest and offers them again after a read.
//!
//! **Throttling** (serial lines): when completed input leaves fewer than 128 free bytes,
//! the line is throttled (under IXOFF a VSTOP byte is queued ahead of the output) and a
//! read that brings the readable input down to 128 bytes or fewer releases it (VSTART).
//!
//! Runs wherever the driver feeds input. The input queue's 4 KiB are reserved up front; the
//! echo and output queues allocate while they grow towards their bounds, so a driver that
//! calls this from interrupt context must allow that, or call it from a thread or softirq
//! the interrupt feeds.

use crate::ctype;
use crate::output::Echo;
use crate::queue::N_TTY_BUF_SIZE;
use crate::signals::Signals;
use crate::termios::Line;
use crate::tty::Tty;
use linux_raw_sys::general as g;

/// Free input bytes below which the line is throttled (Linux `TTY_THRESHOLD_THROTTLE`).
const THROTTLE_ROOM: usize = 128;

/// Readable bytes at or below which a throttled line is released (Linux
/// `TTY_THRESHOLD_UNTHROTTLE`).
pub(crate) const UNTHROTTLE_LEVEL: usize = 128;

/// A change of the output flow caused by input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// VSTOP under IXON stopped output.
    Stopped,
    /// VSTART, IXANY or a signal character restarted it.
    Started,
}

/// What [`Tty::receive`] did with a burst of input.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Received {
    /// How many input bytes were taken. The rest did not fit in the input queue: the
    /// caller keeps them and offers them again after a read makes room.
    pub consumed: usize,
    /// Signals for the foreground process group (ISIG). Unless NOFLSH, each also flushed
    /// the input queue and the output queue (echo included) before echoing itself.
    pub signals: Signals,
    /// The last change to the output flow, if any; the driver restarts transmission when
    /// [`Tty::has_output`] says so.
    pub flow: Option<Flow>,
}

impl Tty {
    /// Processes bytes received from the device. Echoes land in the output queue.
    pub fn receive(&mut self, input: &[u8]) -> Received {
        let received = self.receive_bytes(input);
        if self.lflag(g::ECHO | g::ECHONL) {
            self.process_echoes();
        }
        received
    }

    fn receive_bytes(&mut self, input: &[u8]) -> Received {
        let mut received = Received::default();
        if self.line == Line::Serial && self.termios.c_cflag & g::CREAD == 0 {
            received.consumed = input.len();
            return received;
        }
        for &c in input {
            if !self.make_room() {
                break;
            }
            self.receive_byte(c, &mut received);
            received.consumed += 1;
        }
        self.check_throttle();
        received
    }

    /// Whether [`Tty::receive`] would take a byte now (the room check below, without
    /// its side effect). A driver holding input back waits for this after a refusal.
    pub fn can_receive(&self) -> bool {
        if self.line == Line::Serial && self.termios.c_cflag & g::CREAD == 0 {
            return true;
        }
        let free = N_TTY_BUF_SIZE.saturating_sub(self.input.len());
        let slots = if self.iflag(g::PARMRK) {
            free.div_ceil(3)
        } else {
            free
        };
        slots > 1 || (self.canonical() && self.input.no_completed_line())
    }

    /// Linux `n_tty_receive_buf_common`'s room check: room for one byte beyond the next
    /// (three per byte under PARMRK, which may triple a byte), or the overflowing
    /// canonical line, which drops its last byte to take the next one.
    fn make_room(&mut self) -> bool {
        let free = N_TTY_BUF_SIZE.saturating_sub(self.input.len());
        let slots = if self.iflag(g::PARMRK) {
            free.div_ceil(3)
        } else {
            free
        };
        if slots > 1 {
            return true;
        }
        let overflow = self.canonical() && self.input.no_completed_line();
        if overflow && slots == 0 {
            self.input.pop();
        }
        overflow
    }

    fn check_throttle(&mut self) {
        if self.line == Line::Pty || self.throttled {
            return;
        }
        if self.canonical() && self.input.no_completed_line() {
            return;
        }
        if N_TTY_BUF_SIZE.saturating_sub(self.input.len()) < THROTTLE_ROOM {
            self.throttled = true;
            if self.iflag(g::IXOFF) {
                self.output.x_char = Some(self.cc(g::VSTOP));
            }
        }
    }

    /// ISTRIP, then IUCLC (which needs IEXTEN in Linux).
    fn strip_and_fold(&self, c: u8) -> u8 {
        let c = if self.iflag(g::ISTRIP) { c & 0x7f } else { c };
        if self.iflag(g::IUCLC) && self.lflag(g::IEXTEN) {
            ctype::to_lower(c)
        } else {
            c
        }
    }

    fn receive_byte(&mut self, c: u8, received: &mut Received) {
        if self.lnext {
            self.lnext = false;
            let c = self.strip_and_fold(c);
            self.receive_ordinary(c, received);
            return;
        }
        let c = self.strip_and_fold(c);
        if self.is_special(c) {
            self.receive_special(c, received);
        } else {
            self.receive_ordinary(c, received);
        }
    }

    /// Linux's `char_map`: whether `c` may have a function under the current termios.
    fn is_special(&self, c: u8) -> bool {
        if c == 0 {
            return false;
        }
        let is = |index| self.cc(index) == c;
        let canonical = self.canonical();
        let iexten = self.lflag(g::IEXTEN);
        (c == b'\r' && self.iflag(g::IGNCR | g::ICRNL))
            || (c == b'\n' && self.iflag(g::INLCR))
            || (canonical
                && (is(g::VERASE) || is(g::VKILL) || is(g::VEOF) || c == b'\n' || is(g::VEOL)))
            || (canonical
                && iexten
                && (is(g::VWERASE)
                    || is(g::VLNEXT)
                    || is(g::VEOL2)
                    || (self.lflag(g::ECHO) && is(g::VREPRINT))))
            || (self.iflag(g::IXON) && (is(g::VSTART) || is(g::VSTOP)))
            || (self.lflag(g::ISIG) && (is(g::VINTR) || is(g::VQUIT) || is(g::VSUSP)))
    }

    /// IXANY: any input restarts output stopped by VSTOP.
    fn restart_on_any(&mut self, received: &mut Received) {
        if self.iflag(g::IXON) && self.iflag(g::IXANY) && self.start_output() {
            received.flow = Some(Flow::Started);
        }
    }

    /// Queues a byte, doubled if it is 0xFF under PARMRK (so it cannot be mistaken for
    /// the start of a parity mark).
    fn queue_byte(&mut self, c: u8) {
        if c == 0xff && self.iflag(g::PARMRK) {
            self.input.push(c);
        }
        self.input.push(c);
    }

    /// Echoes a byte that starts or continues the current line.
    fn echo_typed(&mut self, c: u8) {
        self.finish_erasing();
        if self.input.at_line_start() {
            self.output.echo(Echo::LineStart);
        }
        self.echo_char(c);
    }

    /// Linux `n_tty_receive_char`: a byte with no function of its own.
    fn receive_ordinary(&mut self, c: u8, received: &mut Received) {
        self.restart_on_any(received);
        if self.lflag(g::ECHO) {
            self.echo_typed(c);
        }
        self.queue_byte(c);
    }

    /// Linux `n_tty_receive_char_special`.
    fn receive_special(&mut self, c: u8, received: &mut Received) {
        if self.iflag(g::IXON) && (c == self.cc(g::VSTART) || c == self.cc(g::VSTOP)) {
            if c == self.cc(g::VSTART) {
                if self.start_output() {
                    received.flow = Some(Flow::Started);
                }
            } else if self.output.stop() {
                received.flow = Some(Flow::Stopped);
            }
            return;
        }
        if self.lflag(g::ISIG) {
            for (index, sig) in [
                (g::VINTR, g::SIGINT),
                (g::VQUIT, g::SIGQUIT),
                (g::VSUSP, g::SIGTSTP),
            ] {
                if c == self.cc(index) {
                    self.receive_signal(c, sig, received);
                    return;
                }
            }
        }
        self.restart_on_any(received);
        let c = match c {
            b'\r' if self.iflag(g::IGNCR) => return,
            b'\r' if self.iflag(g::ICRNL) => b'\n',
            b'\n' if self.iflag(g::INLCR) => b'\r',
            _ => c,
        };
        if self.canonical() && self.receive_canonical(c) {
            return;
        }
        if self.lflag(g::ECHO) {
            if c == b'\n' {
                self.finish_erasing();
                self.echo_raw(b'\n');
            } else {
                self.echo_typed(c);
            }
        }
        self.queue_byte(c);
    }

    /// Linux `n_tty_receive_signal_char` and `isig`.
    fn receive_signal(&mut self, c: u8, sig: u32, received: &mut Received) {
        received.signals.add(sig);
        if !self.lflag(g::NOFLSH) {
            self.output.clear();
            self.flush_input();
        }
        if self.iflag(g::IXON) && self.start_output() {
            received.flow = Some(Flow::Started);
        }
        if self.lflag(g::ECHO) {
            self.echo_char(c);
        }
    }

    /// Linux `n_tty_receive_char_canon`: returns whether `c` was a canonical-mode function.
    fn receive_canonical(&mut self, c: u8) -> bool {
        let iexten = self.lflag(g::IEXTEN);
        let echo = self.lflag(g::ECHO);
        if c == self.cc(g::VERASE) || c == self.cc(g::VKILL) || (iexten && c == self.cc(g::VWERASE))
        {
            self.erase(c);
        } else if iexten && c == self.cc(g::VLNEXT) {
            self.lnext = true;
            if echo {
                self.finish_erasing();
                if self.lflag(g::ECHOCTL) {
                    self.echo_raw(b'^');
                    self.echo_raw(0x08);
                }
            }
        } else if iexten && echo && c == self.cc(g::VREPRINT) {
            self.finish_erasing();
            self.echo_char(c);
            self.echo_raw(b'\n');
            for index in self.input.edit_start()..self.input.len() {
                if let Some(b) = self.input.byte(index) {
                    self.echo_char(b);
                }
            }
        } else if c == b'\n' {
            if echo || self.lflag(g::ECHONL) {
                self.echo_raw(b'\n');
            }
            self.input.push_line_end(c);
        } else if c == self.cc(g::VEOF) {
            self.input.push_line_end(0);
        } else if c == self.cc(g::VEOL) || (iexten && c == self.cc(g::VEOL2)) {
            if echo {
                if self.input.at_line_start() {
                    self.output.echo(Echo::LineStart);
                }
                self.echo_char(c);
            }
            if c == 0xff && self.iflag(g::PARMRK) {
                self.input.push(c);
            }
            self.input.push_line_end(c);
        } else {
            return false;
        }
        true
    }

    /// Linux `echo_char`: control characters as `^X` under ECHOCTL (tab excepted), 0xFF
    /// as is, everything else through output processing.
    pub(crate) fn echo_char(&mut self, c: u8) {
        if c != 0xff && self.lflag(g::ECHOCTL) && ctype::is_cntrl(c) && c != b'\t' {
            self.output.echo(Echo::Caret(c));
        } else {
            self.echo_raw(c);
        }
    }

    /// Linux `echo_char_raw`: through output processing (if OPOST), 0xFF as is.
    pub(crate) fn echo_raw(&mut self, c: u8) {
        self.output
            .echo(if c == 0xff { Echo::Ff } else { Echo::Byte(c) });
    }

    /// Ends an ECHOPRT erase sequence with `/`.
    pub(crate) fn finish_erasing(&mut self) {
        if self.erasing {
            self.echo_raw(b'/');
            self.erasing = false;
        }
    }
}
