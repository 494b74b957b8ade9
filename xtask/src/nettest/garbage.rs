//! Malformed Ethernet frames for the `net-tap-garbage` test: each one has exactly one kind of
//! defect ([`Defect`]) so the guest's drop counters can be read by reason: every kind
//! names the counters its frames must end in ([`Defect::counted_as`]).
//!
//! Seeded (`test_rng`, the tests' one generator): a failing run is replayed with the same seed and gets the same
//! frames. Frames are built by hand rather than with the kernel's own `net` crate so that a
//! misunderstanding of the wire format in that crate cannot hide in the test too. Every frame
//! has a complete 14-byte Ethernet header (Linux refuses to send shorter ones on a tap) and
//! at most 1514 bytes (the tap's MTU plus header).

use inet_checksum::checksum;
use test_rng::TestRng;

/// What is wrong with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// IPv4 ethertype, fewer than 20 bytes of header.
    Ipv4Truncated,
    /// A complete IPv4 header whose checksum is wrong.
    Ipv4BadChecksum,
    /// Total length larger than the frame or smaller than the header (checksum right).
    Ipv4BadTotalLength,
    /// Header length below 5 words or beyond the packet (checksum right).
    Ipv4BadHeaderLength,
    /// Version field other than 4 in an IPv4-typed frame (checksum right).
    Ipv4BadVersion,
    /// Fragment fields no datagram can have: more-fragments set with a payload that is not
    /// a multiple of 8 bytes, or an offset that puts the fragment's end past 65,535.
    Ipv4BadFragment,
    /// A valid first fragment (more-fragments, offset 0) of a datagram whose other
    /// fragments never come: held by reassembly until its limits refuse more.
    Ipv4Fragment,
    /// A valid IPv4 packet carrying an ICMP echo request with a wrong checksum.
    IcmpBadChecksum,
    /// A valid IPv4 packet carrying UDP whose length field is impossible.
    UdpBadLength,
    /// A valid IPv4 packet carrying a TCP segment with a wrong checksum. Sent from the host
    /// side it carries no virtio-net checksum flag, so even with the receive offloads on
    /// the guest must verify it and drop it.
    TcpBadChecksum,
    /// ARP ethertype, fewer than 28 bytes.
    ArpTruncated,
    /// 28 bytes of ARP with a wrong hardware/protocol type, size or opcode.
    ArpMalformed,
    /// An ethertype the guest does not speak (never 802.1Q's, which has its own reason).
    UnknownEthertype,
    /// IPv4 ethertype followed by random bytes that are never a valid IPv4 header.
    RandomPayload,
}

impl Defect {
    /// The guest's counters (`counters` names) that a frame of this kind ends in: the
    /// kernel's drop reason for it, or for the kinds whose exact reason depends on the
    /// bytes, the reasons of that layer. Together they must rise by the frames of the kind
    /// that reached the guest.
    pub fn counted_as(self) -> &'static [&'static str] {
        match self {
            Defect::Ipv4Truncated | Defect::ArpTruncated => &["drop_too_short"],
            Defect::Ipv4BadChecksum | Defect::IcmpBadChecksum => &["drop_bad_checksum"],
            Defect::Ipv4BadTotalLength | Defect::UdpBadLength => &["drop_bad_length"],
            Defect::Ipv4BadHeaderLength => &["drop_bad_header_length"],
            Defect::Ipv4BadVersion => &["drop_bad_version"],
            Defect::Ipv4BadFragment => &["drop_bad_fragment"],
            // Held while reassembly has room (16 datagrams), refused after; an identifier
            // met twice makes an overlap or a duplicate.
            Defect::Ipv4Fragment => &[
                "rx_fragment_held",
                "drop_reassembly_overflow",
                "drop_reassembly_overlap",
                "drop_reassembly_duplicate",
            ],
            Defect::ArpMalformed => &["drop_arp_malformed"],
            Defect::TcpBadChecksum => &["TCP_CHECKSUM_ERRORS"],
            Defect::UnknownEthertype => &["drop_unknown_ethertype"],
            // Whichever IPv4 header check the random bytes fail first.
            Defect::RandomPayload => &[
                "drop_too_short",
                "drop_bad_version",
                "drop_bad_header_length",
                "drop_bad_length",
                "drop_bad_checksum",
            ],
        }
    }
}

