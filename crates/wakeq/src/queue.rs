//! The queue: a Treiber stack that producers push onto and the consumer takes whole.
//!
//! See the crate docs for why this shape, the ABA argument and the memory orderings; the
//! comments below name the happens-before edge each ordering provides.

use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use crate::link::Wakeable;
use crate::stats::WakeCounters;
use crate::sync::{const_fn_unless_loom, AtomicPtr};

/// What a wake did. Both outcomes guarantee a delivery that happens after the wake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The object was not queued and now is.
    Enqueued,
    /// The object was already queued; its pending delivery covers this wake too.
    Coalesced,
}

/// A lossless multi-producer wake queue of `T` objects, typically one per CPU, drained by
/// that CPU's scheduler.
pub struct WakeQueue<T: Wakeable> {
    /// The most recently pushed object; each object's link points to the one pushed before.
    head: AtomicPtr<T>,
    counters: WakeCounters,
}

// SAFETY: the queue only holds pointers to `T` objects that wakers handed over under the
// `wake` contract and hands them to the drain caller, possibly on another CPU: sharing
// requires `T: Sync`. All shared state is atomic.
unsafe impl<T: Wakeable + Sync> Send for WakeQueue<T> {}
// SAFETY: as above.
unsafe impl<T: Wakeable + Sync> Sync for WakeQueue<T> {}

impl<T: Wakeable> WakeQueue<T> {
    const_fn_unless_loom! {
        /// An empty queue.
        pub fn new() -> Self {
            WakeQueue { head: AtomicPtr::new(ptr::null_mut()), counters: WakeCounters::new() }
        }
    }

    /// Wakes `item`: queues it unless it is already queued.
    ///
    /// May be called from any context — hardirq, softirq, NMI, process — on any CPU;
    /// lock-free (the only loop is the push CAS, which fails only when another push
    /// succeeded) and never allocates, blocks or fails. Everything the caller wrote before
    /// the call happens-before the delivery of `item` that covers this wake.
    ///
    /// The queue does not notify its consumer: after an [`Wake::Enqueued`] result on another
    /// CPU's queue, the caller sends that CPU a reschedule IPI if it may be idle (its idle
    /// loop checks [`WakeQueue::is_empty`] with interrupts disabled, then `sti; hlt`, so
    /// the IPI cannot slip in between). A [`Wake::Coalesced`] result needs no IPI: the wake
    /// that enqueued the object sends it.
    ///
    /// # Safety
    ///
    /// `item` must stay valid at its address (it is pinned; it must not be freed either)
    /// until it is no longer queued and no `wake` of it is in progress: in the kernel, a
    /// thread is freed only after it has exited, no wait queue or timer can reach it, and
    /// [`WakeLink::is_queued`](crate::WakeLink::is_queued) is false.
    pub unsafe fn wake(&self, item: Pin<&T>) -> Wake {
        let item = item.get_ref();
        let link = item.wake_link();
        // Acquire: pairs with the consumer's clearing swap, so the consumer's last read of
        // `next` happens-before our write below. Release: a coalesced wake publishes our
        // prior writes to the consumer whose clearing swap reads this value.
        let enqueued = !link.queued.swap(true, AcqRel);
        if enqueued {
            let node = ptr::from_ref(item).cast_mut();
            let mut head = self.head.load(Relaxed);
            loop {
                // SAFETY: winning the flag made us the only owner of `next` (link.rs).
                link.next.with_mut(|next| unsafe { *next = head });
                // Release: publishes `next` and the caller's writes to the consumer's
                // Acquire swap of `head`. Failure only reloads the head: Relaxed.
                match self
                    .head
                    .compare_exchange_weak(head, node, Release, Relaxed)
                {
                    Ok(_) => break,
                    Err(current) => head = current,
                }
            }
        }
        self.counters.count_wake(enqueued);
        if enqueued {
            Wake::Enqueued
        } else {
            Wake::Coalesced
        }
    }

    /// Safe [`WakeQueue::wake`] for objects that live forever (statically allocated or
    /// leaked threads such as the idle thread and `ksoftirqd`).
    pub fn wake_static(&self, item: Pin<&'static T>) -> Wake {
        // SAFETY: a 'static object is valid at its address forever.
        unsafe { self.wake(item) }
    }

    /// Takes every queued object and calls `deliver` on each, oldest wake first; returns how
    /// many were delivered.
    ///
    /// Intended caller: the scheduler of the CPU that owns the queue, with interrupts
    /// disabled or enabled. It is also safe from any other context and concurrently with
    /// other drains (each takes a disjoint batch with one atomic swap); wait-free apart from
    /// `deliver` itself. Each object's link is cleared *before* `deliver` sees it, so a wake
    /// that races with the delivery queues the object again rather than being merged into a
    /// delivery that is already under way.
    pub fn drain(&self, mut deliver: impl FnMut(Pin<&T>)) -> usize {
        // Acquire: synchronises with the Release push of every object in the batch (each
        // push CAS is an RMW, so the batch's pushes form one release sequence).
        let newest = self.head.swap(ptr::null_mut(), Acquire);
        // SAFETY: every object in the batch is ours until its flag is cleared.
        let mut cursor = unsafe { reverse(newest) };
        let mut delivered = 0;
        while let Some(node) = cursor {
            // SAFETY: `node` was queued by `wake`, whose contract keeps it valid until it is
            // no longer queued, and it is still queued.
            let item = unsafe { node.as_ref() };
            let link = item.wake_link();
            // Read `next` before clearing the flag: after the clear a waker may rewrite it.
            // SAFETY: we own `next` while the object is queued in our batch.
            cursor = NonNull::new(link.next.with(|next| unsafe { *next }).cast_mut());
            // AcqRel: Release hands `next` back to the next winning waker; Acquire takes the
            // writes of every waker whose wake was coalesced into this delivery.
            link.queued.swap(false, AcqRel);
            // SAFETY: `wake`'s contract keeps a woken object pinned and valid for the
            // delivery that covers the wake, which is this one.
            deliver(unsafe { Pin::new_unchecked(item) });
            delivered += 1;
        }
        self.counters.count_drained(delivered as u64);
        delivered
    }

    /// Is anything queued? Any context; may be stale at once (a hint for the idle loop,
    /// which must still re-check with interrupts disabled before halting).
    pub fn is_empty(&self) -> bool {
        self.head.load(Acquire).is_null()
    }

    /// The counters; any context.
    pub fn counters(&self) -> &WakeCounters {
        &self.counters
    }
}

/// Dropping a queue clears the links of the objects still on it (without delivering them),
/// so they can be woken through another queue afterwards.
impl<T: Wakeable> Drop for WakeQueue<T> {
    fn drop(&mut self) {
        self.drain(|_| {});
    }
}

impl<T: Wakeable> Default for WakeQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Reverses a batch (newest first, as pushed) into oldest-first order and returns its first
/// object.
///
/// # Safety
///
/// Every object reachable from `newest` must be valid and in a batch the caller took from
/// the head, so the caller owns every `next` pointer in it.
unsafe fn reverse<T: Wakeable>(newest: *mut T) -> Option<NonNull<T>> {
    let mut reversed: *const T = ptr::null();
    let mut cursor = newest.cast_const();
    while let Some(node) = NonNull::new(cursor.cast_mut()) {
        // SAFETY: valid and owned per this function's contract.
        let link = unsafe { node.as_ref() }.wake_link();
        // SAFETY: we own `next` (contract).
        link.next.with_mut(|next| unsafe {
            cursor = *next;
            *next = reversed;
        });
        reversed = node.as_ptr();
    }
    NonNull::new(reversed.cast_mut())
}
