//! A simulated device for the tests: it consumes the available ring and fills the used
//! ring through its own [`RingMemory`] view, following the device side of the spec
//! (including `avail_event` and the interrupt decision), so the driver's queue is tested
//! against an independent implementation of the other half of the protocol.
use std::vec;
use std::vec::Vec;

use crate::event::need_event;
use crate::layout::{Descriptor, RingLayout, AVAIL_F_NO_INTERRUPT, DESC_F_NEXT, USED_F_NO_NOTIFY};
use crate::ring_memory::{full_barrier, RingMemory};

/// Ring memory backed by a `Vec<u64>` (8-byte units keep it 8-aligned; the allocation
/// is over-sized so the view can start 16-aligned).
pub struct Region {
    _storage: Vec<u64>,
    pub mem: RingMemory,
}

/// A queue's memory for `size` entries.
pub fn region(size: u16) -> Region {
    let layout = RingLayout::new(size).unwrap();
    let mut storage = vec![0u64; layout.total_size() / 8 + 4];
    let base = storage.as_mut_ptr() as *mut u8;
    let base = base.wrapping_add(base.align_offset(16));
    // SAFETY: the storage outlives every view (the views are dropped with `Region`), is
    // big enough for the layout after aligning, and is only used through views.
    let mem = unsafe { RingMemory::new(base, layout) }.unwrap();
    Region {
        _storage: storage,
        mem,
    }
}

/// A chain taken from the available ring.
#[derive(Debug, Clone)]
pub struct Chain {
    pub head: u16,
    pub descs: Vec<Descriptor>,
}

pub struct SimDevice {
    mem: RingMemory,
    event_idx: bool,
    last_avail: u16,
    used_idx: u16,
    /// The used index at the last interrupt decision.
    signalled_used: u16,
}

impl SimDevice {
    pub fn new(mem: RingMemory, event_idx: bool) -> SimDevice {
        mem.set_used_flags(0);
        mem.set_used_idx(0);
        mem.set_avail_event(0);
        SimDevice {
            mem,
            event_idx,
            last_avail: 0,
            used_idx: 0,
            signalled_used: 0,
        }
    }

    /// Chains available and not yet taken.
    pub fn pending(&self) -> u16 {
        self.mem.avail_idx().wrapping_sub(self.last_avail)
    }

    /// Takes the next available chain, following `next` links (at most `size` of them).
    pub fn pop_avail(&mut self) -> Option<Chain> {
        if self.pending() == 0 {
            return None;
        }
        let head = self.mem.avail_entry(self.last_avail);
        self.last_avail = self.last_avail.wrapping_add(1);
        let mut descs = Vec::new();
        let mut i = head;
        loop {
            let d = self.mem.read_desc(i);
            descs.push(d);
            assert!(
                descs.len() <= usize::from(self.mem.layout().size()),
                "descriptor loop"
            );
            if d.flags & DESC_F_NEXT == 0 {
                break;
            }
            i = d.next;
        }
        Some(Chain { head, descs })
    }

    /// Returns a chain (by head id, which the tests may forge) with `len` bytes written.
    pub fn push_used(&mut self, id: u32, len: u32) {
        self.mem.set_used_entry(self.used_idx, id, len);
        self.used_idx = self.used_idx.wrapping_add(1);
        self.mem.set_used_idx(self.used_idx);
    }

    /// Whether the driver wants an interrupt for the used entries pushed since the last call.
    pub fn interrupt_needed(&mut self) -> bool {
        if self.used_idx == self.signalled_used {
            return false;
        }
        full_barrier();
        let needed = if self.event_idx {
            need_event(self.mem.used_event(), self.used_idx, self.signalled_used)
        } else {
            self.mem.avail_flags() & AVAIL_F_NO_INTERRUPT == 0
        };
        self.signalled_used = self.used_idx;
        needed
    }

    /// The device stops polling: asks to be notified about the next available chain, then
    /// re-checks. Returns true when chains arrived meanwhile (keep polling).
    pub fn arm_notifications(&mut self) -> bool {
        if self.event_idx {
            self.mem.set_avail_event(self.last_avail);
        } else {
            self.mem.set_used_flags(0);
        }
        full_barrier();
        self.pending() != 0
    }

    /// The device polls: notifications are not needed.
    pub fn mute_notifications(&mut self) {
        if !self.event_idx {
            self.mem.set_used_flags(USED_F_NO_NOTIFY);
        }
        // With event indices a stale avail_event behind the driver already mutes them.
    }
}
