//! termios and window size: the ABI structs, Linux's defaults, and how a new termios is set.
//!
//! **Which struct.** On x86_64 `TCGETS`/`TCSETS`/`TCSETSW`/`TCSETSF` copy the kernel's
//! `struct termios` (`linux_raw_sys::general::termios`, 36 bytes: four `tcflag_t`,
//! `c_line`, `c_cc[NCCS = 19]`, no speed fields). The speeds travel only through
//! `TCGETS2`/`TCSETS2` (`struct termios2`), which Halyard does not implement: the baud
//! rate lives in `c_cflag & CBAUD`. glibc's own `struct termios` (with `c_cc[32]` and
//! speed fields) is converted by glibc before the ioctl, so the kernel never sees it.
//!
//! **Defaults.** A new terminal starts with Linux's `tty_std_termios`:
//! `c_iflag = ICRNL|IXON`, `c_oflag = OPOST|ONLCR`, `c_cflag = B38400|CS8|CREAD|HUPCL`,
//! `c_lflag = ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN`, `c_line = N_TTY` and
//! `c_cc = INIT_C_CC`: intr ^C, quit ^\, erase DEL, kill ^U, eof ^D, vtime 0, vmin 1,
//! start ^Q, stop ^S, susp ^Z, reprint ^R, discard ^O, werase ^W, lnext ^V, everything
//! else 0 (a `c_cc` entry of 0 is `_POSIX_VDISABLE`: that function is off). A PTY slave
//! starts the same without HUPCL, as Linux's `pts` driver does; the Linux oracle test
//! compares these against a fresh Linux pseudo-terminal.
//!
//! **Setting.** `TCSETS*` accept any bit pattern (Linux returns no EINVAL for unknown
//! termios bits: it stores them, and the oracle test checks that by setting every bit),
//! so setting a termios cannot fail here either. A PTY forces `CS8|CREAD` and clears
//! `PARENB`, as Linux's `pty_set_termios` does; a serial line keeps `c_cflag` as given
//! (the UART driver reads it for speed and framing). On both, the ADDRB bit keeps its old
//! value, as Linux's `tty_set_termios` keeps it.

use crate::errno::Errno;
use linux_raw_sys::general as g;
use linux_raw_sys::ioctl;

pub use g::termios as Termios;
pub use g::winsize as Winsize;

/// The `c_iflag` bits the discipline acts on. Of the others, IGNBRK, BRKINT, IGNPAR and
/// INPCK concern break and parity-error input, which does not reach the discipline (it
/// takes plain bytes); IMAXBEL Linux ignores. All bits are stored and returned by `TCGETS`.
/// A kernel may count a set bit outside these masks as an unsupported feature.
pub const IMPLEMENTED_IFLAGS: u32 = g::ISTRIP
    | g::INLCR
    | g::IGNCR
    | g::ICRNL
    | g::IUCLC
    | g::IXON
    | g::IXANY
    | g::IXOFF
    | g::PARMRK
    | g::IUTF8;

/// The `c_oflag` bits the discipline acts on (of TABDLY, only the value XTABS does
/// anything; Linux ignores the other delays and OFILL too).
pub const IMPLEMENTED_OFLAGS: u32 =
    g::OPOST | g::OLCUC | g::ONLCR | g::OCRNL | g::ONOCR | g::ONLRET | g::TABDLY;

/// The `c_lflag` bits the discipline acts on. TOSTOP matters only to the job-control
/// check before a write ([`crate::job_control`]); EXTPROC (PTY packet mode) is not implemented; Linux ignores XCASE,
/// FLUSHO and PENDIN.
pub const IMPLEMENTED_LFLAGS: u32 = g::ISIG
    | g::ICANON
    | g::ECHO
    | g::ECHOE
    | g::ECHOK
    | g::ECHONL
    | g::NOFLSH
    | g::ECHOCTL
    | g::ECHOPRT
    | g::ECHOKE
    | g::IEXTEN;

/// The device under the discipline: it changes the defaults, the hardware flags kept by
/// `TCSETS`, flow-control throttling and the writer's room while output is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// A serial port (the console): input throttling sends VSTOP/VSTART under IXOFF, a
    /// program's output is queued even while the line is stopped by VSTOP, CREAD off
    /// drops all input.
    Serial,
    /// The slave side of a pseudo-terminal: never throttled (the PTY holds back the
    /// writer instead), no write room while stopped, `c_cflag` pinned to `CS8|CREAD`.
    Pty,
}

/// How `TCSETS`, `TCSETSW` and `TCSETSF` apply a new termios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetTermios {
    /// `TCSETS` (`tcsetattr(TCSANOW)`): at once.
    Now,
    /// `TCSETSW` (`TCSADRAIN`): after the output queue has drained. The caller waits until
    /// [`crate::Tty::output_len`] is 0 (interruptibly) before calling.
    Drain,
    /// `TCSETSF` (`TCSAFLUSH`): like `Drain`, and unread input is discarded.
    Flush,
}

impl SetTermios {
    /// The mode for an ioctl request number, or `None` if it is not one of `TCSETS*`.
    pub fn from_ioctl(request: u32) -> Option<SetTermios> {
        match request {
            ioctl::TCSETS => Some(SetTermios::Now),
            ioctl::TCSETSW => Some(SetTermios::Drain),
            ioctl::TCSETSF => Some(SetTermios::Flush),
            _ => None,
        }
    }
}

/// Which queue `TCFLSH` discards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlushQueue {
    Input,
    Output,
    Both,
}

