//! One TCP connection with a lock of its own, and the owned-by-user backlog.
//!
//! Every connection a thread holds (connected or accepted) is handed out of the endpoint
//! ([`halyard_tcp::Endpoint::detach`]) into a [`Sock`]: its engine state under its own
//! [`BhLock`] (class `net.sock`), so calls on different sockets never contend, and a
//! small queue of segments that arrived while the lock was held (`net.sock.backlog`).
//!
//! NET_RX never spins on a socket. While it holds the device and stack locks it appends
//! each segment for a socket to that socket's backlog ([`Sock::enqueue`]: arrival order
//! is kept per connection even when NET_RX runs on two CPUs). After releasing them it
//! `try_lock`s each socket it queued for ([`Sock::process_backlog`]); if someone (a
//! thread in a socket call, or NET_RX on another CPU) holds the socket, it leaves the
//! segments there. Whoever holds a socket processes its backlog before unlocking
//! ([`Sock::unlock`]) and checks it again after unlocking, taking the lock back (again
//! only by `try_lock`) if something arrived in between: a segment queued while the lock
//! was held is seen either by the holder's re-check or by the queuer's `try_lock`, which
//! then succeeds. Linux's owned-by-user backlog, with the same guarantee: no segment
//! waits in a backlog once nobody holds its socket. Timers work the same way: NET_RX
//! marks the socket's timer due and tries the lock; the holder fires it.
//!
//! A socket's segments go out from [`Sock::service`], which takes the device and stack
//! only when the connection may have something to send
//! ([`DetachedConn::wants_transmit`]). A segment for the NIC is written by the engine
//! straight into a run of the device's transmit ring and finished there (Ethernet and
//! IPv4 headers in place), one for `lo` into this CPU's segment buffer (`segment_buf`);
//! either may be a TSO super-segment. Frames go to the device with the socket as their
//! owner, so the socket is held back once it has [`super::tsq::LIMIT`] bytes in the transmit
//! ring (`tsq`).
//!
//! Lock order: socket, then device, then stack (a socket sends through `with_net`), then
//! segment buffer (a leaf); socket or device and stack, then backlog (a leaf); socket or
//! device, then timer heap (a leaf); socket, then its ready list (a leaf).
//! Nothing takes a socket lock while holding the device, the stack, a backlog or the
//! timer heap, and no code holds two socket locks.
use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use halyard_net::{Instant as NetInstant, TX_HEADROOM};
use halyard_tcp::{DetachedConn, Instant, Outcome, RxHints, State};

use super::socket::ReadyList;
use super::tcp::{offload_of, tcp_now, PROTOCOL, TSO_MAX_BYTES};
use super::tsq::TxQueued;
use super::{loopback, segment_buf, sock_timers, NetStack};
use crate::drivers::virtio_net::{Owner, VirtioNet};
use crate::sched::WaitQueue;
use crate::sync::{BhLock, BhOff, LockClass, SpinGuard};
use crate::time;

static SOCK_CLASS: LockClass = LockClass::new("net.sock");
static BACKLOG_CLASS: LockClass = LockClass::new("net.sock.backlog");

/// Segments a socket's backlog holds; beyond it arrivals are dropped (counted) and the
/// peer retransmits. A holder drains it within one socket call, so this is only reached
/// when a thread holds the socket for a long time under a flood.
const BACKLOG_LIMIT: usize = 1024;

/// Times NET_RX found a socket held and left its backlog to the holder.
pub static BACKLOGGED: AtomicU64 = AtomicU64::new(0);
/// Segments dropped because the socket's backlog was full.
pub static BACKLOG_DROPS: AtomicU64 = AtomicU64::new(0);

/// A received TCP segment (the IPv4 payload) on its way to a socket.
pub struct Arrival {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub bytes: Vec<u8>,
    /// What the device said about it (checksum, GSO).
    pub hints: RxHints,
}

/// A readiness hook (`TcpStream::set_notify`): called from NET_RX or a thread under the
/// socket's lock, so it must only wake.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// What the socket lock protects.
pub struct SockState {
    pub conn: DetachedConn,
    /// Wait queues of threads `poll`ing this socket (besides its own queue).
    pub pollers: Vec<Arc<WaitQueue>>,
    /// The ready list and token this socket's events are queued on (`socket::ReadyList`).
    pub ready: Option<(Arc<ReadyList>, usize)>,
    /// Called on every readiness event (the system-call layer wakes `poll` with it).
    pub notify: Option<Notify>,
    /// Earliest deadline this socket has in the timer heap.
    scheduled: Option<Instant>,
    /// Closed, and its tuple and counters handed back to the stack.
    retired: bool,
}

