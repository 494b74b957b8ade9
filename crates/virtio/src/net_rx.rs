//! What the received virtio-net buffers hold: frames to deliver, each made of one or more
//! buffers, or a counted reason to drop them. The device's claims (`len` in the used ring,
//! `num_buffers` in the header) are input like any packet and are checked, never trusted.
//!
//! # Multi-buffer frames (`MRG_RXBUF`)
//! The first buffer of a frame starts with the header, whose `num_buffers` says how many
//! buffers (this one included) the frame fills; the others follow it in the used ring
//! and carry only frame bytes. [`RxAssembler`] collects them ([`Step::Held`]) until the
//! frame is complete ([`Step::Frame`]); its [`RxAssembler::parts`] are then the buffers to
//! read and to give back. Linux's counterpart is `receive_mergeable` in
//! `drivers/net/virtio_net.c`.
//!
//! The driver reposts buffers in the order the device returns them, so the buffers of a
//! frame are usually adjacent in memory: [`contiguous`] says when the frame can be read in
//! place, and [`assemble`] copies it otherwise (at the point where slot numbers wrap).
//!
//! A frame that goes wrong part-way (a buffer longer than posted, a frame larger than
//! [`MAX_FRAME`]) is dropped with every buffer collected so far, and its remaining
//! buffers are skipped ([`Step::Skipped`]) so that a continuation is never mistaken for
//! the start of a frame. A `num_buffers` of 0 or beyond the ring size cannot be honest:
//! that buffer is dropped alone (nothing is skipped, since the count means nothing).
use alloc::vec::Vec;

use crate::net_hdr::{self, NetHeader};

/// Largest frame accepted: an IPv4 datagram of 65,535 bytes behind an Ethernet header with
/// one VLAN tag (what a GSO frame can be at most).
pub const MAX_FRAME: usize = 65_535 + 14 + 4;

/// Why received buffers were dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxDrop {
    /// No frame after the header.
    Short,
    /// The device claims more bytes than the buffer holds, or a frame above [`MAX_FRAME`].
    TooLong,
    /// `num_buffers` is 0 or larger than the ring.
    BadNumBuffers,
    /// `gso_size` is 0 in a GSO frame.
    GsoSizeZero,
    /// A GSO type that was not negotiated or that the stack does not take (UDP, IPv6,
    /// ECN without `GUEST_ECN`).
    GsoType,
    /// A TCPv4 GSO frame that is not exactly one IPv4/TCP datagram: wrong ethertype,
    /// version, header length, protocol, or a total length other than the frame's.
    GsoIpLength,
    /// `NEEDS_CSUM` with `csum_start + csum_offset` beyond the frame.
    CsumStart,
}

/// One received buffer of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxPart {
    /// The caller's buffer number (the queue token).
    pub slot: u16,
    /// Bytes the device wrote into it (the header included, in the first one).
    pub len: usize,
}

/// The outcome of one received buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Part of a frame still incomplete: keep the buffer.
    Held,
    /// A frame is complete: `header` and `len` bytes of frame (header excluded) in
    /// [`RxAssembler::parts`].
    Frame { header: NetHeader, len: usize },
    /// The buffers in [`RxAssembler::parts`] are dropped, for this reason.
    Dropped(RxDrop),
    /// A continuation of a frame dropped earlier; the buffer in [`RxAssembler::parts`].
    Skipped,
}

/// Collects the buffers of each frame of one receive queue, in used-ring order.
#[derive(Debug, Clone)]
pub struct RxAssembler {
    mrg_rxbuf: bool,
    ring_size: u16,
    /// Buffers of the frame in progress (capacity: the ring size, so never reallocated),
    /// or of the last outcome.
    parts: Vec<RxPart>,
    /// Buffers the frame in progress has in all (0: none in progress).
    expected: u16,
    header: NetHeader,
    /// Frame bytes collected so far.
    total: usize,
    /// Continuations of a dropped frame still to come.
    skip: u16,
}

