//! UDP (RFC 768). The checksum covers a pseudo-header, so verification needs the IPv4
//! addresses and happens in [`Repr::parse`]; a zero checksum means "not computed".

use super::ipv4::{protocol, pseudo_header};
use super::{be16, check_len, Result};
use crate::DropReason;
use core::net::Ipv4Addr;

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;

packet_view! {
    /// A view of a UDP datagram (the length field bounds the payload).
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the header fits and the length field is consistent with the buffer.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        check_len(b, HEADER_LEN)?;
        let len = usize::from(be16(b, 4));
        if len < HEADER_LEN || len > b.len() {
            return Err(DropReason::BadLength);
        }
        Ok(Packet { buffer })
    }

    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }

    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    pub fn len(&self) -> usize {
        usize::from(be16(self.buffer.as_ref(), 4))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == HEADER_LEN
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.len()]
    }

    /// True if the checksum is absent (zero) or verifies with the pseudo-header.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        if self.checksum() == 0 {
            return true;
        }
        let mut c = pseudo_header(src, dst, protocol::UDP, self.len());
        c.add_bytes(&self.buffer.as_ref()[..self.len()]);
        c.sum16() == 0xffff
    }
}

/// The meaning of a UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub src_port: u16,
    pub dst_port: u16,
}

impl Repr {
    /// Parses and verifies the checksum against the IPv4 addresses.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>, src: Ipv4Addr, dst: Ipv4Addr) -> Result<Repr> {
        if !p.verify_checksum(src, dst) {
            return Err(DropReason::BadChecksum);
        }
        Ok(Repr::unverified(p))
    }

    /// Parses without looking at the checksum: for a datagram whose checksum the device
    /// vouched for.
    pub fn unverified<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        Repr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
        }
    }

    /// Writes header and `payload` into `buf[..HEADER_LEN + payload.len()]` with a checksum.
    pub fn emit(&self, buf: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) {
        self.emit_with(buf, src, dst, payload, false);
    }

    /// [`Self::emit`], with only the pseudo-header sum (folded, not complemented) in the
    /// checksum field when `partial`: the device completes it (checksum offload).
    pub fn emit_with(
        &self,
        buf: &mut [u8],
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
        partial: bool,
    ) {
        let len = HEADER_LEN + payload.len();
        buf[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        buf[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        buf[4..6].copy_from_slice(&(len as u16).to_be_bytes());
        buf[6..8].copy_from_slice(&[0, 0]);
        buf[HEADER_LEN..len].copy_from_slice(payload);
        if partial {
            let sum = pseudo_header(src, dst, protocol::UDP, len).sum16();
            buf[6..8].copy_from_slice(&sum.to_be_bytes());
            return;
        }
        let mut c = pseudo_header(src, dst, protocol::UDP, len);
        c.add_bytes(&buf[..len]);
        // A computed zero is sent as all ones: zero on the wire means "no checksum".
        let sum = match c.finish() {
            0 => 0xffff,
            s => s,
        };
        buf[6..8].copy_from_slice(&sum.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
    const DST: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);

    // A DNS query header captured from 192.168.1.10:53142 to 192.168.1.1:53 (payload "hi").
    fn capture() -> [u8; 10] {
        let mut b = [0xcf, 0x96, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, b'h', b'i'];
        let mut c = pseudo_header(SRC, DST, protocol::UDP, 10);
        c.add_bytes(&b);
        b[6..8].copy_from_slice(&c.finish().to_be_bytes());
        b
    }

    #[test]
    fn parses_and_round_trips() {
        let b = capture();
        let p = Packet::new_checked(&b[..]).unwrap();
        let r = Repr::parse(&p, SRC, DST).unwrap();
        assert_eq!(
            r,
            Repr {
                src_port: 53142,
                dst_port: 53
            }
        );
        assert_eq!(p.payload(), b"hi");
        let mut out = [0u8; 10];
        r.emit(&mut out, SRC, DST, b"hi");
        assert_eq!(out, b);
    }

    #[test]
    fn zero_checksum_means_none() {
        let mut b = capture();
        b[6] = 0;
        b[7] = 0;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(Repr::parse(&p, SRC, DST).is_ok());
        // The same datagram with wrong addresses and a real checksum fails.
        let good = capture();
        let p = Packet::new_checked(&good[..]).unwrap();
        assert_eq!(
            Repr::parse(&p, DST, SRC).ok(),
            Some(Repr {
                src_port: 53142,
                dst_port: 53
            }),
            "swap keeps sum"
        );
        assert_eq!(
            Repr::parse(&p, SRC, Ipv4Addr::new(192, 168, 1, 2)).err(),
            Some(DropReason::BadChecksum)
        );
    }

    #[test]
    fn malformed_cases() {
        let b = capture();
        assert_eq!(
            Packet::new_checked(&b[..7]).err(),
            Some(DropReason::TooShort)
        );
        let mut long = b;
        long[5] = 11;
        assert_eq!(
            Packet::new_checked(&long[..]).err(),
            Some(DropReason::BadLength)
        );
        let mut short = b;
        short[5] = 7;
        assert_eq!(
            Packet::new_checked(&short[..]).err(),
            Some(DropReason::BadLength)
        );
        let mut flipped = b;
        flipped[8] ^= 0x40;
        let p = Packet::new_checked(&flipped[..]).unwrap();
        assert_eq!(
            Repr::parse(&p, SRC, DST).err(),
            Some(DropReason::BadChecksum)
        );
    }
}
