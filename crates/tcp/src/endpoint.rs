//! The endpoint: every connection and listener of one host, the keyed 4-tuple table,
//! timers, and the sans-I/O entry points (`receive`, `poll_transmit`, `handle_timeout`,
//! `poll_timeout`, `poll_event`) plus the socket-style calls on connection handles. A
//! connection can be handed out (`detach`, see `detached.rs`) to be driven under its
//! owner's lock; its tuple stays in the table until `forget`.

mod inspect;
pub use inspect::ListenerDetails;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use hashbrown::HashMap;

use crate::challenge::ChallengeLimiter;
use crate::config::{Config, Keepalive};
use crate::conn::{Connection, InputCtx, Reply};
use crate::detached::DetachedConn;
use crate::error::Error;
use crate::event::{Event, Readiness};
use crate::isn::IsnGenerator;
use crate::listener::Listener;
use crate::ports::PortAllocator;
use crate::rst::RstReply;
use crate::rx_hints::RxHints;
use crate::seq::Seq;
use crate::siphash::{siphash, SipKey};
use crate::state::State;
use crate::stats::Stats;
use crate::table::{ConnTable, FourTuple};
use crate::time::Instant;
use crate::time_wait::{Handled, TimeWaits};
use crate::timer_queue::TimerQueue;
use crate::wire::{Flags, Segment, HEADER_LEN, MAX_OPTIONS_LEN};

/// Smallest buffer [`Endpoint::poll_transmit`] accepts: a header with full options. Give
/// it `MAX_HEADER + mss` bytes to send full-sized segments.
pub const MAX_HEADER: usize = HEADER_LEN + MAX_OPTIONS_LEN;

/// Handle of a connection. Stale handles (of freed connections) are detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId {
    index: u32,
    generation: u32,
}

/// Handle of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenerId(u32);

/// A segment written by [`Endpoint::poll_transmit`]: `len` bytes of TCP (header and
/// payload, checksummed) to be sent in an IPv4 packet from `src` to `dst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub len: usize,
    /// The checksum field holds only the pseudo-header sum (`Config::checksum_offload`):
    /// whoever sends the segment completes it (checksum offload) or the receiver trusts
    /// it; the sum covers the whole segment from its TCP header on.
    pub checksum_partial: bool,
    /// A TSO super-segment (`Config::tso_max_bytes`): its payload is to be cut into
    /// segments of this many bytes (the last one may be shorter), each with a copy of the
    /// header. `None` for a segment of at most one MSS.
    pub gso_size: Option<u16>,
}

/// Summary of a connection for diagnostics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    pub state: State,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub srtt: Option<core::time::Duration>,
    pub cwnd: u32,
    pub error: Option<Error>,
    /// Send and receive buffer memory held (allocated on first use, released once no
    /// more data can flow and everything received was read).
    pub buffer_bytes: usize,
}

impl ConnInfo {
    pub(crate) fn of(c: &Connection) -> ConnInfo {
        ConnInfo {
            state: c.state,
            local: c.tuple.local,
            remote: c.tuple.remote,
            srtt: c.srtt(),
            cwnd: c.cwnd(),
            error: c.error,
            buffer_bytes: c.buffer_bytes(),
        }
    }
}

/// Parses one received segment for [`Endpoint::receive`] or [`DetachedConn::receive`],
/// counting it and, when it is malformed, its drop reason.
pub(crate) fn parse_counted<'a>(
    stats: &mut Stats,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    data: &'a [u8],
    hints: RxHints,
) -> Option<Segment<'a>> {
    stats.segments_in += 1;
    Segment::parse_with(data, src, dst, hints)
        .map_err(|e| stats.count_wire_error(e))
        .ok()
}

/// What handing a segment to its connection asks of the connection's owner.
pub(crate) enum Delivered {
    /// Processed; send the RST if there is one.
    Done(Option<RstReply>),
    /// A new SYN took over the TIME-WAIT tuple (RFC 9293 3.10.7.4, RFC 6191): the old
    /// incarnation is closed and the SYN must go on to the listener.
    Reuse,
}

