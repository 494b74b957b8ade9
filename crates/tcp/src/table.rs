//! The connection table: O(1) lookup of a connection by its 4-tuple.
//!
//! The hash is SipHash keyed with a per-endpoint secret, so a remote peer cannot pick
//! addresses and ports that land in one bucket and turn lookups into a linear scan.

use core::net::SocketAddrV4;

use hashbrown::HashMap;

use crate::siphash::SipKey;

/// Local and remote address of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FourTuple {
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
}

impl FourTuple {
    /// The tuple's bytes in a fixed order, for keyed hashing (ISN, timestamp offsets).
    pub fn to_bytes(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&self.local.ip().octets());
        b[4..6].copy_from_slice(&self.local.port().to_be_bytes());
        b[6..10].copy_from_slice(&self.remote.ip().octets());
        b[10..].copy_from_slice(&self.remote.port().to_be_bytes());
        b
    }
}

/// Map from 4-tuple to connection slot index.
#[derive(Debug)]
pub struct ConnTable {
    map: HashMap<FourTuple, u32, SipKey>,
}

impl ConnTable {
    pub fn new(key: SipKey) -> ConnTable {
        ConnTable {
            map: HashMap::with_hasher(key),
        }
    }

    /// Room for `n` entries without growing.
    pub fn reserve(&mut self, n: usize) {
        self.map.reserve(n);
    }

    pub fn get(&self, t: &FourTuple) -> Option<u32> {
        self.map.get(t).copied()
    }

    pub fn contains(&self, t: &FourTuple) -> bool {
        self.map.contains_key(t)
    }

    pub fn insert(&mut self, t: FourTuple, slot: u32) {
        self.map.insert(t, slot);
    }

    pub fn remove(&mut self, t: &FourTuple) {
        self.map.remove(t);
    }

    /// True when some connection's local port is `port` (a scan: bind time only).
    pub fn any_local_port(&self, port: u16) -> bool {
        self.map.keys().any(|t| t.local.port() == port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    #[test]
    fn insert_lookup_remove() {
        let mut t = ConnTable::new(SipKey([7; 16]));
        let mk = |p| FourTuple {
            local: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80),
            remote: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), p),
        };
        for p in 1..2000u16 {
            t.insert(mk(p), u32::from(p));
        }
        assert_eq!(t.get(&mk(1234)), Some(1234));
        t.remove(&mk(1234));
        assert_eq!(t.get(&mk(1234)), None);
        assert_eq!(t.get(&mk(1235)), Some(1235));
    }
}
