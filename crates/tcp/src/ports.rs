//! Ephemeral port selection, RFC 6056 section 3.3.3 ("Algorithm 3: Simple Hash-Based").
//!
//! port = min + (next_ephemeral + F(local ip, remote ip, remote port, key)) mod count.
//! Per destination the sequence looks random to an off-path attacker, while the shared
//! counter spreads successive connections so a port is not reused right after close.

use core::hash::{BuildHasher, Hasher};
use core::net::{Ipv4Addr, SocketAddrV4};

use crate::siphash::SipKey;

/// Keyed ephemeral-port chooser over `[min, max]`.
#[derive(Debug, Clone)]
pub struct PortAllocator {
    key: SipKey,
    min: u16,
    max: u16,
    next: u32,
}

impl PortAllocator {
    pub fn new(key: SipKey, min: u16, max: u16) -> PortAllocator {
        PortAllocator {
            key,
            min: min.max(1),
            max: max.max(min.max(1)),
            next: 0,
        }
    }

    /// Picks a port for a connection from `local` to `remote` that `in_use` does not
    /// reject, trying every port of the range at most once.
    pub fn pick(
        &mut self,
        local: Ipv4Addr,
        remote: SocketAddrV4,
        mut in_use: impl FnMut(u16) -> bool,
    ) -> Option<u16> {
        let mut h = self.key.build_hasher();
        h.write(&local.octets());
        h.write(&remote.ip().octets());
        h.write(&remote.port().to_be_bytes());
        let offset = h.finish() as u32;
        let count = u32::from(self.max - self.min) + 1;
        for i in 0..count {
            let port = self.min + ((offset.wrapping_add(self.next).wrapping_add(i)) % count) as u16;
            if !in_use(port) {
                self.next = self.next.wrapping_add(i + 1);
                return Some(port);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6056 section 3.3.3: successive picks differ, stay in range, skip used ports,
    /// and the range can be exhausted.
    #[test]
    fn rfc6056_3_3_3_hash_based() {
        let mut p = PortAllocator::new(SipKey([3; 16]), 50_000, 50_009);
        let remote = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80);
        let local = Ipv4Addr::new(10, 0, 0, 1);
        let mut used = [false; 10];
        for _ in 0..10 {
            let port = p
                .pick(local, remote, |q| used[usize::from(q - 50_000)])
                .unwrap();
            assert!((50_000..=50_009).contains(&port));
            assert!(!used[usize::from(port - 50_000)]);
            used[usize::from(port - 50_000)] = true;
        }
        assert_eq!(
            p.pick(local, remote, |q| used[usize::from(q - 50_000)]),
            None
        );
    }
}
