//! The terminal: its state and the operations that are not input or reads.

use crate::errno::Errno;
use crate::output::{Output, OUTPUT_ROOM};
use crate::queue::InputQueue;
use crate::signals::Signals;
use crate::termios::{self, FlushQueue, Line, SetTermios, Termios, Winsize};
use linux_raw_sys::general as g;

/// A terminal line discipline with its termios, window size, input queue and output
/// queue. See the crate documentation for how a kernel drives it.
#[derive(Clone, Debug)]
pub struct Tty {
    pub(crate) line: Line,
    pub(crate) termios: Termios,
    winsize: Winsize,
    pub(crate) input: InputQueue,
    pub(crate) output: Output,
    /// The previous byte was VLNEXT: take the next one literally.
    pub(crate) lnext: bool,
    /// ECHOPRT is between its `\` and `/`.
    pub(crate) erasing: bool,
    /// The input queue is nearly full and the sender was asked to pause.
    pub(crate) throttled: bool,
}

impl Tty {
    /// A terminal on `line` with Linux's default termios (see [`termios::default_termios`])
    /// and a 0×0 window.
    pub fn new(line: Line) -> Tty {
        Tty {
            line,
            termios: termios::default_termios(line),
            winsize: Winsize {
                ws_row: 0,
                ws_col: 0,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
            input: InputQueue::new(),
            output: Output::new(),
            lnext: false,
            erasing: false,
            throttled: false,
        }
    }

    pub(crate) fn iflag(&self, flag: u32) -> bool {
        self.termios.c_iflag & flag != 0
    }

    pub(crate) fn oflag(&self, flag: u32) -> bool {
        self.termios.c_oflag & flag != 0
    }

    pub(crate) fn lflag(&self, flag: u32) -> bool {
        self.termios.c_lflag & flag != 0
    }

    /// The control character `index` (`V*`); 0 means disabled.
    pub(crate) fn cc(&self, index: u32) -> u8 {
        termios::cc(&self.termios, index)
    }

    pub(crate) fn canonical(&self) -> bool {
        self.lflag(g::ICANON)
    }

    /// `TCGETS`: the current termios.
    pub fn termios(&self) -> Termios {
        self.termios
    }

    /// `TCSETS`, `TCSETSW`, `TCSETSF`: installs `new`. For `Drain` and `Flush` the caller
    /// has already waited for the output queue to drain; `Flush` then discards the input
    /// queue (not the bytes [`Tty::receive`] refused: Linux keeps those in the driver and
    /// delivers them next, so the caller offers them again).
    ///
    /// Switching ICANON regroups the queued input (Linux `n_tty_set_termios`): entering
    /// canonical mode makes all pending bytes one readable line, leaving it makes every
    /// queued byte readable as it is (an EOF marker then reads as a NUL byte), and a
    /// pending VLNEXT or ECHOPRT erase is forgotten. Turning IXON off restarts stopped
    /// output.
    pub fn set_termios(&mut self, new: &Termios, mode: SetTermios) {
        if mode == SetTermios::Flush {
            self.flush_input();
        }
        let old = self.termios;
        self.termios = *new;
        self.termios.c_cflag = termios::fix_cflag(self.line, old.c_cflag, new.c_cflag);
        if (old.c_lflag ^ self.termios.c_lflag) & (g::ICANON | g::EXTPROC) != 0 {
            let canonical = self.canonical();
            self.input.canonical_changed(canonical);
            self.erasing = false;
            self.lnext = false;
        }
        if old.c_iflag & g::IXON != 0 && !self.iflag(g::IXON) {
            self.start_output();
        }
    }

    /// `TIOCGWINSZ`.
    pub fn winsize(&self) -> Winsize {
        self.winsize
    }

    /// `TIOCSWINSZ`: stores `new`; a size different from the current one (in any of the
    /// four fields) asks for SIGWINCH to the foreground process group (Linux
    /// `tty_do_resize`).
    pub fn set_winsize(&mut self, new: &Winsize) -> Signals {
        let mut signals = Signals::NONE;
        if !termios::same_winsize(&self.winsize, new) {
            self.winsize = *new;
            signals.add(g::SIGWINCH);
        }
        signals
    }

    /// `FIONREAD` (`TIOCINQ`): the bytes a reader can get now. In canonical mode that is
    /// the completed lines without their EOF markers (the line being edited does not
    /// count); otherwise every queued byte.
    pub fn bytes_available(&self) -> usize {
        if self.canonical() {
            self.input.canon_readable()
        } else {
            self.input.len()
        }
    }

    /// `TCFLSH` with its raw argument: `TCIFLUSH` discards unread input, `TCOFLUSH` the
    /// untransmitted output, `TCIOFLUSH` both; anything else is `EINVAL`. The caller also
    /// discards input bytes it holds because [`Tty::receive`] refused them (Linux flushes
    /// the driver's flip buffers the same way).
    pub fn flush(&mut self, arg: usize) -> Result<(), Errno> {
        let queue = FlushQueue::from_arg(arg)?;
        if queue != FlushQueue::Output {
            self.flush_input();
        }
        if queue != FlushQueue::Input {
            self.output.flush_device();
        }
        Ok(())
    }

    /// Discards unread input (Linux `n_tty_flush_buffer`) and unthrottles. Linux does not
    /// unthrottle on `TCSETSF`, which can leave a throttled line stuck with an empty
    /// queue; unthrottling on every input flush avoids that.
    pub(crate) fn flush_input(&mut self) {
        self.input.reset();
        self.erasing = false;
        self.unthrottle();
    }

    /// A program's write (Linux `n_tty_write`): queues as much of `data` as fits,
    /// post-processed under OPOST, and returns how many bytes of `data` it took. 0 for a
    /// non-empty `data` means the output queue is full (or a stopped PTY): a blocking
    /// writer waits for room ([`Tty::write_room`]), a non-blocking one gets EAGAIN.
    /// Job control (TOSTOP and SIGTTOU) is the caller's check before writing.
    pub fn write(&mut self, data: &[u8]) -> usize {
        self.process_echoes();
        let limit = self.output.len().saturating_add(self.write_room());
        let mut taken = 0;
        for &c in data {
            let queued = if self.oflag(g::OPOST) {
                self.output.put_processed(c, &self.termios, limit)
            } else {
                self.output.put_raw(c, limit)
            };
            if !queued {
                break;
            }
            taken += 1;
        }
        taken
    }

    /// Room for a program's output. A PTY whose output is stopped (VSTOP) has none, as in
    /// Linux; a serial line keeps queueing while its transmitter is held.
    pub fn write_room(&self) -> usize {
        if self.line == Line::Pty && self.output.is_stopped() {
            return 0;
        }
        OUTPUT_ROOM.saturating_sub(self.output.len())
    }

    /// Whether `poll` reports the terminal writable (Linux `n_tty_poll`: room, and fewer
    /// than 256 bytes waiting).
    pub fn writable(&self) -> bool {
        self.write_room() > 0 && self.output.len() < 256
    }

    /// Moves bytes to transmit into `buf` and returns how many: a pending flow-control
    /// byte first, then the output queue unless output is stopped. The device driver calls
    /// it whenever [`Tty::has_output`] is true (after any operation on the terminal).
    pub fn pop_output(&mut self, buf: &mut [u8]) -> usize {
        self.output.pop(buf)
    }

    /// Whether [`Tty::pop_output`] would return something now.
    pub fn has_output(&self) -> bool {
        self.output.x_char.is_some() || (!self.output.is_stopped() && self.output.len() > 0)
    }

    /// `TIOCOUTQ`: bytes queued for the device and not yet transmitted.
    pub fn output_len(&self) -> usize {
        self.output.len()
    }

    /// Whether VSTOP (under IXON) has stopped output.
    pub fn output_stopped(&self) -> bool {
        self.output.is_stopped()
    }

    /// Whether the input queue asked the sender to pause (under IXOFF a VSTOP was queued;
    /// a driver doing CRTSCTS drops RTS while this is true).
    pub fn is_throttled(&self) -> bool {
        self.throttled
    }

    /// Restarts output stopped by VSTOP (Linux `start_tty`, then `process_echoes`).
    pub(crate) fn start_output(&mut self) -> bool {
        let was = self.output.start();
        self.process_echoes();
        was
    }

    /// Renders waiting echoes into the device queue; a stopped PTY has no room for them.
    pub(crate) fn process_echoes(&mut self) {
        let no_room = self.line == Line::Pty && self.output.is_stopped();
        self.output.process_echoes(&self.termios, no_room);
    }

    /// Releases the throttle (Linux `tty_unthrottle` and the UART's `unthrottle`): under
    /// IXOFF a VSTOP not yet sent is cancelled, otherwise VSTART is queued.
    pub(crate) fn unthrottle(&mut self) {
        if !self.throttled {
            return;
        }
        self.throttled = false;
        if self.iflag(g::IXOFF) {
            self.output.x_char = match self.output.x_char {
                Some(_) => None,
                None => Some(self.cc(g::VSTART)),
            };
        }
    }
}
