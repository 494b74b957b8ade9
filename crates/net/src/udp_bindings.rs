//! Which UDP socket a datagram is for: the bindings of sockets the kernel keeps outside
//! the interface (user programs' sockets), with Linux's rules (`udp_lib_get_port`,
//! `udp_lib_lport_inuse`, `compute_score` in `net/ipv4/udp.c`).
//!
//! - Binding: a port conflicts with a binding on an overlapping address (equal, or either
//!   the wildcard) unless both set `SO_REUSEADDR` or both `SO_REUSEPORT`. Port 0 picks a
//!   free port of the ephemeral range, from a start the caller gives (random in the
//!   kernel).
//! - Delivery: a unicast datagram goes to the best match: a socket bound to the
//!   destination address before one bound to the wildcard, then a socket connected to the
//!   source before an unconnected one, then the most recently bound (Linux adds sockets at
//!   the head of a hash chain). A broadcast goes to every socket that matches.
//!
//! Each binding carries the caller's value `T` (the kernel's socket endpoint); bindings
//! are named by the caller's id.
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

/// Linux's `ip_local_port_range`.
pub const EPHEMERAL_FIRST: u16 = 32768;
pub const EPHEMERAL_LAST: u16 = 60999;

/// How a socket asks to be bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindRequest {
    pub id: u64,
    /// `INADDR_ANY` for every local address.
    pub addr: Ipv4Addr,
    /// 0: an ephemeral port.
    pub port: u16,
    pub reuse_addr: bool,
    pub reuse_port: bool,
}

/// Why a bind failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindConflict {
    /// The port is held on an overlapping address (`EADDRINUSE`).
    InUse,
    /// No ephemeral port is free (`EAGAIN` for an autobind).
    NoFreePort,
}

#[derive(Debug)]
struct Binding<T> {
    req: BindRequest,
    peer: Option<SocketAddrV4>,
    value: T,
}

impl<T> Binding<T> {
    /// Linux's `compute_score` for a datagram from `from` to `to`: `None` if this
    /// socket does not take it.
    fn score(&self, from: SocketAddrV4, to: Ipv4Addr) -> Option<u32> {
        let mut score = 0;
        if !self.req.addr.is_unspecified() {
            if self.req.addr != to {
                return None;
            }
            score += 8;
        }
        if let Some(peer) = self.peer {
            if peer != from {
                return None;
            }
            score += 4;
        }
        Some(score)
    }
}

/// The bindings by local port, each port's in the order they were made.
#[derive(Debug)]
pub struct UdpBindings<T> {
    ports: BTreeMap<u16, Vec<Binding<T>>>,
}

impl<T> Default for UdpBindings<T> {
    fn default() -> Self {
        UdpBindings {
            ports: BTreeMap::new(),
        }
    }
}

impl<T> UdpBindings<T> {
    /// The port `req` would get: its own, checked for conflicts, or (port 0) the first
    /// ephemeral port from `start` on (wrapping) that has no binding and that `taken`
    /// (ports held elsewhere) does not refuse.
    pub fn choose_port(
        &self,
        req: &BindRequest,
        start: u16,
        taken: impl Fn(u16) -> bool,
    ) -> Result<u16, BindConflict> {
        if req.port != 0 {
            let conflict = self.ports.get(&req.port).is_some_and(|list| {
                list.iter().any(|b| {
                    let (a, c) = (b.req.addr, req.addr);
                    let overlap = a == c || a.is_unspecified() || c.is_unspecified();
                    overlap
                        && !(b.req.reuse_addr && req.reuse_addr)
                        && !(b.req.reuse_port && req.reuse_port)
                })
            });
            return if conflict {
                Err(BindConflict::InUse)
            } else {
                Ok(req.port)
            };
        }
        let count = u32::from(EPHEMERAL_LAST - EPHEMERAL_FIRST) + 1;
        let offset = u32::from(start.saturating_sub(EPHEMERAL_FIRST)) % count;
        (0..count)
            .map(|i| EPHEMERAL_FIRST + ((offset + i) % count) as u16)
            .find(|p| !self.ports.contains_key(p) && !taken(*p))
            .ok_or(BindConflict::NoFreePort)
    }

