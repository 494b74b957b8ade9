//! The transmitter against the simulated device: what the device finds in the ring (one
//! descriptor per frame, the header's offload fields, the frame behind it), runs of slots
//! across the region's end, and frames handed back with their owners.
use std::vec;
use std::vec::Vec;

use super::*;
use crate::features::{NET_CSUM, NET_HOST_TSO4};
use crate::net_hdr::{F_NEEDS_CSUM, GSO_NONE, GSO_TCPV4};
use crate::queue::{Buffer, SplitQueue};
use crate::sim::{region, Region, SimDevice};

/// The driver's ring: a queue and one region of slots, slot `i` at `i * buf`.
struct TestRing {
    queue: SplitQueue<u16>,
    bytes: Vec<u8>,
    buf: usize,
}

impl TxRing for TestRing {
    fn buffer_size(&self) -> usize {
        self.buf
    }

    unsafe fn span_mut(&mut self, slot: u16, len: usize) -> Option<&mut [u8]> {
        let start = usize::from(slot) * self.buf;
        self.bytes.get_mut(start..start + len)
    }

    fn post(&mut self, slot: u16, len: usize) -> bool {
        let b = Buffer {
            addr: (usize::from(slot) * self.buf) as u64,
            len: len as u32,
            device_writable: false,
        };
        self.queue.add(&[b], slot).is_ok()
    }

    fn pop_used(&mut self) -> Option<u16> {
        self.queue.pop_used().map(|u| u.token)
    }
}

struct Setup {
    _region: Region,
    ring: TestRing,
    device: SimDevice,
    tx: NetTransmitter<u32>,
}

fn setup(size: u16, buf: usize) -> Setup {
    let region = region(size);
    Setup {
        ring: TestRing {
            queue: SplitQueue::new(region.mem.clone(), true),
            bytes: vec![0; usize::from(size) * buf],
            buf,
        },
        device: SimDevice::new(region.mem.clone(), true),
        tx: NetTransmitter::new(size),
        _region: region,
    }
}

impl Setup {
    /// The next chain the device takes: its header and frame (one descriptor each).
    fn device_takes(&mut self) -> Option<(u16, NetHeader, Vec<u8>)> {
        let chain = self.device.pop_avail()?;
        assert_eq!(chain.descs.len(), 1, "one descriptor per frame");
        let d = chain.descs[0];
        let bytes = &self.ring.bytes[d.addr as usize..][..d.len as usize];
        let h = NetHeader::parse(bytes).unwrap();
        Some((chain.head, h, bytes[net_hdr::LEN..].to_vec()))
    }
}

/// An Ethernet frame with an IPv4 header and a transport header of `thl` bytes (its data
/// offset field set) followed by `payload` bytes.
fn frame(protocol: u8, thl: usize, payload: usize) -> Vec<u8> {
    let mut f: Vec<u8> = (0..14 + 20 + thl + payload)
        .map(|i| (i % 251) as u8)
        .collect();
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f[14] = 0x45;
    f[23] = protocol;
    f[34 + 12] = ((thl / 4) as u8) << 4;
    f
}

const OFFLOADS: Features = Features(NET_CSUM | NET_HOST_TSO4);

#[test]
fn tx_headers_carry_the_offloads() {
    let mut s = setup(64, 2048);
    let tso = frame(6, 32, 20_000);
    let udp = frame(17, 8, 100);
    let plain = frame(6, 20, 0);
    let cases = [
        (&tso, Some(16), Some(1448)),
        (&udp, Some(6), None),
        (&plain, None, None),
    ];
    for (i, (f, csum, gso)) in cases.into_iter().enumerate() {
        let h = tx_header(f, csum, gso, OFFLOADS).unwrap();
        s.tx.transmit(&mut s.ring, &h, f, i as u32).unwrap();
    }
    let (_, h, bytes) = s.device_takes().unwrap();
    assert_eq!(bytes, tso);
    let expect = NetHeader {
        flags: F_NEEDS_CSUM,
        gso_type: GSO_TCPV4,
        hdr_len: 14 + 20 + 32,
        gso_size: 1448,
        csum_start: 34,
        csum_offset: 16,
        num_buffers: 0,
    };
    assert_eq!(h, expect);
    assert_eq!(tso_segments(tso.len(), &h), 14);
    let (_, h, bytes) = s.device_takes().unwrap();
    assert_eq!(bytes, udp);
    assert_eq!(
        (h.flags, h.gso_type, h.csum_start, h.csum_offset, h.gso_size),
        (F_NEEDS_CSUM, GSO_NONE, 34, 6, 0)
    );
    let (_, h, bytes) = s.device_takes().unwrap();
    assert_eq!((h, bytes), (NetHeader::default(), plain));
}

