//! `cargo xtask fuzz ssh_wire`: the harness is `halyard_fuzz::ssh::wire` (docs/fuzzing.md).
#![no_main]

use halyard_fuzz::{seeds, ssh};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: seeds::write_if_asked(ssh::wire_seeds),
    |data: &[u8]| ssh::wire(data)
);
