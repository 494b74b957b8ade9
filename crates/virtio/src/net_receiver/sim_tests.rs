//! The receive loop against the simulated device: the device takes available buffers and
//! writes frames across as many as they need (as QEMU does with `MRG_RXBUF`, waiting until
//! the ring has room for the whole frame), the driver's queue, assembler and offload
//! checks turn them back into frames.
use std::vec;
use std::vec::Vec;

use super::*;
use crate::features::{NET_GUEST_CSUM, NET_GUEST_TSO4, NET_MRG_RXBUF};
use crate::net_hdr::{NetHeader, F_NEEDS_CSUM, GSO_TCPV4};
use crate::net_offload::RxChecksum;
use crate::queue::{Buffer, SplitQueue};
use crate::sim::{region, Region, SimDevice};

/// The driver's ring: a queue and one buffer region, slot `i` at `i * buf`.
struct TestRing {
    queue: SplitQueue<u16>,
    bytes: Vec<u8>,
    buf: usize,
}

impl RxRing for TestRing {
    fn buffer_size(&self) -> usize {
        self.buf
    }

    fn pop_used(&mut self) -> Option<(u16, usize)> {
        self.queue.pop_used().map(|u| (u.token, u.len as usize))
    }

    unsafe fn buffer(&self, slot: u16) -> &[u8] {
        &self.bytes[usize::from(slot) * self.buf..][..self.buf]
    }

    unsafe fn span(&self, slot: u16, len: usize) -> Option<&[u8]> {
        let start = usize::from(slot) * self.buf;
        self.bytes.get(start..start + len)
    }

    fn repost(&mut self, slot: u16) {
        let b = Buffer {
            addr: (usize::from(slot) * self.buf) as u64,
            len: self.buf as u32,
            device_writable: true,
        };
        self.queue.add(&[b], slot).unwrap();
    }
}

/// A frame handed on: its bytes, offloads, and whether it was copied.
type Received = (Vec<u8>, RxOffload, bool);

struct Setup {
    _region: Region,
    ring: TestRing,
    device: SimDevice,
    rx: NetReceiver,
}

fn setup(size: u16, buf: usize, features: u64) -> Setup {
    let region = region(size);
    let mut ring = TestRing {
        queue: SplitQueue::new(region.mem.clone(), true),
        bytes: vec![0; usize::from(size) * buf],
        buf,
    };
    for slot in 0..size {
        ring.repost(slot);
    }
    let device = SimDevice::new(region.mem.clone(), true);
    Setup {
        _region: region,
        ring,
        device,
        rx: NetReceiver::new(Features(features), size),
    }
}

impl Setup {
    /// The device receives `frame` with `header` (its `num_buffers` filled in): false when
    /// the ring has too few buffers for it.
    fn send(&mut self, header: NetHeader, frame: &[u8]) -> bool {
        let mut bytes = vec![0u8; net_hdr::LEN];
        bytes.extend_from_slice(frame);
        let n = bytes.len().div_ceil(self.ring.buf);
        if usize::from(self.device.pending()) < n {
            return false;
        }
        NetHeader {
            num_buffers: n as u16,
            ..header
        }
        .emit(&mut bytes)
        .unwrap();
        for chunk in bytes.chunks(self.ring.buf) {
            self.write_next(chunk);
        }
        true
    }

    /// Takes the next available buffer and writes `chunk` into it (used entry pushed).
    fn write_next(&mut self, chunk: &[u8]) {
        let chain = self.device.pop_avail().unwrap();
        let d = chain.descs[0];
        assert!(chunk.len() <= d.len as usize);
        let at = d.addr as usize;
        self.ring.bytes[at..at + chunk.len()].copy_from_slice(chunk);
        self.device
            .push_used(u32::from(chain.head), chunk.len() as u32);
    }

    /// Polls until the ring is empty; returns the frames (with offload and copy flag) and
    /// the drops.
    fn poll(&mut self) -> (Vec<Received>, Vec<RxDrop>) {
        let (mut frames, mut drops) = (Vec::new(), Vec::new());
        self.rx.poll(&mut self.ring, usize::MAX, |e| match e {
            RxEvent::Frame {
                frame,
                offload,
                copied,
                ..
            } => frames.push((frame.to_vec(), offload, copied)),
            RxEvent::Dropped { reason, .. } => drops.push(reason),
            RxEvent::Skipped => drops.push(RxDrop::Short),
        });
        (frames, drops)
    }
}

/// A deterministic byte pattern for frame `i`.
fn pattern(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|k| (k * 7 + i * 13) as u8).collect()
}

/// A TCP/IPv4 frame of `len` bytes (total length right) for the GSO checks.
fn tcp_frame(len: usize) -> Vec<u8> {
    let mut f = pattern(1, len);
    f[12] = 0x08;
    f[13] = 0x00;
    f[14] = 0x45;
    f[16..18].copy_from_slice(&((len - 14) as u16).to_be_bytes());
    f[23] = 6;
    f
}

fn gso_header(size: u16) -> NetHeader {
    NetHeader {
        flags: F_NEEDS_CSUM,
        gso_type: GSO_TCPV4,
        gso_size: size,
        csum_start: 34,
        csum_offset: 16,
        ..NetHeader::default()
    }
}

