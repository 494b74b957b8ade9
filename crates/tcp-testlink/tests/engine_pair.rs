//! Halyard against itself over the simulated link: large transfers both ways, clean and
//! lossy, with each congestion controller; BBR's goodput under random loss and the
//! bottleneck queue it keeps.

use std::time::Duration;

use halyard_tcp::congestion::Algorithm;
use halyard_tcp::{Config, Stats};
use tcp_testlink::link::{Faults, LinkConfig};
use tcp_testlink::scenario::{Impl, Scenario};
use tcp_testlink::sim::End;

/// Runs the transfer; returns the simulated time until all data arrived and the
/// client's counters. Panics unless the data arrived intact.
fn run(cfg: Config, up: u64, down: u64, faults: Faults, seed: u64) -> (Duration, Stats) {
    let s = Scenario {
        client: Impl::Halyard(cfg.clone().into()),
        server: Impl::Halyard(cfg.into()),
        upload: up,
        download: down,
        link: LinkConfig {
            faults,
            ..LinkConfig::default()
        },
        seed,
        limit: Duration::from_secs(600),
    };
    let (r, c, sv) = s.run();
    assert_eq!(r.end, End::Done, "{r:?} {:?} {:?}", c.stream(), sv.stream());
    for h in [&c, &sv] {
        assert_eq!(h.stream().mismatch, None);
        assert_eq!(h.stream().received, h.stream().recv_expect);
    }
    (r.data_done.unwrap(), c.halyard_stats().unwrap())
}

/// 100 Mbit/s, 20 ms RTT, no faults: a 10 MB transfer must run near line rate once the
/// window has opened (slow start costs a few RTTs).
#[test]
fn clean_bulk_transfer_fills_the_link() {
    for alg in [Algorithm::Cubic, Algorithm::NewReno, Algorithm::Bbr] {
        let cfg = Config {
            congestion: alg,
            ..Config::default()
        };
        let (t, _) = run(cfg, 10_000_000, 0, Faults::default(), 1);
        // Line rate is 12.5 MB/s: 10 MB takes 0.8 s plus handshake and slow start.
        assert!(t < Duration::from_millis(2_000), "{alg:?}: {t:?}");
    }
}

#[test]
fn bidirectional_with_loss_reorder_duplication() {
    let faults = Faults {
        loss: 0.01,
        duplicate: 0.01,
        reorder: 0.02,
        reorder_delay: Duration::from_millis(2),
        corrupt: 0.002,
        jitter: Duration::from_micros(200),
    };
    for (seed, alg) in [
        (2, Algorithm::Cubic),
        (3, Algorithm::NewReno),
        (4, Algorithm::Bbr),
    ] {
        let cfg = Config {
            congestion: alg,
            ..Config::default()
        };
        run(cfg, 3_000_000, 3_000_000, faults, seed);
    }
}

/// `congestion` with send and receive buffers of `buffer` bytes.
fn with_buffers(congestion: Algorithm, buffer: usize) -> Config {
    Config {
        congestion,
        send_buffer: buffer,
        recv_buffer: buffer,
        ..Config::default()
    }
}

fn mbit(bytes: u64, t: Duration) -> f64 {
    bytes as f64 * 8.0 / t.as_secs_f64() / 1e6
}

fn mean_rtt_ms(st: &Stats) -> f64 {
    st.rtt_sample_micros as f64 / st.rtt_samples.max(1) as f64 / 1e3
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
    let (t, st) = run(
        with_buffers(Algorithm::Bbr, 256 * 1024),
        10 << 20,
        0,
        Faults::default(),
        1,
    );
    assert!(mbit(10 << 20, t) > 85.0, "{:.1} Mbit/s", mbit(10 << 20, t));
    assert_eq!(st.retransmits, 0);
    let goodput = |alg| -> f64 {
        let bytes = 4 << 20;
        (1..=3)
            .map(|seed| {
                mbit(
                    bytes,
                    run(with_buffers(alg, 256 * 1024), bytes, 0, ONE_PERCENT, seed).0,
                )
            })
            .sum()
    };
    let (bbr, cubic) = (goodput(Algorithm::Bbr), goodput(Algorithm::Cubic));
    assert!(
        bbr > 3.0 * cubic,
        "BBR {bbr:.1} vs CUBIC {cubic:.1} (sum of 3 seeds)"
    );
}

/// With buffers far above the path's BDP (4 MiB against 250 kB), CUBIC fills the
/// 400-packet bottleneck queue until it overflows (RTT more than doubles, losses);
/// BBR keeps the queue to a few packets: mean RTT within 3 ms of the 20 ms path, no
/// loss, and the link still full.
#[test]
fn bbr_keeps_the_bottleneck_queue_short() {
    let bytes = 20 << 20;
    let (t, st) = run(
        with_buffers(Algorithm::Bbr, 4 << 20),
        bytes,
        0,
        Faults::default(),
        1,
    );
    assert!(
        mean_rtt_ms(&st) < 23.0,
        "BBR mean RTT {:.1} ms",
        mean_rtt_ms(&st)
    );
    assert_eq!(st.retransmits, 0, "BBR overflowed the queue");
    assert!(mbit(bytes, t) > 85.0, "{:.1} Mbit/s", mbit(bytes, t));
    let (_, st) = run(
        with_buffers(Algorithm::Cubic, 4 << 20),
        bytes,
        0,
        Faults::default(),
        1,
    );
    assert!(
        mean_rtt_ms(&st) > 40.0,
        "CUBIC mean RTT {:.1} ms",
        mean_rtt_ms(&st)
    );
    assert!(st.retransmits > 0);
}
