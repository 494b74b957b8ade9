//! The virtio-net receive loop, written once for the kernel and the tests: take used
//! buffers, assemble frames ([`RxAssembler`]), check their offload fields
//! ([`net_offload::check`]), hand each frame on in place or copied, and give every buffer
//! back to the device in the order it came.
//!
//! The kernel runs it over its DMA ring, the tests over a `Vec` driven by the simulated
//! device (`sim`); both implement [`RxRing`].
//!
//! # Copies
//! A frame in one buffer, or in adjacent buffers each filled completely (the usual case:
//! buffers go back in order, so consecutive used buffers are adjacent slots), is handed on
//! where the device wrote it. Only a frame whose buffers are not adjacent (where the slot
//! numbers wrap, or after a buffer could not be reposted) is copied into the receiver's
//! own buffer of [`MAX_FRAME`] bytes, allocated once.
use alloc::vec;
use alloc::vec::Vec;

use crate::features::Features;
use crate::net_hdr;
use crate::net_offload::{self, RxOffload};
use crate::net_rx::{assemble, contiguous, RxAssembler, RxDrop, Step, MAX_FRAME};

/// A receive queue whose descriptors each own one buffer of a fixed size, slot `i` at byte
/// `i * buffer_size` of one region.
pub trait RxRing {
    /// Bytes per buffer.
    fn buffer_size(&self) -> usize;
    /// The next buffer the device returned: its slot and the length it claims.
    fn pop_used(&mut self) -> Option<(u16, usize)>;
    /// Slot `slot`'s whole buffer.
    ///
    /// # Safety
    /// `slot` was returned by [`Self::pop_used`] and not given back since (the device
    /// does not write it while the slice lives).
    unsafe fn buffer(&self, slot: u16) -> &[u8];
    /// `len` bytes from the start of slot `slot` on, through the slots after it; `None`
    /// when that runs past the region.
    ///
    /// # Safety
    /// As for [`Self::buffer`], for every slot the range touches.
    unsafe fn span(&self, slot: u16, len: usize) -> Option<&[u8]>;
    /// Gives slot `slot`'s buffer back to the device.
    fn repost(&mut self, slot: u16);
}

/// What happened to the buffers of one outcome.
#[derive(Debug, PartialEq, Eq)]
pub enum RxEvent<'a> {
    /// A frame (without the virtio-net header) in `buffers` buffers; `copied` when it was
    /// not contiguous and had to be assembled.
    Frame {
        frame: &'a [u8],
        offload: RxOffload,
        buffers: usize,
        copied: bool,
    },
    /// `buffers` buffers dropped for this reason.
    Dropped { reason: RxDrop, buffers: usize },
    /// A continuation of a dropped frame.
    Skipped,
}

/// The receive side of one virtio-net queue.
#[derive(Debug)]
pub struct NetReceiver {
    assembler: RxAssembler,
    features: Features,
    /// Where non-contiguous frames are assembled.
    scratch: Vec<u8>,
}

impl NetReceiver {
    /// A receiver for a queue of `ring_size` buffers under the `negotiated` features.
    pub fn new(negotiated: Features, ring_size: u16) -> NetReceiver {
        NetReceiver {
            assembler: RxAssembler::new(negotiated.has(crate::features::NET_MRG_RXBUF), ring_size),
            features: negotiated,
            scratch: vec![0; MAX_FRAME],
        }
    }

    /// Handles used buffers until `budget` outcomes (frames, drops, skips) were reported to
    /// `on` or the ring has no more; returns the number of outcomes. Buffers of a frame not
    /// yet complete stay held until a later call completes it.
    pub fn poll(
        &mut self,
        ring: &mut impl RxRing,
        budget: usize,
        mut on: impl FnMut(RxEvent<'_>),
    ) -> usize {
        let mut done = 0;
        while done < budget {
            let Some((slot, used_len)) = ring.pop_used() else {
                break;
            };
            // SAFETY: the device just returned `slot`; it is given back below, after the
            // outcome (which holds no reference into it) was reported.
            let step = self
                .assembler
                .push(slot, used_len, unsafe { ring.buffer(slot) });
            match step {
                Step::Held => continue,
                Step::Frame { header, len } => self.deliver(ring, &header, len, &mut on),
                Step::Dropped(reason) => on(RxEvent::Dropped {
                    reason,
                    buffers: self.assembler.parts().len(),
                }),
                Step::Skipped => on(RxEvent::Skipped),
            }
            done += 1;
            for p in self.assembler.parts() {
                ring.repost(p.slot);
            }
        }
        done
    }

    fn deliver(
        &mut self,
        ring: &impl RxRing,
        header: &net_hdr::NetHeader,
        len: usize,
        on: &mut impl FnMut(RxEvent<'_>),
    ) {
        let parts = self.assembler.parts();
        let buffers = parts.len();
        // `parts` are the buffers of one complete frame, all returned by the device and
        // given back only after `on` returned.
        let in_place = if contiguous(parts, ring.buffer_size()) {
            // SAFETY: `contiguous` says the span's slots are exactly those parts.
            unsafe { ring.span(parts[0].slot, net_hdr::LEN + len) }
        } else {
            None
        };
        let (frame, copied) = match in_place {
            Some(span) => (&span[net_hdr::LEN..], false),
            None => {
                let buffer = |s| {
                    // SAFETY: `assemble` reads only the slots of `parts`.
                    unsafe { ring.buffer(s) }
                };
                let n = assemble(parts, buffer, &mut self.scratch);
                (&self.scratch[..n], true)
            }
        };
        match net_offload::check(header, frame, self.features) {
            Ok(offload) => on(RxEvent::Frame {
                frame,
                offload,
                buffers,
                copied,
            }),
            Err(reason) => on(RxEvent::Dropped { reason, buffers }),
        }
    }
}

#[cfg(test)]
mod sim_tests;