    /// Adds a binding on `port` (from [`Self::choose_port`]).
    pub fn insert(&mut self, req: BindRequest, port: u16, value: T) {
        self.ports.entry(port).or_default().push(Binding {
            req: BindRequest { port, ..req },
            peer: None,
            value,
        });
    }

    /// Removes binding `id` from `port`; its value, if it was there.
    pub fn remove(&mut self, id: u64, port: u16) -> Option<T> {
        let list = self.ports.get_mut(&port)?;
        let at = list.iter().position(|b| b.req.id == id)?;
        let b = list.remove(at);
        if list.is_empty() {
            self.ports.remove(&port);
        }
        Some(b.value)
    }

    /// Sets binding `id`'s address and peer (`connect`, disconnect).
    pub fn set_addresses(
        &mut self,
        id: u64,
        port: u16,
        addr: Ipv4Addr,
        peer: Option<SocketAddrV4>,
    ) {
        let found = self
            .ports
            .get_mut(&port)
            .and_then(|l| l.iter_mut().find(|b| b.req.id == id));
        if let Some(b) = found {
            b.req.addr = addr;
            b.peer = peer;
        }
    }

    /// The socket a unicast datagram from `from` to `to:port` goes to.
    pub fn lookup(&self, from: SocketAddrV4, to: Ipv4Addr, port: u16) -> Option<&T> {
        let list = self.ports.get(&port)?;
        let mut best: Option<(u32, &Binding<T>)> = None;
        for b in list {
            if let Some(s) = b.score(from, to) {
                if best.is_none_or(|(bs, _)| s >= bs) {
                    best = Some((s, b));
                }
            }
        }
        best.map(|(_, b)| &b.value)
    }