/// Every defect, in the order [`corpus`] cycles through them.
pub const DEFECTS: [Defect; 14] = [
    Defect::Ipv4Truncated,
    Defect::Ipv4BadChecksum,
    Defect::Ipv4BadTotalLength,
    Defect::Ipv4BadHeaderLength,
    Defect::Ipv4BadVersion,
    Defect::Ipv4BadFragment,
    Defect::Ipv4Fragment,
    Defect::IcmpBadChecksum,
    Defect::UdpBadLength,
    Defect::TcpBadChecksum,
    Defect::ArpTruncated,
    Defect::ArpMalformed,
    Defect::UnknownEthertype,
    Defect::RandomPayload,
];

/// Who the frames claim to be from and to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    pub guest_mac: [u8; 6],
    pub host_mac: [u8; 6],
    pub host_ip: [u8; 4],
    pub guest_ip: [u8; 4],
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETH_HEADER: usize = 14;
const MAX_FRAME: usize = 1514;
const IPV4_HEADER: usize = 20;
const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

/// `count` frames from `seed`, cycling through [`DEFECTS`].
pub fn corpus(seed: u64, count: usize, ends: &Endpoints) -> Vec<(Defect, Vec<u8>)> {
    let mut rng = TestRng::new(seed);
    (0..count)
        .map(|i| {
            let defect = DEFECTS[i % DEFECTS.len()];
            (defect, frame(&mut rng, defect, ends))
        })
        .collect()
}

