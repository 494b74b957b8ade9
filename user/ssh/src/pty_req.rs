//! What a client asks of a session before it starts (RFC 4254 §6.2 to §6.7), sans-IO: the
//! `pty-req` request with its terminal type, window size and encoded terminal modes (§8),
//! `window-change`, and which `env` variables are accepted.
//!
//! The modes stay opcode/value pairs here: the protocol fixes the opcodes, and the program
//! around the core maps them onto its terminal interface (`os/pty.rs` onto termios, as
//! OpenSSH's `tty_parse_modes` does).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::wire::Reader;

/// A terminal's size, in characters and pixels (pixels are 0 when unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowSize {
    pub cols: u32,
    pub rows: u32,
    pub width_px: u32,
    pub height_px: u32,
}

impl WindowSize {
    /// Reads the four `uint32` fields that `pty-req` and `window-change` share.
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(WindowSize {
            cols: r.u32("terminal width")?,
            rows: r.u32("terminal height")?,
            width_px: r.u32("terminal width in pixels")?,
            height_px: r.u32("terminal height in pixels")?,
        })
    }
}

/// A `pty-req` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtyRequest {
    /// The `TERM` value the client asked for.
    pub term: String,
    /// The initial window size.
    pub size: WindowSize,
    /// Encoded terminal modes as (opcode, value) pairs, in the client's order.
    pub modes: Vec<(u8, u32)>,
}

/// Longest `TERM` value accepted (OpenSSH's `session_pty_req` takes whatever fits a packet;
/// terminfo names are short).
const MAX_TERM: usize = 256;

impl PtyRequest {
    /// Parses the type-specific part of a `pty-req` request.
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        let term = r.text("terminal type")?;
        if term.len() > MAX_TERM || term.bytes().any(|b| b.is_ascii_control()) {
            return Err(Error::Protocol("bad terminal type"));
        }
        let size = WindowSize::read(r)?;
        let modes = parse_modes(r.string("terminal modes")?)?;
        Ok(PtyRequest {
            term: term.to_string(),
            size,
            modes,
        })
    }
}

/// RFC 4254 §8 opcodes (and RFC 8160's `IUTF8`). Values 1 to 159 carry a `uint32`; the
/// list ends at [`TTY_OP_END`] or at the first opcode of 160 and above, whose argument
/// format is unknown (RFC 4254: "parsing should stop").
pub mod op {
    pub const TTY_OP_END: u8 = 0;
    pub const VINTR: u8 = 1;
    pub const VQUIT: u8 = 2;
    pub const VERASE: u8 = 3;
    pub const VKILL: u8 = 4;
    pub const VEOF: u8 = 5;
    pub const VEOL: u8 = 6;
    pub const VEOL2: u8 = 7;
    pub const VSTART: u8 = 8;
    pub const VSTOP: u8 = 9;
    pub const VSUSP: u8 = 10;
    pub const VREPRINT: u8 = 12;
    pub const VWERASE: u8 = 13;
    pub const VLNEXT: u8 = 14;
    pub const VDISCARD: u8 = 18;
    pub const IGNPAR: u8 = 30;
    pub const PARMRK: u8 = 31;
    pub const INPCK: u8 = 32;
    pub const ISTRIP: u8 = 33;
    pub const INLCR: u8 = 34;
    pub const IGNCR: u8 = 35;
    pub const ICRNL: u8 = 36;
    pub const IUCLC: u8 = 37;
    pub const IXON: u8 = 38;
    pub const IXANY: u8 = 39;
    pub const IXOFF: u8 = 40;
    pub const IMAXBEL: u8 = 41;
    pub const IUTF8: u8 = 42;
    pub const ISIG: u8 = 50;
    pub const ICANON: u8 = 51;
    pub const XCASE: u8 = 52;
    pub const ECHO: u8 = 53;
    pub const ECHOE: u8 = 54;
    pub const ECHOK: u8 = 55;
    pub const ECHONL: u8 = 56;
    pub const NOFLSH: u8 = 57;
    pub const TOSTOP: u8 = 58;
    pub const IEXTEN: u8 = 59;
    pub const ECHOCTL: u8 = 60;
    pub const ECHOKE: u8 = 61;
    pub const PENDIN: u8 = 62;
    pub const OPOST: u8 = 70;
    pub const OLCUC: u8 = 71;
    pub const ONLCR: u8 = 72;
    pub const OCRNL: u8 = 73;
    pub const ONOCR: u8 = 74;
    pub const ONLRET: u8 = 75;
    pub const CS7: u8 = 90;
    pub const CS8: u8 = 91;
    pub const PARENB: u8 = 92;
    pub const PARODD: u8 = 93;
    pub const TTY_OP_ISPEED: u8 = 128;
    pub const TTY_OP_OSPEED: u8 = 129;
    /// First opcode without a `uint32` argument.
    pub const FIRST_UNKNOWN_FORMAT: u8 = 160;
}