/// Hands `seg` (addressed to `conn`'s 4-tuple) to the connection.
pub(crate) fn deliver(
    conn: &mut Connection,
    now: Instant,
    seg: &Segment<'_>,
    ctx: &mut InputCtx<'_>,
) -> Delivered {
    let h = &seg.header;
    let fresh_syn = h.flags.contains(Flags::SYN) && !h.flags.contains(Flags::ACK);
    if fresh_syn && conn.time_wait_allows_reuse(h.seq, h.options.timestamp.map(|t| t.0)) {
        conn.terminate(None);
        return Delivered::Reuse;
    }
    match conn.input(now, seg, ctx) {
        Reply::Rst { seq } => Delivered::Done(Some(RstReply {
            local: conn.tuple.local,
            remote: conn.tuple.remote,
            seq,
            ack: None,
        })),
        Reply::Nothing => Delivered::Done(None),
    }
}

/// The connection's next segment, written into `buf` and counted.
pub(crate) fn output_counted(
    conn: &mut Connection,
    now: Instant,
    buf: &mut [u8],
    stats: &mut Stats,
) -> Option<Transmit> {
    let out = conn.output(now, buf, stats)?;
    stats.segments_out += 1;
    Some(Transmit {
        src: *conn.tuple.local.ip(),
        dst: *conn.tuple.remote.ip(),
        len: out.len,
        checksum_partial: out.checksum_partial,
        gso_size: out.gso_size,
    })
}

/// RFC 9293 3.10.5 ABORT: terminates `c`; returns the RST to send if its state calls for
/// one.
pub(crate) fn abort_conn(c: &mut Connection) -> Option<RstReply> {
    let rst = c.abort_rst().map(|seq| RstReply {
        local: c.tuple.local,
        remote: c.tuple.remote,
        seq,
        ack: None,
    });
    c.terminate(Some(Error::Aborted));
    rst
}

/// The application gives `c` up: it finishes with a graceful close if every received
/// byte was read, else it is aborted (data would be lost); returns the abort's RST.
pub(crate) fn release_conn(c: &mut Connection) -> Option<RstReply> {
    c.orphaned = true;
    if c.recv_queue() > 0 {
        abort_conn(c)
    } else {
        c.close();
        None
    }
}

#[derive(Debug, Clone, Copy)]
enum Pending {
    Conn(u32),
    Listener(u32),
}

#[derive(Debug, Default)]
struct Slot {
    generation: u32,
    conn: Option<Box<Connection>>,
    /// Deadline last pushed to the timer queue.
    scheduled: Option<Instant>,
    in_tx: bool,
    in_events: bool,
    /// The application holds a handle (connected, or accepted).
    owned: bool,
    listener: Option<u32>,
    in_syn_queue: bool,
    in_accept_queue: bool,
    /// Passively opened: counted in [`Endpoint`]'s per-peer counts until freed.
    peer_counted: bool,
    /// Handed out by [`Endpoint::detach`]: `conn` is gone, the tuple stays in the table
    /// until [`Endpoint::forget`].
    detached: Option<FourTuple>,
}

/// All TCP state of one host. See the crate docs for the calling pattern.
#[derive(Debug)]
pub struct Endpoint {
    cfg: Config,
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    table: ConnTable,
    listeners: Vec<Option<Listener>>,
    listen_map: HashMap<SocketAddrV4, u32, SipKey>,
    /// Passively opened connections per remote address (only addresses with some).
    peers: HashMap<Ipv4Addr, u32, SipKey>,
    isn: IsnGenerator,
    ports: PortAllocator,
    timers: TimerQueue,
    tx: VecDeque<u32>,
    events: VecDeque<Pending>,
    rsts: VecDeque<RstReply>,
    /// Connections in TIME-WAIT nobody owns, as compact records (`time_wait.rs`).
    time_wait: TimeWaits,
    challenge: ChallengeLimiter,
    stats: Stats,
}

fn derive_key(secret: &SipKey, label: u8) -> SipKey {
    let a = siphash(secret, &[label, 0]).to_le_bytes();
    let b = siphash(secret, &[label, 1]).to_le_bytes();
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&a);
    k[8..].copy_from_slice(&b);
    SipKey(k)
}

impl Endpoint {
    /// A new endpoint. `secret` keys the ISN generator, the ephemeral-port offsets and the
    /// connection-table hash: take it from a good random source at boot.
    pub fn new(cfg: Config, secret: [u8; 16]) -> Endpoint {
        let secret = SipKey(secret);
        let (lo, hi) = cfg.ephemeral_ports;
        Endpoint {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            table: ConnTable::new(derive_key(&secret, 1)),
            listeners: Vec::new(),
            listen_map: HashMap::with_hasher(derive_key(&secret, 4)),
            peers: HashMap::with_hasher(derive_key(&secret, 5)),
            isn: IsnGenerator::new(derive_key(&secret, 2)),
            ports: PortAllocator::new(derive_key(&secret, 3), lo, hi),
            timers: TimerQueue::default(),
            tx: VecDeque::new(),
            events: VecDeque::new(),
            rsts: VecDeque::new(),
            time_wait: TimeWaits::new(derive_key(&secret, 6), cfg.max_time_wait, cfg.rst_queue),
            challenge: ChallengeLimiter::new(cfg.challenge_ack_limit),
            stats: Stats::default(),
            cfg,
        }
    }

