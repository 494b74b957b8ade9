//! Negative controls for the lock validator: each test makes a mistake on purpose and
//! must end in a `LOCKDEP REPORT` (checked by the xtask), never in a hang or a pass.
use alloc::string::String;
use core::sync::atomic::{AtomicBool, Ordering};

use preempt::Softirq;

use super::Verdict;
use crate::irq::softirq;
use crate::sched::{self, WaitQueue};
use crate::sync::{LockClass, PreemptOff, SpinLock};

static CONN_CLASS: LockClass = LockClass::new("test.conn_table_wrong_kind");
/// The seed's mistake: data NET_RX touches, behind a lock that leaves bottom halves on.
static CONN_TABLE: SpinLock<u32, PreemptOff> = SpinLock::new(0, &CONN_CLASS);
static SOFTIRQ_TOOK_IT: AtomicBool = AtomicBool::new(false);
static DONE: WaitQueue = WaitQueue::new();

fn net_rx_takes_table() {
    *CONN_TABLE.lock() += 1;
    SOFTIRQ_TOOK_IT.store(true, Ordering::SeqCst);
    DONE.wake_all();
}

/// NET_RX takes the table in softirq context; then a thread takes it with bottom halves
/// enabled. The validator must report the second acquisition, before any deadlock.
pub fn bh_misuse() -> Verdict {
    softirq::register(Softirq::NetRx, net_rx_takes_table);
    softirq::raise(Softirq::NetRx);
    DONE.wait_until(|| SOFTIRQ_TOOK_IT.load(Ordering::SeqCst));
    *CONN_TABLE.lock() += 1;
    Err(String::from(
        "the validator did not report a softirq lock taken with softirqs enabled",
    ))
}

static A_CLASS: LockClass = LockClass::new("test.order_a");
static B_CLASS: LockClass = LockClass::new("test.order_b");
static A: SpinLock<(), PreemptOff> = SpinLock::new((), &A_CLASS);
static B: SpinLock<(), PreemptOff> = SpinLock::new((), &B_CLASS);

/// A then B in one thread, later B then A: an order inversion, reported although these
/// runs never overlap (the validator reasons about classes, not timing).
pub fn order_inversion() -> Verdict {
    let first = sched::spawn("a-then-b", || {
        let _a = A.lock();
        let _b = B.lock();
    });
    sched::join(&first);
    let _b = B.lock();
    let _a = A.lock();
    Err(String::from(
        "the validator did not report the lock-order inversion",
    ))
}

/// The seed's bug on the real network stack (negative-control kernel only): NET_RX takes
/// the stack lock in softirq context (a ping from the host, or the first DHCP frame), then
/// this thread takes the same lock with bottom halves enabled. The validator must report
/// it at that first occurrence.
#[cfg(feature = "negative-tests")]
pub fn net_stack_misuse() -> Verdict {
    crate::net::negative_test_take_stack_with_bh_enabled();
    Err(String::from(
        "the validator did not report the network stack lock taken with softirqs enabled",
    ))
}
