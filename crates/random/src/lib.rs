//! The pure part of Halyard's kernel random number generator (Linux: `drivers/char/random.c`),
//! host-tested; the kernel's `random` module adds the entropy sources and the lock.
//!
//! # Shape
//! * [`seed`]: [`SeedHasher`] condenses labelled inputs (the virtio-rng device's bytes,
//!   RDSEED and RDRAND words, TSC jitter samples) into one 32-byte key with SHA-256. Every
//!   input is length-prefixed and tagged with its [`Source`], so no two different input
//!   sequences hash the same way, and a source that returns garbage or nothing cannot
//!   weaken what the others contributed.
//! * [`crng`]: [`Crng`], a ChaCha20 generator (the `chacha20` crate's `ChaCha20Rng`) with
//!   fast key erasure: after every request the key is replaced by fresh keystream, so a
//!   later compromise of the state does not reveal earlier outputs (Linux's `crng` does
//!   the same). [`Crng::reseed`] folds new seed material into the key; [`Crng::fork`]
//!   hands out an independent child generator, so a large request can be served without
//!   holding the parent's lock.
//! * [`sanity`]: a byte-frequency check (per-value bounds and a chi-square bound) for the
//!   in-kernel test; it catches a broken source (constant, stuck bits, short cycles),
//!   not a subtle bias — that is not what a boot test can measure.
//!
//! Not for the in-kernel tests' reproducible data: that is the seeded xoshiro generator
//! of `test-rng` / `rand_xoshiro`, which is predictable by design.
#![no_std]
#![forbid(unsafe_code)]
#[cfg(test)]
extern crate std;

pub mod crng;
pub mod sanity;
pub mod seed;

pub use crng::Crng;
pub use sanity::{byte_frequency, Frequency};
pub use seed::{SeedHasher, Source};
