//! ICMPv4 (RFC 792): the echo pair and destination unreachable; other types are recognised
//! only to be counted as unsupported.

use super::{be16, check_len, Result};
use crate::DropReason;

/// Length of the fixed ICMP header (type, code, checksum, 4 bytes of rest-of-header).
pub const HEADER_LEN: usize = 8;

const ECHO_REPLY: u8 = 0;
const DST_UNREACHABLE: u8 = 3;
const ECHO_REQUEST: u8 = 8;

/// Destination-unreachable codes we send.
pub mod unreachable {
    pub const HOST: u8 = 1;
    pub const PROTOCOL: u8 = 2;
    pub const PORT: u8 = 3;
}

packet_view! {
    /// A view of an ICMP message (the whole IPv4 payload).
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks the length and the checksum over the whole message.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unverified(buffer)?;
        if !inet_checksum::verifies(p.buffer.as_ref()) {
            return Err(DropReason::BadChecksum);
        }
        Ok(p)
    }

    /// Checks the length only: for a message whose checksum the device vouched for.
    pub fn new_unverified(buffer: T) -> Result<Self> {
        check_len(buffer.as_ref(), HEADER_LEN)?;
        Ok(Packet { buffer })
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// Bytes after the 8-byte header.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

/// The meaning of the ICMP messages this stack handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr<'a> {
    EchoRequest {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    EchoReply {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    /// `original` is the offending datagram's IPv4 header plus at least 8 payload bytes.
    DstUnreachable { code: u8, original: &'a [u8] },
}

impl<'a> Repr<'a> {
    /// Interprets a checked packet; unhandled types are [`DropReason::IcmpUnsupported`].
    pub fn parse(p: &Packet<&'a [u8]>) -> Result<Repr<'a>> {
        let b: &'a [u8] = p.buffer;
        let (ident, seq_no) = (be16(b, 4), be16(b, 6));
        match (p.msg_type(), p.code()) {
            (ECHO_REQUEST, 0) => Ok(Repr::EchoRequest {
                ident,
                seq_no,
                data: &b[HEADER_LEN..],
            }),
            (ECHO_REPLY, 0) => Ok(Repr::EchoReply {
                ident,
                seq_no,
                data: &b[HEADER_LEN..],
            }),
            (DST_UNREACHABLE, code) if code <= 15 => Ok(Repr::DstUnreachable {
                code,
                original: &b[HEADER_LEN..],
            }),
            _ => Err(DropReason::IcmpUnsupported),
        }
    }

    /// Bytes needed by [`Repr::emit`].
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + match self {
                Repr::EchoRequest { data, .. } | Repr::EchoReply { data, .. } => data.len(),
                Repr::DstUnreachable { original, .. } => original.len(),
            }
    }

    /// Writes the message with a correct checksum into `buf[..self.buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        let (ty, code, rest, data) = match *self {
            Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => (
                ECHO_REQUEST,
                0,
                (u32::from(ident) << 16) | u32::from(seq_no),
                data,
            ),
            Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => (
                ECHO_REPLY,
                0,
                (u32::from(ident) << 16) | u32::from(seq_no),
                data,
            ),
            Repr::DstUnreachable { code, original } => (DST_UNREACHABLE, code, 0, original),
        };
        let len = HEADER_LEN + data.len();
        buf[0] = ty;
        buf[1] = code;
        buf[2..4].copy_from_slice(&[0, 0]);
        buf[4..8].copy_from_slice(&rest.to_be_bytes());
        buf[HEADER_LEN..len].copy_from_slice(data);
        let c = inet_checksum::checksum(&buf[..len]);
        buf[2..4].copy_from_slice(&c.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // An echo request as sent by Linux `ping` (id 0x1234, seq 1, 8 data bytes).
    const ECHO: [u8; 16] = [
        0x08, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
        0x68,
    ];

    fn sealed() -> [u8; 16] {
        let mut b = ECHO;
        let c = inet_checksum::checksum(&b);
        b[2..4].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn parses_echo_request() {
        let b = sealed();
        // Hand-computed: words sum to 0xabca, complement 0x5435.
        assert_eq!(&b[2..4], &[0x54, 0x35]);
        let p = Packet::new_checked(&b[..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!(
            r,
            Repr::EchoRequest {
                ident: 0x1234,
                seq_no: 1,
                data: b"abcdefgh"
            }
        );
        let mut out = [0u8; 16];
        r.emit(&mut out);
        assert_eq!(out, b);
    }

    #[test]
    fn round_trips() {
        let original = [0x45u8; 28];
        for r in [
            Repr::EchoReply {
                ident: 7,
                seq_no: 65535,
                data: b"x",
            },
            Repr::DstUnreachable {
                code: unreachable::PORT,
                original: &original,
            },
        ] {
            let mut buf = [0u8; 64];
            let n = r.buffer_len();
            r.emit(&mut buf);
            let p = Packet::new_checked(&buf[..n]).unwrap();
            assert_eq!(Repr::parse(&p).unwrap(), r);
        }
    }

    #[test]
    fn malformed_cases() {
        let b = sealed();
        assert_eq!(
            Packet::new_checked(&b[..7]).err(),
            Some(DropReason::TooShort)
        );
        let mut bad = b;
        bad[9] ^= 1;
        assert_eq!(
            Packet::new_checked(&bad[..]).err(),
            Some(DropReason::BadChecksum)
        );
        let mut ts = [13u8, 0, 0, 0, 0, 0, 0, 0];
        let c = inet_checksum::checksum(&ts);
        ts[2..4].copy_from_slice(&c.to_be_bytes());
        let p = Packet::new_checked(&ts[..]).unwrap();
        assert_eq!(Repr::parse(&p).err(), Some(DropReason::IcmpUnsupported));
    }
}
