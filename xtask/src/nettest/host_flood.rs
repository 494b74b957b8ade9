//! The host's side of the stress tests (`net-tap-tcp-stress`, `net-tap-user-stress`): for a
//! bounded time, [`HAMMERS`] threads in the test's namespace loop short echo connections
//! to a guest port ([`client::hammer`]) while a flood ping (`ping -f`, bounded by count
//! and seconds) runs against the guest. The guest's own load runs meanwhile on the
//! console; [`Flood::finish`] stops the hammers and collects both.

use super::answers::PingSummary;
use super::checks::{host_part, run_bounded, PING};
use super::client::{self, in_netns};
use crate::net_mode::TAP_GUEST_CIDR;
use crate::netns::Netns;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{Scope, ScopedJoinHandle};
use std::time::{Duration, Instant};

/// Host threads looping connections to the guest.
pub const HAMMERS: usize = 4;

/// What the host's hammer threads did: connections, failures, and threads that failed
/// (ended in an error or a panic, or completed no connection).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hammered {
    pub connections: u64,
    pub failures: u64,
    pub failed_threads: u64,
}

impl Hammered {
    /// Adds one hammer thread's outcome.
    pub fn add(&mut self, outcome: Result<(u64, u64), String>) {
        match outcome {
            Ok((done, failed)) => {
                self.connections += done;
                self.failures += failed;
                self.failed_threads += u64::from(done == 0);
            }
            Err(_) => self.failed_threads += 1,
        }
    }

    /// Failures within 1% of the connections, and every thread made connections (under
    /// the flood a connection may time out or meet a full queue; more means the guest
    /// loses connections).
    pub fn held(&self) -> Result<(), String> {
        if self.failed_threads != 0
            || self.connections == 0
            || self.failures * 100 > self.connections
        {
            return Err(format!(
                "host -> guest: {} connections, {} failures, {} of {HAMMERS} host threads failed",
                self.connections, self.failures, self.failed_threads
            ));
        }
        Ok(())
    }
}

/// How long and how much: the hammers' time, the ping's time bound and count.
pub struct Plan {
    pub hammer: Duration,
    pub ping_seconds: u32,
    pub pings: u32,
}

/// The running flood.
pub struct Flood<'scope> {
    stop: &'scope AtomicBool,
    hammers: Vec<ScopedJoinHandle<'scope, Result<(u64, u64), String>>>,
    ping: ScopedJoinHandle<'scope, Result<String, String>>,
}

/// Starts the flood in scope `s`: the hammers against `target` for `plan.hammer` (or
/// until `stop`), `ping -f -c PINGS -w SECONDS` against the guest's tap address.
pub fn start<'scope>(
    s: &'scope Scope<'scope, '_>,
    netns: &'scope Netns,
    target: SocketAddr,
    plan: &Plan,
    stop: &'scope AtomicBool,
    deadline: Instant,
) -> Flood<'scope> {
    let until = Instant::now() + plan.hammer;
    let hammers = (0..HAMMERS)
        .map(|_| {
            s.spawn(move || in_netns(netns.name(), || Ok(client::hammer(target, until, stop))))
        })
        .collect();
    let (count, secs) = (plan.pings.to_string(), plan.ping_seconds.to_string());
    let ping = s.spawn(move || {
        let mut cmd = netns.command(PING);
        let guest = host_part(TAP_GUEST_CIDR);
        cmd.args(["-q", "-n", "-f", "-c", &count, "-w", &secs, guest]);
        run_bounded(cmd, deadline)
    });
    Flood {
        stop,
        hammers,
        ping,
    }
}

impl Flood<'_> {
    /// Stops the hammers; what they did and the ping's summary.
    pub fn finish(self) -> (Hammered, Result<PingSummary, String>) {
        self.stop.store(true, Ordering::Relaxed);
        let mut hammered = Hammered::default();
        for h in self.hammers {
            hammered.add(
                h.join()
                    .unwrap_or_else(|_| Err("a hammer thread panicked".into())),
            );
        }
        let ping = self
            .ping
            .join()
            .unwrap_or_else(|_| Err("ping thread panicked".into()))
            .and_then(|out| PingSummary::parse(&out));
        (hammered, ping)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hammer_threads_must_all_connect_with_few_failures() {
        let mut host = Hammered::default();
        for _ in 0..HAMMERS {
            host.add(Ok((1000, 2)));
        }
        assert_eq!(host.connections, 4000);
        assert_eq!(host.held(), Ok(()));
        // A thread that failed (an error, a panic) or made no connection is counted.
        for failure in [Err("setns: denied".to_string()), Ok((0, 40))] {
            let mut lost = host;
            lost.add(failure);
            assert_eq!(lost.failed_threads, 1);
            assert!(lost.held().unwrap_err().contains("1 of 4 host threads"));
        }
        // Failures above 1% of the connections.
        let mut lossy = host;
        lossy.add(Ok((0, 33)));
        lossy.failed_threads = 0;
        assert!(lossy.held().unwrap_err().contains("41 failures"));
        assert!(Hammered::default().held().is_err());
    }
}
