//! BBR's pacing with a millisecond clock and timer (the kernel's tick) over the
//! simulated link.

use std::time::Duration;

use halyard_tcp::congestion::Algorithm;
use halyard_tcp::{Config, Instant};
use tcp_testlink::host::{Host, HostSpec, Outcome, Role};
use tcp_testlink::link::{Faults, Link, LinkConfig};
use tcp_testlink::pattern::Stream;
use tcp_testlink::scenario::{CLIENT, SERVER};
use tcp_testlink::sim::{self, End};
use tcp_testlink::HalyardHost;

fn mbit(bytes: u64, t: Duration) -> f64 {
    bytes as f64 * 8.0 / t.as_secs_f64() / 1e6
}

/// A host whose clock and timer have millisecond granularity, like the kernel's tick:
/// it sees time rounded down to the millisecond and is woken on millisecond boundaries.
struct Ticked(HalyardHost);

fn floor_ms(t: Instant) -> Instant {
    Instant::from_millis(t.millis())
}

impl Host for Ticked {
    fn name(&self) -> &'static str {
        "halyard (1 ms tick)"
    }
    fn receive(&mut self, now: Instant, packet: &[u8]) {
        self.0.receive(floor_ms(now), packet)
    }
    fn poll(&mut self, now: Instant, out: &mut Vec<Vec<u8>>) {
        self.0.poll(floor_ms(now), out)
    }
    fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        let next_tick = Instant::from_millis(now.millis() + 1);
        self.0
            .poll_at(floor_ms(now))
            .map(|t| Instant::from_millis(t.micros().div_ceil(1000)).max(next_tick))
    }
    fn stream(&self) -> &Stream {
        self.0.stream()
    }
    fn outcome(&self) -> Outcome {
        self.0.outcome()
    }
}

/// Runs a BBR transfer between two hosts on a 1 ms tick; returns the goodput.
fn ticked_transfer(bytes: u64, faults: Faults, seed: u64) -> f64 {
    let cfg = Config {
        congestion: Algorithm::Bbr,
        ..Config::default()
    };
    let host = |role, local, remote, stream| {
        let mut secret = [0u8; 16];
        secret[0] = role as u8;
        secret[1] = seed as u8;
        Ticked(HalyardHost::new(
            cfg.clone(),
            secret,
            HostSpec {
                role,
                local,
                remote,
            },
            stream,
        ))
    };
    let mut c = host(Role::Client, CLIENT, SERVER, Stream::new(seed, bytes, 0, 0));
    let mut s = host(Role::Server, SERVER, CLIENT, Stream::new(0, 0, seed, bytes));
    let link = LinkConfig {
        faults,
        ..LinkConfig::default()
    };
    let r = sim::run(
        &mut c,
        &mut s,
        &mut Link::new(link, seed),
        Duration::from_secs(600),
    );
    assert_eq!(r.end, End::Done, "{r:?}");
    assert_eq!(s.stream().mismatch, None);
    assert_eq!(s.stream().received, bytes);
    mbit(bytes, r.data_done.unwrap())
}

/// Pacing with a 1 ms clock and timer (the kernel's tick): the burst allowance keeps
/// the link full, and the 1% loss result holds.
#[test]
fn bbr_pacing_works_with_a_millisecond_tick() {
    let clean = ticked_transfer(10 << 20, Faults::default(), 1);
    assert!(clean > 85.0, "{clean:.1} Mbit/s");
    let lossy = ticked_transfer(
        4 << 20,
        Faults {
            loss: 0.01,
            ..Faults::default()
        },
        2,
    );
    assert!(lossy > 30.0, "{lossy:.1} Mbit/s");
}
