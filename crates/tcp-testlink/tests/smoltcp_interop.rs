//! Halyard against smoltcp (an independent TCP) over the simulated link, with seeded
//! loss, reordering, duplication, corruption and delay: transfers both ways, verified
//! byte for byte, and both sides ending in CLOSED / TIME-WAIT.

use std::time::Duration;

use halyard_tcp::congestion::Algorithm;
use halyard_tcp::Config;
use tcp_testlink::link::{Faults, LinkConfig};
use tcp_testlink::scenario::{Impl, Scenario};
use tcp_testlink::sim::End;
use tcp_testlink::Outcome;

fn faults(loss: f64) -> Faults {
    Faults {
        loss,
        duplicate: 0.01,
        reorder: 0.02,
        reorder_delay: Duration::from_millis(3),
        corrupt: 0.005,
        jitter: Duration::from_micros(500),
    }
}

fn check(s: &Scenario) {
    let (r, c, sv) = s.run();
    assert_eq!(
        r.end,
        End::Done,
        "{:?}: client {:?} server {:?}",
        r,
        c.stream(),
        sv.stream()
    );
    for h in [&c, &sv] {
        let st = h.stream();
        assert!(st.complete(), "{} stream incomplete: {:?}", h.name(), st);
        assert_eq!(st.mismatch, None);
    }
    // Exactly one side closes first and waits in TIME-WAIT, unless both closed at once.
    let tw = [r.outcome_a, r.outcome_b]
        .iter()
        .filter(|o| matches!(o, Outcome::Finished { time_wait: true }))
        .count();
    assert!(tw >= 1, "someone must hold TIME-WAIT: {r:?}");
}

fn scenario(client: Impl, server: Impl, up: u64, down: u64, loss: f64, seed: u64) -> Scenario {
    Scenario {
        client,
        server,
        upload: up,
        download: down,
        link: LinkConfig {
            faults: faults(loss),
            ..LinkConfig::default()
        },
        seed,
        limit: Duration::from_secs(600),
    }
}

fn halyard() -> Impl {
    Impl::Halyard(Config::default().into())
}

#[test]
fn halyard_client_uploads_to_smoltcp() {
    for seed in 0..4 {
        check(&scenario(
            halyard(),
            Impl::Smol(65536),
            2_000_000,
            0,
            0.01,
            seed,
        ));
    }
}

#[test]
fn smoltcp_client_uploads_to_halyard() {
    for seed in 10..14 {
        check(&scenario(
            Impl::Smol(65536),
            halyard(),
            2_000_000,
            0,
            0.01,
            seed,
        ));
    }
}

#[test]
fn both_directions_at_once_with_5_percent_loss() {
    for seed in 20..23 {
        check(&scenario(
            halyard(),
            Impl::Smol(65536),
            500_000,
            700_000,
            0.05,
            seed,
        ));
        check(&scenario(
            Impl::Smol(65536),
            halyard(),
            600_000,
            400_000,
            0.05,
            seed,
        ));
    }
}

#[test]
fn newreno_without_sack_or_timestamps() {
    let cfg = Config {
        congestion: Algorithm::NewReno,
        sack: false,
        timestamps: false,
        ..Config::default()
    };
    for seed in 30..33 {
        check(&scenario(
            Impl::Halyard(cfg.clone().into()),
            Impl::Smol(65536),
            1_000_000,
            300_000,
            0.02,
            seed,
        ));
    }
}
