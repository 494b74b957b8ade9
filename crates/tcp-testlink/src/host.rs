//! What the simulator drives: a host with one TCP connection and an application that
//! streams a verified pattern each way, then closes its direction.

use core::net::{Ipv4Addr, SocketAddrV4};

use halyard_tcp::Instant;

use crate::pattern::Stream;

/// Which side of the connection a host plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Listens on `local`.
    Server,
    /// Connects to `remote`.
    Client,
}

/// Addresses and roles of one host.
#[derive(Debug, Clone, Copy)]
pub struct HostSpec {
    pub role: Role,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
}

impl HostSpec {
    pub fn ip(&self) -> Ipv4Addr {
        *self.local.ip()
    }
}

/// Where a host's connection ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still running.
    Open,
    /// Closed normally or waiting in TIME-WAIT.
    Finished { time_wait: bool },
    /// Reset, timed out, or otherwise failed.
    Failed,
}

/// A host under simulation.
pub trait Host {
    /// Short name for reports.
    fn name(&self) -> &'static str;
    /// An IPv4 packet arrived.
    fn receive(&mut self, now: Instant, packet: &[u8]);
    /// Fires timers, runs the application, and appends IPv4 packets to send to `out`.
    fn poll(&mut self, now: Instant, out: &mut Vec<Vec<u8>>);
    /// When the host next needs `poll` without any packet arriving.
    fn poll_at(&mut self, now: Instant) -> Option<Instant>;
    /// The application stream state.
    fn stream(&self) -> &Stream;
    /// The connection's fate so far.
    fn outcome(&self) -> Outcome;
    /// The Halyard engine's counters, for hosts that run it.
    fn halyard_stats(&self) -> Option<halyard_tcp::Stats> {
        None
    }
}
