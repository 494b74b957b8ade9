//! The fixed TCP header (RFC 9293 section 3.1) plus the IPv4 pseudo-header checksum.

use core::net::Ipv4Addr;

use inet_checksum::Checksum;

use super::{Flags, Options, WireError};
use crate::rx_hints::RxHints;
use crate::seq::Seq;

/// Length of the fixed header, without options.
pub const HEADER_LEN: usize = 20;

const IPPROTO_TCP: u16 = 6;

/// Every header field of one segment, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegmentHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: Seq,
    pub ack: Seq,
    pub flags: Flags,
    /// The raw (unscaled) window field.
    pub window: u16,
    pub urgent: u16,
    pub options: Options,
}

/// A parsed, checksum-verified segment borrowing its payload from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    pub header: SegmentHeader,
    pub payload: &'a [u8],
    /// The sender's segment size when the device coalesced several into this one.
    pub gso_size: Option<u16>,
}

fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, tcp_len: usize) -> Checksum {
    let mut c = Checksum::new();
    c.add_bytes(&src.octets());
    c.add_bytes(&dst.octets());
    c.add_u16(IPPROTO_TCP);
    c.add_u16(tcp_len as u16);
    c
}

/// Computes and stores the checksum of a complete segment in `seg` (header with its
/// checksum field, options and payload) sent from `src` to `dst`. For tools that build
/// segments by hand (fuzzing, tests).
pub fn fill_checksum(seg: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) {
    if seg.len() < HEADER_LEN {
        return;
    }
    seg[16] = 0;
    seg[17] = 0;
    let mut c = pseudo_header(src, dst, seg.len());
    c.add_bytes(seg);
    seg[16..18].copy_from_slice(&c.finish().to_be_bytes());
}

/// Stores only the pseudo-header sum of `seg` (a complete segment from `src` to `dst`) in
/// its checksum field, folded and not complemented: what a device that offloads the
/// checksum expects (it adds the segment's bytes from the header on and stores the
/// complement; Linux's `CHECKSUM_PARTIAL`, virtio-net's `NEEDS_CSUM`).
pub fn fill_partial_checksum(seg: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) {
    if seg.len() < HEADER_LEN {
        return;
    }
    let sum = pseudo_header(src, dst, seg.len()).sum16();
    seg[16..18].copy_from_slice(&sum.to_be_bytes());
}

impl<'a> Segment<'a> {
    /// Parses and verifies `data` (TCP header, options and payload) that arrived from `src`
    /// to `dst`.
    pub fn parse(data: &'a [u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<Segment<'a>, WireError> {
        Segment::parse_with(data, src, dst, RxHints::default())
    }

    /// [`Self::parse`] with what the device said: the checksum is not verified when it
    /// vouched for it, and the segment keeps its `gso_size`.
    pub fn parse_with(
        data: &'a [u8],
        src: Ipv4Addr,
        dst: Ipv4Addr,
        hints: RxHints,
    ) -> Result<Segment<'a>, WireError> {
        if data.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let hlen = usize::from(data[12] >> 4) * 4;
        if hlen < HEADER_LEN || hlen > data.len() {
            return Err(WireError::BadDataOffset);
        }
        if !hints.checksum_trusted {
            let mut c = pseudo_header(src, dst, data.len());
            c.add_bytes(data);
            if c.sum16() != 0xffff {
                return Err(WireError::BadChecksum);
            }
        }
        let be16 = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
        let be32 = |i: usize| u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        let header = SegmentHeader {
            src_port: be16(0),
            dst_port: be16(2),
            seq: Seq(be32(4)),
            ack: Seq(be32(8)),
            flags: Flags(data[13] & 0x3f),
            window: be16(14),
            urgent: be16(18),
            options: Options::parse(&data[HEADER_LEN..hlen])?,
        };
        let f = header.flags;
        let bad_flags =
            f.contains(Flags::SYN) && (f.contains(Flags::RST) || f.contains(Flags::FIN));
        if header.src_port == 0 || header.dst_port == 0 || bad_flags {
            return Err(WireError::BadFlagsOrPorts);
        }
        Ok(Segment {
            header,
            payload: &data[hlen..],
            gso_size: hints.gso_size,
        })
    }

    /// Sequence space the segment occupies: payload plus one each for SYN and FIN.
    pub fn seq_len(&self) -> u32 {
        let f = self.header.flags;
        self.payload.len() as u32
            + u32::from(f.contains(Flags::SYN))
            + u32::from(f.contains(Flags::FIN))
    }
}

impl SegmentHeader {
    /// Header length including padded options.
    pub fn len(&self) -> usize {
        HEADER_LEN + self.options.emitted_len()
    }

