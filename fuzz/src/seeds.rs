//! Writing a target's seeds into its corpus directory when the runner asks.
//!
//! `cargo xtask fuzz` sets [`SEEDS_ENV`] to the corpus directory it passes to libFuzzer.
//! Each target calls [`write_if_asked`] from libFuzzer's init hook, which runs before
//! libFuzzer reads its corpus, so the seeds are in place for the same run and no seed file
//! is kept in git. File names are fixed per seed, so rewriting them is idempotent.

use std::path::Path;

/// Environment variable naming the directory to write seeds into.
pub const SEEDS_ENV: &str = "HALYARD_FUZZ_SEEDS";

/// Writes `seeds()` into the directory named by [`SEEDS_ENV`], if it is set.
///
/// Panics (and so stops the fuzzer before it starts) if the files cannot be written or
/// the seed generator's own checks fail.
pub fn write_if_asked(seeds: fn() -> Vec<Vec<u8>>) {
    let Some(dir) = std::env::var_os(SEEDS_ENV) else {
        return;
    };
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {dir:?}: {e}"));
    let seeds = seeds();
    for (i, seed) in seeds.iter().enumerate() {
        let path = dir.join(format!("seed-{i:03}"));
        std::fs::write(&path, seed).unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
    }
    eprintln!(
        "halyard-fuzz: {} seeds written to {}",
        seeds.len(),
        dir.display()
    );
}
