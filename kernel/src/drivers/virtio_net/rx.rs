//! The receive ring as the shared receive loop (`virtio::net_receiver`) sees it, and the
//! counting of its outcomes.
use virtio::net_offload::{self, RxChecksum, RxOffload};
use virtio::net_receiver::{RxEvent, RxRing};
use virtio::net_rx::RxDrop;

use super::counters::{add, COUNTERS};
use crate::drivers::virtio_pci::Ring;

/// Receive buffer size: one page. A frame larger than one (GSO frames of up to 64 KB)
/// spans several (`MRG_RXBUF`); the ring's buffers are one contiguous region, so those of
/// a frame are usually adjacent and it is read in place.
pub const RX_BUFFER_SIZE: usize = 4096;

/// The receive [`Ring`], every slot's buffer [`RX_BUFFER_SIZE`] bytes.
pub struct RxQueue(pub Ring);

impl RxRing for RxQueue {
    fn buffer_size(&self) -> usize {
        self.0.buffer_size()
    }

    fn pop_used(&mut self) -> Option<(u16, usize)> {
        let used = self.0.queue.pop_used()?;
        add(&COUNTERS.rx_buffers, 1);
        Some((used.token, used.len as usize))
    }

    unsafe fn buffer(&self, slot: u16) -> &[u8] {
        // SAFETY: forwarded (the device returned `slot` and does not own it).
        unsafe { self.0.buffer(slot) }
    }

    unsafe fn span(&self, slot: u16, len: usize) -> Option<&[u8]> {
        // SAFETY: forwarded (the device owns none of the slots in the range).
        unsafe { self.0.span(slot, len) }
    }

    fn repost(&mut self, slot: u16) {
        if self.0.post(slot, RX_BUFFER_SIZE, true).is_err() {
            add(&COUNTERS.rx_refill_failed, 1);
        }
    }
}

/// Counts one outcome of the receive loop; returns the frame and its offloads to hand on.
pub fn count<'a>(event: RxEvent<'a>) -> Option<(&'a [u8], RxOffload)> {
    match event {
        RxEvent::Frame {
            frame,
            offload,
            buffers,
            copied,
        } => {
            add(&COUNTERS.rx_packets, 1);
            add(&COUNTERS.rx_bytes, frame.len() as u64);
            if buffers > 1 {
                add(&COUNTERS.rx_multi_buffer, 1);
            }
            if copied {
                add(&COUNTERS.rx_assembled_copies, 1);
            }
            if let Some(size) = offload.gso_size {
                add(&COUNTERS.rx_gso_frames, 1);
                add(&COUNTERS.rx_gso_bytes, frame.len() as u64);
                let segments = net_offload::gso_segments(frame, size);
                add(&COUNTERS.rx_gso_segments, segments as u64);
            }
            add(
                match offload.checksum {
                    RxChecksum::Partial => &COUNTERS.rx_csum_partial,
                    RxChecksum::Valid => &COUNTERS.rx_csum_valid,
                    RxChecksum::Verify => &COUNTERS.rx_csum_software,
                },
                1,
            );
            Some((frame, offload))
        }
        RxEvent::Dropped { reason, .. } => {
            add(
                match reason {
                    RxDrop::Short => &COUNTERS.rx_drop_short,
                    RxDrop::TooLong => &COUNTERS.rx_drop_too_long,
                    RxDrop::BadNumBuffers => &COUNTERS.rx_drop_num_buffers,
                    RxDrop::GsoSizeZero => &COUNTERS.rx_drop_gso_size,
                    RxDrop::GsoType => &COUNTERS.rx_drop_gso_type,
                    RxDrop::GsoIpLength => &COUNTERS.rx_drop_gso_ip_length,
                    RxDrop::CsumStart => &COUNTERS.rx_drop_csum_start,
                },
                1,
            );
            None
        }
        RxEvent::Skipped => {
            add(&COUNTERS.rx_drop_continuation, 1);
            None
        }
    }
}