impl FlushQueue {
    /// `TCFLSH`'s argument: `TCIFLUSH`, `TCOFLUSH` or `TCIOFLUSH`; anything else is
    /// `EINVAL`, as in Linux's `__tty_perform_flush`.
    pub(crate) fn from_arg(arg: usize) -> Result<FlushQueue, Errno> {
        match u32::try_from(arg) {
            Ok(g::TCIFLUSH) => Ok(FlushQueue::Input),
            Ok(g::TCOFLUSH) => Ok(FlushQueue::Output),
            Ok(g::TCIOFLUSH) => Ok(FlushQueue::Both),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// Linux's `tty_std_termios` (see the module documentation), adjusted for `line`.
pub fn default_termios(line: Line) -> Termios {
    let mut c_cc = [0; g::NCCS as usize];
    for (index, value) in [
        (g::VINTR, b'C' - 0x40),
        (g::VQUIT, b'\\' - 0x40),
        (g::VERASE, 0x7f),
        (g::VKILL, b'U' - 0x40),
        (g::VEOF, b'D' - 0x40),
        (g::VSTART, b'Q' - 0x40),
        (g::VSTOP, b'S' - 0x40),
        (g::VSUSP, b'Z' - 0x40),
        (g::VREPRINT, b'R' - 0x40),
        (g::VDISCARD, b'O' - 0x40),
        (g::VWERASE, b'W' - 0x40),
        (g::VLNEXT, b'V' - 0x40),
        (g::VMIN, 1),
    ] {
        if let Some(slot) = c_cc.get_mut(index as usize) {
            *slot = value;
        }
    }
    let hupcl = match line {
        Line::Serial => g::HUPCL,
        Line::Pty => 0,
    };
    Termios {
        c_iflag: g::ICRNL | g::IXON,
        c_oflag: g::OPOST | g::ONLCR,
        c_cflag: g::B38400 | g::CS8 | g::CREAD | hupcl,
        c_lflag: g::ISIG
            | g::ICANON
            | g::ECHO
            | g::ECHOE
            | g::ECHOK
            | g::ECHOCTL
            | g::ECHOKE
            | g::IEXTEN,
        c_line: 0,
        c_cc,
    }
}

/// The hardware flags a line keeps from a requested termios: ADDRB never changes through
/// TCSETS (Linux `tty_set_termios`: only RS-485 configuration sets it), and a PTY pins
/// its character format.
pub(crate) fn fix_cflag(line: Line, old: u32, requested: u32) -> u32 {
    let cflag = (requested & !g::ADDRB) | (old & g::ADDRB);
    match line {
        Line::Serial => cflag,
        Line::Pty => (cflag & !(g::CSIZE | g::PARENB)) | g::CS8 | g::CREAD,
    }
}

/// The control character at `index` (`V*`), 0 (disabled) if out of range.
pub(crate) fn cc(t: &Termios, index: u32) -> u8 {
    t.c_cc.get(index as usize).copied().unwrap_or(0)
}

/// Window sizes are equal in all four fields (`tty_do_resize` compares the whole struct).
pub(crate) fn same_winsize(a: &Winsize, b: &Winsize) -> bool {
    (a.ws_row, a.ws_col, a.ws_xpixel, a.ws_ypixel) == (b.ws_row, b.ws_col, b.ws_xpixel, b.ws_ypixel)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// include/linux/tty.h INIT_C_CC, drivers/tty/tty_io.c tty_std_termios.
    #[test]
    fn defaults_are_linux_tty_std_termios() {
        let t = default_termios(Line::Serial);
        assert_eq!(t.c_iflag, 0x500);
        assert_eq!(t.c_oflag, 0x5);
        assert_eq!(t.c_cflag, 0x4bf);
        assert_eq!(t.c_lflag, 0x8a3b);
        assert_eq!(
            t.c_cc,
            [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0]
        );
        assert_eq!(default_termios(Line::Pty).c_cflag, 0xbf);
    }

    #[test]
    fn tcsets_variants_map_to_modes() {
        assert_eq!(SetTermios::from_ioctl(ioctl::TCSETS), Some(SetTermios::Now));
        assert_eq!(
            SetTermios::from_ioctl(ioctl::TCSETSW),
            Some(SetTermios::Drain)
        );
        assert_eq!(
            SetTermios::from_ioctl(ioctl::TCSETSF),
            Some(SetTermios::Flush)
        );
        assert_eq!(SetTermios::from_ioctl(ioctl::TCGETS), None);
    }

    /// tcflush(3): TCIFLUSH, TCOFLUSH, TCIOFLUSH; Linux: anything else is EINVAL.
    #[test]
    fn tcflsh_argument_is_checked() {
        assert_eq!(FlushQueue::from_arg(0), Ok(FlushQueue::Input));
        assert_eq!(FlushQueue::from_arg(1), Ok(FlushQueue::Output));
        assert_eq!(FlushQueue::from_arg(2), Ok(FlushQueue::Both));
        assert_eq!(FlushQueue::from_arg(3), Err(Errno::EINVAL));
        assert_eq!(FlushQueue::from_arg(usize::MAX), Err(Errno::EINVAL));
        assert_eq!(FlushQueue::from_arg(1 << 32), Err(Errno::EINVAL));
    }

    #[test]
    fn pty_pins_character_size_and_receiver() {
        let c = fix_cflag(Line::Pty, 0, g::CS5 | g::PARENB | g::B9600);
        assert_eq!(c, g::CS8 | g::CREAD | g::B9600);
        assert_eq!(fix_cflag(Line::Serial, 0, g::CS5), g::CS5);
        assert_eq!(fix_cflag(Line::Serial, 0, u32::MAX), !g::ADDRB);
        assert_eq!(fix_cflag(Line::Serial, g::ADDRB, 0), g::ADDRB);
    }
}
