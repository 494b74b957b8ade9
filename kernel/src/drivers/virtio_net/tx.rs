//! The transmit ring as the shared transmitter (`virtio::net_tx`) sees it, the owners of
//! frames in flight (for the sockets' limit on bytes queued, Linux's TSQ), and the
//! counting of offloads.
use alloc::sync::Arc;

use virtio::net_hdr;
use virtio::net_tx::{self, TxRing};
use virtio::NetHeader;

use super::counters::{add, COUNTERS};
use crate::drivers::virtio_pci::Ring;

/// Transmit slot size: one page. A frame takes as many consecutive slots as it needs (a
/// 64 KB TSO frame 17); the ring's slots are one contiguous region of 1 MiB, so up to
/// 15 such frames, or 256 small ones, are in flight.
pub const TX_SLOT_SIZE: usize = 4096;

/// Who queued a frame, told when it goes into the ring and when the device is done with
/// it. Called with the device locked: it must only count and schedule work.
pub trait TxOwner: Send + Sync {
    /// A frame of `bytes` bytes was posted.
    fn queued(&self, bytes: usize);
    /// The device finished a frame of `bytes` bytes this owner queued.
    fn transmitted(&self, bytes: usize);
}

/// A frame's owner as the transmitter keeps it.
pub type Owner = Option<Arc<dyn TxOwner>>;

/// The transmit [`Ring`], every slot [`TX_SLOT_SIZE`] bytes.
pub struct TxQueue(pub Ring);

impl TxRing for TxQueue {
    fn buffer_size(&self) -> usize {
        self.0.buffer_size()
    }

    unsafe fn span_mut(&mut self, slot: u16, len: usize) -> Option<&mut [u8]> {
        // SAFETY: forwarded (the transmitter hands out only runs the device does not own).
        unsafe { self.0.span_mut(slot, len) }
    }

    fn post(&mut self, slot: u16, len: usize) -> bool {
        self.0.post(slot, len, false).is_ok()
    }

    fn pop_used(&mut self) -> Option<u16> {
        let used = self.0.queue.pop_used()?;
        add(&COUNTERS.tx_reclaimed, 1);
        Some(used.token)
    }
}

/// Counts a frame of `len` bytes posted with `header`.
pub fn count_sent(len: usize, header: &NetHeader) {
    add(&COUNTERS.tx_packets, 1);
    add(&COUNTERS.tx_bytes, len as u64);
    if header.flags & net_hdr::F_NEEDS_CSUM != 0 {
        add(&COUNTERS.tx_csum_offloaded, 1);
    }
    if header.gso_type != net_hdr::GSO_NONE {
        add(&COUNTERS.tx_tso_frames, 1);
        let segments = net_tx::tso_segments(len, header);
        add(&COUNTERS.tx_tso_segments, segments as u64);
    }
}
