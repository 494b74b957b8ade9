//! Bounce buffers for socket calls. A TCP socket's bytes move between the caller's memory
//! and the connection's rings through a kernel buffer: the connection's lock is a spin
//! lock, and a copy from or to user memory may fault and sleep, so it is not done under
//! it (Linux's socket lock sleeps instead). Allocating and zeroing a 64 KiB buffer for
//! every call was one more pass over every byte besides the copies, which under emulation
//! (TCG, the bench's QEMU) costs about what a copy does; a few buffers are kept and
//! reused instead, without zeroing. A reused buffer still holds an earlier call's bytes:
//! a call only ever reads back the part it wrote.

use alloc::vec::Vec;
use core::ops::{Deref, DerefMut};

use crate::sync::{IrqLock, LockClass};

/// Bytes of one buffer: one step of a socket call.
pub const SIZE: usize = 64 * 1024;
/// Buffers kept for reuse (more are allocated while that many are in use, and freed).
const KEPT: usize = 8;

static POOL_CLASS: LockClass = LockClass::new("fs.bounce");
static POOL: IrqLock<[Option<Vec<u8>>; KEPT]> = IrqLock::new([const { None }; KEPT], &POOL_CLASS);

/// A buffer of [`SIZE`] bytes, back to the pool when dropped.
pub struct Bounce(Vec<u8>);

impl Bounce {
    /// A kept buffer, or a new one.
    pub fn take() -> Bounce {
        let kept = POOL.lock().iter_mut().find_map(Option::take);
        Bounce(kept.unwrap_or_else(|| alloc::vec![0; SIZE]))
    }
}

impl Deref for Bounce {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl DerefMut for Bounce {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl Drop for Bounce {
    fn drop(&mut self) {
        let buf = core::mem::take(&mut self.0);
        // Freed (if the pool is full) after the pool's lock is released.
        let _rejected = {
            let mut pool = POOL.lock();
            match pool.iter_mut().find(|s| s.is_none()) {
                Some(slot) => slot.replace(buf),
                None => Some(buf),
            }
        };
    }
}
