//! DHCP messages (RFC 2131 message layout, RFC 2132 options): the BOOTP fixed part plus the
//! handful of options a client needs. Unknown options are skipped; option overload of the
//! `sname`/`file` fields is not used by the servers we target and is ignored.

use super::{addr, be16, be32, check_len, Result};
use crate::wire::ethernet::EthernetAddress;
use crate::DropReason;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

/// UDP port of DHCP servers.
pub const SERVER_PORT: u16 = 67;
/// UDP port of DHCP clients.
pub const CLIENT_PORT: u16 = 68;

const FIXED_LEN: usize = 236;
const MAGIC: u32 = 0x6382_5363;
const OPTIONS_AT: usize = FIXED_LEN + 4;
/// BOOTP relays expect at least this much; we pad every message to it.
const MIN_MESSAGE_LEN: usize = 300;
/// At most this many DNS servers are kept from an offer.
pub const MAX_DNS_SERVERS: usize = 3;

mod opt {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS: u8 = 6;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAMETER_REQUEST: u8 = 55;
    pub const RENEWAL_TIME: u8 = 58;
    pub const REBINDING_TIME: u8 = 59;
    pub const CLIENT_ID: u8 = 61;
    pub const END: u8 = 255;
}

/// The DHCP message type (option 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
}

impl MessageType {
    fn from_u8(v: u8) -> Option<Self> {
        use MessageType::*;
        [Discover, Offer, Request, Decline, Ack, Nak, Release, Inform]
            .into_iter()
            .find(|t| *t as u8 == v)
    }

    /// BOOTP `op`: 2 (reply) for server messages, 1 (request) for client messages.
    fn op(self) -> u8 {
        match self {
            MessageType::Offer | MessageType::Ack | MessageType::Nak => 2,
            _ => 1,
        }
    }
}

