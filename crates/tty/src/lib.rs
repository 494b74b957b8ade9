//! The terminal line discipline: what Linux's N_TTY does between a serial port (or a
//! PTY master) and the programs reading and writing the terminal, as a sans-I/O state
//! machine shared by Halyard's serial console and its PTYs.
//!
//! # Why a crate, and why Linux's behaviour to the byte
//!
//! Unmodified Linux programs (busybox's `sh` and its line editing, `stty`, `vi`, SSH
//! sessions) depend on the details: which bytes an erase echoes, when a read returns, what
//! VMIN/VTIME mean, that `^D` at line start reads as end of file. So Linux is the oracle:
//! the tests run the same termios and keystrokes through a real Linux pseudo-terminal
//! and through this crate and compare every byte (`tests/linux_oracle`). Kept free of
//! I/O, locks and clocks, the discipline is tested on the host and the kernel only wires
//! it to a UART or a PTY pair, its wait queues and its timers.
//!
//! # Model
//!
//! A [`Tty`] holds a termios ([`Termios`], the kernel's `struct termios` that
//! `TCGETS`/`TCSETS` copy on x86_64), a window size ([`Winsize`]), the input queue (at
//! most [`N_TTY_BUF_SIZE`] = 4096 bytes: completed lines plus the line being edited, or
//! plain bytes in non-canonical mode) and the output queue (echo operations, then the
//! bytes for the device). Defaults are Linux's `tty_std_termios`
//! ([`default_termios`]).
//!
//! How a kernel drives it:
//! - **Input** from the device: [`Tty::receive`] processes bytes (ICRNL & co., canonical
//!   editing, echo, VLNEXT, flow control) and returns how many it took (a full queue
//!   refuses the rest, which the driver keeps and offers again after a read: Linux does
//!   the same, so fast typing is not lost), the signals for the foreground process group
//!   (VINTR/VQUIT/VSUSP → SIGINT/SIGQUIT/SIGTSTP under ISIG) and flow-control changes.
//! - **Output** to the device: whenever [`Tty::has_output`], the driver takes bytes with
//!   [`Tty::pop_output`] (echoes, post-processed program output, an IXOFF VSTOP/VSTART
//!   first). Nothing is handed out while VSTOP holds the line.
//! - **Writes** by programs: [`Tty::write`] post-processes (OPOST, ONLCR, OCRNL, ONOCR,
//!   ONLRET, OLCUC, XTABS) into the output queue and says how much fitted.
//! - **Reads** by programs: [`Tty::read`] with a [`ReadOp`] per `read(2)` returns the
//!   byte count or tells the caller to wait, with a [`Timer`] in tenths of a second for
//!   VTIME; the crate has no clock, the caller reports expiry with [`ReadOp::expire`].
//! - **ioctls**: [`Tty::termios`] (`TCGETS`), [`Tty::set_termios`] with [`SetTermios`]
//!   (`TCSETS`/`TCSETSW`/`TCSETSF`), [`Tty::winsize`]/[`Tty::set_winsize`]
//!   (`TIOCGWINSZ`/`TIOCSWINSZ`, a change asks for SIGWINCH), [`Tty::bytes_available`]
//!   (`FIONREAD`), [`Tty::flush`] (`TCFLSH`, EINVAL for a bad argument),
//!   [`Tty::output_len`] (`TIOCOUTQ`); `poll` uses [`Tty::readable`]/[`Tty::writable`].
//! - **Job control**: [`job_control`] says whether a read, a write or a change of the
//!   terminal by a background process proceeds, fails with `EIO`, or sends SIGTTIN/SIGTTOU
//!   to its process group (Linux's `__tty_check_change`); the kernel supplies the facts
//!   about the caller ([`Caller`]) and carries out the [`Verdict`].
//!
//! Process groups, sessions and the controlling terminal (`TIOCSPGRP`, `TIOCSCTTY`),
//! sending the signals, hang-up and the PTY pairing are the kernel's: they need processes.
//! The [`Line`] says whether the discipline serves a UART or a PTY slave, where Linux's
//! drivers differ (throttling, write room while stopped, `c_cflag`).
//!
//! # Decisions (where Linux or the task left a choice)
//! - termios bits are never rejected: Linux's `TCSETS` stores any pattern (the oracle
//!   test sets every bit), so "unknown bits are EINVAL" does not apply here.
//! - Not implemented, as out of scope for a console and SSH PTYs: EXTPROC and PTY packet
//!   mode (the bit is stored and ignored), `TCXONC`, break and parity-error input (input is
//!   plain bytes, so of PARMRK only the doubling of 0xFF applies), `TCGETS2` speeds,
//!   termios locking. Linux itself ignores VDISCARD, XCASE, IMAXBEL and the output delays.
//! - Tab expansion (`TABDLY == XTABS`) is implemented, as Linux does it.
//! - Every input flush releases the throttle (Linux does not on `TCSETSF` or ISIG, which
//!   can leave an IXOFF line paused with an empty queue).
//! - Echoes of one [`Tty::receive`] are rendered when it returns, so a signal character
//!   discards all earlier echoes of the same call (Linux renders every 256 bytes of echo
//!   within a burst).

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod ctype;
mod erase;
mod errno;
mod job_control;
mod output;
mod queue;
mod read;
mod receive;
mod signals;
mod termios;
mod tty;

pub use errno::Errno;
pub use job_control::{check as job_control, Access, Caller, Verdict};
pub use output::{ECHO_LIMIT, ECHO_OPS, OUTPUT_ROOM};
pub use queue::N_TTY_BUF_SIZE;
pub use read::{ReadOp, ReadStep, Timer};
pub use receive::{Flow, Received};
pub use signals::Signals;
pub use termios::{
    default_termios, Line, SetTermios, Termios, Winsize, IMPLEMENTED_IFLAGS, IMPLEMENTED_LFLAGS,
    IMPLEMENTED_OFLAGS,
};
pub use tty::Tty;