/// Offloads the device did not take, or fields the frame does not have, are refused.
#[test]
fn offloads_not_negotiated_or_not_in_the_frame_are_refused() {
    let f = frame(6, 20, 3000);
    let csum_only = Features(NET_CSUM);
    assert!(tx_header(&f, Some(16), None, csum_only).is_ok());
    assert_eq!(
        tx_header(&f, Some(16), Some(1460), csum_only),
        Err(TxError::Offload)
    );
    assert_eq!(
        tx_header(&f, Some(16), None, Features(0)),
        Err(TxError::Offload)
    );
    // TSO without checksum offload, a zero segment size, fields beyond the frame.
    assert_eq!(
        tx_header(&f, None, Some(1460), OFFLOADS),
        Err(TxError::Offload)
    );
    assert_eq!(
        tx_header(&f, Some(16), Some(0), OFFLOADS),
        Err(TxError::Offload)
    );
    assert_eq!(
        tx_header(&f[..40], Some(16), None, OFFLOADS),
        Err(TxError::Offload)
    );
    assert_eq!(
        tx_header(&f[..14], Some(16), None, OFFLOADS),
        Err(TxError::Offload)
    );
    let mut short_ihl = f.clone();
    short_ihl[14] = 0x44;
    assert_eq!(
        tx_header(&short_ihl, Some(16), None, OFFLOADS),
        Err(TxError::Offload)
    );
    let mut bad_thl = f.clone();
    bad_thl[34 + 12] = 0x40;
    assert_eq!(
        tx_header(&bad_thl, Some(16), Some(1460), OFFLOADS),
        Err(TxError::Offload)
    );
    // Nothing asked: no header fields, whatever was negotiated.
    assert_eq!(
        tx_header(&f, None, None, Features(0)),
        Ok(NetHeader::default())
    );
}

/// A frame written in place into a reservation for the largest one: the unused slots go
/// back at commit, a cancelled reservation leaves nothing behind, a header the frame does
/// not allow gives the run back.
#[test]
fn reserved_runs_are_committed_shrunk_or_cancelled() {
    let mut s = setup(32, 4096);
    let f = frame(6, 20, 1000);
    let (start, buf) = s.tx.reserve(&mut s.ring, MAX_TX_FRAME).unwrap();
    assert_eq!(buf.len(), net_hdr::LEN + MAX_TX_FRAME);
    assert_eq!(s.tx.slots_used(), 17);
    buf[net_hdr::LEN..][..f.len()].copy_from_slice(&f);
    s.tx.commit(
        &mut s.ring,
        start,
        f.len(),
        |frame| tx_header(frame, Some(16), None, OFFLOADS),
        7,
    )
    .unwrap();
    assert_eq!(s.tx.slots_used(), 1);
    let (head, h, bytes) = s.device_takes().unwrap();
    assert_eq!((head, bytes), (start, f.clone()));
    assert_eq!(
        (h.flags, h.csum_start, h.csum_offset),
        (F_NEEDS_CSUM, 34, 16)
    );
    // Cancelled: the slots come back at once.
    let (start, _) = s.tx.reserve(&mut s.ring, MAX_TX_FRAME).unwrap();
    s.tx.cancel(start);
    assert_eq!(s.tx.slots_used(), 1);
    // A header that cannot be made: refused, the run given back.
    let (start, buf) = s.tx.reserve(&mut s.ring, MAX_TX_FRAME).unwrap();
    buf[net_hdr::LEN..][..f.len()].copy_from_slice(&f);
    let bad = |frame: &[u8]| tx_header(frame, None, Some(1448), OFFLOADS);
    assert_eq!(
        s.tx.commit(&mut s.ring, start, f.len(), bad, 8),
        Err(TxError::Offload)
    );
    assert_eq!(s.tx.slots_used(), 1);
    assert!(s.device_takes().is_none());
    s.device.push_used(u32::from(head), 0);
    let mut back = Vec::new();
    s.tx.reclaim(&mut s.ring, |o, n| back.push((o, n)));
    assert_eq!(back, [(7, f.len())]);
    assert_eq!(s.tx.slots_used(), 0);
}

/// Frames of every size through a small region many times over: each is one descriptor
/// over consecutive slots, intact where the device reads it, refused (not lost) when the
/// device holds too much, and handed back with its owner and length.
#[test]
fn runs_wrap_and_frames_come_back_with_their_owners() {
    let mut s = setup(32, 4096);
    let sizes = [60usize, 65_549, 1514, 9000, 30_000, 66, 4084, 4085, 20_000];
    let mut owner = 0u32;
    let mut back = Vec::new();
    let mut sent = Vec::new();
    for round in 0..40 {
        let len = sizes[round % sizes.len()];
        let f: Vec<u8> = (0..len).map(|i| (i + round) as u8).collect();
        match s.tx.transmit(&mut s.ring, &NetHeader::default(), &f, owner) {
            Ok(()) => {
                sent.push((owner, f));
                owner += 1;
            }
            Err(TxError::Full) => {
                // The device finishes everything it holds, in order.
                assert!(s.tx.slots_used() > 0);
                while let Some((head, _, bytes)) = s.device_takes() {
                    let (o, f) = sent.remove(0);
                    assert_eq!(bytes, f, "frame {o} intact");
                    s.device.push_used(u32::from(head), 0);
                }
                s.tx.reclaim(&mut s.ring, |o, n| back.push((o, n)));
                assert_eq!(s.tx.slots_used(), 0);
                s.tx.transmit(&mut s.ring, &NetHeader::default(), &f, owner)
                    .unwrap();
                sent.push((owner, f));
                owner += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(back.len() > 10, "the region filled up several times");
    for (i, &(o, n)) in back.iter().enumerate() {
        assert_eq!((o, n), (i as u32, sizes[i % sizes.len()]));
    }
    let big = vec![0u8; MAX_TX_FRAME + 1];
    assert_eq!(
        s.tx.transmit(&mut s.ring, &NetHeader::default(), &big, 0),
        Err(TxError::TooLarge)
    );
    // A frame larger than the whole region can never go.
    let mut small = setup(8, 4096);
    assert_eq!(
        small
            .tx
            .transmit(&mut small.ring, &NetHeader::default(), &big[..40_000], 0),
        Err(TxError::TooLarge)
    );
}
