//! The virtio-net receive loop of `crates/virtio` (`NetReceiver`: frames assembled from
//! several buffers, offload headers checked) fed whatever a device could write.
//!
//! Input: byte 0 holds the negotiated features (bit 0 `MRG_RXBUF`, bit 1 `GUEST_CSUM`,
//! bit 2 `GUEST_TSO4`); then [`records`], one per used buffer: a 2-byte big-endian length
//! the device claims, then the bytes it wrote (at most a buffer's worth). The device takes
//! buffers in the order the driver posts them, as QEMU does; when every buffer is held by an
//! incomplete frame it has none left and the input ends there.
//!
//! Checked on every step: each buffer is given back exactly once and only after the device
//! returned it; a frame is never empty nor above `MAX_FRAME`; a partial checksum lies inside
//! its frame; a GSO frame has a `gso_size` and is one IPv4 datagram of the frame's length.

use std::collections::VecDeque;

use virtio::features::{Features, NET_GUEST_CSUM, NET_GUEST_TSO4, NET_MRG_RXBUF};
use virtio::net_hdr::{self, NetHeader};
use virtio::net_offload::RxOffload;
use virtio::net_receiver::{NetReceiver, RxEvent, RxRing};
use virtio::net_rx::MAX_FRAME;

use crate::records;

const SLOTS: u16 = 16;
const BUFFER: usize = 256;

/// The driver's ring as the device sees it: buffers available in posting order, buffers
/// used and not yet taken.
struct Ring {
    bytes: Vec<u8>,
    available: VecDeque<u16>,
    used: VecDeque<(u16, usize)>,
    /// Slots the receiver holds (taken from `used`, not given back).
    taken: [bool; SLOTS as usize],
}

impl RxRing for Ring {
    fn buffer_size(&self) -> usize {
        BUFFER
    }

    fn pop_used(&mut self) -> Option<(u16, usize)> {
        let (slot, len) = self.used.pop_front()?;
        self.taken[usize::from(slot)] = true;
        Some((slot, len))
    }

    unsafe fn buffer(&self, slot: u16) -> &[u8] {
        assert!(self.taken[usize::from(slot)], "read of a buffer not taken");
        &self.bytes[usize::from(slot) * BUFFER..][..BUFFER]
    }

    unsafe fn span(&self, slot: u16, len: usize) -> Option<&[u8]> {
        let start = usize::from(slot) * BUFFER;
        let end = start.checked_add(len)?;
        let slots = start / BUFFER..end.div_ceil(BUFFER).min(usize::from(SLOTS));
        assert!(
            slots.clone().all(|s| self.taken[s]),
            "span over buffers not taken"
        );
        self.bytes.get(start..end)
    }

    fn repost(&mut self, slot: u16) {
        assert!(
            std::mem::take(&mut self.taken[usize::from(slot)]),
            "buffer {slot} given back twice or before it was used"
        );
        self.available.push_back(slot);
    }
}

/// Feeds `data` (see the module docs) to a receiver.
pub fn receive(data: &[u8]) {
    run(data);
}

/// [`receive`], returning the number of frames handed on.
fn run(data: &[u8]) -> usize {
    let Some((&flags, rest)) = data.split_first() else {
        return 0;
    };
    let bits = [NET_MRG_RXBUF, NET_GUEST_CSUM, NET_GUEST_TSO4];
    let features = (0..3)
        .filter(|i| flags & (1 << i) != 0)
        .fold(0, |f, i| f | bits[i]);
    let mut receiver = NetReceiver::new(Features(features), SLOTS);
    let mut ring = Ring {
        bytes: vec![0; usize::from(SLOTS) * BUFFER],
        available: (0..SLOTS).collect(),
        used: VecDeque::new(),
        taken: [false; SLOTS as usize],
    };
    let mut frames = 0;
    for record in records::split(rest) {
        let Some(slot) = ring.available.pop_front() else {
            break;
        };
        let (claim, written) = match record.split_first_chunk::<2>() {
            Some((claim, written)) => (usize::from(u16::from_be_bytes(*claim)), written),
            None => (0, record),
        };
        let written = &written[..written.len().min(BUFFER)];
        let at = usize::from(slot) * BUFFER;
        ring.bytes[at..at + written.len()].copy_from_slice(written);
        ring.used.push_back((slot, claim));
        receiver.poll(&mut ring, usize::MAX, |event| {
            if let RxEvent::Frame { frame, offload, .. } = event {
                check(frame, offload);
                frames += 1;
            }
        });
        assert!(ring.used.is_empty());
        let held = ring.taken.iter().filter(|&&t| t).count();
        assert_eq!(held + ring.available.len(), usize::from(SLOTS));
    }
    frames
}

/// The bounds every frame handed on must keep.
fn check(frame: &[u8], offload: RxOffload) {
    assert!(!frame.is_empty() && frame.len() <= MAX_FRAME);
    if let Some(size) = offload.gso_size {
        assert!(size != 0 && frame.len() >= 54);
        let ip_len = usize::from(u16::from_be_bytes([frame[16], frame[17]]));
        assert_eq!(ip_len, frame.len() - 14);
    }
}

/// Seeds: a one-buffer frame, a frame over three buffers, a GSO frame with a partial
/// checksum, each under every feature combination.
pub fn seeds() -> Vec<Vec<u8>> {
    let header = |h: NetHeader| {
        let mut b = vec![0u8; net_hdr::LEN];
        h.emit(&mut b).expect("header fits");
        b
    };
    let buffer = |written: Vec<u8>| {
        let mut r = (written.len() as u16).to_be_bytes().to_vec();
        r.extend(written);
        r
    };
    let mut small = header(NetHeader {
        num_buffers: 1,
        ..NetHeader::default()
    });
    small.extend([0xab; 60]);
    let mut frame = vec![0u8; 2 * BUFFER + 100];
    frame[12..14].copy_from_slice(&[0x08, 0x00]);
    frame[14] = 0x45;
    let ip_len = (frame.len() - 14) as u16;
    frame[16..18].copy_from_slice(&ip_len.to_be_bytes());
    frame[23] = 6;
    let gso = NetHeader {
        flags: net_hdr::F_NEEDS_CSUM,
        gso_type: net_hdr::GSO_TCPV4,
        gso_size: 100,
        csum_start: 34,
        csum_offset: 16,
        num_buffers: 0,
        ..NetHeader::default()
    };
    let multi = |h: NetHeader| {
        let mut bytes = header(h);
        bytes.extend(&frame);
        let n = bytes.len().div_ceil(BUFFER) as u16;
        bytes[10..12].copy_from_slice(&n.to_le_bytes());
        bytes
            .chunks(BUFFER)
            .map(|c| buffer(c.to_vec()))
            .collect::<Vec<_>>()
    };
    let inputs = [vec![buffer(small)], multi(NetHeader::default()), multi(gso)];
    let mut seeds = Vec::new();
    for flags in 0..8u8 {
        for records in &inputs {
            let mut seed = vec![flags];
            seed.extend(records::join(records));
            // With every feature each input is exactly one frame; the others must not crash.
            let frames = run(&seed);
            assert!(flags != 7 || frames == 1, "seed {flags}: {frames} frames");
            seeds.push(seed);
        }
    }
    seeds
}
