//! `cargo xtask fuzz net_sequence`: the harness is `halyard_fuzz::net::sequence` (docs/fuzzing.md).
#![no_main]

use halyard_fuzz::{net, seeds};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: seeds::write_if_asked(net::sequence_seeds),
    |data: &[u8]| net::sequence(data)
);
