//! Pseudo-terminals for sessions that asked for one (`pty-req`): a pair from `/dev/ptmx`
//! (`posix_openpt`, `grantpt`, `unlockpt`, `ptsname_r`, as OpenSSH's `openpty` fallback
//! does), the client's terminal modes applied to the slave with termios, and window sizes
//! set on the master with `TIOCSWINSZ` (which makes the kernel send `SIGWINCH` to the
//! terminal's foreground process group).
//!
//! Linux counterpart: `sshpty.c` (`pty_allocate`, `pty_change_window_size`) and `ttymodes.c`
//! (`tty_parse_modes`). Line speeds (`TTY_OP_ISPEED`/`OSPEED`) and opcodes Linux has no flag
//! for are ignored, as OpenSSH ignores unknown ones.

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::OpenOptionsExt;

use crate::pty_req::{op, WindowSize};

/// Both ends of a new pseudo-terminal.
pub struct Pty {
    /// The master, non-blocking: the session reads the terminal's output from it and writes
    /// the client's keys to it.
    pub master: File,
    /// The slave, the process's standard input, output and error.
    pub slave: File,
    /// The slave's path, `/dev/pts/N`.
    pub name: String,
}

/// The result of a libc call that returns -1 and sets `errno` on failure.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

impl Pty {
    /// Opens a pair with `modes` applied and the window `size`.
    pub fn open(modes: &[(u8, u32)], size: WindowSize) -> io::Result<Pty> {
        // SAFETY: posix_openpt takes flags only; it returns a new descriptor or -1.
        let fd =
            check(unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) })?;
        // SAFETY: `fd` was just opened by posix_openpt and is owned by nothing else.
        let master = unsafe { File::from_raw_fd(fd) };
        let mut name = [0 as libc::c_char; 64];
        // SAFETY: grantpt and unlockpt take the master descriptor, which is open; ptsname_r
        // writes at most `name.len()` bytes, NUL included, into `name`.
        unsafe {
            check(libc::grantpt(fd))?;
            check(libc::unlockpt(fd))?;
            let err = libc::ptsname_r(fd, name.as_mut_ptr(), name.len());
            if err != 0 {
                return Err(io::Error::from_raw_os_error(err));
            }
        }
        // SAFETY: ptsname_r succeeded, so `name` holds a NUL-terminated string.
        let name = unsafe { CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        // std opens with O_CLOEXEC; O_NOCTTY: the session process must not take it as its
        // own controlling terminal (the child does, after setsid).
        let slave = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(&name)?;
        // SAFETY: fcntl on an open descriptor with integer arguments.
        unsafe {
            let flags = check(libc::fcntl(fd, libc::F_GETFL))?;
            check(libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
        }
        apply_modes(&slave, modes)?;
        set_window_size(&master, size)?;
        Ok(Pty {
            master,
            slave,
            name,
        })
    }
}

/// In a new child, between fork and exec: a session of its own whose controlling terminal
/// is descriptor 0, the slave (what `login_tty` does). Async-signal-safe.
pub fn take_as_controlling_terminal() -> io::Result<()> {
    // SAFETY: setsid takes no arguments; a freshly forked child leads no process group, so
    // it succeeds.
    check(unsafe { libc::setsid() })?;
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal another session's).
    check(unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) }).map(drop)
}

