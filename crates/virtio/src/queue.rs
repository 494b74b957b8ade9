//! The driver's side of a split virtqueue.
//!
//! # Descriptor ownership
//! The free-descriptor list and the length of every in-flight chain are kept in driver
//! memory, never read back from the descriptor table: the device can write that table's
//! memory, and a driver that trusted it could be made to free a descriptor twice. A used
//! element is accepted only when its id is the head of a chain in flight; anything else is
//! counted (`bad_used`) and skipped. So a buffer is returned at most once and only after
//! it was posted, whatever the device does.
//!
//! # Notifications and interrupts
//! [`SplitQueue::add`] publishes each buffer at once (the index store is a release, so the
//! device can never see an index before its entry). [`SplitQueue::notify_needed`] decides
//! whether to kick the device: with `VIRTIO_F_RING_EVENT_IDX` by the device's `avail_event`
//! and the [`need_event`] rule over everything published since the last decision, otherwise
//! by the device's `NO_NOTIFY` flag. Interrupts are switched with
//! [`SplitQueue::enable_interrupts`] (which re-checks for work that raced in) and
//! [`RingMemory::suppress_interrupts`], the lock-free off switch for hardirq handlers.
use alloc::vec;
use alloc::vec::Vec;

use crate::event::need_event;
use crate::layout::{
    Descriptor, AVAIL_F_NO_INTERRUPT, DESC_F_NEXT, DESC_F_WRITE, USED_F_NO_NOTIFY,
};
use crate::ring_memory::{full_barrier, RingMemory};

/// One buffer of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffer {
    /// Device-visible (guest-physical) address.
    pub addr: u64,
    pub len: u32,
    /// True when the device writes the buffer (receive), false when it reads it (transmit).
    pub device_writable: bool,
}

/// Why [`SplitQueue::add`] refused a chain; the caller's token comes back.
#[derive(Debug, PartialEq, Eq)]
pub enum AddError<T> {
    /// Fewer free descriptors than buffers in the chain.
    Full(T),
    /// An empty chain.
    Empty(T),
}

/// A chain the device has finished with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsedBuffer<T> {
    /// The token given to [`SplitQueue::add`].
    pub token: T,
    /// Bytes the device wrote into the chain's device-writable buffers (as it claims:
    /// callers check it against their buffer sizes).
    pub len: u32,
}

/// Per-queue counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounters {
    /// Chains posted and chains returned by the device.
    pub added: u64,
    pub used: u64,
    /// `add` refused for lack of descriptors.
    pub full: u64,
    /// Used elements naming no in-flight chain (skipped).
    pub bad_used: u64,
    /// Notification decisions: kicks sent and kicks the device said it did not need.
    pub notifies: u64,
    pub notifies_suppressed: u64,
    /// `enable_interrupts` calls that found work already waiting.
    pub enable_raced: u64,
}

/// A split virtqueue, driver side. `T` is the caller's token for each posted chain.
#[derive(Debug)]
pub struct SplitQueue<T> {
    mem: RingMemory,
    event_idx: bool,
    free_head: u16,
    num_free: u16,
    /// Free-list links (for free descriptors) and chain links (for posted ones).
    next: Vec<u16>,
    /// Length of the chain starting at each head; 0 when that descriptor heads no chain.
    chain_len: Vec<u16>,
    tokens: Vec<Option<T>>,
    /// Our available index (what we last published).
    avail_idx: u16,
    /// The available index at the last notification decision.
    notified_avail: u16,
    /// The next used index to process.
    last_used: u16,
    counters: QueueCounters,
}

impl<T> SplitQueue<T> {
    /// A queue over `mem`, all descriptors free. `event_idx` says whether
    /// `VIRTIO_F_RING_EVENT_IDX` was negotiated. Interrupts start enabled.
    pub fn new(mem: RingMemory, event_idx: bool) -> SplitQueue<T> {
        let size = mem.layout().size();
        let n = usize::from(size);
        for i in 0..size {
            mem.write_desc(i, Descriptor::default());
        }
        mem.set_avail_flags(0);
        mem.set_avail_idx(0);
        mem.set_used_event(0);
        SplitQueue {
            mem,
            event_idx,
            free_head: 0,
            num_free: size,
            next: (1..=size).collect(),
            chain_len: vec![0; n],
            tokens: (0..n).map(|_| None).collect(),
            avail_idx: 0,
            notified_avail: 0,
            last_used: 0,
            counters: QueueCounters::default(),
        }
    }

    pub fn size(&self) -> u16 {
        self.mem.layout().size()
    }

    /// Descriptors not in flight.
    pub fn num_free(&self) -> u16 {
        self.num_free
    }

    pub fn counters(&self) -> &QueueCounters {
        &self.counters
    }

