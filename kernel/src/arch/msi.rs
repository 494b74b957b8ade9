//! Message-signalled interrupts: the vector pool for PCI devices and the message format.
//!
//! A device raises an MSI/MSI-X interrupt by writing `data` to `address`; on x86 the
//! address selects the destination LAPIC (`0xfee00000 | apic_id << 12`, physical
//! destination mode) and the data the vector (fixed delivery, edge-triggered). Vectors
//! 0x30..=0xdf are reserved for this in the vector map (`super::interrupts`); they are
//! handed out by a lock-free bitmap so drivers can take and return them from any context.
//! Handlers are installed with [`super::entry::register`].
use core::sync::atomic::{AtomicU64, Ordering};

/// First and last vector of the MSI pool.
pub const FIRST_VECTOR: u8 = 0x30;
pub const LAST_VECTOR: u8 = 0xdf;

/// One bit per vector 0..=255; only the pool's bits are ever set here.
static USED: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// Takes a free vector from the pool, or `None` when all are in use.
pub fn alloc_vector() -> Option<u8> {
    for v in FIRST_VECTOR..=LAST_VECTOR {
        let word = &USED[usize::from(v / 64)];
        let bit = 1u64 << (v % 64);
        if word.fetch_or(bit, Ordering::AcqRel) & bit == 0 {
            return Some(v);
        }
    }
    None
}

/// Returns `vector` to the pool (its handler must have been retired).
pub fn free_vector(vector: u8) {
    assert!(
        (FIRST_VECTOR..=LAST_VECTOR).contains(&vector),
        "vector {vector:#x} is not an MSI vector"
    );
    USED[usize::from(vector / 64)].fetch_and(!(1u64 << (vector % 64)), Ordering::AcqRel);
}

/// What a device writes, and where, to raise an interrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message {
    pub address: u64,
    pub data: u32,
}

const ADDRESS_BASE: u64 = 0xfee0_0000;

/// The message delivering `vector` to the CPU with xAPIC id `apic_id` (fixed delivery,
/// edge-triggered, physical destination).
pub fn message(vector: u8, apic_id: u32) -> Message {
    assert!(apic_id < 256, "xAPIC ids are 8 bits");
    Message {
        address: ADDRESS_BASE | (u64::from(apic_id) << 12),
        data: u32::from(vector),
    }
}
