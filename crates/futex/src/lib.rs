//! The waiter bookkeeping of `futex(2)` as pure logic: decoding and checking the
//! arguments with Linux's errnos ([`decode`]), and the wait queues ([`Futexes`]): one
//! FIFO per futex [`Key`], waiters with bitsets and deadlines, wake, requeue, timeouts.
//!
//! The kernel's part is what needs memory and scheduling: it copies the timeout when
//! [`takes_timeout`] says so, computes the key (private futexes: the address space and
//! the address; shared ones: the backing object and offset), reads the futex word and
//! compares it (`EAGAIN` on a mismatch, `EFAULT` on a bad address) under the same lock as
//! the queue operation, puts waiters to sleep and wakes the [`Waiter`]s (thread ids) the
//! queue operations return. Linux's own answers are the tests' oracle: the same
//! arguments on the host kernel, and real threads waiting on a real futex word, whose
//! wake order and counts must be the crate's.
//!
//! ```
//! use futex::{decode, Args, Futexes, Key, Request, Waiter};
//! use linux_raw_sys::general::{FUTEX_PRIVATE_FLAG, FUTEX_WAIT, FUTEX_WAKE};
//!
//! let args = |op, val| Args { uaddr: 0x1000, op, val, timeout: None, val2: 0, uaddr2: 0, val3: 0 };
//! let mut futexes = Futexes::new();
//! let key = Key { space: 1, addr: 0x1000 };
//! for tid in [10, 11, 12] {
//!     let Ok(Request::Wait { bitset, .. }) = decode(&args(FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0)) else {
//!         unreachable!()
//!     };
//!     futexes.wait(key, Waiter(tid), bitset, None);
//! }
//! let Ok(Request::Wake { count, bitset, .. }) = decode(&args(FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 2)) else {
//!     unreachable!()
//! };
//! assert_eq!(futexes.wake(key, count, bitset), [Waiter(10), Waiter(11)]);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod errno;
mod op;
mod queue;

pub use errno::Errno;
pub use op::{decode, takes_timeout, Args, Clock, Deadline, Request, Timeout};
pub use queue::{Futexes, Key, Waiter};
