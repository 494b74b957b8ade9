//! The header in front of every virtio-net packet (virtio 1.x `struct virtio_net_hdr`).
//!
//! With `VERSION_1` it is always 12 bytes, `num_buffers` included (only meaningful on
//! receive with `MRG_RXBUF`; the driver writes 0 on transmit). Fields are little-endian.

/// Bytes of the header with `VERSION_1`.
pub const LEN: usize = 12;

/// `flags`: the checksum from `csum_start` on is still to be computed.
pub const F_NEEDS_CSUM: u8 = 1;
/// `flags`: the checksum was validated by the device.
pub const F_DATA_VALID: u8 = 2;
/// `gso_type`: not a GSO packet.
pub const GSO_NONE: u8 = 0;
/// `gso_type`: a TCP over IPv4 packet larger than `gso_size` (TSO/GRO), one MSS per
/// `gso_size` bytes of payload.
pub const GSO_TCPV4: u8 = 1;
/// `gso_type`: UDP fragmentation offload.
pub const GSO_UDP: u8 = 3;
/// `gso_type`: TCP over IPv6.
pub const GSO_TCPV6: u8 = 4;
/// `gso_type` bit: the segments carry ECN's CWR (needs `GUEST_ECN`).
pub const GSO_ECN: u8 = 0x80;

/// A parsed or to-be-emitted header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetHeader {
    pub flags: u8,
    pub gso_type: u8,
    pub hdr_len: u16,
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
    /// Buffers this received packet spans (`MRG_RXBUF`).
    pub num_buffers: u16,
}

impl NetHeader {
    /// Parses the header at the start of `buf`; `None` when `buf` is shorter than [`LEN`].
    pub fn parse(buf: &[u8]) -> Option<NetHeader> {
        let b: &[u8; LEN] = buf.get(..LEN)?.try_into().ok()?;
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        Some(NetHeader {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
            num_buffers: u16_at(10),
        })
    }

    /// Writes the header into the first [`LEN`] bytes of `buf`; `None` when it is shorter.
    pub fn emit(&self, buf: &mut [u8]) -> Option<()> {
        let b = buf.get_mut(..LEN)?;
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_le_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_le_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_le_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_le_bytes());
        b[10..12].copy_from_slice(&self.num_buffers.to_le_bytes());
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn field_offsets() {
        let h = NetHeader {
            flags: F_NEEDS_CSUM,
            gso_type: GSO_NONE,
            hdr_len: 0x0201,
            gso_size: 0x0403,
            csum_start: 0x0605,
            csum_offset: 0x0807,
            num_buffers: 0x0a09,
        };
        let mut b = [0u8; LEN];
        h.emit(&mut b).unwrap();
        assert_eq!(b, [1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(NetHeader::parse(&b), Some(h));
    }

    #[test]
    fn short_buffers_are_refused() {
        assert_eq!(NetHeader::parse(&[0u8; LEN - 1]), None);
        assert_eq!(NetHeader::default().emit(&mut [0u8; 3]), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig { rng_seed: proptest::test_runner::RngSeed::Fixed(0x4d12), ..ProptestConfig::default() })]

        #[test]
        fn parse_emit_round_trip(bytes: [u8; LEN], tail in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut buf = bytes.to_vec();
            buf.extend(tail);
            let h = NetHeader::parse(&buf).unwrap();
            let mut out = [0u8; LEN];
            h.emit(&mut out).unwrap();
            prop_assert_eq!(out, bytes);
        }
    }
}
