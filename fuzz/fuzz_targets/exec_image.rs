//! `cargo xtask fuzz exec_image`: the harness is `halyard_fuzz::exec::image` (docs/fuzzing.md).
#![no_main]

use halyard_fuzz::{exec, seeds};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: seeds::write_if_asked(exec::image_seeds),
    |data: &[u8]| exec::image(data)
);