/// Most modes one request may carry (OpenSSH sends about 60).
const MAX_MODES: usize = 256;

/// Decodes the terminal modes string into (opcode, value) pairs.
pub fn parse_modes(bytes: &[u8]) -> Result<Vec<(u8, u32)>> {
    let mut r = Reader::new(bytes);
    let mut modes = Vec::new();
    while !r.rest().is_empty() {
        let opcode = r.u8("terminal mode opcode")?;
        if opcode == op::TTY_OP_END || opcode >= op::FIRST_UNKNOWN_FORMAT {
            break;
        }
        if modes.len() == MAX_MODES {
            return Err(Error::Oversized("terminal modes"));
        }
        modes.push((opcode, r.u32("terminal mode value")?));
    }
    Ok(modes)
}

/// Whether an `env` request for `name` is honoured: the terminal type and the locale, as
/// Debian's `sshd_config` (`AcceptEnv LANG LC_*`) plus `TERM`. Others are refused without a
/// word in the log, as OpenSSH does.
pub fn env_accepted(name: &str) -> bool {
    name == "TERM" || name == "LANG" || name.starts_with("LC_") && name.len() > 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{put_string, put_u32};

    #[test]
    fn modes_parse_until_the_end_marker() {
        let mut enc = alloc::vec![op::VINTR];
        put_u32(&mut enc, 3);
        enc.push(op::ECHO);
        put_u32(&mut enc, 0);
        enc.push(op::TTY_OP_END);
        enc.push(op::ISIG); // after the end: ignored
        assert_eq!(parse_modes(&enc).unwrap(), [(op::VINTR, 3), (op::ECHO, 0)]);
        // An opcode of unknown format stops parsing; a missing end marker is fine.
        let mut enc = alloc::vec![op::ICRNL];
        put_u32(&mut enc, 1);
        enc.extend([200, 1, 2]);
        assert_eq!(parse_modes(&enc).unwrap(), [(op::ICRNL, 1)]);
        assert_eq!(parse_modes(&[]).unwrap(), []);
        assert!(parse_modes(&[op::ECHO, 0, 0]).is_err());
        let many: Vec<u8> = (0..MAX_MODES + 1)
            .flat_map(|_| [op::ECHO, 0, 0, 0, 1])
            .collect();
        assert_eq!(parse_modes(&many), Err(Error::Oversized("terminal modes")));
    }

    #[test]
    fn pty_request_fields() {
        let mut p = Vec::new();
        put_string(&mut p, b"xterm-256color");
        for v in [80, 24, 640, 480] {
            put_u32(&mut p, v);
        }
        put_string(&mut p, &[op::ECHO, 0, 0, 0, 1, op::TTY_OP_END]);
        let req = PtyRequest::read(&mut Reader::new(&p)).unwrap();
        assert_eq!(req.term, "xterm-256color");
        assert_eq!(
            req.size,
            WindowSize {
                cols: 80,
                rows: 24,
                width_px: 640,
                height_px: 480
            }
        );
        assert_eq!(req.modes, [(op::ECHO, 1)]);
        let mut bad = Vec::new();
        put_string(&mut bad, b"xterm\n");
        assert!(PtyRequest::read(&mut Reader::new(&bad)).is_err());
        assert!(PtyRequest::read(&mut Reader::new(&p[..20])).is_err());
    }

    #[test]
    fn only_terminal_and_locale_variables_are_accepted() {
        for ok in ["TERM", "LANG", "LC_ALL", "LC_CTYPE"] {
            assert!(env_accepted(ok), "{ok}");
        }
        for no in ["LD_PRELOAD", "PATH", "HOME", "LC_", "lang", ""] {
            assert!(!env_accepted(no), "{no}");
        }
    }
}
