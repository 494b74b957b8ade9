//! SSH data types on the wire (RFC 4251 §5): `byte`, `boolean`, `uint32`, `string`, `mpint`,
//! `name-list`. A [`Reader`] walks a received payload and fails with
//! [`Error::Truncated`](crate::Error) instead of panicking; writers append to a `Vec<u8>`.

use alloc::vec::Vec;

use crate::error::{Error, Result};

/// Cursor over a received message.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Takes `n` raw bytes.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(Error::Truncated(what));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// Reads a `byte`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.bytes(1, what)?[0])
    }

    /// Reads a `boolean` (any non-zero byte is true).
    pub fn bool(&mut self, what: &'static str) -> Result<bool> {
        Ok(self.u8(what)? != 0)
    }

    /// Reads a big-endian `uint32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a `string` (length-prefixed bytes).
    pub fn string(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.u32(what)? as usize;
        self.bytes(n, what)
    }

    /// Reads a `string` that must be UTF-8 text.
    pub fn text(&mut self, what: &'static str) -> Result<&'a str> {
        core::str::from_utf8(self.string(what)?).map_err(|_| Error::Protocol(what))
    }

    /// Whatever has not been read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }
}

/// Appends a `byte`.
pub fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

/// Appends a `boolean`.
pub fn put_bool(out: &mut Vec<u8>, v: bool) {
    out.push(v as u8);
}

/// Appends a big-endian `uint32`.
pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a `string`. Lengths above `u32::MAX` cannot occur: every buffer the crate encodes
/// is bounded by the packet size limit.
pub fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s);
}

/// Appends an unsigned big-endian number as an `mpint`: leading zero bytes stripped, one zero
/// byte added when the top bit is set (the value is positive).
pub fn put_mpint(out: &mut Vec<u8>, be: &[u8]) {
    let start = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    let digits = &be[start..];
    let pad = digits.first().is_some_and(|&b| b & 0x80 != 0);
    put_u32(out, (digits.len() + pad as usize) as u32);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(digits);
}

/// Whether a comma-separated `name-list` contains `name`.
pub fn name_list_contains(list: &[u8], name: &str) -> bool {
    list.split(|&b| b == b',').any(|n| n == name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes() {
        let mut v = Vec::new();
        put_u8(&mut v, 7);
        put_bool(&mut v, true);
        put_u32(&mut v, 0xdead_beef);
        put_string(&mut v, b"hello");
        let mut r = Reader::new(&v);
        assert_eq!(r.u8("a").unwrap(), 7);
        assert!(r.bool("b").unwrap());
        assert_eq!(r.u32("c").unwrap(), 0xdead_beef);
        assert_eq!(r.text("d").unwrap(), "hello");
        assert!(r.rest().is_empty());
        assert_eq!(r.u8("e"), Err(Error::Truncated("e")));
    }

    #[test]
    fn string_longer_than_buffer_is_truncated_not_panic() {
        let v = [0xff, 0xff, 0xff, 0xff, 1, 2];
        assert_eq!(Reader::new(&v).string("s"), Err(Error::Truncated("s")));
    }

    #[test]
    fn mpint_encoding_follows_rfc4251_examples() {
        let mut v = Vec::new();
        put_mpint(&mut v, &[0, 0]);
        assert_eq!(v, [0, 0, 0, 0]);
        v.clear();
        put_mpint(&mut v, &[0x00, 0x80]);
        assert_eq!(v, [0, 0, 0, 2, 0x00, 0x80]);
        v.clear();
        put_mpint(&mut v, &[0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7]);
        assert_eq!(
            v,
            [0, 0, 0, 8, 0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7]
        );
    }

    #[test]
    fn name_list_membership_is_exact() {
        assert!(name_list_contains(b"a,bc,d", "bc"));
        assert!(!name_list_contains(b"a,bcd", "bc"));
        assert!(!name_list_contains(b"", "a"));
    }
}