/// A connection with its own lock. See the module docs.
pub struct Sock {
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    state: BhLock<SockState>,
    backlog: BhLock<VecDeque<Arrival>>,
    /// A timer came due while the socket was held.
    timer_due: AtomicBool,
    /// Woken on the connection's events (the owning thread sleeps on it).
    pub queue: Arc<WaitQueue>,
    /// The token is on the ready list and not yet taken by its owner.
    pub ready_queued: AtomicBool,
    /// Bytes of its frames in the NIC's transmit ring (TSQ).
    tx: Arc<TxQueued>,
}

impl Sock {
    pub fn new(conn: DetachedConn) -> Arc<Sock> {
        Arc::new_cyclic(|me: &Weak<Sock>| Sock {
            local: conn.local(),
            remote: conn.remote(),
            state: BhLock::new(
                SockState {
                    conn,
                    pollers: Vec::new(),
                    ready: None,
                    notify: None,
                    scheduled: None,
                    retired: false,
                },
                &SOCK_CLASS,
            ),
            backlog: BhLock::new(VecDeque::new(), &BACKLOG_CLASS),
            timer_due: AtomicBool::new(false),
            queue: Arc::new(WaitQueue::new()),
            ready_queued: AtomicBool::new(false),
            tx: TxQueued::new(me.clone()),
        })
    }

    /// Runs `f` with the socket locked, then does what `f` made necessary (sending,
    /// waking, timers) and everything that arrived meanwhile. Process or softirq context,
    /// never with the device or stack lock held.
    pub fn with<R>(self: &Arc<Self>, f: impl FnOnce(&mut SockState) -> R) -> R {
        let mut guard = self.state.lock();
        let r = f(&mut guard);
        self.unlock(guard);
        r
    }

