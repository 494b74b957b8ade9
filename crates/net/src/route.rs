//! A tiny IPv4 route table: the connected subnet, a default gateway, and a few static
//! routes, searched by longest prefix. A host needs nothing more, and a bounded table keeps
//! a misbehaving configurator from growing memory.

use crate::config::{same_subnet, IfaceConfig};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

/// Maximum number of routes.
pub const MAX_ROUTES: usize = 8;

/// One route: destinations matching `dest/prefix_len` go to `gateway`, or directly to the
/// destination when `gateway` is `None` (an on-link route).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub dest: Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: Option<Ipv4Addr>,
}

/// The route table.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

/// The table already holds [`MAX_ROUTES`] routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteTableFull;

impl RouteTable {
    /// The on-link route for the subnet and, if there is a gateway, a default route.
    pub fn from_config(cfg: &IfaceConfig) -> RouteTable {
        let mut t = RouteTable::default();
        t.routes.push(Route {
            dest: cfg.addr,
            prefix_len: cfg.prefix_len,
            gateway: None,
        });
        if let Some(gw) = cfg.gateway {
            t.routes.push(Route {
                dest: Ipv4Addr::UNSPECIFIED,
                prefix_len: 0,
                gateway: Some(gw),
            });
        }
        t
    }

    /// Adds a static route.
    pub fn add(&mut self, route: Route) -> Result<(), RouteTableFull> {
        if self.routes.len() >= MAX_ROUTES {
            return Err(RouteTableFull);
        }
        self.routes.push(route);
        Ok(())
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The next hop for `dst` (the gateway, or `dst` itself when on-link), by longest prefix.
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        self.routes
            .iter()
            .filter(|r| same_subnet(r.dest, dst, r.prefix_len))
            .max_by_key(|r| r.prefix_len)
            .map(|r| r.gateway.unwrap_or(dst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_gateway_and_longest_prefix() {
        let cfg = IfaceConfig::parse("ip=192.168.100.2/24 gw=192.168.100.1").unwrap();
        let mut t = RouteTable::from_config(&cfg);
        let local = Ipv4Addr::new(192, 168, 100, 9);
        assert_eq!(t.lookup(local), Some(local));
        assert_eq!(
            t.lookup(Ipv4Addr::new(8, 8, 8, 8)),
            Some(Ipv4Addr::new(192, 168, 100, 1))
        );
        let vpn_gw = Ipv4Addr::new(192, 168, 100, 50);
        t.add(Route {
            dest: Ipv4Addr::new(10, 0, 0, 0),
            prefix_len: 8,
            gateway: Some(vpn_gw),
        })
        .unwrap();
        assert_eq!(t.lookup(Ipv4Addr::new(10, 1, 2, 3)), Some(vpn_gw));
        while t.routes().len() < MAX_ROUTES {
            t.add(Route {
                dest: Ipv4Addr::new(172, 16, 0, 0),
                prefix_len: 12,
                gateway: None,
            })
            .unwrap();
        }
        assert_eq!(t.add(t.routes()[0]), Err(RouteTableFull));
    }

    #[test]
    fn no_gateway_means_no_route_off_subnet() {
        let t = RouteTable::from_config(&IfaceConfig::parse("ip=10.0.0.2/8").unwrap());
        assert_eq!(
            t.lookup(Ipv4Addr::new(10, 200, 0, 1)),
            Some(Ipv4Addr::new(10, 200, 0, 1))
        );
        assert_eq!(t.lookup(Ipv4Addr::new(11, 0, 0, 1)), None);
        assert_eq!(
            RouteTable::default().lookup(Ipv4Addr::new(10, 0, 0, 1)),
            None
        );
    }
}
