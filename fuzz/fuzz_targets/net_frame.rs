//! `cargo xtask fuzz net_frame`: the harness is `halyard_fuzz::net::frame` (docs/fuzzing.md).
#![no_main]

use halyard_fuzz::{net, seeds};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: seeds::write_if_asked(net::frame_seeds),
    |data: &[u8]| net::frame(data)
);