    /// Sizes every table that grows with the number of connections (slots, the 4-tuple
    /// table, the timer heap, the transmit and event queues, the per-peer counts) for
    /// [`Config::max_connections`], and the TIME-WAIT records' for
    /// [`Config::max_time_wait`], up front, so that afterwards no connection, however
    /// many come, makes the endpoint grow an allocation: a kernel under memory pressure
    /// then never meets a large allocation it cannot refuse. (Buffers, which grow with
    /// data, are fallible on their own; see `buffer::ring`.)
    pub fn preallocate(&mut self) {
        let n = self.cfg.max_connections;
        self.slots.reserve(n.saturating_sub(self.slots.len()));
        self.free.reserve(n.saturating_sub(self.free.len()));
        self.table.reserve(n);
        // The heap is rebuilt once it holds more than 2 * live + 64 entries.
        self.timers.reserve(2 * n + 128);
        self.tx.reserve(n);
        self.events.reserve(n + 64);
        self.peers.reserve(n);
        self.time_wait.preallocate();
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Connections held in any state (including TIME-WAIT and unreleased closed ones),
    /// TIME-WAIT records aside ([`Self::time_wait_count`]).
    pub fn connection_count(&self) -> usize {
        self.live
    }

    /// Connections in TIME-WAIT that nobody owns, each kept as a compact record.
    pub fn time_wait_count(&self) -> usize {
        self.time_wait.len()
    }

    /// Passively opened connections `peer` holds (what
    /// [`Config::max_connections_per_peer`] limits).
    pub fn peer_connections(&self, peer: Ipv4Addr) -> usize {
        self.peers.get(&peer).copied().unwrap_or(0) as usize
    }

    // ----- listeners -------------------------------------------------------------------

    /// Starts listening on `addr` (IP 0.0.0.0 listens on every local address).
    pub fn listen(&mut self, addr: SocketAddrV4) -> Result<ListenerId, Error> {
        self.listen_with(addr, self.cfg.clone())
    }

    /// Starts listening on `addr`; accepted connections use `cfg`'s per-connection
    /// settings (buffers, options, timers) instead of the endpoint's.
    pub fn listen_with(&mut self, addr: SocketAddrV4, cfg: Config) -> Result<ListenerId, Error> {
        if self.listen_map.contains_key(&addr) {
            return Err(Error::AddrInUse);
        }
        let idx = self.listeners.len() as u32;
        self.listeners
            .push(Some(Listener::new(addr, self.cfg.accept_backlog, cfg)));
        self.listen_map.insert(addr, idx);
        Ok(ListenerId(idx))
    }

    /// Stops listening; connections waiting in its accept queue are reset.
    pub fn unlisten(&mut self, now: Instant, id: ListenerId) -> Result<(), Error> {
        let l = self
            .listeners
            .get_mut(id.0 as usize)
            .and_then(Option::take)
            .ok_or(Error::InvalidHandle)?;
        self.listen_map.remove(&l.addr);
        for idx in l.accept_queue {
            self.slots[idx as usize].in_accept_queue = false;
            self.abort_slot(now, idx);
        }
        Ok(())
    }

    /// Takes the next established connection from the listener's accept queue.
    pub fn accept(&mut self, id: ListenerId) -> Option<ConnId> {
        let l = self.listeners.get_mut(id.0 as usize)?.as_mut()?;
        let idx = l.accept_queue.pop_front()?;
        let slot = &mut self.slots[idx as usize];
        slot.in_accept_queue = false;
        slot.owned = true;
        let id = ConnId {
            index: idx,
            generation: slot.generation,
        };
        if slot.conn.as_ref().is_some_and(|c| !c.events.is_empty()) && !slot.in_events {
            slot.in_events = true;
            self.events.push_back(Pending::Conn(idx));
        }
        Some(id)
    }

    /// Established connections waiting in the listener's accept queue.
    pub fn accept_pending(&self, id: ListenerId) -> Result<usize, Error> {
        let l = self.listeners.get(id.0 as usize).and_then(Option::as_ref);
        l.map(|l| l.accept_queue.len()).ok_or(Error::InvalidHandle)
    }

    /// True when a listener or any connection (TIME-WAIT included) uses local `port`:
    /// what binding without address reuse (SO_REUSEADDR) must refuse. O(connections);
    /// meant for bind time, not the data path.
    pub fn local_port_in_use(&self, port: u16) -> bool {
        self.listen_map.keys().any(|a| a.port() == port)
            || self.table.any_local_port(port)
            || self.time_wait.any_local_port(port)
    }

    fn find_listener(&self, addr: SocketAddrV4) -> Option<u32> {
        self.listen_map
            .get(&addr)
            .or_else(|| {
                self.listen_map
                    .get(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, addr.port()))
            })
            .copied()
    }

