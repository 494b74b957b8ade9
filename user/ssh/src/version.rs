//! Protocol version exchange (RFC 4253 §4.2): each side sends `SSH-2.0-software\r\n`; a server
//! may send other lines first. Lines are bounded so a peer cannot make us buffer forever.

use alloc::vec::Vec;

use crate::error::{Error, Result};

/// This implementation's identification string (without CR LF).
pub const OURS: &str = "SSH-2.0-HalyardSSH_0.1";

/// Longest identification line accepted, CR LF included (RFC 4253 §4.2 says 255).
const MAX_LINE: usize = 255;
/// Non-version lines accepted before the version line (only a server may send them).
const MAX_PRELUDE_LINES: usize = 32;

/// Result of scanning received bytes for the peer's version line.
pub struct Scan {
    /// The version line without CR LF, once found.
    pub version: Option<Vec<u8>>,
    /// Bytes of `buf` consumed (prelude and version line).
    pub consumed: usize,
}

/// Looks for the peer's version line at the start of `buf`. `lines_seen` carries the prelude
/// line count across calls; `allow_prelude` is true on the client side.
pub fn scan(buf: &[u8], lines_seen: &mut usize, allow_prelude: bool) -> Result<Scan> {
    let mut consumed = 0;
    loop {
        let rest = &buf[consumed..];
        let Some(nl) = rest.iter().take(MAX_LINE).position(|&b| b == b'\n') else {
            if rest.len() >= MAX_LINE {
                return Err(Error::Oversized("version line"));
            }
            return Ok(Scan {
                version: None,
                consumed,
            });
        };
        let line = &rest[..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        consumed += nl + 1;
        if line.starts_with(b"SSH-") {
            if !(line.starts_with(b"SSH-2.0-") || line.starts_with(b"SSH-1.99-")) {
                return Err(Error::Protocol("unsupported protocol version"));
            }
            return Ok(Scan {
                version: Some(line.to_vec()),
                consumed,
            });
        }
        *lines_seen += 1;
        if !allow_prelude || *lines_seen > MAX_PRELUDE_LINES {
            return Err(Error::Protocol("peer did not send an SSH version line"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_version_after_banner_lines_on_client_side() {
        let mut n = 0;
        let s = scan(b"hello\r\nSSH-2.0-X\r\nrest", &mut n, true).unwrap();
        assert_eq!(s.version.unwrap(), b"SSH-2.0-X");
        assert_eq!(s.consumed, 18);
        let mut n = 0;
        assert!(scan(b"hello\r\nSSH-2.0-X\r\n", &mut n, false).is_err());
    }

    #[test]
    fn waits_for_more_and_refuses_long_or_old_lines() {
        let mut n = 0;
        assert!(scan(b"SSH-2.0-par", &mut n, false)
            .unwrap()
            .version
            .is_none());
        assert!(scan(&[b'a'; 300], &mut n, true).is_err());
        assert!(scan(b"SSH-1.5-old\r\n", &mut n, false).is_err());
    }
}
