//! Transmit offloads: what an outgoing datagram leaves to the device.
//!
//! A transport may write only the pseudo-header sum into its checksum field (Linux's
//! `CHECKSUM_PARTIAL`) and TCP may hand over a super-segment of several MSS (TSO); the
//! device then completes the checksum and cuts the segments (virtio-net's `CSUM` and
//! `HOST_TSO4`; with a tap backend the host's kernel does it natively). What the device
//! cannot do is done here before the frame is queued, as Linux's `skb_checksum_help` and
//! software GSO would: a partial checksum is completed in software when the device does
//! not offload checksums or when the datagram has to be fragmented (a device completes
//! the checksum of one frame, not of a datagram spread over several), and a super-segment
//! for a device without TSO is fragmented like any datagram larger than the MTU (correct,
//! but slow; the TCP engine is told not to make them then).
use inet_checksum::Checksum;

/// What a datagram's payload leaves undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxOffload {
    /// The transport checksum holds only the pseudo-header sum; its field is this many
    /// bytes into the IPv4 payload (16 for TCP, 6 for UDP) and covers the whole payload.
    pub csum_offset: Option<u16>,
    /// A TCP super-segment whose payload is to be cut into segments of this size.
    pub gso_size: Option<u16>,
}

/// What the interface's device does (from the features it negotiated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxCaps {
    /// Completes partial checksums (virtio-net `CSUM`).
    pub checksum: bool,
    /// Cuts TCP super-segments (virtio-net `HOST_TSO4`).
    pub tso: bool,
}

/// TCP's checksum field, bytes into its header.
pub const TCP_CSUM_OFFSET: u16 = 16;
/// UDP's checksum field, bytes into its header.
pub const UDP_CSUM_OFFSET: u16 = 6;

/// Completes the partial checksum at `offset` of `payload` in software: adds every byte
/// (the field holds the pseudo-header sum) and stores the complement. Returns false, and
/// leaves `payload` alone, when the field lies outside it.
pub fn complete_checksum(payload: &mut [u8], offset: usize) -> bool {
    if offset + 2 > payload.len() {
        return false;
    }
    let mut c = Checksum::new();
    c.add_bytes(payload);
    payload[offset..offset + 2].copy_from_slice(&c.finish().to_be_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv4::pseudo_header;
    use core::net::Ipv4Addr;

    /// A partial checksum completed in software equals the one computed at once.
    #[test]
    fn completion_gives_the_full_checksum() {
        let (src, dst) = (Ipv4Addr::new(10, 0, 2, 15), Ipv4Addr::new(10, 0, 2, 2));
        let mut seg: std::vec::Vec<u8> = (0..101u8).collect();
        seg[16] = 0;
        seg[17] = 0;
        let mut full = pseudo_header(src, dst, 6, seg.len());
        full.add_bytes(&seg);
        let pseudo = pseudo_header(src, dst, 6, seg.len()).sum16();
        seg[16..18].copy_from_slice(&pseudo.to_be_bytes());
        assert!(complete_checksum(&mut seg, 16));
        assert_eq!(u16::from_be_bytes([seg[16], seg[17]]), full.finish());
        assert!(!complete_checksum(&mut seg[..17], 16));
    }
}
