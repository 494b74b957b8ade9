//! `cargo xtask fuzz ssh_payloads`: the harness is `halyard_fuzz::ssh::payloads` (docs/fuzzing.md).
#![no_main]

use halyard_fuzz::{seeds, ssh};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: seeds::write_if_asked(ssh::payload_seeds),
    |data: &[u8]| ssh::payloads(data)
);
