//! Typed access to a split queue's memory, for the driver and (in tests) the device.
//!
//! The device reads and writes the region concurrently with the driver, so no Rust
//! reference to plain data may ever point into it. Every field is instead accessed as an
//! atomic of its own size: concurrent access is then defined behaviour, and on x86_64 a
//! relaxed atomic load or store is an ordinary `mov`. Ordering is explicit: index updates
//! are `Release` stores and index reads `Acquire` loads (the spec's write barriers before
//! publishing an index and read barriers after reading one), and the two "publish my index,
//! then read the other side's event index" steps use a full fence.
//!
//! A `RingMemory` is only a view (a pointer and a layout): clones share the same memory,
//! which is how the driver and the test device, or a queue and its lock-free interrupt
//! switch, see the same ring.
use core::ptr::NonNull;
use core::sync::atomic::{fence, AtomicU16, AtomicU32, AtomicU64, Ordering};

use crate::layout::{Descriptor, RingLayout, AVAIL_F_NO_INTERRUPT, DESC_SIZE, USED_ELEM_SIZE};

/// A view of one split queue's region.
#[derive(Debug, Clone)]
pub struct RingMemory {
    base: NonNull<u8>,
    layout: RingLayout,
}

// SAFETY: all access goes through atomics, so views on different CPUs may be used at once.
unsafe impl Send for RingMemory {}
// SAFETY: as above.
unsafe impl Sync for RingMemory {}

impl RingMemory {
    /// A view of `layout.total_size()` bytes at `base`; `None` unless `base` is non-null and
    /// 16-byte aligned.
    ///
    /// # Safety
    /// The region must be valid for reads and writes for as long as any view of it exists,
    /// and must be accessed by nothing but `RingMemory` views and the device.
    pub unsafe fn new(base: *mut u8, layout: RingLayout) -> Option<RingMemory> {
        let base = NonNull::new(base)?;
        (base.as_ptr() as usize)
            .is_multiple_of(16)
            .then_some(RingMemory { base, layout })
    }

    pub fn layout(&self) -> &RingLayout {
        &self.layout
    }

    fn size(&self) -> usize {
        usize::from(self.layout.size())
    }

    fn u16_at(&self, off: usize) -> &AtomicU16 {
        debug_assert!(off + 2 <= self.layout.total_size() && off.is_multiple_of(2));
        // SAFETY: `off` lies inside the region (every caller derives it from the layout)
        // and is 2-byte aligned because the base is 16-byte aligned; the region outlives
        // `self` and is only accessed atomically (contract of `new`).
        unsafe { &*(self.base.as_ptr().add(off) as *const AtomicU16) }
    }

    fn u32_at(&self, off: usize) -> &AtomicU32 {
        debug_assert!(off + 4 <= self.layout.total_size() && off.is_multiple_of(4));
        // SAFETY: as in `u16_at`, with 4-byte alignment (used ring offsets are multiples of 4).
        unsafe { &*(self.base.as_ptr().add(off) as *const AtomicU32) }
    }

    fn u64_at(&self, off: usize) -> &AtomicU64 {
        debug_assert!(off + 8 <= self.layout.total_size() && off.is_multiple_of(8));
        // SAFETY: as in `u16_at`, with 8-byte alignment (descriptors are 16-byte aligned).
        unsafe { &*(self.base.as_ptr().add(off) as *const AtomicU64) }
    }

    /// Writes descriptor `i` (`i < size`).
    pub fn write_desc(&self, i: u16, d: Descriptor) {
        let off = self.layout.desc_offset() + DESC_SIZE * (usize::from(i) % self.size());
        self.u64_at(off).store(d.addr, Ordering::Relaxed);
        self.u32_at(off + 8).store(d.len, Ordering::Relaxed);
        self.u16_at(off + 12).store(d.flags, Ordering::Relaxed);
        self.u16_at(off + 14).store(d.next, Ordering::Relaxed);
    }

    /// Reads descriptor `i` (taken modulo the size).
    pub fn read_desc(&self, i: u16) -> Descriptor {
        let off = self.layout.desc_offset() + DESC_SIZE * (usize::from(i) % self.size());
        Descriptor {
            addr: self.u64_at(off).load(Ordering::Relaxed),
            len: self.u32_at(off + 8).load(Ordering::Relaxed),
            flags: self.u16_at(off + 12).load(Ordering::Relaxed),
            next: self.u16_at(off + 14).load(Ordering::Relaxed),
        }
    }

