//! `cargo xtask fuzz fw_pvh`: the harness is `halyard_fuzz::firmware::pvh` (docs/fuzzing.md).
#![no_main]

use halyard_fuzz::{firmware, seeds};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: seeds::write_if_asked(firmware::pvh_seeds),
    |data: &[u8]| firmware::pvh(data)
);
