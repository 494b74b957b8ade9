//! Shared settings for this crate's property tests.

/// A deterministic property-test configuration: `cases` cases from a fixed `seed`, and no
/// regression files written into the source tree.
pub(crate) fn proptest_config(cases: u32, seed: u64) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