/// One frame with `defect`.
pub fn frame(rng: &mut TestRng, defect: Defect, ends: &Endpoints) -> Vec<u8> {
    let (ethertype, payload) = match defect {
        Defect::Ipv4Truncated => {
            let mut p = rng.bytes_in(0..IPV4_HEADER);
            if let Some(first) = p.first_mut() {
                *first = 0x45;
            }
            (ETHERTYPE_IPV4, p)
        }
        Defect::Ipv4BadChecksum => {
            let mut p = echo_packet(rng, ends);
            p[10] ^= rng.range(1..256) as u8;
            (ETHERTYPE_IPV4, p)
        }
        Defect::Ipv4BadTotalLength => {
            let mut p = echo_packet(rng, ends);
            let len = p.len();
            let bad = if rng.range(0..2) == 0 {
                rng.range(len + 1..65536)
            } else {
                rng.range(0..IPV4_HEADER)
            };
            p[2..4].copy_from_slice(&(bad as u16).to_be_bytes());
            reseal_ipv4(&mut p);
            (ETHERTYPE_IPV4, p)
        }
        Defect::Ipv4BadHeaderLength => {
            let mut p = {
                let udp = rng.bytes(8);
                ipv4(rng, ends, PROTO_UDP, &udp)
            };
            // The packet is 28 bytes: an IHL of 8..=15 words points past its end.
            let ihl = if rng.range(0..2) == 0 {
                rng.range(0..5)
            } else {
                rng.range(8..16)
            };
            p[0] = 0x40 | ihl as u8;
            reseal_ipv4(&mut p);
            (ETHERTYPE_IPV4, p)
        }
        Defect::Ipv4BadVersion => {
            let mut p = echo_packet(rng, ends);
            let version = [0u8, 1, 5, 6, 7, 15][rng.range(0..6)];
            p[0] = version << 4 | 5;
            reseal_ipv4(&mut p);
            (ETHERTYPE_IPV4, p)
        }
        Defect::Ipv4BadFragment => {
            let mut p = echo_packet(rng, ends);
            let payload = p.len() - IPV4_HEADER;
            let flags = if !payload.is_multiple_of(8) && rng.range(0..2) == 0 {
                // More fragments follow a payload that is not a multiple of 8 bytes.
                MORE_FRAGMENTS | rng.range(0..2) as u16
            } else {
                // The fragment would end past the largest datagram.
                let lowest = (65_536 - IPV4_HEADER - payload).div_ceil(8) + 1;
                rng.range(lowest..0x2000) as u16
            };
            p[6..8].copy_from_slice(&flags.to_be_bytes());
            reseal_ipv4(&mut p);
            (ETHERTYPE_IPV4, p)
        }
        Defect::Ipv4Fragment => {
            let mut icmp = icmp_echo(rng);
            icmp.truncate(icmp.len() / 8 * 8);
            let mut p = ipv4(rng, ends, PROTO_ICMP, &icmp);
            p[6..8].copy_from_slice(&MORE_FRAGMENTS.to_be_bytes());
            reseal_ipv4(&mut p);
            (ETHERTYPE_IPV4, p)
        }
        Defect::IcmpBadChecksum => {
            let mut icmp = icmp_echo(rng);
            icmp[2] ^= rng.range(1..256) as u8;
            (ETHERTYPE_IPV4, ipv4(rng, ends, PROTO_ICMP, &icmp))
        }
        Defect::UdpBadLength => {
            let data = rng.bytes_in(0..64);
            let real = 8 + data.len();
            let bad = if rng.range(0..2) == 0 {
                rng.range(0..8)
            } else {
                rng.range(real + 1..65536)
            };
            let mut udp = Vec::with_capacity(real);
            udp.extend_from_slice(&(rng.range(1024..65536) as u16).to_be_bytes());
            udp.extend_from_slice(&(rng.range(1..1024) as u16).to_be_bytes());
            udp.extend_from_slice(&(bad as u16).to_be_bytes());
            udp.extend_from_slice(&[0, 0]); // no checksum: the length is the only defect
            udp.extend_from_slice(&data);
            (ETHERTYPE_IPV4, ipv4(rng, ends, PROTO_UDP, &udp))
        }
        Defect::TcpBadChecksum => {
            let mut tcp = Vec::with_capacity(20 + 64);
            tcp.extend_from_slice(&(rng.range(1024..65536) as u16).to_be_bytes());
            tcp.extend_from_slice(&(rng.range(1..1024) as u16).to_be_bytes());
            tcp.extend_from_slice(&rng.bytes(8)); // sequence and acknowledgement numbers
            tcp.extend_from_slice(&[0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]); // ACK, window
            tcp.extend(rng.bytes_in(0..64));
            let good = tcp_checksum(ends, &tcp);
            // Off by anything but 0xffff (one's complement's other zero).
            let bad = good ^ rng.range(1..0xffff) as u16;
            tcp[16..18].copy_from_slice(&bad.to_be_bytes());
            (ETHERTYPE_IPV4, ipv4(rng, ends, PROTO_TCP, &tcp))
        }
        Defect::ArpTruncated => (ETHERTYPE_ARP, arp(ends)[..rng.range(0..28)].to_vec()),
        Defect::ArpMalformed => {
            let mut p = arp(ends);
            // One of: hardware type, protocol type, hardware size, protocol size, opcode.
            match rng.range(0..5) {
                0 => p[0..2].copy_from_slice(&(rng.range(2..65536) as u16).to_be_bytes()),
                1 => p[2..4].copy_from_slice(&ETHERTYPE_IPV6.to_be_bytes()),
                2 => p[4] = [0u8, 4, 8, 255][rng.range(0..4)],
                3 => p[5] = [0u8, 6, 16, 255][rng.range(0..4)],
                _ => p[6..8].copy_from_slice(&(rng.range(3..65536) as u16).to_be_bytes()),
            }
            (ETHERTYPE_ARP, p)
        }
        Defect::UnknownEthertype => {
            let ethertype = loop {
                let t = rng.range(0x0600..0x10000) as u16;
                if ![ETHERTYPE_IPV4, ETHERTYPE_ARP, ETHERTYPE_VLAN].contains(&t) {
                    break t;
                }
            };
            (ethertype, rng.bytes_in(0..200))
        }
        Defect::RandomPayload => {
            let mut p = rng.bytes_in(0..MAX_FRAME - ETH_HEADER + 1);
            if valid_ipv4_header(&p) {
                p[10] ^= 0xff;
            }
            (ETHERTYPE_IPV4, p)
        }
    };
    let dst = if rng.range(0..4) == 0 {
        [0xff; 6]
    } else {
        ends.guest_mac
    };
    let mut frame = Vec::with_capacity(ETH_HEADER + payload.len());
    frame.extend_from_slice(&dst);
    frame.extend_from_slice(&ends.host_mac);
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(&payload);
    frame
}

/// The more-fragments flag of the IPv4 flags/offset field.
const MORE_FRAGMENTS: u16 = 0x2000;

/// Whether `p` starts with an IPv4 header a receiver would accept: version 4, header
/// length and total length consistent with `p`, checksum right.
fn valid_ipv4_header(p: &[u8]) -> bool {
    let Some(&first) = p.first() else {
        return false;
    };
    let ihl = usize::from(first & 0xf) * 4;
    p.len() >= IPV4_HEADER
        && first >> 4 == 4
        && (IPV4_HEADER..=p.len()).contains(&ihl)
        && (ihl..=p.len()).contains(&usize::from(u16::from_be_bytes([p[2], p[3]])))
        && inet_checksum::verifies(&p[..ihl])
}

/// A valid IPv4 packet (host → guest) around `payload`.
fn ipv4(rng: &mut TestRng, ends: &Endpoints, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = (IPV4_HEADER + payload.len()) as u16;
    let mut p = Vec::with_capacity(usize::from(total));
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&(rng.next_u64() as u16).to_be_bytes());
    p.extend_from_slice(&[0x40, 0, 64, protocol, 0, 0]); // DF, TTL 64, checksum below
    p.extend_from_slice(&ends.host_ip);
    p.extend_from_slice(&ends.guest_ip);
    reseal_ipv4(&mut p);
    p.extend_from_slice(payload);
    p
}

