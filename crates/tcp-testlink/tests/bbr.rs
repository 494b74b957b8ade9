//! BBR end to end over the simulated link: data integrity clean and lossy, goodput
//! against CUBIC under random loss, the bottleneck queue it keeps, and pacing with a
//! millisecond timer (the kernel's tick).

use std::time::Duration;

use halyard_tcp::congestion::Algorithm;
use halyard_tcp::{Config, Instant, Stats};
use tcp_testlink::host::{Host, HostSpec, Outcome, Role};
use tcp_testlink::link::{Faults, Link, LinkConfig};
use tcp_testlink::pattern::Stream;
use tcp_testlink::scenario::{Impl, Scenario, CLIENT, SERVER};
use tcp_testlink::sim::{self, End};
use tcp_testlink::HalyardHost;

fn config(congestion: Algorithm, buffer: usize) -> Config {
    Config {
        congestion,
        send_buffer: buffer,
        recv_buffer: buffer,
        ..Config::default()
    }
}

/// Runs `bytes` from client to server; returns the simulated transfer time and the
/// sender's counters. Panics unless the data arrived intact.
fn transfer(cfg: Config, bytes: u64, faults: Faults, seed: u64) -> (Duration, Stats) {
    let s = Scenario {
        client: Impl::Halyard(cfg.clone().into()),
        server: Impl::Halyard(cfg.into()),
        upload: bytes,
        download: 0,
        link: LinkConfig {
            faults,
            ..LinkConfig::default()
        },
        seed,
        limit: Duration::from_secs(600),
    };
    let (r, c, sv) = s.run();
    assert_eq!(r.end, End::Done, "{r:?} {:?} {:?}", c.stream(), sv.stream());
    assert_eq!(sv.stream().mismatch, None);
    assert_eq!(sv.stream().received, bytes);
    (r.data_done.unwrap(), c.halyard_stats().unwrap())
}

fn mbit(bytes: u64, t: Duration) -> f64 {
    bytes as f64 * 8.0 / t.as_secs_f64() / 1e6
}

fn mean_rtt_ms(st: &Stats) -> f64 {
    st.rtt_sample_micros as f64 / st.rtt_samples.max(1) as f64 / 1e3
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
    let cfg = config(Algorithm::Bbr, 256 * 1024);
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
    let r = sim::run(&mut c, &mut s, &mut Link::new(link, seed), Duration::from_secs(600));
    assert_eq!(r.end, End::Done, "{r:?}");
    assert_eq!(s.stream().mismatch, None);
    assert_eq!(s.stream().received, bytes);
    mbit(bytes, r.data_done.unwrap())
}

const ONE_PERCENT: Faults = Faults {
    loss: 0.01,
    duplicate: 0.0,
    reorder: 0.0,
    reorder_delay: Duration::ZERO,
    corrupt: 0.0,
    jitter: Duration::ZERO,
};

/// Clean: BBR fills the 100 Mbit/s link. 1% random loss each way: data intact, and BBR,
/// which does not read random loss as congestion, gets well over three times what
/// CUBIC (held near the Mathis bound, about 7 Mbit/s) gets on the same seeds.
#[test]
fn bbr_transfers_intact_and_beats_loss_based_under_random_loss() {
    let (t, st) = transfer(config(Algorithm::Bbr, 256 * 1024), 10 << 20, Faults::default(), 1);
    assert!(mbit(10 << 20, t) > 85.0, "{:.1} Mbit/s", mbit(10 << 20, t));
    assert_eq!(st.retransmits, 0);
    let (mut bbr, mut cubic) = (0.0, 0.0);
    for seed in 1..=3 {
        let bytes = 4 << 20;
        let (t, _) = transfer(config(Algorithm::Bbr, 256 * 1024), bytes, ONE_PERCENT, seed);
        bbr += mbit(bytes, t);
        let (t, _) = transfer(config(Algorithm::Cubic, 256 * 1024), bytes, ONE_PERCENT, seed);
        cubic += mbit(bytes, t);
    }
    assert!(bbr > 3.0 * cubic, "BBR {bbr:.1} vs CUBIC {cubic:.1} (sum of 3 seeds)");
}

/// With buffers far above the path's BDP (4 MiB against 250 kB), CUBIC fills the
/// 400-packet bottleneck queue until it overflows (RTT more than doubles, losses);
/// BBR keeps the queue to a few packets: mean RTT within 3 ms of the 20 ms path, no
/// loss, and the link still full.
#[test]
fn bbr_keeps_the_bottleneck_queue_short() {
    let bytes = 20 << 20;
    let (t, st) = transfer(config(Algorithm::Bbr, 4 << 20), bytes, Faults::default(), 1);
    assert!(mean_rtt_ms(&st) < 23.0, "BBR mean RTT {:.1} ms", mean_rtt_ms(&st));
    assert_eq!(st.retransmits, 0, "BBR overflowed the queue");
    assert!(mbit(bytes, t) > 85.0, "{:.1} Mbit/s", mbit(bytes, t));
    let (_, st) = transfer(config(Algorithm::Cubic, 4 << 20), bytes, Faults::default(), 1);
    assert!(mean_rtt_ms(&st) > 40.0, "CUBIC mean RTT {:.1} ms", mean_rtt_ms(&st));
    assert!(st.retransmits > 0);
}

/// Pacing with a 1 ms clock and timer (the kernel's tick): the burst allowance keeps
/// the link full, and the 1% loss result holds.
#[test]
fn bbr_pacing_works_with_a_millisecond_tick() {
    let clean = ticked_transfer(10 << 20, Faults::default(), 1);
    assert!(clean > 85.0, "{clean:.1} Mbit/s");
    let lossy = ticked_transfer(4 << 20, ONE_PERCENT, 2);
    assert!(lossy > 30.0, "{lossy:.1} Mbit/s");
}