    /// The memory view (for a lock-free interrupt switch, see
    /// [`RingMemory::suppress_interrupts`]).
    pub fn memory(&self) -> &RingMemory {
        &self.mem
    }

    /// The device's used index (how far it has returned buffers).
    pub fn device_used_idx(&self) -> u16 {
        self.mem.used_idx()
    }

    /// The next used index this driver will process.
    pub fn last_used_idx(&self) -> u16 {
        self.last_used
    }

    /// Our published available index.
    pub fn avail_idx(&self) -> u16 {
        self.avail_idx
    }

    /// Posts `bufs` as one chain and publishes it; returns the head descriptor.
    pub fn add(&mut self, bufs: &[Buffer], token: T) -> Result<u16, AddError<T>> {
        if bufs.is_empty() {
            return Err(AddError::Empty(token));
        }
        if bufs.len() > usize::from(self.num_free) {
            self.counters.full += 1;
            return Err(AddError::Full(token));
        }
        let head = self.free_head;
        let mut i = head;
        for (k, b) in bufs.iter().enumerate() {
            let last = k + 1 == bufs.len();
            let next = self.next[usize::from(i)];
            let mut flags = if b.device_writable { DESC_F_WRITE } else { 0 };
            if !last {
                flags |= DESC_F_NEXT;
            }
            self.mem.write_desc(
                i,
                Descriptor {
                    addr: b.addr,
                    len: b.len,
                    flags,
                    next: if last { 0 } else { next },
                },
            );
            if last {
                self.free_head = next;
            } else {
                i = next;
            }
        }
        let n = bufs.len() as u16;
        self.num_free -= n;
        self.chain_len[usize::from(head)] = n;
        self.tokens[usize::from(head)] = Some(token);
        self.mem.set_avail_entry(self.avail_idx, head);
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.mem.set_avail_idx(self.avail_idx);
        self.counters.added += 1;
        Ok(head)
    }

    /// Whether the device must be notified about the chains published since the last
    /// call. Call after a batch of `add`s; kick the device when it returns true.
    pub fn notify_needed(&mut self) -> bool {
        if self.avail_idx == self.notified_avail {
            return false;
        }
        full_barrier();
        let needed = if self.event_idx {
            need_event(self.mem.avail_event(), self.avail_idx, self.notified_avail)
        } else {
            self.mem.used_flags() & USED_F_NO_NOTIFY == 0
        };
        self.notified_avail = self.avail_idx;
        if needed {
            self.counters.notifies += 1;
        } else {
            self.counters.notifies_suppressed += 1;
        }
        needed
    }

    /// True when the device has returned chains not yet taken with [`Self::pop_used`].
    pub fn has_used(&self) -> bool {
        self.mem.used_idx() != self.last_used
    }

    /// Takes the next chain the device returned, freeing its descriptors.
    pub fn pop_used(&mut self) -> Option<UsedBuffer<T>> {
        loop {
            if self.mem.used_idx() == self.last_used {
                return None;
            }
            let (id, len) = self.mem.used_entry(self.last_used);
            self.last_used = self.last_used.wrapping_add(1);
            match self.reclaim(id) {
                Some(token) => {
                    self.counters.used += 1;
                    return Some(UsedBuffer { token, len });
                }
                None => self.counters.bad_used += 1,
            }
        }
    }

    /// Frees the chain headed by `id` if one is in flight.
    fn reclaim(&mut self, id: u32) -> Option<T> {
        let head = u16::try_from(id).ok().filter(|&h| h < self.size())?;
        let n = core::mem::replace(&mut self.chain_len[usize::from(head)], 0);
        if n == 0 {
            return None;
        }
        let mut tail = head;
        for _ in 1..n {
            tail = self.next[usize::from(tail)];
        }
        self.next[usize::from(tail)] = self.free_head;
        self.free_head = head;
        self.num_free += n;
        self.tokens[usize::from(head)].take()
    }

    /// Asks for an interrupt at the next used buffer. Returns true when used buffers are
    /// already waiting (they may have arrived before the device saw the request, so no
    /// interrupt is guaranteed for them: the caller must poll again).
    pub fn enable_interrupts(&mut self) -> bool {
        self.mem
            .set_avail_flags(self.mem.avail_flags() & !AVAIL_F_NO_INTERRUPT);
        self.mem.set_used_event(self.last_used);
        full_barrier();
        let raced = self.has_used();
        if raced {
            self.counters.enable_raced += 1;
        }
        raced
    }

    /// Asks the device not to interrupt for this queue.
    pub fn disable_interrupts(&self) {
        self.mem.suppress_interrupts();
    }
}

#[cfg(test)]
mod concurrent_tests;
#[cfg(test)]
mod tests;
