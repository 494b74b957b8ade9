//! A ready list: `epoll` for kernel threads that serve many connections.
//!
//! [`poll`](super::poll) looks at every socket it is given on every call, which costs
//! O(connections) per event: a server holding ten thousand idle connections would spend
//! its time re-registering and re-checking them. Instead, a stream is registered once
//! with a [`ReadyList`] and a token ([`TcpStream::watch`]); from then on each readiness
//! event of its connection (data, room to write, the peer's FIN, a reset) appends the
//! token to the list and wakes the list's owner, who takes the tokens
//! ([`ReadyList::wait`]) and serves just those sockets.
//!
//! Edge-triggered, like `EPOLLET`: a token is queued at most once until its owner takes
//! it ([`TcpStream::ready_taken`] re-arms it), and the owner must then do what it can on
//! that socket until it would block. An event that comes while the owner works on the
//! socket queues the token again, so none is lost: the token is re-armed *before* the
//! work, and events are raised after the state they announce has changed.
//!
//! The queue is appended to from NET_RX (softirq) and from threads, under the socket's
//! lock: its own lock (`net.ready`) is a bottom-half lock and a leaf. It is sized when
//! created; should it ever need to grow and the allocator refuse, the token is not lost:
//! the list is marked overflowed and its owner then serves every socket once (like
//! `epoll`'s overflow list).
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use super::{with_tcp, TcpListener, TcpStream};
use crate::sched::WaitQueue;
use crate::sync::{BhLock, LockClass};

static READY_CLASS: LockClass = LockClass::new("net.ready");

/// Tokens of sockets with new events, and the queue their owner sleeps on.
pub struct ReadyList {
    tokens: BhLock<Vec<usize>>,
    /// A token could not be queued (no memory): the owner must look at every socket.
    overflowed: AtomicBool,
    pub(crate) queue: Arc<WaitQueue>,
}

impl ReadyList {
    /// A list with room for `capacity` queued tokens (one per registered socket).
    pub fn new(capacity: usize) -> Arc<ReadyList> {
        Arc::new(ReadyList {
            tokens: BhLock::new(Vec::with_capacity(capacity), &READY_CLASS),
            overflowed: AtomicBool::new(false),
            queue: Arc::new(WaitQueue::new()),
        })
    }

    /// Queues `token` and wakes the owner. Softirq or process context, under the
    /// socket's lock.
    pub(crate) fn push(&self, token: usize) {
        {
            let mut tokens = self.tokens.lock();
            if tokens.try_reserve(1).is_ok() {
                tokens.push(token);
            } else {
                self.overflowed.store(true, Ordering::Release);
            }
        }
        self.queue.wake_all();
    }

    /// Sleeps until a registered socket has an event or `listener` (woken through the
    /// same queue) has a connection to accept, then moves the queued tokens into `out`
    /// (which is cleared first; the two vectors swap storage, so give `out` the list's
    /// capacity). True if tokens were lost to an overflow: serve every socket.
    /// Process context; may sleep.
    pub fn wait(&self, listener: &TcpListener, out: &mut Vec<usize>) -> bool {
        out.clear();
        self.queue.wait_until(|| {
            let mut tokens = self.tokens.lock();
            core::mem::swap(&mut *tokens, out);
            drop(tokens);
            !out.is_empty() || self.overflowed.load(Ordering::Acquire) || listener.pending()
        });
        self.overflowed.swap(false, Ordering::AcqRel)
    }
}

impl TcpListener {
    /// Wakes `list`'s owner when connections are waiting to be accepted.
    pub fn watch(&self, list: &ReadyList) {
        let _ = with_tcp(|s| s.tcp.register(self.id, list.queue.clone()));
    }

    /// True when a connection is waiting to be accepted.
    pub fn pending(&self) -> bool {
        with_tcp(|s| s.tcp.endpoint.accept_pending(self.id).unwrap_or(0) > 0).unwrap_or(false)
    }
}

impl TcpStream {
    /// Registers the stream with `list` under `token` (replacing any earlier
    /// registration) and queues the token once, so the owner looks at it first.
    pub fn watch(&self, list: &Arc<ReadyList>, token: usize) {
        self.sock.ready_queued.store(true, Ordering::Release);
        self.sock.with(|s| s.ready = Some((list.clone(), token)));
        list.push(token);
    }

    /// The owner took this stream's token from its list: later events queue it again.
    /// Call before serving the stream.
    pub fn ready_taken(&self) {
        self.sock.ready_queued.store(false, Ordering::Release);
    }
}
