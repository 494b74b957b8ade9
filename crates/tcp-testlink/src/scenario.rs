//! One-call setup of a client/server transfer over the simulated link, shared by the
//! tests and the benchmark.

use core::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use halyard_tcp::Config;

use crate::host::{Host, HostSpec, Role};
use crate::link::{Link, LinkConfig};
use crate::pattern::Stream;
use crate::sim::{self, Report};
use crate::{HalyardHost, SmolHost};

/// Client address used by scenarios.
pub const CLIENT: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 40000);
/// Server address used by scenarios.
pub const SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 5001);

/// Which implementation plays a side.
#[derive(Debug, Clone)]
pub enum Impl {
    Halyard(Box<Config>),
    /// smoltcp (with its CUBIC) and this socket buffer size.
    Smol(usize),
    /// smoltcp without congestion control.
    SmolNoCc(usize),
}

/// A transfer to simulate.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub client: Impl,
    pub server: Impl,
    /// Bytes from client to server.
    pub upload: u64,
    /// Bytes from server to client.
    pub download: u64,
    pub link: LinkConfig,
    pub seed: u64,
    pub limit: Duration,
}

fn host(i: &Impl, spec: HostSpec, stream: Stream, seed: u64) -> Box<dyn Host> {
    match i {
        Impl::Halyard(cfg) => {
            let mut secret = [0u8; 16];
            secret[..8].copy_from_slice(&seed.to_le_bytes());
            secret[8] = spec.role as u8;
            Box::new(HalyardHost::new((**cfg).clone(), secret, spec, stream))
        }
        Impl::Smol(buf) => Box::new(SmolHost::new(
            spec,
            stream,
            *buf,
            true,
            seed ^ spec.role as u64,
        )),
        Impl::SmolNoCc(buf) => Box::new(SmolHost::new(
            spec,
            stream,
            *buf,
            false,
            seed ^ spec.role as u64,
        )),
    }
}

impl Scenario {
    /// Runs the scenario; returns the report and both hosts (client, server) for checks.
    pub fn run(&self) -> (Report, Box<dyn Host>, Box<dyn Host>) {
        let (up_seed, down_seed) = (
            self.seed.wrapping_mul(31).wrapping_add(1),
            self.seed.wrapping_mul(17).wrapping_add(2),
        );
        let cspec = HostSpec {
            role: Role::Client,
            local: CLIENT,
            remote: SERVER,
        };
        let sspec = HostSpec {
            role: Role::Server,
            local: SERVER,
            remote: CLIENT,
        };
        let mut c = host(
            &self.client,
            cspec,
            Stream::new(up_seed, self.upload, down_seed, self.download),
            self.seed,
        );
        let mut s = host(
            &self.server,
            sspec,
            Stream::new(down_seed, self.download, up_seed, self.upload),
            self.seed,
        );
        let mut link = Link::new(self.link, self.seed);
        let r = sim::run(c.as_mut(), s.as_mut(), &mut link, self.limit);
        (r, c, s)
    }
}
