//! Halyard against itself over the simulated link: large transfers both ways, clean and
//! lossy, with each congestion controller.

use std::time::Duration;

use halyard_tcp::congestion::Algorithm;
use halyard_tcp::Config;
use tcp_testlink::link::{Faults, LinkConfig};
use tcp_testlink::scenario::{Impl, Scenario};
use tcp_testlink::sim::End;

fn run(cfg: Config, up: u64, down: u64, faults: Faults, seed: u64) -> Duration {
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
    r.data_done.unwrap()
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
        let t = run(cfg, 10_000_000, 0, Faults::default(), 1);
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
