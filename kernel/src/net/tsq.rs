//! TCP Small Queues (Linux's TSQ, `tcp_small_queue_check`): a bound on the bytes one
//! socket has in the NIC's transmit ring.
//!
//! With TSO a bulk sender can put a whole congestion window into the ring in a few
//! 64 KB frames, and frames of every other connection on the host wait behind them; the
//! queue also hides from the sender's RTT samples how long the device takes. So a socket
//! stops emitting once [`LIMIT`] bytes of its frames are in the ring, and resumes when the
//! device hands enough back: the driver reports every finished frame to its owner
//! ([`TxOwner`]), which, if the socket was held back, schedules it through the socket
//! timers (an entry already due, fired by NET_RX like Linux's TSQ tasklet; the driver
//! holds the device lock then, so the socket itself cannot be taken there). Completions
//! are reclaimed on every transmit and every receive poll, and a bulk sender receives
//! ACKs, so a held-back socket is resumed within a poll of its frames leaving.
//!
//! Only frames to the NIC count: `lo` delivers from NET_RX and has its own bound.
use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use halyard_tcp::Instant;
use preempt::Softirq;

use super::sock::Sock;
use super::sock_timers;
use crate::drivers::virtio_net::TxOwner;
use crate::irq::softirq;

/// Bytes of one socket's frames the ring may hold: four 64 KB super-segments (Linux's
/// `tcp_limit_output_bytes` was 256 KB before it became 1 MB; it also allows about 1 ms at
/// the pacing rate, which at this emulated NIC's rates is less).
pub const LIMIT: usize = 256 * 1024;

/// Times a socket was held back, and resumed.
pub static THROTTLED: AtomicU64 = AtomicU64::new(0);
pub static RESUMED: AtomicU64 = AtomicU64::new(0);

/// One socket's bytes in the ring.
pub struct TxQueued {
    bytes: AtomicUsize,
    throttled: AtomicBool,
    sock: Weak<Sock>,
}

impl TxQueued {
    /// The account of `sock`.
    pub fn new(sock: Weak<Sock>) -> Arc<TxQueued> {
        Arc::new(TxQueued {
            bytes: AtomicUsize::new(0),
            throttled: AtomicBool::new(false),
            sock,
        })
    }

    /// True (and the socket marked held back) when it may not emit more now. Called with
    /// the device locked, as the driver's reports are, so none slips in between.
    pub fn full(&self) -> bool {
        if self.bytes.load(Ordering::Acquire) < LIMIT {
            return false;
        }
        if !self.throttled.swap(true, Ordering::AcqRel) {
            THROTTLED.fetch_add(1, Ordering::Relaxed);
        }
        true
    }
}

impl TxOwner for TxQueued {
    fn queued(&self, bytes: usize) {
        self.bytes.fetch_add(bytes, Ordering::AcqRel);
    }

    fn transmitted(&self, bytes: usize) {
        let left = self.bytes.fetch_sub(bytes, Ordering::AcqRel) - bytes;
        if left < LIMIT && self.throttled.swap(false, Ordering::AcqRel) {
            RESUMED.fetch_add(1, Ordering::Relaxed);
            sock_timers::push(Instant::ZERO, self.sock.clone());
            softirq::raise(Softirq::NetRx);
        }
    }
}