    /// Always false: a header is never empty (present for API symmetry with `len`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the header into `buf[..self.len()]` and the checksum over it and the
    /// `payload_len` bytes the caller already placed right after it. Returns the total
    /// segment length.
    pub fn emit(&self, buf: &mut [u8], payload_len: usize, src: Ipv4Addr, dst: Ipv4Addr) -> usize {
        self.emit_with(buf, payload_len, src, dst, false)
    }

    /// [`Self::emit`], with only the pseudo-header sum in the checksum field when
    /// `partial` ([`fill_partial_checksum`]): the payload is not read.
    pub fn emit_with(
        &self,
        buf: &mut [u8],
        payload_len: usize,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        partial: bool,
    ) -> usize {
        let hlen = self.len();
        buf[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        buf[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        buf[4..8].copy_from_slice(&self.seq.0.to_be_bytes());
        buf[8..12].copy_from_slice(&self.ack.0.to_be_bytes());
        buf[12] = ((hlen / 4) as u8) << 4;
        buf[13] = self.flags.0;
        buf[14..16].copy_from_slice(&self.window.to_be_bytes());
        buf[18..20].copy_from_slice(&self.urgent.to_be_bytes());
        self.options.emit(&mut buf[HEADER_LEN..hlen]);
        let total = hlen + payload_len;
        if partial {
            fill_partial_checksum(&mut buf[..total], src, dst);
        } else {
            fill_checksum(&mut buf[..total], src, dst);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn sample() -> SegmentHeader {
        SegmentHeader {
            src_port: 1234,
            dst_port: 80,
            seq: Seq(0xdead_beef),
            ack: Seq(42),
            flags: Flags::ACK | Flags::PSH,
            window: 5000,
            urgent: 0,
            options: Options {
                timestamp: Some((1, 2)),
                ..Options::default()
            },
        }
    }

    /// RFC 9293 section 3.1 (header layout) and 3.1 "Checksum" (pseudo-header).
    #[test]
    fn rfc9293_3_1_emit_parse_round_trip() {
        let h = sample();
        let mut buf = [0u8; 100];
        let hl = h.len();
        buf[hl..hl + 5].copy_from_slice(b"hello");
        let n = h.emit(&mut buf, 5, A, B);
        let s = Segment::parse(&buf[..n], A, B).unwrap();
        assert_eq!(s.header, h);
        assert_eq!(s.payload, b"hello");
        assert_eq!(s.seq_len(), 5);
        // A wrong address fails the pseudo-header checksum.
        let c = Ipv4Addr::new(10, 0, 0, 3);
        assert_eq!(
            Segment::parse(&buf[..n], c, B).map(|_| ()),
            Err(WireError::BadChecksum)
        );
        // Any single flipped bit is caught.
        for i in 0..n {
            let mut c = buf;
            c[i] ^= 0x10;
            assert!(Segment::parse(&c[..n], A, B).is_err(), "byte {i}");
        }
    }

    /// A partial checksum is the pseudo-header sum; a device that adds the segment's bytes
    /// to it and stores the complement arrives at the full checksum.
    #[test]
    fn partial_checksum_completes_to_the_full_one() {
        let h = sample();
        let mut full = [0u8; 100];
        let hl = h.len();
        full[hl..hl + 7].copy_from_slice(b"offload");
        let mut partial = full;
        let n = h.emit(&mut full, 7, A, B);
        assert_eq!(h.emit_with(&mut partial, 7, A, B, true), n);
        assert_eq!(partial[..16], full[..16]);
        assert_eq!(partial[18..n], full[18..n]);
        assert_eq!(
            u16::from_be_bytes([partial[16], partial[17]]),
            pseudo_header(A, B, n).sum16()
        );
        let mut device = Checksum::new();
        device.add_bytes(&partial[..n]);
        partial[16..18].copy_from_slice(&device.finish().to_be_bytes());
        assert_eq!(partial[..n], full[..n]);
    }

    #[test]
    fn malformed_headers_rejected() {
        let mut buf = [0u8; 60];
        let n = sample().emit(&mut buf, 0, A, B);
        assert_eq!(Segment::parse(&buf[..19], A, B), Err(WireError::Truncated));
        let mut bad = buf;
        bad[12] = 0x40; // 4 words
        assert_eq!(
            Segment::parse(&bad[..n], A, B),
            Err(WireError::BadDataOffset)
        );
        bad[12] = 0xf0; // 60 bytes, more than we have
        assert_eq!(
            Segment::parse(&bad[..n], A, B),
            Err(WireError::BadDataOffset)
        );
        let mut h = sample();
        h.flags = Flags::SYN | Flags::RST;
        let n = h.emit(&mut buf, 0, A, B);
        assert_eq!(
            Segment::parse(&buf[..n], A, B),
            Err(WireError::BadFlagsOrPorts)
        );
        let mut h = sample();
        h.src_port = 0;
        let n = h.emit(&mut buf, 0, A, B);
        assert_eq!(
            Segment::parse(&buf[..n], A, B),
            Err(WireError::BadFlagsOrPorts)
        );
    }
}
