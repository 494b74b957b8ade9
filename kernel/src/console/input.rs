//! Console input: bytes from the UART's receive interrupt, waiting for the monitor.
//!
//! The interrupt handler is the only producer (before interrupts are on, the boot CPU
//! hands over the bytes that arrived during boot) and the monitor thread the only consumer,
//! so a single-producer single-consumer ring with two atomic indexes suffices: no lock
//! is shared between hardirq and thread context. When the ring is full, further bytes
//! are dropped and counted (a person typing cannot fill 1 KiB before the monitor runs).
//! The reader sleeps on a wait queue that the interrupt wakes.
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::sched::WaitQueue;

const SIZE: usize = 1024;

struct Ring {
    buf: UnsafeCell<[u8; SIZE]>,
    head: AtomicU32, // next slot the producer writes
    tail: AtomicU32, // next slot the consumer reads
    dropped: AtomicU64,
}

// SAFETY: slot `i` is written only by the producer while `head - tail < SIZE` says it is
// free, and read only by the consumer after the producer published it with a Release
// store of `head`; the indexes are atomics.
unsafe impl Sync for Ring {}

static READERS: WaitQueue = WaitQueue::new();

static RING: Ring = Ring {
    buf: UnsafeCell::new([0; SIZE]),
    head: AtomicU32::new(0),
    tail: AtomicU32::new(0),
    dropped: AtomicU64::new(0),
};

/// Drains the UART into the ring. Called in hardirq context (the COM1 interrupt) only.
pub fn on_uart_interrupt() {
    while let Some(b) = super::serial::read_byte() {
        push(b);
    }
    READERS.wake_all();
}

/// Appends a received byte. Only the single producer calls it: the COM1 interrupt, or
/// the boot CPU before interrupts are on (`serial::init`'s rescued bytes).
pub fn push(b: u8) {
    let head = RING.head.load(Ordering::Relaxed);
    let tail = RING.tail.load(Ordering::Acquire);
    if head.wrapping_sub(tail) as usize >= SIZE {
        RING.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    }
    // SAFETY: the slot is free (checked above) and only this producer writes slots.
    unsafe { (*RING.buf.get())[head as usize % SIZE] = b };
    RING.head.store(head.wrapping_add(1), Ordering::Release);
}

/// Waits for and takes the next received byte. Process context (sleeps).
pub fn read_byte() -> u8 {
    loop {
        if let Some(b) = pop() {
            return b;
        }
        READERS
            .wait_until(|| RING.tail.load(Ordering::Relaxed) != RING.head.load(Ordering::Acquire));
    }
}

/// Takes the next received byte, if any. Called by the single console reader.
fn pop() -> Option<u8> {
    let tail = RING.tail.load(Ordering::Relaxed);
    if tail == RING.head.load(Ordering::Acquire) {
        return None;
    }
    // SAFETY: the producer published this slot (head > tail) and will not reuse it until
    // the Release store of `tail` below.
    let b = unsafe { (*RING.buf.get())[tail as usize % SIZE] };
    RING.tail.store(tail.wrapping_add(1), Ordering::Release);
    Some(b)
}

/// Bytes dropped because the ring was full.
pub fn dropped() -> u64 {
    RING.dropped.load(Ordering::Relaxed)
}
