//! Receive offloads of virtio-net: which features the driver asks for, and what the
//! header of a received frame lets the stack skip.
//!
//! # Why
//! With a tap backend QEMU neither segments nor checksums: without `GUEST_CSUM` and
//! `GUEST_TSO4` the host kernel splits every large packet into MSS-sized frames and
//! checksums each before QEMU sees it, and the guest verifies each checksum again. With
//! them a frame of up to 64 KB crosses the emulated NIC once, and its checksum is never
//! computed at all: the host's stack produced the data, so the frame carries only the
//! pseudo-header sum (`NEEDS_CSUM`) or the host says it checked it (`DATA_VALID`).
//!
//! # Rules (Linux: `virtio_net_hdr_to_skb`, `include/linux/virtio_net.h`)
//! * `NEEDS_CSUM`: the checksum from `csum_start` on is partial; the frame is accepted
//!   without verification ([`RxChecksum::Partial`], Linux's `CHECKSUM_PARTIAL`) as long as
//!   `csum_start + csum_offset + 2` lies inside the frame. It would have to be completed
//!   before the frame were forwarded; Halyard does not forward.
//! * `DATA_VALID`: the device verified it ([`RxChecksum::Valid`], `CHECKSUM_UNNECESSARY`).
//! * Neither: verified in software as without offloads ([`RxChecksum::Verify`]).
//! * `gso_type` TCPV4 (only when `GUEST_TSO4` was negotiated): one large TCP segment whose
//!   sender's MSS is `gso_size` (not 0); it must be exactly one IPv4 datagram carrying TCP,
//!   its total length that of the frame. Any other GSO type is refused.
//!
//! The flags are honoured only when `GUEST_CSUM` was negotiated: without it the device has
//! no business setting them, and the frame is verified.
use crate::features::{
    Features, NET_CSUM, NET_CTRL_GUEST_OFFLOADS, NET_CTRL_VQ, NET_GUEST_CSUM, NET_GUEST_TSO4,
    NET_HOST_TSO4, NET_MAC, NET_MRG_RXBUF, NET_STATUS, RING_EVENT_IDX,
};
use crate::net_hdr::{self, NetHeader};
use crate::net_rx::RxDrop;

/// Features the network driver uses when offered. `offloads` false (the kernel's
/// `offload=off`) leaves out every offload, receive and transmit. `GUEST_TSO4` is asked
/// for only with `MRG_RXBUF`: without it every receive buffer would have to hold 64 KB.
/// The transmit offloads (`CSUM`, `HOST_TSO4`) are `crate::net_tx`'s; negotiation drops
/// `HOST_TSO4` when `CSUM` is not offered. `CTRL_VQ` with `CTRL_GUEST_OFFLOADS` lets the
/// receive offloads be switched off and on at run time (`crate::net_ctrl`); without
/// offloads there is nothing to switch, so neither is asked for.
pub fn wanted(offered: u64, offloads: bool) -> u64 {
    let base = NET_MAC | NET_STATUS | NET_MRG_RXBUF | RING_EVENT_IDX;
    if !offloads {
        return base;
    }
    let tso = if offered & NET_MRG_RXBUF != 0 {
        NET_GUEST_TSO4
    } else {
        0
    };
    let control = NET_CTRL_VQ | NET_CTRL_GUEST_OFFLOADS;
    base | NET_GUEST_CSUM | tso | NET_CSUM | NET_HOST_TSO4 | control
}

/// What the checksum of a received frame needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxChecksum {
    /// Verify in software.
    Verify,
    /// `NEEDS_CSUM`: partial, accepted as it is.
    Partial,
    /// `DATA_VALID`: checked by the device.
    Valid,
}

impl RxChecksum {
    /// Whether the transport checksum may go unverified.
    pub fn trusted(self) -> bool {
        self != RxChecksum::Verify
    }
}

/// What the stack may skip for one received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxOffload {
    pub checksum: RxChecksum,
    /// The sender's segment size of a TCPv4 GSO frame; `None` for an ordinary frame.
    pub gso_size: Option<u16>,
}

const ETHERNET_HEADER: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const IPPROTO_TCP: u8 = 6;

/// Checks the offload fields of `header` against `frame` (the Ethernet frame it came
/// with) under the `negotiated` features.
pub fn check(header: &NetHeader, frame: &[u8], negotiated: Features) -> Result<RxOffload, RxDrop> {
    if !negotiated.has(NET_GUEST_CSUM) {
        return Ok(RxOffload {
            checksum: RxChecksum::Verify,
            gso_size: None,
        });
    }
    let checksum = if header.flags & net_hdr::F_NEEDS_CSUM != 0 {
        let end = usize::from(header.csum_start) + usize::from(header.csum_offset) + 2;
        if end > frame.len() {
            return Err(RxDrop::CsumStart);
        }
        RxChecksum::Partial
    } else if header.flags & net_hdr::F_DATA_VALID != 0 {
        RxChecksum::Valid
    } else {
        RxChecksum::Verify
    };
    let gso_size = match header.gso_type {
        net_hdr::GSO_NONE => None,
        net_hdr::GSO_TCPV4 if negotiated.has(NET_GUEST_TSO4) => {
            if header.gso_size == 0 {
                return Err(RxDrop::GsoSizeZero);
            }
            if !is_one_tcp_datagram(frame) {
                return Err(RxDrop::GsoIpLength);
            }
            Some(header.gso_size)
        }
        _ => return Err(RxDrop::GsoType),
    };
    Ok(RxOffload { checksum, gso_size })
}

