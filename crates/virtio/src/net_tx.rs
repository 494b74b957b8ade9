//! The virtio-net transmit side, written once for the kernel and the tests: the header
//! that tells the device what to finish ([`tx_header`]), and [`NetTransmitter`], which
//! puts each frame behind its header into a run of slots ([`TxSlots`]) posted as one
//! descriptor and takes the runs back when the device is done, reporting each frame's
//! owner (for a per-socket limit on bytes queued, Linux's TSQ). A frame is either copied
//! in ([`NetTransmitter::transmit`]) or written in place by its producer into a run
//! reserved for the largest frame ([`NetTransmitter::reserve`], then `commit`, which gives
//! back the slots it did not need, or `cancel`): the TCP engine writes its segments
//! straight into the ring that way.
//!
//! # Offloads (Linux: `virtio_net_hdr_from_skb`)
//! * `CSUM`: a frame whose transport checksum holds only the pseudo-header sum goes with
//!   `NEEDS_CSUM`, `csum_start` at the transport header and `csum_offset` at its checksum
//!   field; the device adds the bytes from `csum_start` on and stores the complement.
//! * `HOST_TSO4` (needs `CSUM`): a TCP super-segment goes with `gso_type` TCPV4,
//!   `gso_size` its payload per segment and `hdr_len` its headers' length; the device (with
//!   a tap backend, the host's kernel) cuts it into segments.
//!
//! The IPv4 header checksum is always computed by the stack; so is every checksum the
//! device was not asked to finish.
use alloc::vec::Vec;

use crate::features::{Features, NET_CSUM, NET_HOST_TSO4};
use crate::net_hdr::{self, NetHeader};
use crate::tx_slots::TxSlots;

/// Largest frame sent: an Ethernet header and a 64 KB IPv4 datagram.
pub const MAX_TX_FRAME: usize = 14 + 65_535;

const ETHERNET_HEADER: usize = 14;

/// Why a frame was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxError {
    /// No run of free transmit slots is large enough; retry after the device completes
    /// some.
    Full,
    /// Larger than [`MAX_TX_FRAME`] or the whole transmit region.
    TooLarge,
    /// It asks for an offload that was not negotiated, or is not an IPv4 frame whose
    /// headers hold the fields the offload names.
    Offload,
}

/// The header for `frame`: `NEEDS_CSUM` when its transport checksum (the field
/// `csum_offset` bytes into the transport header) is left to the device, TSO when it is a
/// TCP super-segment of `gso_size` segments.
pub fn tx_header(
    frame: &[u8],
    csum_offset: Option<u16>,
    gso_size: Option<u16>,
    negotiated: Features,
) -> Result<NetHeader, TxError> {
    let mut h = NetHeader::default();
    let Some(offset) = csum_offset else {
        return match gso_size {
            None => Ok(h),
            Some(_) => Err(TxError::Offload),
        };
    };
    let ihl = frame
        .get(ETHERNET_HEADER)
        .map(|b| usize::from(b & 0x0f) * 4)
        .ok_or(TxError::Offload)?;
    let start = ETHERNET_HEADER + ihl;
    if !negotiated.has(NET_CSUM) || ihl < 20 || start + usize::from(offset) + 2 > frame.len() {
        return Err(TxError::Offload);
    }
    h.flags = net_hdr::F_NEEDS_CSUM;
    h.csum_start = start as u16;
    h.csum_offset = offset;
    if let Some(size) = gso_size {
        let thl = frame
            .get(start + 12)
            .map(|b| usize::from(b >> 4) * 4)
            .ok_or(TxError::Offload)?;
        if !negotiated.has(NET_HOST_TSO4) || size == 0 || thl < 20 || start + thl > frame.len() {
            return Err(TxError::Offload);
        }
        h.gso_type = net_hdr::GSO_TCPV4;
        h.gso_size = size;
        h.hdr_len = (start + thl) as u16;
    }
    Ok(h)
}

/// A transmit queue whose buffers are slots of one region, slot `i` at byte
/// `i * buffer_size`, and whose descriptors may span consecutive slots.
pub trait TxRing {
    /// Bytes per slot.
    fn buffer_size(&self) -> usize;
    /// `len` bytes from the start of slot `slot` on, through the slots after it; `None`
    /// when that runs past the region.
    ///
    /// # Safety
    /// The device owns none of the slots the range touches while the slice lives.
    unsafe fn span_mut(&mut self, slot: u16, len: usize) -> Option<&mut [u8]>;
    /// Posts `len` bytes from slot `slot` on as one device-readable descriptor, with
    /// `slot` as its token; false when the queue refused it.
    fn post(&mut self, slot: u16, len: usize) -> bool;
    /// The token of the next descriptor the device is done with.
    fn pop_used(&mut self) -> Option<u16>;
}