packet_view! {
    /// A view of a DHCP message (the UDP payload).
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks the fixed part, Ethernet hardware type and the magic cookie.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        check_len(b, OPTIONS_AT)?;
        if !(1..=2).contains(&b[0]) || b[1] != 1 || b[2] != 6 || be32(b, FIXED_LEN) != MAGIC {
            return Err(DropReason::DhcpIgnored);
        }
        Ok(Packet { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn op(&self) -> u8 {
        self.b()[0]
    }

    pub fn xid(&self) -> u32 {
        be32(self.b(), 4)
    }

    pub fn secs(&self) -> u16 {
        be16(self.b(), 8)
    }

    pub fn broadcast(&self) -> bool {
        be16(self.b(), 10) & 0x8000 != 0
    }

    pub fn client_ip(&self) -> Ipv4Addr {
        addr(self.b(), 12)
    }

    pub fn your_ip(&self) -> Ipv4Addr {
        addr(self.b(), 16)
    }

    pub fn client_hardware_addr(&self) -> EthernetAddress {
        let mut m = [0u8; 6];
        m.copy_from_slice(&self.b()[28..34]);
        EthernetAddress(m)
    }

    /// The raw options area (after the magic cookie).
    pub fn options(&self) -> &[u8] {
        &self.b()[OPTIONS_AT..]
    }
}

/// The meaning of a DHCP message, limited to what a client uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub message_type: MessageType,
    pub xid: u32,
    pub secs: u16,
    /// Ask the server to broadcast its replies (we cannot receive unicast before configuration).
    pub broadcast: bool,
    pub client_hardware_addr: EthernetAddress,
    /// `ciaddr`: set by a bound client renewing its lease.
    pub client_ip: Ipv4Addr,
    /// `yiaddr`: the address offered or assigned by the server.
    pub your_ip: Ipv4Addr,
    pub server_id: Option<Ipv4Addr>,
    pub requested_ip: Option<Ipv4Addr>,
    pub subnet_mask: Option<Ipv4Addr>,
    pub router: Option<Ipv4Addr>,
    /// Up to [`MAX_DNS_SERVERS`] addresses.
    pub dns_servers: Vec<Ipv4Addr>,
    /// Lease, T1 and T2 in seconds.
    pub lease_time: Option<u32>,
    pub renewal_time: Option<u32>,
    pub rebinding_time: Option<u32>,
    /// Include a parameter request list (subnet, router, DNS, times) when emitting.
    pub request_parameters: bool,
}

impl Repr {
    /// A message with only the mandatory fields set.
    pub fn new(message_type: MessageType, xid: u32, client_hardware_addr: EthernetAddress) -> Repr {
        Repr {
            message_type,
            xid,
            secs: 0,
            broadcast: false,
            client_hardware_addr,
            client_ip: Ipv4Addr::UNSPECIFIED,
            your_ip: Ipv4Addr::UNSPECIFIED,
            server_id: None,
            requested_ip: None,
            subnet_mask: None,
            router: None,
            dns_servers: Vec::new(),
            lease_time: None,
            renewal_time: None,
            rebinding_time: None,
            request_parameters: false,
        }
    }

    /// Parses the fixed part and the options. A message without a (valid) message type, or
    /// whose `op` contradicts it, is [`DropReason::DhcpIgnored`]; a truncated option is
    /// [`DropReason::BadLength`].
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr> {
        let mut r = Repr::new(MessageType::Discover, p.xid(), p.client_hardware_addr());
        r.secs = p.secs();
        r.broadcast = p.broadcast();
        r.client_ip = p.client_ip();
        r.your_ip = p.your_ip();
        let mut message_type = None;
        let mut rest = p.options();
        while let Some((&code, tail)) = rest.split_first() {
            match code {
                opt::PAD => {
                    rest = tail;
                    continue;
                }
                opt::END => break,
                _ => {}
            }
            let (&len, tail) = tail.split_first().ok_or(DropReason::BadLength)?;
            let len = usize::from(len);
            if tail.len() < len {
                return Err(DropReason::BadLength);
            }
            let (value, tail) = tail.split_at(len);
            rest = tail;
            let ip = || (len == 4).then(|| addr(value, 0));
            let secs = || (len == 4).then(|| be32(value, 0));
            match code {
                opt::MESSAGE_TYPE if len == 1 => message_type = MessageType::from_u8(value[0]),
                opt::SUBNET_MASK => r.subnet_mask = ip(),
                opt::ROUTER if len >= 4 => r.router = Some(addr(value, 0)),
                opt::DNS => {
                    r.dns_servers = value
                        .chunks_exact(4)
                        .take(MAX_DNS_SERVERS)
                        .map(|c| addr(c, 0))
                        .collect();
                }
                opt::REQUESTED_IP => r.requested_ip = ip(),
                opt::SERVER_ID => r.server_id = ip(),
                opt::LEASE_TIME => r.lease_time = secs(),
                opt::RENEWAL_TIME => r.renewal_time = secs(),
                opt::REBINDING_TIME => r.rebinding_time = secs(),
                opt::PARAMETER_REQUEST => r.request_parameters = true,
                _ => {}
            }
        }
        r.message_type = message_type.ok_or(DropReason::DhcpIgnored)?;
        if r.message_type.op() != p.op() {
            return Err(DropReason::DhcpIgnored);
        }
        Ok(r)
    }

    /// The options, in emission order, as (code, value) pairs written into `out`.
    fn options(&self, out: &mut Vec<u8>) {
        let mut put = |code: u8, value: &[u8]| {
            out.push(code);
            out.push(value.len() as u8);
            out.extend_from_slice(value);
        };
        put(opt::MESSAGE_TYPE, &[self.message_type as u8]);
        if self.message_type.op() == 1 {
            let mut id = [1u8; 7];
            id[1..].copy_from_slice(&self.client_hardware_addr.0);
            put(opt::CLIENT_ID, &id);
        }
        let ips = [
            (opt::REQUESTED_IP, self.requested_ip),
            (opt::SERVER_ID, self.server_id),
            (opt::SUBNET_MASK, self.subnet_mask),
            (opt::ROUTER, self.router),
        ];
        for (code, ip) in ips {
            if let Some(ip) = ip {
                put(code, &ip.octets());
            }
        }
        if !self.dns_servers.is_empty() {
            let v: Vec<u8> = self.dns_servers.iter().flat_map(|a| a.octets()).collect();
            put(opt::DNS, &v);
        }
        let times = [
            (opt::LEASE_TIME, self.lease_time),
            (opt::RENEWAL_TIME, self.renewal_time),
            (opt::REBINDING_TIME, self.rebinding_time),
        ];
        for (code, t) in times {
            if let Some(t) = t {
                put(code, &t.to_be_bytes());
            }
        }
        if self.request_parameters {
            put(
                opt::PARAMETER_REQUEST,
                &[
                    opt::SUBNET_MASK,
                    opt::ROUTER,
                    opt::DNS,
                    opt::LEASE_TIME,
                    opt::RENEWAL_TIME,
                    opt::REBINDING_TIME,
                ],
            );
        }
        out.push(opt::END);
    }

    /// The encoded message (padded to the BOOTP minimum of 300 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = alloc::vec![0u8; OPTIONS_AT];
        b[0] = self.message_type.op();
        b[1] = 1;
        b[2] = 6;
        b[4..8].copy_from_slice(&self.xid.to_be_bytes());
        b[8..10].copy_from_slice(&self.secs.to_be_bytes());
        if self.broadcast {
            b[10] = 0x80;
        }
        b[12..16].copy_from_slice(&self.client_ip.octets());
        b[16..20].copy_from_slice(&self.your_ip.octets());
        b[28..34].copy_from_slice(&self.client_hardware_addr.0);
        b[FIXED_LEN..OPTIONS_AT].copy_from_slice(&MAGIC.to_be_bytes());
        self.options(&mut b);
        if b.len() < MIN_MESSAGE_LEN {
            b.resize(MIN_MESSAGE_LEN, 0);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);

    /// An OFFER as produced by dnsmasq (fixed part abbreviated to what matters, options
    /// byte for byte): offer 10.0.2.15, server 10.0.2.2, mask /24, router, DNS, lease 86400.
    fn offer_capture() -> Vec<u8> {
        let mut b = vec![0u8; OPTIONS_AT];
        b[0] = 2;
        b[1] = 1;
        b[2] = 6;
        b[4..8].copy_from_slice(&0x3903_f326u32.to_be_bytes());
        b[16..20].copy_from_slice(&[10, 0, 2, 15]);
        b[28..34].copy_from_slice(&MAC.0);
        b[FIXED_LEN..OPTIONS_AT].copy_from_slice(&[0x63, 0x82, 0x53, 0x63]);
        b.extend_from_slice(&[
            53, 1, 2, 54, 4, 10, 0, 2, 2, 51, 4, 0, 1, 0x51, 0x80, 1, 4, 255, 255, 255, 0, 3, 4,
            10, 0, 2, 2, 6, 8, 10, 0, 2, 3, 8, 8, 8, 8, 0, 0, 255,
        ]);
        b
    }

    #[test]
    fn parses_offer_capture() {
        let b = offer_capture();
        let r = Repr::parse(&Packet::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(r.message_type, MessageType::Offer);
        assert_eq!(r.xid, 0x3903_f326);
        assert_eq!(r.your_ip, Ipv4Addr::new(10, 0, 2, 15));
        assert_eq!(r.server_id, Some(Ipv4Addr::new(10, 0, 2, 2)));
        assert_eq!(r.subnet_mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(r.router, Some(Ipv4Addr::new(10, 0, 2, 2)));
        assert_eq!(
            r.dns_servers,
            vec![Ipv4Addr::new(10, 0, 2, 3), Ipv4Addr::new(8, 8, 8, 8)]
        );
        assert_eq!(r.lease_time, Some(86400));
        assert_eq!(r.client_hardware_addr, MAC);
    }

    #[test]
    fn round_trip() {
        let mut r = Repr::new(MessageType::Request, 42, MAC);
        r.broadcast = true;
        r.secs = 3;
        r.requested_ip = Some(Ipv4Addr::new(10, 0, 2, 15));
        r.server_id = Some(Ipv4Addr::new(10, 0, 2, 2));
        r.request_parameters = true;
        let b = r.to_bytes();
        assert_eq!(b.len(), MIN_MESSAGE_LEN);
        assert_eq!(
            Repr::parse(&Packet::new_checked(&b[..]).unwrap()).unwrap(),
            r
        );
    }

    #[test]
    fn malformed_cases() {
        let good = offer_capture();
        assert_eq!(
            Packet::new_checked(&good[..239]).err(),
            Some(DropReason::TooShort)
        );
        let mut bad_magic = good.clone();
        bad_magic[OPTIONS_AT - 1] = 0;
        assert_eq!(
            Packet::new_checked(&bad_magic[..]).err(),
            Some(DropReason::DhcpIgnored)
        );
        // Truncated option: the DNS option claims 8 bytes but the message stops early.
        let truncated = &good[..good.len() - 6];
        assert_eq!(
            Repr::parse(&Packet::new_checked(truncated).unwrap()).err(),
            Some(DropReason::BadLength)
        );
        // No message type option.
        let mut none = good.clone();
        none[OPTIONS_AT] = 250;
        assert_eq!(
            Repr::parse(&Packet::new_checked(&none[..]).unwrap()).err(),
            Some(DropReason::DhcpIgnored)
        );
        // A server message type in a client (op 1) message.
        let mut wrong_op = good;
        wrong_op[0] = 1;
        assert_eq!(
            Repr::parse(&Packet::new_checked(&wrong_op[..]).unwrap()).err(),
            Some(DropReason::DhcpIgnored)
        );
    }
}
