//! `cargo xtask fuzz fw_acpi`: the harness is `halyard_fuzz::firmware::acpi` (docs/fuzzing.md).
#![no_main]

use halyard_fuzz::{firmware, seeds};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: seeds::write_if_asked(firmware::acpi_seeds),
    |data: &[u8]| firmware::acpi(data)
);
