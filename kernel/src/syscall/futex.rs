//! `futex(2)`: waiting on and waking user memory words.
use crate::process::mm::Mm;

/// Wakes up to `n` waiters on the word at `addr` of address space `mm` (thread exit's
/// `CLONE_CHILD_CLEARTID` wake). Returns how many were woken.
pub fn wake_address(_mm: &Mm, _addr: u64, _n: u32) -> u32 {
    0
}