    fn avail_slot(&self, idx: u16) -> usize {
        self.layout.avail_offset() + 4 + 2 * (usize::from(idx) % self.size())
    }

    fn used_slot(&self, idx: u16) -> usize {
        self.layout.used_offset() + 4 + USED_ELEM_SIZE * (usize::from(idx) % self.size())
    }

    pub fn avail_flags(&self) -> u16 {
        self.u16_at(self.layout.avail_offset())
            .load(Ordering::Relaxed)
    }

    pub fn set_avail_flags(&self, flags: u16) {
        self.u16_at(self.layout.avail_offset())
            .store(flags, Ordering::Relaxed);
    }

    /// The available index, with acquire ordering (the ring entries before it are visible).
    pub fn avail_idx(&self) -> u16 {
        self.u16_at(self.layout.avail_offset() + 2)
            .load(Ordering::Acquire)
    }

    /// Publishes the available index, with release ordering.
    pub fn set_avail_idx(&self, idx: u16) {
        self.u16_at(self.layout.avail_offset() + 2)
            .store(idx, Ordering::Release);
    }

    /// The head stored in the available ring at running index `idx`.
    pub fn avail_entry(&self, idx: u16) -> u16 {
        self.u16_at(self.avail_slot(idx)).load(Ordering::Relaxed)
    }

    pub fn set_avail_entry(&self, idx: u16, head: u16) {
        self.u16_at(self.avail_slot(idx))
            .store(head, Ordering::Relaxed);
    }

    /// `used_event`, after the available ring.
    pub fn used_event(&self) -> u16 {
        self.u16_at(self.layout.avail_offset() + 4 + 2 * self.size())
            .load(Ordering::Relaxed)
    }

    pub fn set_used_event(&self, v: u16) {
        self.u16_at(self.layout.avail_offset() + 4 + 2 * self.size())
            .store(v, Ordering::Relaxed);
    }

    pub fn used_flags(&self) -> u16 {
        self.u16_at(self.layout.used_offset())
            .load(Ordering::Relaxed)
    }

    pub fn set_used_flags(&self, flags: u16) {
        self.u16_at(self.layout.used_offset())
            .store(flags, Ordering::Relaxed);
    }

    /// The used index, with acquire ordering.
    pub fn used_idx(&self) -> u16 {
        self.u16_at(self.layout.used_offset() + 2)
            .load(Ordering::Acquire)
    }

    /// Publishes the used index, with release ordering (device side).
    pub fn set_used_idx(&self, idx: u16) {
        self.u16_at(self.layout.used_offset() + 2)
            .store(idx, Ordering::Release);
    }

    /// The used element (`id`, `len`) at running index `idx`.
    pub fn used_entry(&self, idx: u16) -> (u32, u32) {
        let off = self.used_slot(idx);
        (
            self.u32_at(off).load(Ordering::Relaxed),
            self.u32_at(off + 4).load(Ordering::Relaxed),
        )
    }

    pub fn set_used_entry(&self, idx: u16, id: u32, len: u32) {
        let off = self.used_slot(idx);
        self.u32_at(off).store(id, Ordering::Relaxed);
        self.u32_at(off + 4).store(len, Ordering::Relaxed);
    }

    /// `avail_event`, after the used ring.
    pub fn avail_event(&self) -> u16 {
        self.u16_at(self.layout.used_offset() + 4 + USED_ELEM_SIZE * self.size())
            .load(Ordering::Relaxed)
    }

    pub fn set_avail_event(&self, v: u16) {
        self.u16_at(self.layout.used_offset() + 4 + USED_ELEM_SIZE * self.size())
            .store(v, Ordering::Relaxed);
    }

    /// Asks the device for no used-buffer interrupts, without any driver state: safe to
    /// call from a hardirq handler while the queue's owner runs elsewhere. With event
    /// indices, `used_event` is put just behind the device's used index, the point it
    /// reaches last (after 65535 more entries; a spurious interrupt then is harmless).
    pub fn suppress_interrupts(&self) {
        self.set_avail_flags(self.avail_flags() | AVAIL_F_NO_INTERRUPT);
        self.set_used_event(self.used_idx().wrapping_sub(1));
    }
}

/// A full memory barrier: orders a store of our index before a load of the other side's
/// event index (store-load ordering needs `mfence` even on x86).
pub fn full_barrier() {
    fence(Ordering::SeqCst);
}
