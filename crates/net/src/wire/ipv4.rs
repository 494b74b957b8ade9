//! IPv4 headers (RFC 791). Options are accepted and skipped (their length is covered by
//! IHL and they are never interpreted); we never emit options.

use super::{addr, be16, check_len, Result};
use crate::DropReason;
use core::net::Ipv4Addr;

/// Length of a header without options (the only kind we emit).
pub const HEADER_LEN: usize = 20;

/// Protocol numbers this stack dispatches on.
pub mod protocol {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
}

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

packet_view! {
    /// A view of an IPv4 datagram (header plus payload, Ethernet padding excluded).
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Validates version, IHL, total length against the buffer, the header checksum and the
    /// fragment fields. Trailing bytes beyond the total length (link padding) are allowed.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        check_len(b, HEADER_LEN)?;
        if b[0] >> 4 != 4 {
            return Err(DropReason::BadVersion);
        }
        let header_len = usize::from(b[0] & 0x0f) * 4;
        if header_len < HEADER_LEN || header_len > b.len() {
            return Err(DropReason::BadHeaderLength);
        }
        let total_len = usize::from(be16(b, 2));
        if total_len < header_len || total_len > b.len() {
            return Err(DropReason::BadLength);
        }
        if !inet_checksum::verifies(&b[..header_len]) {
            return Err(DropReason::BadChecksum);
        }
        let flags = be16(b, 6);
        let p = Packet { buffer };
        let payload_len = total_len - header_len;
        if flags & FLAG_RESERVED != 0
            || (p.more_frags() && (payload_len == 0 || payload_len % 8 != 0))
            || p.frag_offset() + payload_len > usize::from(u16::MAX) - HEADER_LEN
        {
            return Err(DropReason::BadFragment);
        }
        Ok(p)
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn header_len(&self) -> usize {
        usize::from(self.b()[0] & 0x0f) * 4
    }

    pub fn total_len(&self) -> usize {
        usize::from(be16(self.b(), 2))
    }

    pub fn ident(&self) -> u16 {
        be16(self.b(), 4)
    }

    pub fn dont_frag(&self) -> bool {
        be16(self.b(), 6) & FLAG_DF != 0
    }

    pub fn more_frags(&self) -> bool {
        be16(self.b(), 6) & FLAG_MF != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> usize {
        usize::from(be16(self.b(), 6) & OFFSET_MASK) * 8
    }

    pub fn ttl(&self) -> u8 {
        self.b()[8]
    }

    /// The type-of-service byte (DSCP and ECN).
    pub fn tos(&self) -> u8 {
        self.b()[1]
    }

    pub fn protocol(&self) -> u8 {
        self.b()[9]
    }

    pub fn src(&self) -> Ipv4Addr {
        addr(self.b(), 12)
    }

    pub fn dst(&self) -> Ipv4Addr {
        addr(self.b(), 16)
    }

    /// The header including options.
    pub fn header(&self) -> &[u8] {
        &self.b()[..self.header_len()]
    }

    /// The payload (after options, before padding).
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..self.total_len()]
    }
}

/// The meaning of an IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ttl: u8,
    pub ident: u16,
    pub dont_frag: bool,
    pub more_frags: bool,
    /// Fragment offset in bytes (a multiple of 8).
    pub frag_offset: usize,
    pub payload_len: usize,
}

impl Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        Repr {
            src: p.src(),
            dst: p.dst(),
            protocol: p.protocol(),
            ttl: p.ttl(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
            payload_len: p.total_len() - p.header_len(),
        }
    }

    /// Writes a 20-byte header with a correct checksum into `buf[..HEADER_LEN]`.
    pub fn emit(&self, buf: &mut [u8]) {
        let total = (HEADER_LEN + self.payload_len) as u16;
        let mut flags = (self.frag_offset / 8) as u16 & OFFSET_MASK;
        if self.dont_frag {
            flags |= FLAG_DF;
        }
        if self.more_frags {
            flags |= FLAG_MF;
        }
        buf[0] = 0x45;
        buf[1] = 0;
        buf[2..4].copy_from_slice(&total.to_be_bytes());
        buf[4..6].copy_from_slice(&self.ident.to_be_bytes());
        buf[6..8].copy_from_slice(&flags.to_be_bytes());
        buf[8] = self.ttl;
        buf[9] = self.protocol;
        buf[10..12].copy_from_slice(&[0, 0]);
        buf[12..16].copy_from_slice(&self.src.octets());
        buf[16..20].copy_from_slice(&self.dst.octets());
        let c = inet_checksum::checksum(&buf[..HEADER_LEN]);
        buf[10..12].copy_from_slice(&c.to_be_bytes());
    }
}

