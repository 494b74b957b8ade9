//! ARP for IPv4 over Ethernet (RFC 826). Other hardware or protocol types are malformed
//! for our purposes and rejected by [`Packet::new_checked`].

use super::{addr, be16, check_len, Result};
use crate::wire::ethernet::EthernetAddress;
use crate::DropReason;
use core::net::Ipv4Addr;

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = 28;

/// ARP opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Request = 1,
    Reply = 2,
}

packet_view! {
    /// A view of an Ethernet/IPv4 ARP packet.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks length, hardware/protocol types and sizes, and the opcode.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        check_len(b, PACKET_LEN)?;
        let op = be16(b, 6);
        if be16(b, 0) != 1
            || be16(b, 2) != 0x0800
            || b[4] != 6
            || b[5] != 4
            || !(1..=2).contains(&op)
        {
            return Err(DropReason::ArpMalformed);
        }
        Ok(Packet { buffer })
    }

    pub fn operation(&self) -> Operation {
        if be16(self.buffer.as_ref(), 6) == 1 {
            Operation::Request
        } else {
            Operation::Reply
        }
    }

    pub fn sender_hardware_addr(&self) -> EthernetAddress {
        let mut m = [0u8; 6];
        m.copy_from_slice(&self.buffer.as_ref()[8..14]);
        EthernetAddress(m)
    }

    pub fn sender_protocol_addr(&self) -> Ipv4Addr {
        addr(self.buffer.as_ref(), 14)
    }

    pub fn target_hardware_addr(&self) -> EthernetAddress {
        let mut m = [0u8; 6];
        m.copy_from_slice(&self.buffer.as_ref()[18..24]);
        EthernetAddress(m)
    }

    pub fn target_protocol_addr(&self) -> Ipv4Addr {
        addr(self.buffer.as_ref(), 24)
    }
}

/// The meaning of an ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub operation: Operation,
    pub source_hardware_addr: EthernetAddress,
    pub source_protocol_addr: Ipv4Addr,
    pub target_hardware_addr: EthernetAddress,
    pub target_protocol_addr: Ipv4Addr,
}

impl Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        Repr {
            operation: p.operation(),
            source_hardware_addr: p.sender_hardware_addr(),
            source_protocol_addr: p.sender_protocol_addr(),
            target_hardware_addr: p.target_hardware_addr(),
            target_protocol_addr: p.target_protocol_addr(),
        }
    }

    /// Writes the packet into the first [`PACKET_LEN`] bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) {
        buf[0..2].copy_from_slice(&1u16.to_be_bytes());
        buf[2..4].copy_from_slice(&0x0800u16.to_be_bytes());
        buf[4] = 6;
        buf[5] = 4;
        buf[6..8].copy_from_slice(&(self.operation as u16).to_be_bytes());
        buf[8..14].copy_from_slice(&self.source_hardware_addr.0);
        buf[14..18].copy_from_slice(&self.source_protocol_addr.octets());
        buf[18..24].copy_from_slice(&self.target_hardware_addr.0);
        buf[24..28].copy_from_slice(&self.target_protocol_addr.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ARP request captured on a LAN: who-has 192.168.1.1 tell 192.168.1.100.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc, 192,
        168, 1, 100, 0, 0, 0, 0, 0, 0, 192, 168, 1, 1,
    ];

    #[test]
    fn parses_capture() {
        let r = Repr::parse(&Packet::new_checked(&REQUEST[..]).unwrap());
        assert_eq!(r.operation, Operation::Request);
        assert_eq!(
            r.source_hardware_addr,
            EthernetAddress([0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc])
        );
        assert_eq!(r.source_protocol_addr, Ipv4Addr::new(192, 168, 1, 100));
        assert_eq!(r.target_protocol_addr, Ipv4Addr::new(192, 168, 1, 1));
        let mut out = [0u8; PACKET_LEN];
        r.emit(&mut out);
        assert_eq!(out, REQUEST);
    }

    #[test]
    fn malformed_cases() {
        assert_eq!(
            Packet::new_checked(&REQUEST[..27]).err(),
            Some(DropReason::TooShort)
        );
        for (at, value) in [(1, 6), (2, 0x86), (4, 8), (5, 16), (7, 3), (7, 0)] {
            let mut bad = REQUEST;
            bad[at] = value;
            assert_eq!(
                Packet::new_checked(&bad[..]).err(),
                Some(DropReason::ArpMalformed),
                "byte {at}"
            );
        }
    }
}