/// A valid IPv4 packet carrying a valid ICMP echo request.
fn echo_packet(rng: &mut TestRng, ends: &Endpoints) -> Vec<u8> {
    let echo = icmp_echo(rng);
    ipv4(rng, ends, PROTO_ICMP, &echo)
}

/// The checksum of `tcp` (its checksum field zero) from the host to the guest.
fn tcp_checksum(ends: &Endpoints, tcp: &[u8]) -> u16 {
    let mut pseudo = Vec::with_capacity(12 + tcp.len());
    pseudo.extend_from_slice(&ends.host_ip);
    pseudo.extend_from_slice(&ends.guest_ip);
    pseudo.extend_from_slice(&[0, PROTO_TCP]);
    pseudo.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(tcp);
    checksum(&pseudo)
}

/// Recomputes the checksum of the 20-byte header at the start of `p`.
fn reseal_ipv4(p: &mut [u8]) {
    p[10..12].fill(0);
    let sum = checksum(&p[..IPV4_HEADER]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
}

/// A valid ICMP echo request with a few random bytes of data.
fn icmp_echo(rng: &mut TestRng) -> Vec<u8> {
    let mut m = vec![8, 0, 0, 0];
    m.extend_from_slice(&rng.bytes_in(4..60));
    let sum = checksum(&m);
    m[2..4].copy_from_slice(&sum.to_be_bytes());
    m
}

/// A valid 28-byte ARP request from the host for the guest's address.
fn arp(ends: &Endpoints) -> Vec<u8> {
    let mut p = vec![0, 1, 0x08, 0x00, 6, 4, 0, 1];
    p.extend_from_slice(&ends.host_mac);
    p.extend_from_slice(&ends.host_ip);
    p.extend_from_slice(&[0; 6]);
    p.extend_from_slice(&ends.guest_ip);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use inet_checksum::verifies;

    const ENDS: Endpoints = Endpoints {
        guest_mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
        host_mac: [0x02, 0, 0, 0, 0, 1],
        host_ip: [192, 168, 100, 1],
        guest_ip: [192, 168, 100, 2],
    };

    fn ethertype(f: &[u8]) -> u16 {
        u16::from_be_bytes([f[12], f[13]])
    }

    #[test]
    fn the_same_seed_gives_the_same_frames() {
        let a = corpus(7, 100, &ENDS);
        assert_eq!(a, corpus(7, 100, &ENDS));
        assert_ne!(a, corpus(8, 100, &ENDS));
    }

    #[test]
    fn every_frame_is_sendable_and_addressed_to_the_guest() {
        let frames = corpus(1, 10_000, &ENDS);
        for defect in DEFECTS {
            assert!(frames.iter().filter(|(d, _)| *d == defect).count() >= 10_000 / 14);
        }
        for (defect, f) in &frames {
            assert!(
                (ETH_HEADER..=MAX_FRAME).contains(&f.len()),
                "{defect:?} {}",
                f.len()
            );
            assert!(f[..6] == ENDS.guest_mac || f[..6] == [0xff; 6]);
            assert_eq!(f[6..12], ENDS.host_mac);
        }
    }

    /// Each defect is present, and it is the only one where that matters for the test.
    #[test]
    fn each_frame_has_its_defect() {
        let mut rng = TestRng::new(42);
        for _ in 0..200 {
            for defect in DEFECTS {
                let f = frame(&mut rng, defect, &ENDS);
                let ip = &f[ETH_HEADER..];
                let header_ok = || ip.len() >= IPV4_HEADER && verifies(&ip[..IPV4_HEADER]);
                let total = || usize::from(u16::from_be_bytes([ip[2], ip[3]]));
                match defect {
                    Defect::Ipv4Truncated => assert!(ip.len() < IPV4_HEADER),
                    Defect::Ipv4BadChecksum => assert!(!header_ok()),
                    Defect::Ipv4BadTotalLength => {
                        assert!(header_ok() && (total() > ip.len() || total() < IPV4_HEADER))
                    }
                    Defect::Ipv4BadHeaderLength => {
                        let ihl = usize::from(ip[0] & 0xf) * 4;
                        assert!(header_ok() && (ihl < IPV4_HEADER || ihl > total()));
                    }
                    Defect::Ipv4BadVersion => assert!(header_ok() && ip[0] >> 4 != 4),
                    Defect::Ipv4BadFragment => {
                        let frag = u16::from_be_bytes([ip[6], ip[7]]);
                        let payload = total() - IPV4_HEADER;
                        let end = usize::from(frag & 0x1fff) * 8 + payload;
                        let more = frag & MORE_FRAGMENTS != 0;
                        assert!(header_ok() && total() == ip.len());
                        assert!(more && !payload.is_multiple_of(8) || end > 65_535 - IPV4_HEADER);
                    }
                    Defect::Ipv4Fragment => {
                        let frag = u16::from_be_bytes([ip[6], ip[7]]);
                        assert!(header_ok() && total() == ip.len() && frag == MORE_FRAGMENTS);
                        assert_eq!((total() - IPV4_HEADER) % 8, 0);
                        assert!(total() > IPV4_HEADER);
                    }
                    Defect::IcmpBadChecksum => {
                        assert!(header_ok() && total() == ip.len() && ip[9] == PROTO_ICMP);
                        assert!(!verifies(&ip[IPV4_HEADER..]));
                    }
                    Defect::UdpBadLength => {
                        assert!(header_ok() && total() == ip.len() && ip[9] == PROTO_UDP);
                        let udp = &ip[IPV4_HEADER..];
                        let len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
                        assert!(len < 8 || len > udp.len(), "{len} {}", udp.len());
                    }
                    Defect::TcpBadChecksum => {
                        assert!(header_ok() && total() == ip.len() && ip[9] == PROTO_TCP);
                        let tcp = &ip[IPV4_HEADER..];
                        let mut zeroed = tcp.to_vec();
                        zeroed[16..18].fill(0);
                        let good = tcp_checksum(&ENDS, &zeroed);
                        let sent = u16::from_be_bytes([tcp[16], tcp[17]]);
                        assert!(sent != good && sent != !good);
                        // The same segment with its real checksum verifies.
                        zeroed[16..18].copy_from_slice(&good.to_be_bytes());
                        let mut pseudo = ENDS.host_ip.to_vec();
                        pseudo.extend_from_slice(&ENDS.guest_ip);
                        pseudo.extend_from_slice(&[0, PROTO_TCP]);
                        pseudo.extend_from_slice(&(zeroed.len() as u16).to_be_bytes());
                        pseudo.extend_from_slice(&zeroed);
                        assert!(verifies(&pseudo));
                    }
                    Defect::ArpTruncated => {
                        assert!(ethertype(&f) == ETHERTYPE_ARP && ip.len() < 28)
                    }
                    Defect::ArpMalformed => {
                        assert!(ethertype(&f) == ETHERTYPE_ARP && ip.len() == 28);
                        assert_ne!(ip[..8], arp(&ENDS)[..8]);
                    }
                    Defect::UnknownEthertype => {
                        let t = ethertype(&f);
                        assert!(t >= 0x0600 && t != ETHERTYPE_IPV4 && t != ETHERTYPE_ARP);
                        assert_ne!(t, ETHERTYPE_VLAN);
                    }
                    Defect::RandomPayload => {
                        assert_eq!(ethertype(&f), ETHERTYPE_IPV4);
                        assert!(!valid_ipv4_header(ip));
                    }
                }
            }
        }
    }

    #[test]
    fn every_kind_names_its_counters() {
        for defect in DEFECTS {
            let names = defect.counted_as();
            assert!(!names.is_empty(), "{defect:?}");
            assert!(names.iter().all(|n| n.starts_with("drop_")
                || *n == "rx_fragment_held"
                || *n == "TCP_CHECKSUM_ERRORS"));
        }
        // A random header can be valid by chance: the generator breaks it.
        let mut header = echo_packet(&mut TestRng::new(5), &ENDS);
        assert!(valid_ipv4_header(&header));
        header[10] ^= 0xff;
        assert!(!valid_ipv4_header(&header));
        assert!(!valid_ipv4_header(&[0x45]));
    }

    #[test]
    fn the_valid_building_blocks_are_valid() {
        let mut rng = TestRng::new(3);
        let p = echo_packet(&mut rng, &ENDS);
        assert!(verifies(&p[..IPV4_HEADER]) && verifies(&p[IPV4_HEADER..]));
        assert_eq!(usize::from(u16::from_be_bytes([p[2], p[3]])), p.len());
        assert_eq!(
            (p[12..16].to_vec(), p[16..20].to_vec()),
            (ENDS.host_ip.to_vec(), ENDS.guest_ip.to_vec())
        );
        assert_eq!(arp(&ENDS).len(), 28);
    }
}
