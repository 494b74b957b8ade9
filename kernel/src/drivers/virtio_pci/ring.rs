//! A virtqueue whose descriptors each own one fixed-size DMA buffer: slot `i`'s buffer is
//! bytes `[i * buffer_size, (i + 1) * buffer_size)` of one region, and the slot number is
//! the token the queue hands back. Both drivers work this way: no buffer is allocated or
//! freed after bring-up, and a used element can only name a buffer that was posted.
use virtio::{AddError, Buffer, RingLayout, RingMemory, SplitQueue};

use super::dma::DmaRegion;
use super::transport::Transport;
use super::InitError;
use crate::mm::mmio::IoMem;

/// One virtqueue with its ring memory and buffers.
pub struct Ring {
    pub queue: SplitQueue<u16>,
    notify: IoMem,
    index: u16,
    buffers: DmaRegion,
    buffer_size: usize,
}

impl Ring {
    /// Sets up queue `index` of the device: the largest power-of-two size within both the
    /// device's maximum and `max_size`, ring memory, one `buffer_size` buffer per
    /// descriptor, MSI-X table entry `entry` (`virtio::pci::NO_VECTOR` for none), enable.
    pub fn setup(
        t: &Transport,
        index: u16,
        max_size: u16,
        buffer_size: usize,
        entry: u16,
        event_idx: bool,
    ) -> Result<Ring, InitError> {
        t.select_queue(index);
        let max = t.queue_size().min(max_size);
        if max == 0 {
            return Err(InitError::BadQueue(index));
        }
        let size = 1u16 << (15 - max.leading_zeros().min(15));
        let layout = RingLayout::new(size).map_err(|_| InitError::BadQueue(index))?;
        t.set_queue_size(size);
        let ring = DmaRegion::alloc(layout.total_size()).ok_or(InitError::OutOfMemory)?;
        let buffers =
            DmaRegion::alloc(usize::from(size) * buffer_size).ok_or(InitError::OutOfMemory)?;
        // SAFETY: the region is page-aligned, large enough for the layout, never freed, and
        // used only through RingMemory views and by the device.
        let mem = unsafe { RingMemory::new(ring.ptr(0), layout) }.ok_or(InitError::OutOfMemory)?;
        let queue = SplitQueue::new(mem, event_idx);
        t.set_queue_addresses(
            ring.phys(layout.desc_offset()),
            ring.phys(layout.avail_offset()),
            ring.phys(layout.used_offset()),
        );
        if t.set_queue_vector(entry) != entry {
            return Err(InitError::VectorRefused(index));
        }
        let notify = t.queue_notifier().ok_or(InitError::BadQueue(index))?;
        t.enable_queue();
        Ok(Ring {
            queue,
            notify,
            index,
            buffers,
            buffer_size,
        })
    }

    /// Posts `len` bytes from slot `slot`'s buffer on (through the slots after it when
    /// longer than one buffer, never past the region) as a one-descriptor chain with
    /// `slot` as its token: written by the device when `device_writable`, else read by it.
    pub fn post(
        &mut self,
        slot: u16,
        len: usize,
        device_writable: bool,
    ) -> Result<(), AddError<u16>> {
        let offset = usize::from(slot) * self.buffer_size;
        let region = usize::from(self.queue.size()) * self.buffer_size;
        let desc = Buffer {
            addr: self.buffers.phys(offset),
            len: len.min(region.saturating_sub(offset)) as u32,
            device_writable,
        };
        self.queue.add(&[desc], slot).map(|_| ())
    }

    /// Posts pieces of slot `slot`'s buffer as one chain with `slot` as its token, each
    /// piece `(offset, len, device_writable)` within the buffer (at most four: on the
    /// network device's control queue, a command and the byte for the device's answer).
    pub fn post_parts(
        &mut self,
        slot: u16,
        parts: &[(usize, usize, bool)],
    ) -> Result<(), AddError<u16>> {
        let base = usize::from(slot) * self.buffer_size;
        let mut chain = [Buffer {
            addr: 0,
            len: 0,
            device_writable: false,
        }; 4];
        assert!(parts.len() <= chain.len(), "too many parts");
        for (b, &(offset, len, device_writable)) in chain.iter_mut().zip(parts) {
            assert!(offset + len <= self.buffer_size, "part beyond the buffer");
            *b = Buffer {
                addr: self.buffers.phys(base + offset),
                len: len as u32,
                device_writable,
            };
        }
        self.queue.add(&chain[..parts.len()], slot).map(|_| ())
    }

    /// Slot `slot`'s buffer.
    ///
    /// # Safety
    /// The device must not own the slot (not posted, or handed back) while the slice lives.
    pub unsafe fn buffer(&self, slot: u16) -> &[u8] {
        // SAFETY: forwarded to the caller; the range is inside the region.
        unsafe {
            self.buffers
                .slice(usize::from(slot) * self.buffer_size, self.buffer_size)
        }
    }

    /// `len` bytes from the start of slot `slot`'s buffer on, through the buffers of the
    /// slots after it; `None` when that runs past the last buffer.
    ///
    /// # Safety
    /// The device must own none of the slots the range touches while the slice lives.
    pub unsafe fn span(&self, slot: u16, len: usize) -> Option<&[u8]> {
        let offset = usize::from(slot) * self.buffer_size;
        let slots = usize::from(self.queue.size());
        if offset + len > slots * self.buffer_size {
            return None;
        }
        // SAFETY: inside the region (checked above); the caller's contract for the rest.
        Some(unsafe { self.buffers.slice(offset, len) })
    }

    pub fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    /// `len` bytes from the start of slot `slot`'s buffer on, through the buffers of the
    /// slots after it, to fill before posting them; `None` when that runs past the last
    /// buffer.
    ///
    /// # Safety
    /// The device must own none of the slots the range touches while the slice lives.
    pub unsafe fn span_mut(&mut self, slot: u16, len: usize) -> Option<&mut [u8]> {
        let offset = usize::from(slot) * self.buffer_size;
        let slots = usize::from(self.queue.size());
        if offset + len > slots * self.buffer_size {
            return None;
        }
        // SAFETY: inside the region (checked above); `&mut self` excludes other slices of
        // it from this ring, and the caller's contract excludes the device.
        Some(unsafe { self.buffers.slice_mut(offset, len) })
    }

    /// Kicks the device if it asked for it; returns whether it did.
    pub fn kick_if_needed(&mut self) -> bool {
        let needed = self.queue.notify_needed();
        if needed {
            self.notify.write::<u16>(0, self.index);
        }
        needed
    }
}