    // ----- connections -----------------------------------------------------------------

    /// Active open from `local_ip` (an ephemeral port is chosen, RFC 6056) to `remote`.
    pub fn connect(
        &mut self,
        now: Instant,
        local_ip: Ipv4Addr,
        remote: SocketAddrV4,
    ) -> Result<ConnId, Error> {
        self.connect_with(now, local_ip, remote, &self.cfg.clone())
    }

    /// [`Endpoint::connect`] with `cfg`'s per-connection settings (buffers, options,
    /// timers) instead of the endpoint's.
    pub fn connect_with(
        &mut self,
        now: Instant,
        local_ip: Ipv4Addr,
        remote: SocketAddrV4,
        cfg: &Config,
    ) -> Result<ConnId, Error> {
        let (table, listen_map, time_wait) = (&self.table, &self.listen_map, &self.time_wait);
        // A listener's port is skipped too (Linux's bind buckets): over loopback, a
        // connection from a listening port to itself would be a simultaneous open.
        let port = self
            .ports
            .pick(local_ip, remote, |p| {
                let tuple = FourTuple {
                    local: SocketAddrV4::new(local_ip, p),
                    remote,
                };
                listen_map.keys().any(|a| a.port() == p)
                    || table.contains(&tuple)
                    || time_wait.contains(&tuple)
            })
            .ok_or(Error::NoPorts)?;
        self.open(now, SocketAddrV4::new(local_ip, port), remote, cfg)
    }

    /// Active open from an explicit local address and port.
    pub fn connect_from(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
    ) -> Result<ConnId, Error> {
        self.open(now, local, remote, &self.cfg.clone())
    }

    fn open(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        cfg: &Config,
    ) -> Result<ConnId, Error> {
        let tuple = FourTuple { local, remote };
        if self.table.contains(&tuple) || self.time_wait.contains(&tuple) {
            return Err(Error::AddrInUse);
        }
        if self.live >= self.cfg.max_connections {
            return Err(Error::TooManyConnections);
        }
        let conn = Connection::connect(cfg, tuple, self.isn.identity(&tuple, now), now);
        let idx = self.alloc(conn);
        self.slots[idx as usize].owned = true;
        self.touch(now, idx);
        Ok(ConnId {
            index: idx,
            generation: self.slots[idx as usize].generation,
        })
    }

    fn alloc(&mut self, conn: Connection) -> u32 {
        let tuple = conn.tuple;
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[idx as usize];
        slot.conn = Some(Box::new(conn));
        slot.owned = false;
        slot.listener = None;
        slot.in_syn_queue = false;
        slot.in_accept_queue = false;
        slot.peer_counted = false;
        slot.detached = None;
        self.table.insert(tuple, idx);
        self.live += 1;
        idx
    }

    fn free_slot(&mut self, idx: u32) {
        let slot = &mut self.slots[idx as usize];
        let tuple = slot.conn.take().map(|c| c.tuple).or(slot.detached.take());
        if let Some(tuple) = tuple {
            if self.table.get(&tuple) == Some(idx) {
                self.table.remove(&tuple);
            }
            slot.generation = slot.generation.wrapping_add(1);
            slot.scheduled = None;
            slot.owned = false;
            if core::mem::take(&mut slot.peer_counted) {
                let ip = *tuple.remote.ip();
                if let Some(n) = self.peers.get_mut(&ip) {
                    *n -= 1;
                    if *n == 0 {
                        self.peers.remove(&ip);
                    }
                }
            }
            self.free.push(idx);
            self.live -= 1;
        }
    }

    fn conn_mut(&mut self, id: ConnId) -> Result<&mut Connection, Error> {
        match self.slots.get_mut(id.index as usize) {
            Some(s) if s.generation == id.generation && s.owned => {
                s.conn.as_deref_mut().ok_or(Error::InvalidHandle)
            }
            _ => Err(Error::InvalidHandle),
        }
    }