/// The transmit side of one virtio-net queue; `O` names a frame's owner.
#[derive(Debug)]
pub struct NetTransmitter<O> {
    slots: TxSlots,
    /// The owner and length of the frame in the run starting at each slot.
    frames: Vec<Option<(O, usize)>>,
}

impl<O> NetTransmitter<O> {
    /// A transmitter over a region of `slots` slots.
    pub fn new(slots: u16) -> NetTransmitter<O> {
        NetTransmitter {
            slots: TxSlots::new(slots),
            frames: (0..slots).map(|_| None).collect(),
        }
    }

    /// Copies `frame` behind `header` into free slots and posts it for `owner`.
    pub fn transmit(
        &mut self,
        ring: &mut impl TxRing,
        header: &NetHeader,
        frame: &[u8],
        owner: O,
    ) -> Result<(), TxError> {
        let (start, buf) = self.reserve(ring, frame.len())?;
        buf[net_hdr::LEN..net_hdr::LEN + frame.len()].copy_from_slice(frame);
        self.commit(ring, start, frame.len(), |_| Ok(*header), owner)
    }

    /// Reserves free slots for a frame of up to `max_len` bytes, for the caller to write it
    /// in place: returns the run's first slot and its buffer, the frame to go at
    /// [`net_hdr::LEN`] (the header is written by [`Self::commit`]). Nothing else may be
    /// reserved or sent before the run is committed or cancelled.
    pub fn reserve<'r>(
        &mut self,
        ring: &'r mut impl TxRing,
        max_len: usize,
    ) -> Result<(u16, &'r mut [u8]), TxError> {
        if max_len > MAX_TX_FRAME {
            return Err(TxError::TooLarge);
        }
        let total = net_hdr::LEN + max_len;
        let n = self.slots_for(ring, total).ok_or(TxError::TooLarge)?;
        let start = self.slots.alloc(n).ok_or(TxError::Full)?;
        // SAFETY: the run was free, so the device owns none of its slots.
        match unsafe { ring.span_mut(start, total) } {
            Some(buf) => Ok((start, buf)),
            None => {
                self.slots.shrink(start, 0);
                Err(TxError::TooLarge)
            }
        }
    }

    /// Posts the frame of `len` bytes written into the run reserved at `start`, for
    /// `owner`, behind the header `header_for` makes from it (its slots beyond the frame
    /// are given back). On an error the run is given back whole.
    pub fn commit(
        &mut self,
        ring: &mut impl TxRing,
        start: u16,
        len: usize,
        header_for: impl FnOnce(&[u8]) -> Result<NetHeader, TxError>,
        owner: O,
    ) -> Result<(), TxError> {
        let total = net_hdr::LEN + len;
        let n = self.slots_for(ring, total).ok_or(TxError::TooLarge)?;
        if !self.slots.shrink(start, n) {
            return Err(TxError::TooLarge);
        }
        // SAFETY: the run is reserved and not posted, so the device owns none of its slots.
        let header = match unsafe { ring.span_mut(start, total) } {
            Some(buf) => header_for(&buf[net_hdr::LEN..]).map(|h| {
                let _ = h.emit(buf);
            }),
            None => Err(TxError::TooLarge),
        };
        if let Err(e) = header {
            self.slots.shrink(start, 0);
            return Err(e);
        }
        if !ring.post(start, total) {
            self.slots.shrink(start, 0);
            return Err(TxError::Full);
        }
        self.frames[usize::from(start)] = Some((owner, len));
        Ok(())
    }

    /// Gives the run reserved at `start` back unused.
    pub fn cancel(&mut self, start: u16) {
        self.slots.shrink(start, 0);
    }

    /// Slots for `total` bytes, if the region has that many.
    fn slots_for(&self, ring: &impl TxRing, total: usize) -> Option<u16> {
        let n = total.div_ceil(ring.buffer_size().max(1));
        u16::try_from(n).ok().filter(|&n| n <= self.slots.size())
    }

    /// Takes back what the device finished, calling `done` with each frame's owner and
    /// length; returns the number of frames.
    pub fn reclaim(&mut self, ring: &mut impl TxRing, mut done: impl FnMut(O, usize)) -> usize {
        let mut n = 0;
        while let Some(slot) = ring.pop_used() {
            let frame = self
                .frames
                .get_mut(usize::from(slot))
                .and_then(Option::take);
            if let Some((owner, len)) = frame {
                self.slots.free(slot);
                done(owner, len);
                n += 1;
            }
        }
        n
    }

    /// Slots holding frames not yet finished (skipped ones included).
    pub fn slots_used(&self) -> u16 {
        self.slots.used()
    }
}

/// Segments a TSO frame's payload makes at `gso_size` bytes each (Linux's `gso_segs`).
pub fn tso_segments(frame_len: usize, header: &NetHeader) -> usize {
    let payload = frame_len.saturating_sub(usize::from(header.hdr_len));
    payload.div_ceil(usize::from(header.gso_size.max(1))).max(1)
}

#[cfg(test)]
mod sim_tests;
