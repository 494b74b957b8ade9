//! `cargo xtask fuzz fw_cmdline`: the harness is `halyard_fuzz::firmware::cmdline` (docs/fuzzing.md).
#![no_main]

use halyard_fuzz::{firmware, seeds};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: seeds::write_if_asked(firmware::cmdline_seeds),
    |data: &[u8]| firmware::cmdline(data)
);