    fn conn_ref(&self, id: ConnId) -> Result<&Connection, Error> {
        match self.slots.get(id.index as usize) {
            Some(s) if s.generation == id.generation && s.owned => {
                s.conn.as_deref().ok_or(Error::InvalidHandle)
            }
            _ => Err(Error::InvalidHandle),
        }
    }

    /// Queues data for sending; returns how many bytes the send buffer took.
    pub fn send(&mut self, now: Instant, id: ConnId, data: &[u8]) -> Result<usize, Error> {
        let r = self.conn_mut(id)?.send(data);
        self.touch(now, id.index);
        r
    }

    /// Reads received data. `Ok(0)` is end of stream (the peer closed its direction).
    pub fn recv(&mut self, now: Instant, id: ConnId, buf: &mut [u8]) -> Result<usize, Error> {
        let r = self.conn_mut(id)?.recv(buf);
        self.touch(now, id.index);
        r
    }

    /// Closes our sending direction (half-close; the peer may keep sending).
    pub fn close(&mut self, now: Instant, id: ConnId) -> Result<(), Error> {
        self.conn_mut(id)?.close();
        self.touch(now, id.index);
        Ok(())
    }

    /// Resets the connection (RFC 9293 ABORT).
    pub fn abort(&mut self, now: Instant, id: ConnId) -> Result<(), Error> {
        self.conn_ref(id)?;
        self.abort_slot(now, id.index);
        Ok(())
    }

    fn abort_slot(&mut self, now: Instant, idx: u32) {
        let Some(c) = self.slots[idx as usize].conn.as_deref_mut() else {
            return;
        };
        if let Some(r) = abort_conn(c) {
            self.queue_rst(r);
        }
        self.touch(now, idx);
    }

    /// Gives the handle back. The connection finishes on its own: a graceful close if all
    /// received data was read, otherwise a reset (data would be lost). The handle becomes
    /// invalid.
    pub fn release(&mut self, now: Instant, id: ConnId) -> Result<(), Error> {
        let rst = release_conn(self.conn_mut(id)?);
        self.slots[id.index as usize].owned = false;
        if let Some(r) = rst {
            self.queue_rst(r);
        }
        self.touch(now, id.index);
        Ok(())
    }

    /// Hands the connection out of the endpoint, to be driven by its owner through the
    /// returned [`DetachedConn`] (under a lock of its own, say). The endpoint keeps its
    /// 4-tuple in the table, so ephemeral-port choice, `connect_from` collisions and
    /// [`Endpoint::local_port_in_use`] still see it, but no longer drives it: no timers,
    /// transmissions or events, and a segment for it that still reaches
    /// [`Endpoint::receive`] is counted (`drop_detached`) and dropped. Call
    /// [`Endpoint::forget`] once the detached connection is closed. The handle becomes
    /// invalid for every other call.
    pub fn detach(&mut self, id: ConnId) -> Result<DetachedConn, Error> {
        self.conn_ref(id)?;
        let slot = &mut self.slots[id.index as usize];
        let conn = slot.conn.take().ok_or(Error::InvalidHandle)?;
        slot.detached = Some(conn.tuple);
        slot.owned = false;
        slot.scheduled = None;
        Ok(DetachedConn::new(id, conn, self.cfg.challenge_ack_limit))
    }

    /// Takes back a detached connection in TIME-WAIT whose application released it
    /// ([`DetachedConn::is_orphaned_time_wait`]): the endpoint keeps a compact record of
    /// it for the rest of the wait (answering its segments itself from then on) and frees
    /// its slot, as [`Self::forget`] would; `conn` is closed and may be dropped.
    pub fn adopt_time_wait(&mut self, conn: &mut DetachedConn) -> Result<(), Error> {
        let id = conn.id();
        match self.slots.get(id.index as usize) {
            Some(s) if s.generation == id.generation && s.detached.is_some() => {}
            _ => return Err(Error::InvalidHandle),
        }
        let (tuple, tw, ack_owed) = conn.take_time_wait().ok_or(Error::InvalidState)?;
        self.free_slot(id.index);
        self.time_wait.insert(tuple, tw, ack_owed, &mut self.stats);
        Ok(())
    }

