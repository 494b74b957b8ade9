//! Per-CPU buffers the sockets' TCP segments for `lo` are written into (and those for
//! the NIC when its ring has no room), after room for the Ethernet and IPv4 headers
//! (`halyard_net::TX_HEADROOM`), so a frame is finished in place.
//!
//! With TSO one segment may be a 64 KB super-segment, too large for a kernel stack and
//! too much to keep per socket; a socket writes its segments while holding its own lock
//! and the device and stack (bottom halves and preemption off), so one buffer per CPU
//! serves every socket. Each is under a lock of its own (`net.segment_buf`): never
//! contended (only its CPU takes it, and nothing can preempt or interrupt a holder), it is
//! what makes the buffer safe to reach without `unsafe`. A leaf: taken under socket,
//! device and stack, and nothing is taken under it.
use alloc::vec;
use alloc::vec::Vec;

use halyard_net::TX_HEADROOM;

use super::tcp::TSO_MAX_BYTES;
use crate::arch::percpu::{self, MAX_CPUS};
use crate::sync::{BhLock, LockClass};

static CLASS: LockClass = LockClass::new("net.segment_buf");
static BUFS: [BhLock<Vec<u8>>; MAX_CPUS] = [const { BhLock::new(Vec::new(), &CLASS) }; MAX_CPUS];

/// Runs `f` with this CPU's buffer (allocated on first use).
pub fn with<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    let mut buf = BUFS[percpu::cpu_index() as usize % MAX_CPUS].lock();
    if buf.is_empty() {
        *buf = vec![0; TX_HEADROOM + TSO_MAX_BYTES];
    }
    f(&mut buf)
}