/// Starts a checksum with the TCP/UDP pseudo-header (RFC 768 / RFC 793).
pub fn pseudo_header(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    len: usize,
) -> inet_checksum::Checksum {
    let mut c = inet_checksum::Checksum::new();
    c.add_bytes(&src.octets());
    c.add_bytes(&dst.octets());
    c.add_u16(u16::from(protocol));
    c.add_u16(len as u16);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A captured UDP datagram header (192.168.0.1 -> 192.168.0.199, checksum 0xb861),
    /// padded with its 95 payload bytes.
    fn capture() -> [u8; 115] {
        let mut p = [0u8; 115];
        p[..20].copy_from_slice(&[
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ]);
        p
    }

    fn reseal(b: &mut [u8]) {
        let hl = usize::from(b[0] & 0xf) * 4;
        b[10] = 0;
        b[11] = 0;
        let c = inet_checksum::checksum(&b[..hl]);
        b[10..12].copy_from_slice(&c.to_be_bytes());
    }

    #[test]
    fn parses_capture() {
        let buf = capture();
        let p = Packet::new_checked(&buf[..]).unwrap();
        let r = Repr::parse(&p);
        assert_eq!(r.src, Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(r.dst, Ipv4Addr::new(192, 168, 0, 199));
        assert_eq!(r.protocol, protocol::UDP);
        assert_eq!(r.ttl, 64);
        assert!(r.dont_frag && !r.more_frags);
        assert_eq!(r.payload_len, 95);
        let mut out = [0u8; 20];
        r.emit(&mut out);
        assert_eq!(out, buf[..20]);
    }

    #[test]
    fn padding_is_excluded_and_options_skipped() {
        let mut buf = [0u8; 60];
        buf[..20].copy_from_slice(&capture()[..20]);
        buf[0] = 0x46; // one word of options
        buf[2..4].copy_from_slice(&28u16.to_be_bytes());
        buf[20..24].copy_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
        reseal(&mut buf);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.payload().len(), 4);
    }

    #[test]
    fn malformed_cases() {
        let good = capture();
        assert_eq!(
            Packet::new_checked(&good[..19]).err(),
            Some(DropReason::TooShort)
        );
        let mutate = |f: &dyn Fn(&mut [u8; 115]), seal: bool| {
            let mut b = good;
            f(&mut b);
            if seal {
                reseal(&mut b);
            }
            Packet::new_checked(&b[..]).err()
        };
        assert_eq!(mutate(&|b| b[0] = 0x65, true), Some(DropReason::BadVersion));
        assert_eq!(
            mutate(&|b| b[0] = 0x44, false),
            Some(DropReason::BadHeaderLength)
        );
        assert_eq!(
            mutate(&|b| b[2..4].copy_from_slice(&116u16.to_be_bytes()), true),
            Some(DropReason::BadLength)
        );
        assert_eq!(
            mutate(&|b| b[2..4].copy_from_slice(&19u16.to_be_bytes()), true),
            Some(DropReason::BadLength)
        );
        assert_eq!(mutate(&|b| b[8] = 1, false), Some(DropReason::BadChecksum));
        assert_eq!(
            mutate(&|b| b[6] = 0x80, true),
            Some(DropReason::BadFragment)
        );
        // More-fragments with a payload that is not a multiple of 8 (95 bytes).
        assert_eq!(
            mutate(&|b| b[6] = 0x20, true),
            Some(DropReason::BadFragment)
        );
        // Offset so large the datagram would exceed 65535 bytes.
        assert_eq!(
            mutate(&|b| b[6..8].copy_from_slice(&0x1fffu16.to_be_bytes()), true),
            Some(DropReason::BadFragment)
        );
        // A header longer than the buffer.
        let mut short = [0u8; 20];
        short.copy_from_slice(&good[..20]);
        short[0] = 0x4f;
        assert_eq!(
            Packet::new_checked(&short[..]).err(),
            Some(DropReason::BadHeaderLength)
        );
    }

    #[test]
    fn fragment_fields_round_trip() {
        let r = Repr {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            protocol: protocol::TCP,
            ttl: 7,
            ident: 0xbeef,
            dont_frag: false,
            more_frags: true,
            frag_offset: 1480,
            payload_len: 16,
        };
        let mut buf = [0u8; 36];
        r.emit(&mut buf);
        assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()), r);
    }
}