    /// Frees the table entry and slot of a detached connection (once it is closed, or
    /// when its tuple is taken over by a new incarnation).
    pub fn forget(&mut self, id: ConnId) -> Result<(), Error> {
        match self.slots.get(id.index as usize) {
            Some(s) if s.generation == id.generation && s.detached.is_some() => {
                self.free_slot(id.index);
                Ok(())
            }
            _ => Err(Error::InvalidHandle),
        }
    }

    /// The connection's state.
    pub fn state(&self, id: ConnId) -> Result<State, Error> {
        Ok(self.conn_ref(id)?.state)
    }

    /// Diagnostics for one connection.
    pub fn info(&self, id: ConnId) -> Result<ConnInfo, Error> {
        Ok(ConnInfo::of(self.conn_ref(id)?))
    }

    /// Bytes waiting to be read.
    pub fn recv_queue(&self, id: ConnId) -> Result<usize, Error> {
        Ok(self.conn_ref(id)?.recv_queue())
    }

    /// Free space in the send buffer.
    pub fn send_space(&self, id: ConnId) -> Result<usize, Error> {
        Ok(self.conn_ref(id)?.send_space())
    }

    /// Bytes in the send buffer (unsent or unacknowledged).
    pub fn send_queue(&self, id: ConnId) -> Result<usize, Error> {
        Ok(self.conn_ref(id)?.send_queue())
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&mut self, id: ConnId, on: bool) -> Result<(), Error> {
        self.conn_mut(id)?.set_nodelay(on);
        Ok(())
    }

    /// Keepalive with `k`'s parameters, or off (SO_KEEPALIVE); the idle period starts now.
    pub fn set_keepalive(
        &mut self,
        now: Instant,
        id: ConnId,
        k: Option<Keepalive>,
    ) -> Result<(), Error> {
        self.conn_mut(id)?.set_keepalive(now, k);
        self.touch(now, id.index);
        Ok(())
    }

    /// Send-buffer limit (SO_SNDBUF); never below the bytes already queued.
    pub fn set_send_buffer(&mut self, now: Instant, id: ConnId, bytes: usize) -> Result<(), Error> {
        self.conn_mut(id)?.set_send_buffer(bytes);
        self.touch(now, id.index);
        Ok(())
    }

    /// Receive-buffer limit (SO_RCVBUF); never below the bytes held plus the window
    /// already offered (a window is never shrunk).
    pub fn set_recv_buffer(&mut self, now: Instant, id: ConnId, bytes: usize) -> Result<(), Error> {
        self.conn_mut(id)?.set_recv_buffer(bytes);
        self.touch(now, id.index);
        Ok(())
    }

    /// The buffer limits in force: (send, receive).
    pub fn buffer_limits(&self, id: ConnId) -> Result<(usize, usize), Error> {
        Ok(self.conn_ref(id)?.buffer_limits())
    }

    // ----- sans-I/O entry points -------------------------------------------------------

    /// Hands in one received TCP segment (the IPv4 payload) that arrived from `src` to
    /// `dst`. Malformed segments are counted in [`Stats`] and dropped.
    pub fn receive(&mut self, now: Instant, src: Ipv4Addr, dst: Ipv4Addr, data: &[u8]) {
        self.receive_with(now, src, dst, data, RxHints::default());
    }

    /// [`Self::receive`] with what the device said about the segment.
    pub fn receive_with(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        data: &[u8],
        hints: RxHints,
    ) {
        let Some(seg) = parse_counted(&mut self.stats, src, dst, data, hints) else {
            return;
        };
        let h = &seg.header;
        let tuple = FourTuple {
            local: SocketAddrV4::new(dst, h.dst_port),
            remote: SocketAddrV4::new(src, h.src_port),
        };
        let wait = 2 * self.cfg.msl;
        let handled =
            self.time_wait
                .receive(now, tuple, &seg, wait, &mut self.stats, &mut self.challenge);
        if handled == Handled::Done {
            return;
        }
        if let Some(idx) = self.table.get(&tuple) {
            let Some(conn) = self.slots[idx as usize].conn.as_deref_mut() else {
                // Detached: its owner should have been handed this segment.
                self.stats.drop_detached += 1;
                return;
            };
            let mut ctx = InputCtx {
                stats: &mut self.stats,
                challenge: &mut self.challenge,
            };
            match deliver(conn, now, &seg, &mut ctx) {
                Delivered::Reuse => self.touch(now, idx),
                Delivered::Done(rst) => {
                    if let Some(r) = rst {
                        self.queue_rst(r);
                    }
                    self.touch(now, idx);
                    return;
                }
            }
        }
        match self.find_listener(tuple.local) {
            Some(lid) => self.listen_input(now, lid, tuple, &seg),
            None => {
                self.stats.drop_no_connection += 1;
                self.reply_closed(tuple, &seg);
            }
        }
    }