/// The sender's segments a checked TCPv4 GSO frame carries (Linux's `gso_segs`): its TCP
/// payload in `gso_size` pieces, at least one.
pub fn gso_segments(frame: &[u8], gso_size: u16) -> usize {
    let ihl = frame
        .get(ETHERNET_HEADER)
        .map_or(0, |b| usize::from(b & 0x0f) * 4);
    let thl = frame
        .get(ETHERNET_HEADER + ihl + 12)
        .map_or(0, |b| usize::from(b >> 4) * 4);
    let payload = frame.len().saturating_sub(ETHERNET_HEADER + ihl + thl);
    payload.div_ceil(usize::from(gso_size.max(1))).max(1)
}

/// An Ethernet frame holding exactly one IPv4 datagram (total length = the rest of the
/// frame) that carries TCP.
fn is_one_tcp_datagram(frame: &[u8]) -> bool {
    let Some(ip) = frame.get(ETHERNET_HEADER..) else {
        return false;
    };
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let [vihl, _, len_hi, len_lo, _, _, _, _, _, proto, ..] = *ip else {
        return false;
    };
    let header_len = usize::from(vihl & 0x0f) * 4;
    ethertype == ETHERTYPE_IPV4
        && vihl >> 4 == 4
        && header_len >= 20
        && proto == IPPROTO_TCP
        && usize::from(u16::from_be_bytes([len_hi, len_lo])) == ip.len()
        && ip.len() >= header_len + 20
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{negotiate, NET_GUEST_ECN, NET_HOST_ECN, VERSION_1};
    use crate::net_hdr::{F_DATA_VALID, F_NEEDS_CSUM, GSO_ECN, GSO_TCPV4, GSO_TCPV6, GSO_UDP};
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    const ALL: Features = Features(NET_GUEST_CSUM | NET_GUEST_TSO4 | NET_MRG_RXBUF);

    /// An Ethernet frame with an IPv4 header (total length `ip_len`) and `payload` bytes of
    /// TCP after it.
    fn frame(ip_len: u16, tcp_len: usize) -> Vec<u8> {
        let mut f = vec![0u8; ETHERNET_HEADER + 20 + tcp_len];
        f[12..14].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        f[14] = 0x45;
        f[16..18].copy_from_slice(&ip_len.to_be_bytes());
        f[23] = IPPROTO_TCP;
        f
    }

    fn gso(size: u16) -> NetHeader {
        NetHeader {
            flags: F_NEEDS_CSUM,
            gso_type: GSO_TCPV4,
            gso_size: size,
            csum_start: 34,
            csum_offset: 16,
            ..NetHeader::default()
        }
    }

    #[test]
    fn wanted_features_follow_the_switch_and_mrg_rxbuf() {
        let offered = u64::MAX;
        let on = wanted(offered, true);
        assert!(on & NET_GUEST_CSUM != 0 && on & NET_GUEST_TSO4 != 0);
        let off = wanted(offered, false);
        assert_eq!(
            off & (NET_GUEST_CSUM | NET_GUEST_TSO4 | NET_CSUM | NET_HOST_TSO4),
            0
        );
        assert!(on & NET_CSUM != 0 && on & NET_HOST_TSO4 != 0);
        // No MRG_RXBUF: no TSO (buffers would need 64 KB), checksums still.
        let no_mrg = wanted(offered & !NET_MRG_RXBUF, true);
        assert_eq!(no_mrg & NET_GUEST_TSO4, 0);
        assert!(no_mrg & NET_GUEST_CSUM != 0);
        // Negotiation drops TSO4 when the device offers it without GUEST_CSUM.
        let device = VERSION_1 | NET_GUEST_TSO4 | NET_GUEST_ECN | NET_MRG_RXBUF;
        let got = negotiate(device, wanted(device, true), VERSION_1).unwrap();
        assert_eq!(got.0, VERSION_1 | NET_MRG_RXBUF);
        // And keeps it with GUEST_CSUM; ECN is never asked for.
        let device = device | NET_GUEST_CSUM;
        let got = negotiate(device, wanted(device, true), VERSION_1).unwrap();
        assert_eq!(
            got.0,
            VERSION_1 | NET_MRG_RXBUF | NET_GUEST_CSUM | NET_GUEST_TSO4
        );
        // Transmit: HOST_TSO4 needs CSUM; HOST_ECN is never asked for.
        let device = VERSION_1 | NET_HOST_TSO4 | NET_HOST_ECN;
        let got = negotiate(device, wanted(device, true), VERSION_1).unwrap();
        assert_eq!(got.0, VERSION_1);
        let device = device | NET_CSUM;
        let got = negotiate(device, wanted(device, true), VERSION_1).unwrap();
        assert_eq!(got.0, VERSION_1 | NET_CSUM | NET_HOST_TSO4);
    }

    #[test]
    fn gso_frames_count_their_segments() {
        let mut f = frame(20 + 20 + 3000, 20 + 3000);
        f[14 + 20 + 12] = 0x50;
        assert_eq!(gso_segments(&f, 1448), 3);
        assert_eq!(gso_segments(&f, 1500), 2);
        assert_eq!(gso_segments(&f, 3000), 1);
        f[14 + 20 + 12] = 0x80; // 12 bytes of options
        assert_eq!(gso_segments(&f, 1494), 2);
        assert_eq!(gso_segments(&f, 0), 2988);
        assert_eq!(gso_segments(&[], 1448), 1);
    }

    #[test]
    fn checksum_flags() {
        let f = frame(60, 40);
        let mut h = NetHeader {
            flags: F_NEEDS_CSUM,
            csum_start: 34,
            csum_offset: 16,
            ..NetHeader::default()
        };
        assert_eq!(check(&h, &f, ALL).unwrap().checksum, RxChecksum::Partial);
        // Not negotiated: verify whatever the flags say.
        assert_eq!(
            check(&h, &f, Features(0)).unwrap().checksum,
            RxChecksum::Verify
        );
        h.csum_offset = f.len() as u16 - 34 - 1;
        assert_eq!(check(&h, &f, ALL), Err(RxDrop::CsumStart));
        h.csum_start = u16::MAX;
        h.csum_offset = u16::MAX;
        assert_eq!(check(&h, &f, ALL), Err(RxDrop::CsumStart));
        h.flags = F_DATA_VALID;
        assert_eq!(check(&h, &f, ALL).unwrap().checksum, RxChecksum::Valid);
        h.flags = 0;
        let plain = check(&h, &f, ALL).unwrap();
        assert_eq!(plain.checksum, RxChecksum::Verify);
        assert!(!plain.checksum.trusted() && plain.gso_size.is_none());
    }

    #[test]
    fn gso_headers() {
        let len = 65_000;
        let f = frame(len as u16, len - 20);
        assert_eq!(check(&gso(1448), &f, ALL).unwrap().gso_size, Some(1448));
        assert_eq!(check(&gso(0), &f, ALL), Err(RxDrop::GsoSizeZero));
        // TSO4 not negotiated, or a type the stack does not take.
        assert_eq!(
            check(&gso(1448), &f, Features(NET_GUEST_CSUM)),
            Err(RxDrop::GsoType)
        );
        for t in [GSO_UDP, GSO_TCPV6, GSO_TCPV4 | GSO_ECN, 0x42] {
            let h = NetHeader {
                gso_type: t,
                ..gso(1448)
            };
            assert_eq!(check(&h, &f, ALL), Err(RxDrop::GsoType), "type {t:#x}");
        }
        // The IP length must be the frame's, and the datagram IPv4 carrying TCP.
        for bad_len in [len as u16 - 1, len as u16 + 1, 0, 19] {
            let f = frame(bad_len, len - 20);
            assert_eq!(check(&gso(1448), &f, ALL), Err(RxDrop::GsoIpLength));
        }
        let mut udp = f.clone();
        udp[23] = 17;
        let mut v6 = f.clone();
        v6[14] = 0x65;
        let mut arp = f.clone();
        arp[12] = 0x08;
        arp[13] = 0x06;
        let mut ihl = f.clone();
        ihl[14] = 0x44;
        let valid = NetHeader {
            flags: F_DATA_VALID,
            ..gso(1448)
        };
        for bad in [udp, v6, arp, ihl, f[..20].to_vec(), Vec::new()] {
            assert_eq!(check(&valid, &bad, ALL), Err(RxDrop::GsoIpLength));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { rng_seed: proptest::test_runner::RngSeed::Fixed(0x0ff1), ..ProptestConfig::default() })]

        /// Any header and frame: an outcome, and a partial checksum only inside the frame.
        #[test]
        fn never_panics_and_bounds_hold(bytes: [u8; net_hdr::LEN], frame in proptest::collection::vec(any::<u8>(), 0..200), features: u64) {
            let h = NetHeader::parse(&bytes).unwrap();
            if let Ok(o) = check(&h, &frame, Features(features)) {
                if o.checksum == RxChecksum::Partial {
                    prop_assert!(usize::from(h.csum_start) + usize::from(h.csum_offset) + 2 <= frame.len());
                }
                if let Some(s) = o.gso_size {
                    prop_assert!(s != 0 && frame.len() >= 54);
                }
            }
        }
    }
}
