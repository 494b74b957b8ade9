//! A minimal IPv4 shim (RFC 791): just enough to carry TCP segments between the engine and
//! a peer that speaks IP (smoltcp, or Linux through a TUN device). No options, no
//! fragments: anything else is rejected.

use core::net::Ipv4Addr;

/// Header length of the packets we build.
pub const HEADER_LEN: usize = 20;
const PROTO_TCP: u8 = 6;

/// Writes an IPv4 header for a TCP payload of `payload_len` bytes into `buf[..20]`.
pub fn write_header(buf: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr, payload_len: usize, ident: u16) {
    let total = (HEADER_LEN + payload_len) as u16;
    buf[0] = 0x45;
    buf[1] = 0;
    buf[2..4].copy_from_slice(&total.to_be_bytes());
    buf[4..6].copy_from_slice(&ident.to_be_bytes());
    buf[6..8].copy_from_slice(&0x4000u16.to_be_bytes()); // DF
    buf[8] = 64;
    buf[9] = PROTO_TCP;
    buf[10..12].copy_from_slice(&[0, 0]);
    buf[12..16].copy_from_slice(&src.octets());
    buf[16..20].copy_from_slice(&dst.octets());
    let c = inet_checksum::checksum(&buf[..HEADER_LEN]);
    buf[10..12].copy_from_slice(&c.to_be_bytes());
}

/// A parsed TCP-over-IPv4 packet.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub payload: &'a [u8],
}

/// Parses a packet, returning `None` for anything that is not a well-formed,
/// unfragmented TCP/IPv4 packet with a valid header checksum.
pub fn parse(data: &[u8]) -> Option<Packet<'_>> {
    if data.len() < HEADER_LEN || data[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(data[0] & 0xf) * 4;
    let total = usize::from(u16::from_be_bytes([data[2], data[3]]));
    let frag = u16::from_be_bytes([data[6], data[7]]);
    if ihl < HEADER_LEN
        || total < ihl
        || total > data.len()
        || frag & 0x3fff != 0
        || data[9] != PROTO_TCP
    {
        return None;
    }
    if !inet_checksum::verifies(&data[..ihl]) {
        return None;
    }
    let src = Ipv4Addr::new(data[12], data[13], data[14], data[15]);
    let dst = Ipv4Addr::new(data[16], data[17], data[18], data[19]);
    Some(Packet {
        src,
        dst,
        payload: &data[ihl..total],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let mut buf = [0u8; 30];
        buf[20..].copy_from_slice(b"0123456789");
        let (a, b) = (Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(5, 6, 7, 8));
        write_header(&mut buf, a, b, 10, 7);
        let p = parse(&buf).unwrap();
        assert_eq!((p.src, p.dst, p.payload), (a, b, &b"0123456789"[..]));
        let mut bad = buf;
        bad[8] ^= 1;
        assert!(parse(&bad).is_none(), "checksum");
        assert!(parse(&buf[..25]).is_none(), "truncated");
    }
}
