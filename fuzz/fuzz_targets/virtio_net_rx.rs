//! `cargo xtask fuzz virtio_net_rx`: the harness is `halyard_fuzz::virtio_rx::receive`
//! (docs/fuzzing.md).
#![no_main]

use halyard_fuzz::{seeds, virtio_rx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: seeds::write_if_asked(virtio_rx::seeds),
    |data: &[u8]| virtio_rx::receive(data)
);
