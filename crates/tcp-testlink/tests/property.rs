//! Property: for any seeded fault pattern, data arrives intact and in order, or the
//! connection fails with an error — never corrupted, duplicated or silently truncated.

use std::time::Duration;

use halyard_tcp::congestion::Algorithm;
use halyard_tcp::Config;
use tcp_testlink::link::{Faults, LinkConfig};
use tcp_testlink::scenario::{Impl, Scenario};
use tcp_testlink::sim::End;
use test_rng::TestRng;

/// A random scenario; `force` overrides the congestion controller the seed picked.
fn random_scenario(seed: u64, force: Option<Algorithm>) -> Scenario {
    let mut r = TestRng::new(seed ^ 0x5eed);
    let faults = Faults {
        loss: r.unit() * 0.10,
        duplicate: r.unit() * 0.05,
        reorder: r.unit() * 0.10,
        reorder_delay: Duration::from_micros(r.below(30_000)),
        corrupt: r.unit() * 0.05,
        jitter: Duration::from_micros(r.below(5_000)),
    };
    let picked = if r.chance(0.5) {
        Algorithm::Cubic
    } else {
        Algorithm::NewReno
    };
    let cfg = Config {
        congestion: force.unwrap_or(picked),
        sack: r.chance(0.7),
        timestamps: r.chance(0.7),
        window_scaling: r.chance(0.7),
        nodelay: r.chance(0.3),
        send_buffer: 4096 + r.below(200_000) as usize,
        recv_buffer: 4096 + r.below(200_000) as usize,
        max_ooo_ranges: 1 + r.below(16) as usize,
        ..Config::default()
    };
    let other = if r.chance(0.5) {
        Impl::Smol(8192 + r.below(60_000) as usize)
    } else {
        Impl::Halyard(cfg.clone().into())
    };
    let (client, server) = if r.chance(0.5) {
        (Impl::Halyard(cfg.into()), other)
    } else {
        (other, Impl::Halyard(cfg.into()))
    };
    Scenario {
        client,
        server,
        upload: r.below(300_000),
        download: r.below(300_000),
        link: LinkConfig {
            bandwidth: 1_000_000 + r.below(20_000_000),
            latency: Duration::from_micros(100 + r.below(40_000)),
            queue_packets: 20 + r.below(400) as usize,
            faults,
        },
        seed,
        limit: Duration::from_secs(3600),
    }
}

#[test]
fn seeded_faults_never_corrupt_duplicate_or_truncate() {
    check_seeded_faults(None);
}

/// The same fault patterns with BBR (paced, model-based) on the Halyard side.
#[test]
fn seeded_faults_never_corrupt_duplicate_or_truncate_bbr() {
    check_seeded_faults(Some(Algorithm::Bbr));
}

fn check_seeded_faults(force: Option<Algorithm>) {
    let mut done = 0;
    for seed in 0..48 {
        let s = random_scenario(seed, force);
        let (r, c, sv) = s.run();
        for h in [&c, &sv] {
            let st = h.stream();
            assert_eq!(
                st.mismatch,
                None,
                "seed {seed}: {} got corrupted data: {st:?}",
                h.name()
            );
            assert!(
                st.received <= st.recv_expect,
                "seed {seed}: {} got extra data",
                h.name()
            );
            if st.eof {
                assert_eq!(
                    st.received,
                    st.recv_expect,
                    "seed {seed}: {} silently truncated",
                    h.name()
                );
            }
        }
        match r.end {
            End::Done => done += 1,
            End::Failed => {}
            other => panic!(
                "seed {seed}: neither delivered nor failed: {other:?} {r:?} {:?} {:?}",
                c.stream(),
                sv.stream()
            ),
        }
    }
    assert!(done >= 40, "most seeded runs must complete, {done}/48 did");
}