    /// RFC 9293 3.10.7.1: the reply to a segment for no connection.
    fn reply_closed(&mut self, tuple: FourTuple, seg: &Segment<'_>) {
        let h = &seg.header;
        if h.flags.contains(Flags::RST) {
            return;
        }
        let r = if h.flags.contains(Flags::ACK) {
            RstReply {
                local: tuple.local,
                remote: tuple.remote,
                seq: h.ack,
                ack: None,
            }
        } else {
            RstReply {
                local: tuple.local,
                remote: tuple.remote,
                seq: Seq(0),
                ack: Some(h.seq + seg.seq_len()),
            }
        };
        self.queue_rst(r);
    }

    fn queue_rst(&mut self, r: RstReply) {
        if self.rsts.len() >= self.cfg.rst_queue {
            self.stats.rst_replies_dropped += 1;
        } else {
            self.rsts.push_back(r);
        }
    }

    /// RFC 9293 3.10.7.2: a segment for a listener.
    fn listen_input(&mut self, now: Instant, lid: u32, tuple: FourTuple, seg: &Segment<'_>) {
        let h = &seg.header;
        if h.flags.contains(Flags::RST) {
            self.stats.drop_listen_invalid += 1;
            return;
        }
        if h.flags.contains(Flags::ACK) {
            self.stats.drop_listen_invalid += 1;
            self.reply_closed(tuple, seg);
            return;
        }
        if !h.flags.contains(Flags::SYN) {
            self.stats.drop_listen_invalid += 1;
            return;
        }
        let Some(l) = self.listeners[lid as usize].as_mut() else {
            return;
        };
        if l.syn_count >= self.cfg.syn_backlog
            || l.accept_queue.len() >= self.cfg.accept_backlog
            || self.live >= self.cfg.max_connections
        {
            self.stats.drop_syn_queue_full += 1;
            return;
        }
        let peer = *tuple.remote.ip();
        let held = self.peers.get(&peer).copied().unwrap_or(0);
        if held as usize >= self.cfg.max_connections_per_peer {
            self.stats.drop_peer_limit += 1;
            self.reply_closed(tuple, seg);
            return;
        }
        l.syn_count += 1;
        let conn = Connection::accept_syn(&l.cfg, tuple, self.isn.identity(&tuple, now), now, h);
        let idx = self.alloc(conn);
        *self.peers.entry(peer).or_insert(0) += 1;
        let slot = &mut self.slots[idx as usize];
        slot.listener = Some(lid);
        slot.in_syn_queue = true;
        slot.peer_counted = true;
        self.touch(now, idx);
    }

    /// Bookkeeping after anything touched connection `idx`: listener queues, table removal
    /// and freeing when closed, events, the transmit queue and the timer heap.
    fn touch(&mut self, now: Instant, idx: u32) {
        let slot = &mut self.slots[idx as usize];
        let Some(conn) = slot.conn.as_deref_mut() else {
            return;
        };
        if slot.in_syn_queue && conn.state != State::SynReceived {
            slot.in_syn_queue = false;
            let lid = slot.listener.unwrap_or(u32::MAX);
            match self
                .listeners
                .get_mut(lid as usize)
                .and_then(Option::as_mut)
            {
                Some(l) => {
                    l.syn_count -= 1;
                    if conn.state.is_synchronized() {
                        if l.accept_queue.len() < self.cfg.accept_backlog {
                            l.accept_queue.push_back(idx);
                            slot.in_accept_queue = true;
                            if !l.notified {
                                l.notified = true;
                                self.events.push_back(Pending::Listener(lid));
                            }
                        } else {
                            self.stats.accept_queue_overflows += 1;
                            self.abort_slot(now, idx);
                            return;
                        }
                    }
                }
                None if conn.state.is_synchronized() => {
                    self.abort_slot(now, idx);
                    return;
                }
                None => {}
            }
        }
        let slot = &mut self.slots[idx as usize];
        let Some(conn) = slot.conn.as_deref_mut() else {
            return;
        };
        if conn.is_closed() {
            if self.table.get(&conn.tuple) == Some(idx) {
                self.table.remove(&conn.tuple);
            }
            if slot.in_accept_queue {
                slot.in_accept_queue = false;
                if let Some(l) = slot
                    .listener
                    .and_then(|l| self.listeners.get_mut(l as usize))
                    .and_then(Option::as_mut)
                {
                    l.accept_queue.retain(|&i| i != idx);
                }
            }
            if !slot.owned {
                self.free_slot(idx);
                return;
            }
        }
        if let Some((tw, ack_owed)) = conn.time_wait_record() {
            // Nobody owns it: a compact record stands for it from now on.
            let tuple = conn.tuple;
            self.free_slot(idx);
            self.time_wait.insert(tuple, tw, ack_owed, &mut self.stats);
            return;
        }
        if slot.owned && !conn.events.is_empty() && !slot.in_events {
            slot.in_events = true;
            self.events.push_back(Pending::Conn(idx));
        }
        if !slot.in_tx {
            slot.in_tx = true;
            self.tx.push_back(idx);
        }
        self.reschedule(idx);
    }

