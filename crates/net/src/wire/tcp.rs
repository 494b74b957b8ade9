//! The TCP header as far as the layer below TCP looks at it (RFC 9293 section 3.1): enough
//! for receive offload ([`crate::gro`]) to tell flows and sequence numbers apart, compare
//! headers and verify checksums. The TCP engine (`halyard-tcp`) has its own full parser;
//! nothing here interprets options.

use super::ipv4::{protocol, pseudo_header};
use super::{be16, be32, check_len, Result};
use crate::DropReason;
use core::net::Ipv4Addr;

/// Length of the fixed header, without options.
pub const HEADER_LEN: usize = 20;

/// The flag bits (byte 13 of the header).
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// Offset of the checksum field.
pub const CHECKSUM_AT: usize = 16;

packet_view! {
    /// A view of a TCP segment (header, options, payload).
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the buffer holds the fixed header and the options its data offset
    /// claims. The checksum is not looked at ([`Packet::verify_checksum`]).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        check_len(b, HEADER_LEN)?;
        let header_len = usize::from(b[12] >> 4) * 4;
        if header_len < HEADER_LEN || header_len > b.len() {
            return Err(DropReason::BadHeaderLength);
        }
        Ok(Packet { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn src_port(&self) -> u16 {
        be16(self.b(), 0)
    }

    pub fn dst_port(&self) -> u16 {
        be16(self.b(), 2)
    }

    pub fn seq(&self) -> u32 {
        be32(self.b(), 4)
    }

    pub fn ack(&self) -> u32 {
        be32(self.b(), 8)
    }

    /// Header length including options.
    pub fn header_len(&self) -> usize {
        usize::from(self.b()[12] >> 4) * 4
    }

    pub fn flags(&self) -> u8 {
        self.b()[13]
    }

    pub fn window(&self) -> u16 {
        be16(self.b(), 14)
    }

    /// The options' bytes, as they are.
    pub fn options(&self) -> &[u8] {
        &self.b()[HEADER_LEN..self.header_len()]
    }

    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }

    /// True if the checksum verifies with the IPv4 pseudo-header of `src` to `dst`.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        let mut c = pseudo_header(src, dst, protocol::TCP, self.b().len());
        c.add_bytes(self.b());
        c.sum16() == 0xffff
    }
}