impl RxAssembler {
    /// `mrg_rxbuf`: whether `VIRTIO_NET_F_MRG_RXBUF` was negotiated; `ring_size`: the
    /// receive queue's size (no frame can span more buffers).
    pub fn new(mrg_rxbuf: bool, ring_size: u16) -> RxAssembler {
        RxAssembler {
            mrg_rxbuf,
            ring_size,
            parts: Vec::with_capacity(usize::from(ring_size)),
            expected: 0,
            header: NetHeader::default(),
            total: 0,
            skip: 0,
        }
    }

    /// The buffers of the last [`Step::Frame`], [`Step::Dropped`] or [`Step::Skipped`]
    /// (to read, then to give back to the device), or of the frame in progress.
    pub fn parts(&self) -> &[RxPart] {
        &self.parts
    }

    /// Takes buffer `slot`, of which the device says it wrote `used_len` bytes; `buf` is the
    /// whole buffer as posted (only the header is read from it).
    pub fn push(&mut self, slot: u16, used_len: usize, buf: &[u8]) -> Step {
        if self.expected == 0 {
            // The previous outcome's parts were given back by the caller.
            self.parts.clear();
        }
        let part = RxPart {
            slot,
            len: used_len,
        };
        if self.skip > 0 {
            self.skip -= 1;
            self.parts.clear();
            self.parts.push(part);
            return Step::Skipped;
        }
        if self.expected > 0 {
            return self.continuation(part, buf.len());
        }
        self.parts.push(part);
        if used_len > buf.len() {
            return Step::Dropped(RxDrop::TooLong);
        }
        let Some(header) = NetHeader::parse(&buf[..used_len]) else {
            return Step::Dropped(RxDrop::Short);
        };
        let buffers = if self.mrg_rxbuf {
            header.num_buffers
        } else {
            1
        };
        if buffers == 0 || buffers > self.ring_size {
            return Step::Dropped(RxDrop::BadNumBuffers);
        }
        self.header = header;
        self.total = used_len - net_hdr::LEN;
        if buffers == 1 {
            return self.complete();
        }
        self.expected = buffers;
        Step::Held
    }

    fn continuation(&mut self, part: RxPart, buf_len: usize) -> Step {
        self.parts.push(part);
        let left = self.expected - self.parts.len() as u16;
        self.total += part.len;
        if part.len > buf_len || self.total > MAX_FRAME {
            self.expected = 0;
            self.skip = left;
            return Step::Dropped(RxDrop::TooLong);
        }
        if left > 0 {
            return Step::Held;
        }
        self.expected = 0;
        self.complete()
    }

    fn complete(&mut self) -> Step {
        if self.total == 0 {
            return Step::Dropped(RxDrop::Short);
        }
        Step::Frame {
            header: self.header,
            len: self.total,
        }
    }
}

/// Whether the frame in `parts` (buffers of `buffer_size` bytes, slot `i` at byte
/// `i * buffer_size` of one region) lies in one piece: adjacent slots, each but the last
/// filled completely. Then its bytes are the region's from the first slot's header end on.
pub fn contiguous(parts: &[RxPart], buffer_size: usize) -> bool {
    let Some((last, rest)) = parts.split_last() else {
        return false;
    };
    let first = usize::from(parts[0].slot);
    rest.iter()
        .chain(core::iter::once(last))
        .enumerate()
        .all(|(i, p)| usize::from(p.slot) == first + i)
        && rest.iter().all(|p| p.len == buffer_size)
}

/// Copies the frame in `parts` (header excluded) into `out`, reading each buffer through
/// `buffer`; returns the bytes written, at most `out.len()`.
pub fn assemble<'a>(
    parts: &[RxPart],
    mut buffer: impl FnMut(u16) -> &'a [u8],
    out: &mut [u8],
) -> usize {
    let mut at = 0;
    for (i, p) in parts.iter().enumerate() {
        let skip = if i == 0 { net_hdr::LEN } else { 0 };
        let bytes = buffer(p.slot);
        let src = bytes.get(skip..p.len.min(bytes.len())).unwrap_or(&[]);
        let n = src.len().min(out.len() - at);
        out[at..at + n].copy_from_slice(&src[..n]);
        at += n;
    }
    at
}

#[cfg(test)]
mod tests;