    /// Pushes the connection's current deadline to the timer heap if it changed.
    fn reschedule(&mut self, idx: u32) {
        let slot = &mut self.slots[idx as usize];
        let Some(conn) = slot.conn.as_deref() else {
            return;
        };
        let d = conn.next_deadline();
        if d != slot.scheduled {
            slot.scheduled = d;
            if let Some(d) = d {
                self.timers.push(d, idx);
            }
        }
        if self.timers.len() > 2 * self.live + 64 {
            self.rebuild_timers();
        }
    }

    fn rebuild_timers(&mut self) {
        self.timers.clear();
        for (i, s) in self.slots.iter().enumerate() {
            if let (Some(d), Some(_)) = (s.scheduled, &s.conn) {
                self.timers.push(d, i as u32);
            }
        }
    }

    /// Writes the next segment to send into `buf` (at least [`MAX_HEADER`] bytes; give
    /// `MAX_HEADER + mss`). Call until it returns `None` after every other call.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        if buf.len() < MAX_HEADER {
            return None;
        }
        if let Some(r) = self.rsts.pop_front() {
            return Some(r.emit(buf, &mut self.stats));
        }
        if let Some(t) = self.time_wait.poll_ack(now, buf, &mut self.stats) {
            return Some(t);
        }
        while let Some(&idx) = self.tx.front() {
            if let Some(conn) = self.slots[idx as usize].conn.as_deref_mut() {
                if let Some(t) = output_counted(conn, now, buf, &mut self.stats) {
                    // Round robin: a bulk sender must not starve the other connections.
                    if self.tx.len() > 1 {
                        self.tx.rotate_left(1);
                    }
                    self.touch(now, idx);
                    return Some(t);
                }
            }
            self.tx.pop_front();
            self.slots[idx as usize].in_tx = false;
            // Deciding not to send may have armed a timer (persist, Nagle hold).
            self.reschedule(idx);
        }
        None
    }

    /// The earliest timer deadline, if any timer is pending.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let time_wait = self.time_wait.next_expiry();
        while let Some((at, idx)) = self.timers.peek() {
            if self.slots[idx as usize].scheduled == Some(at) {
                return Some(time_wait.map_or(at, |t| t.min(at)));
            }
            self.timers.pop();
        }
        time_wait
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.time_wait.expire(now);
        while let Some((at, idx)) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let slot = &mut self.slots[idx as usize];
            if slot.scheduled != Some(at) {
                continue;
            }
            slot.scheduled = None;
            if let Some(c) = slot.conn.as_deref_mut() {
                c.on_timer(now, &mut self.stats);
                self.touch(now, idx);
            }
        }
    }

    /// The next socket event.
    pub fn poll_event(&mut self) -> Option<Event> {
        while let Some(p) = self.events.pop_front() {
            match p {
                Pending::Listener(lid) => {
                    if let Some(l) = self
                        .listeners
                        .get_mut(lid as usize)
                        .and_then(Option::as_mut)
                    {
                        l.notified = false;
                        if !l.accept_queue.is_empty() {
                            return Some(Event::Acceptable(ListenerId(lid)));
                        }
                    }
                }
                Pending::Conn(idx) => {
                    let slot = &mut self.slots[idx as usize];
                    slot.in_events = false;
                    if let (true, Some(c)) = (slot.owned, slot.conn.as_deref_mut()) {
                        let ev = core::mem::replace(&mut c.events, Readiness::empty());
                        if !ev.is_empty() {
                            return Some(Event::Conn(
                                ConnId {
                                    index: idx,
                                    generation: slot.generation,
                                },
                                ev,
                            ));
                        }
                    }
                }
            }
        }
        None
    }
}