/// Sets the terminal's window size (`TIOCSWINSZ`; values beyond 16 bits are clamped).
pub fn set_window_size(tty: &File, size: WindowSize) -> io::Result<()> {
    let clamp = |v: u32| v.min(u32::from(u16::MAX)) as u16;
    let ws = libc::winsize {
        ws_row: clamp(size.rows),
        ws_col: clamp(size.cols),
        ws_xpixel: clamp(size.width_px),
        ws_ypixel: clamp(size.height_px),
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` from the pointer, which is valid for the call.
    check(unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSWINSZ, &ws) }).map(drop)
}

/// Where an RFC 4254 §8 opcode lands in a `termios`.
#[derive(Clone, Copy)]
enum Field {
    /// A control character, `c_cc[index]`.
    Cc(usize),
    Iflag(libc::tcflag_t),
    Lflag(libc::tcflag_t),
    Oflag(libc::tcflag_t),
}

/// The opcodes Linux has a termios field for (OpenSSH's `ttymodes.h` under `__linux__`),
/// except the `c_cflag` ones (`CS7`, `CS8`, `PARENB`, `PARODD`): Linux's pty driver forces
/// `CS8` and clears `PARENB` on every `tcsetattr` (`pty_set_termios`), so they are skipped.
const MODES: &[(u8, Field)] = &[
    (op::VINTR, Field::Cc(libc::VINTR)),
    (op::VQUIT, Field::Cc(libc::VQUIT)),
    (op::VERASE, Field::Cc(libc::VERASE)),
    (op::VKILL, Field::Cc(libc::VKILL)),
    (op::VEOF, Field::Cc(libc::VEOF)),
    (op::VEOL, Field::Cc(libc::VEOL)),
    (op::VEOL2, Field::Cc(libc::VEOL2)),
    (op::VSTART, Field::Cc(libc::VSTART)),
    (op::VSTOP, Field::Cc(libc::VSTOP)),
    (op::VSUSP, Field::Cc(libc::VSUSP)),
    (op::VREPRINT, Field::Cc(libc::VREPRINT)),
    (op::VWERASE, Field::Cc(libc::VWERASE)),
    (op::VLNEXT, Field::Cc(libc::VLNEXT)),
    (op::VDISCARD, Field::Cc(libc::VDISCARD)),
    (op::IGNPAR, Field::Iflag(libc::IGNPAR)),
    (op::PARMRK, Field::Iflag(libc::PARMRK)),
    (op::INPCK, Field::Iflag(libc::INPCK)),
    (op::ISTRIP, Field::Iflag(libc::ISTRIP)),
    (op::INLCR, Field::Iflag(libc::INLCR)),
    (op::IGNCR, Field::Iflag(libc::IGNCR)),
    (op::ICRNL, Field::Iflag(libc::ICRNL)),
    (op::IUCLC, Field::Iflag(libc::IUCLC)),
    (op::IXON, Field::Iflag(libc::IXON)),
    (op::IXANY, Field::Iflag(libc::IXANY)),
    (op::IXOFF, Field::Iflag(libc::IXOFF)),
    (op::IMAXBEL, Field::Iflag(libc::IMAXBEL)),
    (op::IUTF8, Field::Iflag(libc::IUTF8)),
    (op::ISIG, Field::Lflag(libc::ISIG)),
    (op::ICANON, Field::Lflag(libc::ICANON)),
    (op::XCASE, Field::Lflag(libc::XCASE)),
    (op::ECHO, Field::Lflag(libc::ECHO)),
    (op::ECHOE, Field::Lflag(libc::ECHOE)),
    (op::ECHOK, Field::Lflag(libc::ECHOK)),
    (op::ECHONL, Field::Lflag(libc::ECHONL)),
    (op::NOFLSH, Field::Lflag(libc::NOFLSH)),
    (op::TOSTOP, Field::Lflag(libc::TOSTOP)),
    (op::IEXTEN, Field::Lflag(libc::IEXTEN)),
    (op::ECHOCTL, Field::Lflag(libc::ECHOCTL)),
    (op::ECHOKE, Field::Lflag(libc::ECHOKE)),
    (op::PENDIN, Field::Lflag(libc::PENDIN)),
    (op::OPOST, Field::Oflag(libc::OPOST)),
    (op::OLCUC, Field::Oflag(libc::OLCUC)),
    (op::ONLCR, Field::Oflag(libc::ONLCR)),
    (op::OCRNL, Field::Oflag(libc::OCRNL)),
    (op::ONOCR, Field::Oflag(libc::ONOCR)),
    (op::ONLRET, Field::Oflag(libc::ONLRET)),
];

/// OpenSSH sends a disabled control character as 255; Linux's `_POSIX_VDISABLE` is 0.
const SSH_VDISABLE: u32 = 255;

/// Applies `modes` to `t`.
fn set_modes(t: &mut libc::termios, modes: &[(u8, u32)]) {
    fn flag(bits: &mut libc::tcflag_t, flag: libc::tcflag_t, on: bool) {
        if on {
            *bits |= flag;
        } else {
            *bits &= !flag;
        }
    }
    for &(opcode, value) in modes {
        let Some(&(_, field)) = MODES.iter().find(|(o, _)| *o == opcode) else {
            continue;
        };
        let on = value != 0;
        match field {
            Field::Cc(i) => {
                t.c_cc[i] = match value {
                    SSH_VDISABLE => 0,
                    v => v as libc::cc_t,
                }
            }
            Field::Iflag(f) => flag(&mut t.c_iflag, f, on),
            Field::Lflag(f) => flag(&mut t.c_lflag, f, on),
            Field::Oflag(f) => flag(&mut t.c_oflag, f, on),
        }
    }
}

/// The terminal's current settings.
fn get_termios(tty: &File) -> io::Result<libc::termios> {
    // SAFETY: termios is plain data (integers and an array); all zeroes is a valid value.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr writes one termios through the pointer, valid for the call.
    check(unsafe { libc::tcgetattr(tty.as_raw_fd(), &mut t) })?;
    Ok(t)
}

/// Applies the client's terminal modes to `tty` (`tcsetattr(TCSANOW)`).
fn apply_modes(tty: &File, modes: &[(u8, u32)]) -> io::Result<()> {
    let mut t = get_termios(tty)?;
    set_modes(&mut t, modes);
    // SAFETY: tcsetattr reads one termios through the pointer, valid for the call.
    check(unsafe { libc::tcsetattr(tty.as_raw_fd(), libc::TCSANOW, &t) }).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn a_pair_gets_the_modes_and_window_size() {
        let size = WindowSize {
            cols: 100,
            rows: 40,
            ..WindowSize::default()
        };
        let modes = [
            (op::ECHO, 0),
            (op::ICRNL, 1),
            (op::VINTR, 7),
            (op::VQUIT, SSH_VDISABLE),
            (op::PARENB, 1),
            (op::TTY_OP_ISPEED, 38400),
            (200, 1),
        ];
        let pty = Pty::open(&modes, size).unwrap();
        assert!(pty.name.starts_with("/dev/pts/"), "{}", pty.name);
        let t = get_termios(&pty.slave).unwrap();
        assert_eq!(t.c_lflag & libc::ECHO, 0);
        assert_ne!(t.c_iflag & libc::ICRNL, 0);
        assert_eq!(t.c_cc[libc::VINTR], 7);
        assert_eq!(t.c_cc[libc::VQUIT], 0);
        assert_eq!(t.c_cflag & libc::PARENB, 0);
        let mut ws = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one winsize through the pointer, valid for the call.
        let r = unsafe { libc::ioctl(pty.slave.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
        assert_eq!((r, ws.ws_row, ws.ws_col), (0, 40, 100));
        // Bytes written to the master reach the slave, with ICRNL applied.
        (&pty.master).write_all(b"hi\r").unwrap();
        let mut buf = [0; 8];
        let n = (&pty.slave).read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"hi\n");
        // The master is non-blocking: nothing to read is WouldBlock, not a wait.
        let err = (&pty.master).read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }
}
