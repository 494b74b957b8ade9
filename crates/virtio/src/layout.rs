//! Where the three parts of a split virtqueue live, and the descriptor format (virtio 1.x,
//! "Split Virtqueues"). This file is wire format only; [`crate::queue`] holds the logic.
//!
//! One caller-provided region holds, in order:
//! * the descriptor table: `size` x 16-byte [`Descriptor`]s, 16-byte aligned;
//! * the available ring ("driver area"): `flags: u16, idx: u16, ring: [u16; size],
//!   used_event: u16`, 2-byte aligned;
//! * the used ring ("device area"): `flags: u16, idx: u16, ring: [{id: u32, len: u32}; size],
//!   avail_event: u16`, 4-byte aligned by the spec. We start it on a 64-byte boundary so the
//!   device's writes never share a cache line with the driver's.

/// Descriptor flag: the chain continues at `next`.
pub const DESC_F_NEXT: u16 = 1;
/// Descriptor flag: the device writes this buffer (otherwise it only reads it).
pub const DESC_F_WRITE: u16 = 2;
/// Available-ring flag: the driver asks for no interrupts (ignored with EVENT_IDX).
pub const AVAIL_F_NO_INTERRUPT: u16 = 1;
/// Used-ring flag: the device asks for no notifications (ignored with EVENT_IDX).
pub const USED_F_NO_NOTIFY: u16 = 1;
/// Largest queue size the spec allows.
pub const MAX_QUEUE_SIZE: u16 = 32768;

/// Bytes of one descriptor.
pub const DESC_SIZE: usize = 16;
/// Bytes of one used-ring element.
pub const USED_ELEM_SIZE: usize = 8;
const USED_ALIGN: usize = 64;

/// One entry of the descriptor table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Descriptor {
    /// Guest-physical address of the buffer.
    pub addr: u64,
    pub len: u32,
    pub flags: u16,
    pub next: u16,
}

/// Why a queue size was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutError {
    /// Split-queue sizes are powers of two from 1 to 32768 (so that 16-bit ring indices
    /// wrap onto the same slots).
    BadSize(u16),
}

/// Byte offsets of a split queue's parts inside its region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingLayout {
    size: u16,
    avail: usize,
    used: usize,
    total: usize,
}

impl RingLayout {
    /// The layout of a queue with `size` entries.
    pub fn new(size: u16) -> Result<RingLayout, LayoutError> {
        if size == 0 || !size.is_power_of_two() || size > MAX_QUEUE_SIZE {
            return Err(LayoutError::BadSize(size));
        }
        let n = usize::from(size);
        let avail = DESC_SIZE * n;
        let avail_len = 2 + 2 + 2 * n + 2;
        let used = (avail + avail_len).next_multiple_of(USED_ALIGN);
        let used_len = 2 + 2 + USED_ELEM_SIZE * n + 2;
        Ok(RingLayout {
            size,
            avail,
            used,
            total: used + used_len,
        })
    }

    /// Number of entries.
    pub fn size(&self) -> u16 {
        self.size
    }

    /// Offset of the descriptor table (always 0).
    pub fn desc_offset(&self) -> usize {
        0
    }

    /// Offset of the available ring (the spec's "driver area").
    pub fn avail_offset(&self) -> usize {
        self.avail
    }

    /// Offset of the used ring (the spec's "device area").
    pub fn used_offset(&self) -> usize {
        self.used
    }

    /// Bytes the whole region needs.
    pub fn total_size(&self) -> usize {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_the_spec_alignment() {
        let l = RingLayout::new(256).unwrap();
        assert_eq!(l.desc_offset(), 0);
        assert_eq!(l.avail_offset(), 4096);
        // 4096 + 6 + 512 = 4614, rounded to 64.
        assert_eq!(l.used_offset(), 4672);
        assert_eq!(l.total_size(), 4672 + 6 + 8 * 256);
        let one = RingLayout::new(1).unwrap();
        assert_eq!(
            (one.avail_offset(), one.used_offset(), one.total_size()),
            (16, 64, 64 + 14)
        );
    }

    #[test]
    fn rejects_sizes_that_do_not_wrap_evenly() {
        for bad in [0u16, 3, 100, 32769, u16::MAX] {
            assert_eq!(RingLayout::new(bad), Err(LayoutError::BadSize(bad)));
        }
        assert!(RingLayout::new(32768).is_ok());
    }
}
