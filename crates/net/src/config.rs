//! Interface addressing: what DHCP produces or the boot command line states.
//!
//! The static form is a space-separated string such as
//! `ip=192.168.100.2/24 gw=192.168.100.1 dns=1.1.1.1,9.9.9.9`, so the kernel command line
//! and the monitor can both configure the interface without a DHCP server.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

/// IPv4 configuration of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceConfig {
    pub addr: Ipv4Addr,
    /// Prefix length of the local subnet (0..=32).
    pub prefix_len: u8,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
}

/// Why a static configuration string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// No `ip=` entry.
    MissingAddress,
    /// A `key=value` with an unknown key, or a token without `=`.
    UnknownKey,
    /// An address that does not parse.
    BadAddress,
    /// A prefix length that is missing, not a number or above 32.
    BadPrefix,
}

/// The netmask for a prefix length (lengths above 32 are treated as 32).
pub fn netmask(prefix_len: u8) -> Ipv4Addr {
    let bits = u32::from(prefix_len.min(32));
    Ipv4Addr::from(u32::MAX.checked_shl(32 - bits).unwrap_or(0))
}

/// The prefix length of a contiguous netmask, or `None` for a non-contiguous one.
pub fn prefix_len(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let len = m.leading_ones();
    (m.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

/// True when `a` and `b` share their first `prefix_len` bits.
pub fn same_subnet(a: Ipv4Addr, b: Ipv4Addr, prefix_len: u8) -> bool {
    let m = u32::from(netmask(prefix_len));
    u32::from(a) & m == u32::from(b) & m
}

impl IfaceConfig {
    /// Parses `ip=ADDR/LEN [gw=ADDR] [dns=ADDR[,ADDR...]]` (any order, any whitespace).
    pub fn parse(s: &str) -> Result<IfaceConfig, ConfigError> {
        let mut addr = None;
        let mut gateway = None;
        let mut dns = Vec::new();
        let ip = |v: &str| v.parse::<Ipv4Addr>().map_err(|_| ConfigError::BadAddress);
        for token in s.split_whitespace() {
            let (key, value) = token.split_once('=').ok_or(ConfigError::UnknownKey)?;
            match key {
                "ip" => {
                    let (a, len) = value.split_once('/').ok_or(ConfigError::BadPrefix)?;
                    let len: u8 = len.parse().map_err(|_| ConfigError::BadPrefix)?;
                    if len > 32 {
                        return Err(ConfigError::BadPrefix);
                    }
                    addr = Some((ip(a)?, len));
                }
                "gw" => gateway = Some(ip(value)?),
                "dns" => {
                    for a in value.split(',') {
                        dns.push(ip(a)?);
                    }
                }
                _ => return Err(ConfigError::UnknownKey),
            }
        }
        let (addr, prefix_len) = addr.ok_or(ConfigError::MissingAddress)?;
        Ok(IfaceConfig {
            addr,
            prefix_len,
            gateway,
            dns,
        })
    }

    pub fn netmask(&self) -> Ipv4Addr {
        netmask(self.prefix_len)
    }

    /// The directed broadcast address of the local subnet (none for /31 and /32).
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        (self.prefix_len < 31)
            .then(|| Ipv4Addr::from(u32::from(self.addr) | !u32::from(self.netmask())))
    }

    /// True when `ip` is on the local subnet.
    pub fn is_local(&self, ip: Ipv4Addr) -> bool {
        same_subnet(self.addr, ip, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_string() {
        let c = IfaceConfig::parse("ip=192.168.100.2/24 gw=192.168.100.1  dns=1.1.1.1,9.9.9.9")
            .unwrap();
        assert_eq!(c.addr, Ipv4Addr::new(192, 168, 100, 2));
        assert_eq!(c.prefix_len, 24);
        assert_eq!(c.gateway, Some(Ipv4Addr::new(192, 168, 100, 1)));
        assert_eq!(
            c.dns,
            vec![Ipv4Addr::new(1, 1, 1, 1), Ipv4Addr::new(9, 9, 9, 9)]
        );
        assert_eq!(c.netmask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(c.broadcast(), Some(Ipv4Addr::new(192, 168, 100, 255)));
        assert!(c.is_local(Ipv4Addr::new(192, 168, 100, 77)));
        assert!(!c.is_local(Ipv4Addr::new(192, 168, 101, 2)));
    }

    #[test]
    fn rejects_bad_strings() {
        assert_eq!(
            IfaceConfig::parse("gw=1.2.3.4"),
            Err(ConfigError::MissingAddress)
        );
        assert_eq!(
            IfaceConfig::parse("ip=1.2.3.4"),
            Err(ConfigError::BadPrefix)
        );
        assert_eq!(
            IfaceConfig::parse("ip=1.2.3.4/33"),
            Err(ConfigError::BadPrefix)
        );
        assert_eq!(
            IfaceConfig::parse("ip=1.2.3/24"),
            Err(ConfigError::BadAddress)
        );
        assert_eq!(
            IfaceConfig::parse("ip=1.2.3.4/24 mtu=9000"),
            Err(ConfigError::UnknownKey)
        );
        assert_eq!(
            IfaceConfig::parse("ip=1.2.3.4/24 junk"),
            Err(ConfigError::UnknownKey)
        );
        assert_eq!(
            IfaceConfig::parse("ip=1.2.3.4/24 dns=1.1.1.1,x"),
            Err(ConfigError::BadAddress)
        );
    }

    #[test]
    fn masks() {
        assert_eq!(netmask(0), Ipv4Addr::UNSPECIFIED);
        assert_eq!(netmask(32), Ipv4Addr::BROADCAST);
        assert_eq!(netmask(20), Ipv4Addr::new(255, 255, 240, 0));
        for len in 0..=32 {
            assert_eq!(prefix_len(netmask(len)), Some(len));
        }
        assert_eq!(prefix_len(Ipv4Addr::new(255, 0, 255, 0)), None);
        let p2p = IfaceConfig::parse("ip=10.0.0.1/31").unwrap();
        assert_eq!(p2p.broadcast(), None);
    }
}
