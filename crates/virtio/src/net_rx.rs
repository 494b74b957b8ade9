//! What a received virtio-net buffer holds: a frame to deliver, or a counted reason to
//! drop it. The device's claims (`len` in the used ring, `num_buffers` in the header) are
//! input like any packet and are checked, never trusted.
//!
//! Packets spanning several buffers (`MRG_RXBUF` with `num_buffers > 1`) are not
//! reassembled yet: with 2 KiB buffers and no GSO negotiated they do not occur, but if
//! they do, the first buffer and its continuations (which carry no header) are all
//! dropped, so a continuation is never mistaken for a packet.
use crate::net_hdr::{self, NetHeader};

/// Why a received buffer was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxDrop {
    /// No frame after the header.
    Short,
    /// The device claims more bytes than the buffer holds.
    TooLong,
    /// Part of a multi-buffer packet.
    Merged,
}

/// Classifies the buffers of one receive queue, in used-ring order.
#[derive(Debug, Clone, Default)]
pub struct RxClassifier {
    mrg_rxbuf: bool,
    /// Continuation buffers of a dropped multi-buffer packet still to come.
    skip: u16,
}

impl RxClassifier {
    /// `mrg_rxbuf`: whether `VIRTIO_NET_F_MRG_RXBUF` was negotiated.
    pub fn new(mrg_rxbuf: bool) -> RxClassifier {
        RxClassifier { mrg_rxbuf, skip: 0 }
    }

    /// The frame's range in `buf` (a whole receive buffer) of which the device says it
    /// wrote `used_len` bytes, header included.
    pub fn classify(
        &mut self,
        buf: &[u8],
        used_len: usize,
    ) -> Result<core::ops::Range<usize>, RxDrop> {
        if self.skip > 0 {
            self.skip -= 1;
            return Err(RxDrop::Merged);
        }
        if used_len > buf.len() {
            return Err(RxDrop::TooLong);
        }
        let header = NetHeader::parse(&buf[..used_len]).ok_or(RxDrop::Short)?;
        if self.mrg_rxbuf && header.num_buffers > 1 {
            self.skip = header.num_buffers - 1;
            return Err(RxDrop::Merged);
        }
        if used_len == net_hdr::LEN {
            return Err(RxDrop::Short);
        }
        Ok(net_hdr::LEN..used_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn buffer(num_buffers: u16, frame: &[u8]) -> [u8; 64] {
        let mut b = [0u8; 64];
        NetHeader {
            num_buffers,
            ..NetHeader::default()
        }
        .emit(&mut b)
        .unwrap();
        b[net_hdr::LEN..net_hdr::LEN + frame.len()].copy_from_slice(frame);
        b
    }

    #[test]
    fn frames_and_drop_reasons() {
        let mut c = RxClassifier::new(true);
        let b = buffer(1, b"hello");
        assert_eq!(c.classify(&b, 17), Ok(12..17));
        assert_eq!(c.classify(&b, 12), Err(RxDrop::Short));
        assert_eq!(c.classify(&b, 5), Err(RxDrop::Short));
        assert_eq!(c.classify(&b, 65), Err(RxDrop::TooLong));
    }

    #[test]
    fn multi_buffer_packets_are_dropped_whole() {
        let mut c = RxClassifier::new(true);
        assert_eq!(c.classify(&buffer(3, b"first"), 40), Err(RxDrop::Merged));
        // Two continuations, whatever they look like, then a normal packet again.
        assert_eq!(c.classify(&buffer(1, b"cont"), 64), Err(RxDrop::Merged));
        assert_eq!(c.classify(&[0u8; 64], 64), Err(RxDrop::Merged));
        assert_eq!(c.classify(&buffer(1, b"next"), 16), Ok(12..16));
        // Without MRG_RXBUF the field means nothing.
        assert_eq!(
            RxClassifier::new(false).classify(&buffer(3, b"x"), 13),
            Ok(12..13)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { rng_seed: proptest::test_runner::RngSeed::Fixed(0x4e72), ..ProptestConfig::default() })]

        /// Any buffer and claimed length: a range inside the buffer after the header, or a drop.
        #[test]
        fn never_points_outside_the_buffer(mrg: bool, bufs in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..80), 0usize..100), 1..20)) {
            let mut c = RxClassifier::new(mrg);
            for (buf, len) in bufs {
                if let Ok(r) = c.classify(&buf, len) {
                    prop_assert!(r.start == net_hdr::LEN && r.start < r.end && r.end <= buf.len() && r.end == len);
                }
            }
        }
    }
}
