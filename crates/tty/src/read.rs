//! Reads: what a `read(2)` on the terminal returns, and when it must wait.
//!
//! The discipline has no clock and does not sleep. A read is a [`ReadOp`] the kernel keeps
//! for the duration of one `read(2)`; it calls [`Tty::read`] and gets either the final
//! byte count or an instruction to wait, with the timer to use. It calls again after
//! input arrived (any [`Tty::receive`]), after a termios change, or after the timer
//! fired ([`ReadOp::expire`]). A signal ends the wait: the call returns
//! [`ReadOp::copied`] bytes if there are any, else EINTR or a restart (Linux returns
//! `-ERESTARTSYS` there). Job control (SIGTTIN for a background reader) is checked by the
//! caller before the first call; hang-up and a closed PTY master are the caller's too.
//!
//! **Canonical mode**: a read returns at most one line (with its newline, VEOL or VEOL2;
//! without its VEOF), at most the buffer's size; the rest of a line stays for the next
//! read. A line that is just VEOF reads as 0 bytes: end of file.
//!
//! **Non-canonical mode** (termios(3) "MIN and TIME", Linux `n_tty_read`), with MIN =
//! `c_cc[VMIN]` and TIME = `c_cc[VTIME]` in tenths of a second, both read when the read
//! starts:
//! - MIN > 0, TIME = 0: wait until MIN bytes (or the buffer's size) have arrived.
//! - MIN > 0, TIME > 0: wait for the first byte without a timeout; after each batch of
//!   bytes, wait at most TIME for more; the read ends at MIN bytes or when that timer
//!   expires.
//! - MIN = 0, TIME > 0: wait at most TIME for the first byte; return it (and whatever else
//!   is there) or 0 on expiry.
//! - MIN = 0, TIME = 0: return what is there, possibly 0, without waiting, even for a
//!   non-blocking read (which therefore gets 0, not EAGAIN).
//!
//! A non-blocking read that would wait returns the bytes it has or EAGAIN.

use crate::errno::Errno;
use crate::receive::UNTHROTTLE_LEVEL;
use crate::tty::Tty;
use linux_raw_sys::general as g;

/// What the caller does about the read timer while waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// No timeout: wait for input (or a signal) only.
    None,
    /// (Re)start the timer: it fires this many tenths of a second from now.
    Start(u8),
    /// Keep the timer started earlier for this read.
    Keep,
}

/// The outcome of one [`Tty::read`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadStep {
    /// The read is complete: return this many bytes (in the buffer's first bytes). 0 is
    /// end of file in canonical mode, or nothing within the MIN/TIME rules.
    Done(usize),
    /// Sleep until input arrives, a signal, or the timer; then call [`Tty::read`] again.
    Wait(Timer),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timeout {
    /// Linux `MAX_SCHEDULE_TIMEOUT`.
    Infinite,
    /// The timer is set to this many tenths; `fresh` until the caller has been told.
    Running { tenths: u8, fresh: bool },
    /// The timeout is zero: MIN = TIME = 0, or the timer fired.
    Zero,
}

/// One `read(2)` in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOp {
    nonblocking: bool,
    copied: usize,
    /// MIN and TIME, read at the first call (as Linux reads them once per read).
    rules: Option<(usize, u8)>,
    timeout: Timeout,
}

impl ReadOp {
    /// A new read; `nonblocking` is `O_NONBLOCK` on the open file.
    pub fn new(nonblocking: bool) -> ReadOp {
        ReadOp {
            nonblocking,
            copied: 0,
            rules: None,
            timeout: Timeout::Infinite,
        }
    }

    /// Bytes already placed in the buffer (what an interrupted read returns).
    pub fn copied(&self) -> usize {
        self.copied
    }

    /// The timer asked for by [`Timer::Start`] fired.
    pub fn expire(&mut self) {
        if let Timeout::Running { .. } = self.timeout {
            self.timeout = Timeout::Zero;
        }
    }
}

impl Tty {
    /// Advances the read `op` into `buf` (the whole user buffer, the same on every call for
    /// one `op`). Returns EAGAIN for a non-blocking read that found nothing.
    pub fn read(&mut self, op: &mut ReadOp, buf: &mut [u8]) -> Result<ReadStep, Errno> {
        let canonical = self.canonical();
        let (minimum, time) = *op.rules.get_or_insert_with(|| {
            if canonical {
                return (0, 0);
            }
            let (vmin, vtime) = (self.cc(g::VMIN), self.cc(g::VTIME));
            if vmin > 0 {
                (usize::from(vmin), vtime)
            } else {
                op.timeout = match vtime {
                    0 => Timeout::Zero,
                    tenths => Timeout::Running {
                        tenths,
                        fresh: true,
                    },
                };
                (1, 0)
            }
        });
        loop {
            let Some(rest) = buf.get_mut(op.copied..).filter(|rest| !rest.is_empty()) else {
                return Ok(ReadStep::Done(op.copied.min(buf.len())));
            };
            if !self.input_available() {
                return match op.timeout {
                    Timeout::Zero => Ok(ReadStep::Done(op.copied)),
                    _ if op.nonblocking && op.copied > 0 => Ok(ReadStep::Done(op.copied)),
                    _ if op.nonblocking => Err(Errno::EAGAIN),
                    Timeout::Infinite => Ok(ReadStep::Wait(Timer::None)),
                    Timeout::Running { tenths, fresh } => {
                        op.timeout = Timeout::Running {
                            tenths,
                            fresh: false,
                        };
                        Ok(ReadStep::Wait(if fresh {
                            Timer::Start(tenths)
                        } else {
                            Timer::Keep
                        }))
                    }
                };
            }
            let n = if self.canonical() {
                self.input.read_canonical(rest)
            } else {
                self.input.read_raw(rest)
            };
            op.copied += n;
            self.check_unthrottle();
            if op.copied >= minimum {
                return Ok(ReadStep::Done(op.copied));
            }
            if time > 0 {
                op.timeout = Timeout::Running {
                    tenths: time,
                    fresh: true,
                };
            }
        }
    }

    /// Linux `input_available_p` for a reader: a completed line, or any byte.
    fn input_available(&self) -> bool {
        if self.canonical() {
            self.input.canon_len() > 0
        } else {
            self.input.len() > 0
        }
    }

    /// Whether `poll` reports the terminal readable: a completed line (canonical), or MIN
    /// bytes when TIME is 0 and MIN > 0, or any byte.
    pub fn readable(&self) -> bool {
        if self.canonical() {
            return self.input.canon_len() > 0;
        }
        let (vmin, vtime) = (self.cc(g::VMIN), self.cc(g::VTIME));
        let needed = if vtime == 0 && vmin > 0 {
            usize::from(vmin)
        } else {
            1
        };
        self.input.len() >= needed
    }

    /// Linux `n_tty_check_unthrottle` after a read took bytes.
    fn check_unthrottle(&mut self) {
        let waiting = if self.canonical() {
            self.input.canon_len()
        } else {
            self.input.len()
        };
        if waiting <= UNTHROTTLE_LEVEL {
            self.unthrottle();
        }
    }
}
