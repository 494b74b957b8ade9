//! Ethernet II frames (no 802.1Q: tagged frames are recognised only to be dropped).

use super::{be16, check_len, Result};
use core::fmt;

/// A 48-bit MAC address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);

    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Group bit set (includes broadcast).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 != 0
    }

    /// A unicast address usable as a source.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }
}

impl fmt::Display for EthernetAddress {
    /// The usual `52:54:00:12:34:56` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// EtherType values this stack knows about.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
}

/// Length of the Ethernet II header.
pub const HEADER_LEN: usize = 14;

packet_view! {
    /// A view of an Ethernet II frame.
    Frame
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps `buffer` after checking it holds at least a header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        check_len(buffer.as_ref(), HEADER_LEN)?;
        Ok(Frame { buffer })
    }

    pub fn dst(&self) -> EthernetAddress {
        mac_at(self.buffer.as_ref(), 0)
    }

    pub fn src(&self) -> EthernetAddress {
        mac_at(self.buffer.as_ref(), 6)
    }

    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), 12)
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

fn mac_at(b: &[u8], at: usize) -> EthernetAddress {
    let mut m = [0u8; 6];
    m.copy_from_slice(&b[at..at + 6]);
    EthernetAddress(m)
}

/// The meaning of an Ethernet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub src: EthernetAddress,
    pub dst: EthernetAddress,
    pub ethertype: u16,
}

impl Repr {
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Repr {
        Repr {
            src: frame.src(),
            dst: frame.dst(),
            ethertype: frame.ethertype(),
        }
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `buf` (which must be that long).
    pub fn emit(&self, buf: &mut [u8]) {
        buf[0..6].copy_from_slice(&self.dst.0);
        buf[6..12].copy_from_slice(&self.src.0);
        buf[12..14].copy_from_slice(&self.ethertype.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DropReason;

    // Start of a captured ARP request frame: broadcast from 00:0c:29:aa:bb:cc.
    const CAPTURE: [u8; 16] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc, 0x08, 0x06, 0x00,
        0x01,
    ];

    #[test]
    fn parses_capture() {
        let f = Frame::new_checked(&CAPTURE[..]).unwrap();
        let r = Repr::parse(&f);
        assert!(r.dst.is_broadcast());
        assert_eq!(r.src, EthernetAddress([0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc]));
        assert_eq!(r.ethertype, ethertype::ARP);
        assert_eq!(f.payload(), &[0x00, 0x01]);
    }

    #[test]
    fn round_trip() {
        let r = Repr {
            src: EthernetAddress([2, 0, 0, 0, 0, 1]),
            dst: EthernetAddress([2, 0, 0, 0, 0, 2]),
            ethertype: ethertype::IPV4,
        };
        let mut buf = [0u8; HEADER_LEN];
        r.emit(&mut buf);
        assert_eq!(Repr::parse(&Frame::new_checked(&buf[..]).unwrap()), r);
    }

    #[test]
    fn short_frames_rejected() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                Frame::new_checked(&CAPTURE[..len]).err(),
                Some(DropReason::TooShort)
            );
        }
    }

    #[test]
    fn address_classes() {
        assert!(EthernetAddress::BROADCAST.is_multicast());
        assert!(EthernetAddress([1, 0, 0x5e, 0, 0, 1]).is_multicast());
        assert!(EthernetAddress([2, 0, 0, 0, 0, 1]).is_unicast());
        assert_eq!(
            format!("{:?}", EthernetAddress([2, 0, 0, 0xab, 0, 1])),
            "02:00:00:ab:00:01"
        );
    }
}
