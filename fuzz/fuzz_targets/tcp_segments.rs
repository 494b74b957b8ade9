//! `cargo xtask fuzz tcp_segments`: arbitrary segments into listening and established
//! connections, through `halyard_tcp::fuzz::fuzz_segments` (docs/fuzzing.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| halyard_tcp::fuzz::fuzz_segments(data));