    /// NET_RX, with the device and stack locked: queues a segment for this socket, in
    /// arrival order (so two CPUs running NET_RX cannot reorder a connection's segments).
    /// False if the backlog was full and the segment was dropped (counted).
    pub fn enqueue(&self, arrival: Arrival) -> bool {
        let mut backlog = self.backlog.lock();
        if backlog.len() >= BACKLOG_LIMIT {
            BACKLOG_DROPS.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        backlog.push_back(arrival);
        true
    }

    /// NET_RX, after releasing device and stack: processes the queued segments unless
    /// someone holds the socket, who then does it before and after unlocking. Never spins
    /// on the socket lock.
    pub fn process_backlog(self: &Arc<Self>) {
        match self.state.try_lock() {
            Some(guard) => self.unlock(guard),
            None => {
                BACKLOGGED.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// NET_RX: a timer of this socket came due. Never spins on the socket lock.
    pub fn timer_fired(self: &Arc<Self>) {
        self.timer_due.store(true, Ordering::Release);
        if let Some(guard) = self.state.try_lock() {
            self.unlock(guard);
        }
    }

    /// Services the socket (backlog, timers, output, events), unlocks, and re-checks for
    /// work that arrived after the last look, taking the lock back if nobody else did.
    fn unlock<'a>(self: &'a Arc<Self>, mut guard: SpinGuard<'a, SockState, BhOff>) {
        loop {
            self.service(&mut guard);
            drop(guard);
            let pending = self.timer_due.load(Ordering::Acquire) || !self.backlog.lock().is_empty();
            if !pending {
                return;
            }
            match self.state.try_lock() {
                Some(g) => guard = g,
                // The new holder services it.
                None => return,
            }
        }
    }

    fn input(self: &Arc<Self>, s: &mut SockState, a: Arrival) {
        let now = tcp_now(time::now_ns());
        if s.conn.receive_with(now, a.src, a.dst, &a.bytes, a.hints) == Outcome::Reuse {
            // A new incarnation takes over our TIME-WAIT tuple: hand the tuple back and
            // let the listener answer the SYN.
            self.retire(s, Some(&a));
        }
    }

    fn service(self: &Arc<Self>, s: &mut SockState) {
        loop {
            let next = self.backlog.lock().pop_front();
            let Some(a) = next else { break };
            self.input(s, a);
        }
        let now_ns = time::now_ns();
        let now = tcp_now(now_ns);
        if self.timer_due.swap(false, Ordering::AcqRel) {
            // The heap entry that fired was the earliest one we had.
            s.scheduled = None;
        }
        s.conn.handle_timeout(now);
        // The device and stack locks are taken only when there may be something to send,
        // and the socket stops once its frames fill its share of the ring (TSQ); it is
        // resumed when the device hands them back.
        if s.conn.wants_transmit() {
            let conn = &mut s.conn;
            let owner: Owner = Some(self.tx.clone());
            let remote = *self.remote.ip();
            let _ = super::with_net(|mut dev, stack| {
                let at = NetInstant::from_nanos(now_ns);
                while !self.tx.full() {
                    let sent = match dev.as_deref_mut() {
                        Some(d) if !loopback::is_local(&stack.iface, remote) => {
                            send_into_ring(conn, d, stack, now, at, &owner)
                        }
                        d => send_from_buffer(conn, d, stack, now, at, &owner),
                    };
                    if !sent {
                        break;
                    }
                }
                if let Some(dev) = dev {
                    super::transmit_queued(dev, stack, &owner);
                }
            });
        }
        if !s.conn.take_events().is_empty() {
            self.queue.wake_all();
            for q in &s.pollers {
                q.wake_all();
            }
            if let Some(notify) = &s.notify {
                notify();
            }
            if let Some((list, token)) = &s.ready {
                if !self.ready_queued.swap(true, Ordering::AcqRel) {
                    list.push(*token);
                }
            }
        }
        match s.conn.poll_timeout() {
            Some(d) if s.scheduled.is_none_or(|at| d < at) => {
                s.scheduled = Some(d);
                sock_timers::push(d, Arc::downgrade(self));
            }
            _ => {}
        }
        if s.conn.state() == State::Closed || s.conn.is_orphaned_time_wait() {
            self.retire(s, None);
        }
    }

    /// Once closed, or in TIME-WAIT after the application closed it: the tuple goes back
    /// to the endpoint (`forget`; in TIME-WAIT the endpoint keeps a compact record of
    /// the connection for the rest of the wait and answers its segments), the socket
    /// leaves the routing map, its counters join the closed sockets' total, and `refeed`
    /// (a SYN that took over the tuple) goes to the endpoint.
    fn retire(&self, s: &mut SockState, refeed: Option<&Arrival>) {
        if s.retired {
            return;
        }
        s.retired = true;
        let _ = super::with_net(|_, stack| {
            stack.tcp.retire(self, &mut s.conn);
            if let Some(a) = refeed {
                let now = tcp_now(time::now_ns());
                stack
                    .tcp
                    .endpoint
                    .receive_with(now, a.src, a.dst, &a.bytes, a.hints);
            }
        });
    }

    /// Adds this socket's counters to `total` unless they were already added to the
    /// closed sockets' total.
    pub fn add_stats(self: &Arc<Self>, total: &mut halyard_tcp::Stats) {
        self.with(|s| {
            if !s.retired {
                *total += s.conn.stats();
            }
        });
    }
}

impl Drop for Sock {
    fn drop(&mut self) {
        sock_timers::socket_gone();
    }
}

/// Sends `conn`'s next segment to the NIC, written by the engine straight into a run of
/// the transmit ring reserved for the largest one and finished there: one copy, from the
/// send buffer into the ring. When the ring has no room it goes the copying way (where
/// the device refuses it: a lost segment, which TCP retransmits). False when the
/// connection had nothing to send.
fn send_into_ring(
    conn: &mut DetachedConn,
    dev: &mut VirtioNet,
    stack: &mut NetStack,
    now: Instant,
    at: NetInstant,
    owner: &Owner,
) -> bool {
    let Ok((start, buf)) = dev.tx_reserve(TX_HEADROOM + TSO_MAX_BYTES) else {
        return send_from_buffer(conn, Some(dev), stack, now, at, owner);
    };
    let Some(t) = conn.poll_transmit(now, &mut buf[TX_HEADROOM..]) else {
        dev.tx_cancel(start);
        return false;
    };
    let len = TX_HEADROOM + t.len;
    let frame = &mut buf[..len];
    let ready = stack
        .iface
        .send_ipv4_in_place(t.dst, PROTOCOL, frame, offload_of(&t), at);
    match ready {
        // A refusal by the device is a lost segment: TCP retransmits.
        Ok(Some(offload)) => {
            let _ = dev.tx_commit(start, len, offload, owner.clone());
        }
        // Queued (copied) behind ARP or other frames, or refused (no route...).
        Ok(None) | Err(_) => dev.tx_cancel(start),
    }
    true
}

/// Sends `conn`'s next segment through `lo` or the NIC, written into this CPU's segment
/// buffer. False when the connection had nothing to send.
fn send_from_buffer(
    conn: &mut DetachedConn,
    dev: Option<&mut VirtioNet>,
    stack: &mut NetStack,
    now: Instant,
    at: NetInstant,
    owner: &Owner,
) -> bool {
    segment_buf::with(|buf| {
        let Some(t) = conn.poll_transmit(now, &mut buf[TX_HEADROOM..]) else {
            return false;
        };
        let frame = &mut buf[..TX_HEADROOM + t.len];
        let (iface, lo) = (&mut stack.iface, &mut stack.lo);
        // A refusal (no route, ARP or loopback queue full, ring full) is a lost segment:
        // TCP retransmits.
        let sent =
            loopback::send_ipv4(iface, lo, t.src, t.dst, PROTOCOL, frame, offload_of(&t), at);
        if let (Ok(Some(offload)), Some(dev)) = (sent, dev) {
            let _ = dev.transmit(frame, offload, owner.clone());
        }
        true
    })
}
