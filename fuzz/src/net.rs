//! The Ethernet/ARP/IPv4/ICMP/UDP/DHCP receive path of `crates/net`, through the crate's own
//! fuzz entries (which assert that every frame moves exactly one outcome counter).

use crate::records;
use halyard_net::fuzz::seed_frames;

/// One frame into a fresh interface.
pub fn frame(data: &[u8]) {
    halyard_net::fuzz::receive_frame(data);
}

/// A sequence of frames ([`records`] framing) into one interface, its clock advancing.
pub fn sequence(data: &[u8]) {
    halyard_net::fuzz::receive_sequence(data);
}

/// Every frame of the crate's seed set.
pub fn frame_seeds() -> Vec<Vec<u8>> {
    let frames = seed_frames();
    assert!(frames.len() > 8, "only {} seed frames", frames.len());
    frames
}

/// The whole seed set as one sequence (ARP first, so later frames find the peer resolved),
/// and each consecutive pair.
pub fn sequence_seeds() -> Vec<Vec<u8>> {
    let frames = frame_seeds();
    let mut seeds = vec![records::join(&frames)];
    seeds.extend(frames.windows(2).map(records::join));
    seeds
}