    /// Every socket a broadcast from `from` to `to:port` goes to.
    pub fn lookup_all(
        &self,
        from: SocketAddrV4,
        to: Ipv4Addr,
        port: u16,
    ) -> impl Iterator<Item = &T> + '_ {
        self.ports
            .get(&port)
            .into_iter()
            .flatten()
            .filter(move |b| b.score(from, to).is_some())
            .map(|b| &b.value)
    }

    /// The sockets on `port` connected to `peer` (those an ICMP error about a datagram
    /// from `port` to `peer` concerns).
    pub fn connected_to(&self, port: u16, peer: SocketAddrV4) -> impl Iterator<Item = &T> + '_ {
        self.ports
            .get(&port)
            .into_iter()
            .flatten()
            .filter(move |b| b.peer == Some(peer))
            .map(|b| &b.value)
    }

    /// Every binding: (bound address and port, peer, value).
    pub fn iter(&self) -> impl Iterator<Item = (SocketAddrV4, Option<SocketAddrV4>, &T)> + '_ {
        self.ports.iter().flat_map(|(port, list)| {
            list.iter()
                .map(|b| (SocketAddrV4::new(b.req.addr, *port), b.peer, &b.value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: Ipv4Addr = Ipv4Addr::UNSPECIFIED;
    const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;
    const LO2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

    fn req(id: u64, addr: Ipv4Addr, port: u16) -> BindRequest {
        BindRequest {
            id,
            addr,
            port,
            reuse_addr: false,
            reuse_port: false,
        }
    }

    fn bind(t: &mut UdpBindings<u64>, r: BindRequest) -> Result<u16, BindConflict> {
        let port = t.choose_port(&r, EPHEMERAL_FIRST, |_| false)?;
        t.insert(r, port, r.id);
        Ok(port)
    }

    #[test]
    fn conflicts_follow_linux() {
        let mut t = UdpBindings::default();
        assert_eq!(bind(&mut t, req(1, LO, 5000)), Ok(5000));
        assert_eq!(bind(&mut t, req(2, LO, 5000)), Err(BindConflict::InUse));
        assert_eq!(bind(&mut t, req(2, ANY, 5000)), Err(BindConflict::InUse));
        assert_eq!(bind(&mut t, req(2, LO2, 5000)), Ok(5000));
        let reuse = |id, addr| BindRequest {
            reuse_addr: true,
            ..req(id, addr, 6000)
        };
        let port_reuse = |id, addr| BindRequest {
            reuse_port: true,
            ..req(id, addr, 6000)
        };
        assert_eq!(bind(&mut t, reuse(3, ANY)), Ok(6000));
        assert_eq!(bind(&mut t, req(4, LO, 6000)), Err(BindConflict::InUse));
        assert_eq!(bind(&mut t, reuse(4, LO)), Ok(6000));
        assert_eq!(bind(&mut t, port_reuse(5, LO)), Err(BindConflict::InUse));
        assert_eq!(t.remove(1, 5000), Some(1));
        assert_eq!(t.remove(1, 5000), None);
        assert_eq!(bind(&mut t, req(1, ANY, 5000)), Err(BindConflict::InUse));
        assert_eq!(t.remove(2, 5000), Some(2));
        assert_eq!(bind(&mut t, req(1, ANY, 5000)), Ok(5000));
    }

    #[test]
    fn ephemeral_ports_skip_bound_and_taken_ones_and_wrap() {
        let mut t = UdpBindings::default();
        t.insert(req(1, LO, 0), EPHEMERAL_LAST, 1);
        let r = req(2, ANY, 0);
        assert_eq!(
            t.choose_port(&r, EPHEMERAL_LAST, |_| false),
            Ok(EPHEMERAL_FIRST)
        );
        let taken = |p| p == EPHEMERAL_FIRST;
        assert_eq!(
            t.choose_port(&r, EPHEMERAL_LAST, taken),
            Ok(EPHEMERAL_FIRST + 1)
        );
        assert_eq!(t.choose_port(&r, 40000, |_| false), Ok(40000));
        assert_eq!(
            t.choose_port(&r, 1, |_| true),
            Err(BindConflict::NoFreePort)
        );
    }

    #[test]
    fn unicast_goes_to_the_best_match_broadcast_to_all() {
        let mut t = UdpBindings::default();
        let from = SocketAddrV4::new(LO, 40000);
        let other = SocketAddrV4::new(LO, 40001);
        let reuse = |id, addr| BindRequest {
            reuse_addr: true,
            ..req(id, addr, 7000)
        };
        t.insert(reuse(1, ANY), 7000, 1);
        assert_eq!(t.lookup(from, LO, 7000), Some(&1));
        t.insert(reuse(2, ANY), 7000, 2);
        assert_eq!(
            t.lookup(from, LO, 7000),
            Some(&2),
            "the latest among equals"
        );
        t.set_addresses(1, 7000, ANY, Some(from));
        assert_eq!(
            t.lookup(from, LO, 7000),
            Some(&1),
            "connected beats unconnected"
        );
        assert_eq!(
            t.lookup(other, LO, 7000),
            Some(&2),
            "connected elsewhere: filtered"
        );
        t.insert(reuse(3, LO), 7000, 3);
        assert_eq!(
            t.lookup(other, LO, 7000),
            Some(&3),
            "the exact address first"
        );
        assert_eq!(t.lookup(other, LO2, 7000), Some(&2));
        assert_eq!(t.lookup(from, LO, 7001), None);
        let b: Vec<u64> = t.lookup_all(other, LO2, 7000).copied().collect();
        assert_eq!(b, [2]);
        let b: Vec<u64> = t.lookup_all(from, LO, 7000).copied().collect();
        assert_eq!(b, [1, 2, 3]);
        let c: Vec<u64> = t.connected_to(7000, from).copied().collect();
        assert_eq!(c, [1]);
        assert_eq!(t.iter().count(), 3);
    }
}