#[test]
fn multi_buffer_frames_across_every_wrap() {
    // 8 buffers of 64 bytes: frames of 1 to 5 buffers wrap the slot numbers every few
    // frames and the 16-bit ring indices after 65,536 buffers.
    let mut s = setup(8, 64, NET_MRG_RXBUF);
    let (mut sent, mut copies, mut in_place_multi) = (0, 0, 0);
    let mut buffers = 0usize;
    let mut seed = 0x1234_5678u32;
    while buffers < 70_000 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let len = 1 + (seed as usize % (5 * 64 - net_hdr::LEN));
        let frame = pattern(sent, len);
        assert!(s.send(NetHeader::default(), &frame));
        buffers += (net_hdr::LEN + len).div_ceil(64);
        let (frames, drops) = s.poll();
        assert_eq!(drops, []);
        assert_eq!(frames.len(), 1);
        let (got, offload, copied) = &frames[0];
        assert_eq!(got, &frame, "frame {sent}");
        assert_eq!(offload.checksum, RxChecksum::Verify);
        copies += usize::from(*copied);
        in_place_multi += usize::from(!copied && len > 64 - net_hdr::LEN);
        sent += 1;
    }
    assert!(s.device.pending() == 8 && s.ring.queue.num_free() == 0);
    // Both paths ran: in place when the buffers were adjacent, copied across a wrap.
    assert!(
        copies > 1000 && in_place_multi > 1000,
        "{copies} {in_place_multi}"
    );
}

#[test]
fn a_frame_is_held_until_its_last_buffer_arrives() {
    let mut s = setup(8, 64, NET_MRG_RXBUF);
    let frame = pattern(3, 150);
    let mut bytes = vec![0u8; net_hdr::LEN];
    bytes.extend_from_slice(&frame);
    NetHeader {
        num_buffers: 3,
        ..NetHeader::default()
    }
    .emit(&mut bytes)
    .unwrap();
    let chunks: Vec<&[u8]> = bytes.chunks(64).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        s.write_next(chunk);
        let (frames, drops) = s.poll();
        assert_eq!(drops, []);
        if i + 1 < chunks.len() {
            assert_eq!(frames, []);
            // Held buffers are not given back yet.
            assert_eq!(usize::from(s.device.pending()), 8 - i - 1);
        } else {
            assert_eq!(frames.len(), 1);
            assert_eq!(frames[0].0, frame);
        }
    }
    assert_eq!(s.device.pending(), 8);
}

#[test]
fn offloads_reach_the_stack_and_malformed_headers_are_dropped() {
    let features = NET_MRG_RXBUF | NET_GUEST_CSUM | NET_GUEST_TSO4;
    let mut s = setup(64, 4096, features);
    let big = tcp_frame(60_000);
    assert!(s.send(gso_header(1448), &big));
    let (frames, drops) = s.poll();
    assert_eq!(drops, []);
    assert_eq!(frames[0].0, big);
    assert_eq!(frames[0].1.gso_size, Some(1448));
    assert_eq!(frames[0].1.checksum, RxChecksum::Partial);

    let mut bad_len = tcp_frame(9000);
    bad_len[16..18].copy_from_slice(&8000u16.to_be_bytes());
    let beyond = NetHeader {
        flags: F_NEEDS_CSUM,
        csum_start: 100,
        csum_offset: 16,
        ..NetHeader::default()
    };
    let cases = [
        (gso_header(0), tcp_frame(9000), RxDrop::GsoSizeZero),
        (gso_header(1448), bad_len, RxDrop::GsoIpLength),
        (beyond, tcp_frame(110), RxDrop::CsumStart),
        (
            NetHeader {
                gso_type: 3,
                ..gso_header(1448)
            },
            tcp_frame(9000),
            RxDrop::GsoType,
        ),
    ];
    for (header, frame, reason) in cases {
        assert!(s.send(header, &frame));
        let good = tcp_frame(200);
        assert!(s.send(NetHeader::default(), &good));
        let (frames, drops) = s.poll();
        assert_eq!(drops, [reason]);
        // The next frame is unaffected.
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].0, good);
    }
    assert_eq!(s.device.pending(), 64);
}

#[test]
fn num_buffers_beyond_the_ring_is_dropped_alone() {
    let mut s = setup(8, 64, NET_MRG_RXBUF);
    let mut head = vec![0u8; 64];
    NetHeader {
        num_buffers: 9,
        ..NetHeader::default()
    }
    .emit(&mut head)
    .unwrap();
    s.write_next(&head);
    let frame = pattern(0, 30);
    assert!(s.send(NetHeader::default(), &frame));
    let (frames, drops) = s.poll();
    assert_eq!(drops, [RxDrop::BadNumBuffers]);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].0, frame);
    assert_eq!(s.device.pending(), 8);
}

#[test]
fn without_guest_csum_every_flag_is_ignored() {
    let mut s = setup(64, 4096, NET_MRG_RXBUF);
    let f = tcp_frame(9000);
    assert!(s.send(gso_header(0), &f));
    let (frames, drops) = s.poll();
    // GSO fields of a device that was not asked for offloads: verified as a plain frame.
    assert_eq!(drops, []);
    assert_eq!(frames[0].1.checksum, RxChecksum::Verify);
    assert_eq!(frames[0].1.gso_size, None);
}
