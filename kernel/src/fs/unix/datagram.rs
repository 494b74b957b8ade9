//! `SOCK_DGRAM` and `SOCK_SEQPACKET` data (Linux's `unix_dgram_sendmsg`,
//! `__unix_dgram_recvmsg`, `unix_dgram_connect`): whole messages, a receiver queue of at
//! most `max_dgram_qlen` messages from senders it is not connected to, `EPERM` toward a
//! socket connected elsewhere, and a closed peer refused once (`ECONNREFUSED`, then
//! `ENOTCONN`). A connected datagram socket relays its peer's wakes to its own readiness
//! queue ([`Relay`]).
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use linux_raw_sys::errno as e;
use linux_raw_sys::general::{POLLIN, POLLRDNORM};
use linux_raw_sys::net as n;

use super::name::{self as names};
use super::{Kind, Msg, Rights, State, UnixSocket, DEFAULT_BUF};
use crate::fs::poll::{PollQueue, Wake};
use crate::fs::socket::wait_for;
use crate::fs::socket::{MsgSink, Received, RecvFlags, SendMsg, Ucred};
use crate::syscall::Errno;

/// Linux's `net.unix.max_dgram_qlen`.
pub(super) const MAX_DGRAM_QLEN: usize = 10;

/// Marks a wake a [`Relay`] forwarded, so two datagram sockets connected to each other
/// do not forward each other's wakes for ever (a bit no `poll` event or epoll flag uses).
const RELAYED: u32 = 1 << 20;

/// Forwards the wakes of a datagram socket's peer to the socket's own readiness queue
/// (Linux's `unix_dgram_peer_wake_relay`): its `POLLOUT` depends on room in the peer's
/// queue, and an epoll entry may have been added before the `connect`.
struct Relay(Weak<PollQueue>);

impl Wake for Relay {
    fn wake(&self, events: u32) {
        if events & RELAYED == 0 {
            if let Some(q) = self.0.upgrade() {
                q.wake(events | RELAYED);
            }
        }
    }
}

impl UnixSocket {
    /// Puts `msg` on this socket's queue for a datagram or seqpacket `sender`, waiting
    /// for room unless `nonblocking`.
    fn deliver_datagram(
        &self,
        sender: &UnixSocket,
        msg: Msg,
        nonblocking: bool,
        timeout: Option<u64>,
    ) -> Result<(), Errno> {
        let mut msg = Some(msg);
        loop {
            {
                let mut s = self.inner.lock();
                let from_peer = s
                    .peer
                    .as_ref()
                    .is_some_and(|p| core::ptr::eq(p.as_ptr(), sender));
                if s.peer.is_some() && !from_peer && self.kind == Kind::Dgram {
                    return Err(Errno::EPERM);
                }
                if s.dead {
                    return Err(if self.kind == Kind::SeqPacket {
                        Errno::EPIPE
                    } else {
                        Errno(e::ECONNREFUSED)
                    });
                }
                if s.shut_rd {
                    return Err(Errno::EPIPE);
                }
                let is_self = core::ptr::eq(self, sender);
                let full = !is_self && !from_peer && s.rx.len() > MAX_DGRAM_QLEN
                    || s.rx_bytes >= s.rcvbuf.max(DEFAULT_BUF) * 4;
                if !full {
                    let m = msg.take().expect("delivered once");
                    s.rx_bytes += m.data.len();
                    s.rx.push_back(m);
                    drop(s);
                    self.readable.wake_all();
                    self.poll_queue.wake(POLLIN | POLLRDNORM);
                    return Ok(());
                }
            }
            if nonblocking {
                return Err(Errno::EAGAIN);
            }
            wait_for(&self.room, timeout, || {
                let s = self.inner.lock();
                s.dead || s.shut_rd || s.rx.len() <= MAX_DGRAM_QLEN
            })?;
        }
    }

    pub(super) fn send_datagram(&self, msg: SendMsg<'_>) -> Result<usize, Errno> {
        let seqpacket = self.kind == Kind::SeqPacket;
        let (connected, sndbuf, passcred, timeout) = {
            let s = self.inner.lock();
            (
                s.state == State::Connected,
                s.sndbuf,
                s.passcred,
                s.sndtimeo,
            )
        };
        if seqpacket && !connected {
            return Err(Errno(e::ENOTCONN));
        }
        // A seqpacket socket ignores a destination (Linux's `unix_seqpacket_sendmsg`).
        let target = match msg.addr.filter(|_| !seqpacket) {
            Some(addr) => Some(names::parse(addr)?),
            None => None,
        };
        if passcred {
            self.autobind();
        }
        let len = msg.data.remaining();
        if len > sndbuf.saturating_sub(32) {
            return Err(Errno(e::EMSGSIZE));
        }
        let data = msg.data.read(len)?;
        let to = match &target {
            Some(t) => names::find(t, self.kind.code())?,
            None => {
                let peer = self.inner.lock().peer.clone();
                let Some(peer) = peer else {
                    return Err(Errno(e::ENOTCONN));
                };
                match peer.upgrade() {
                    Some(p) => p,
                    None if seqpacket => return Err(Errno::EPIPE),
                    None => return Err(self.peer_gone()),
                }
            }
        };
        let m = Msg {
            data,
            off: 0,
            rights: Rights::queued(msg.rights),
            from: self.name_addr(),
            cred: msg.cred.unwrap_or_else(Ucred::current),
        };
        match to.deliver_datagram(self, m, msg.nonblocking, timeout) {
            Err(err) if err == Errno(e::ECONNREFUSED) && target.is_none() => Err(self.peer_gone()),
            Err(err) => Err(err),
            Ok(()) => Ok(len),
        }
    }

    /// The datagram peer is closed: Linux disconnects and says `ECONNREFUSED`.
    fn peer_gone(&self) -> Errno {
        self.set_datagram_peer(None, names::unnamed());
        Errno(e::ECONNREFUSED)
    }

    /// Connects a datagram socket to `peer` (or disconnects it), with its [`Relay`].
    pub(super) fn set_datagram_peer(&self, peer: Option<&Arc<UnixSocket>>, addr: Vec<u8>) {
        let relay = peer.map(|p| {
            p.poll_queue
                .add(Arc::new(Relay(Arc::downgrade(&self.poll_queue))))
        });
        let old = {
            let mut s = self.inner.lock();
            s.peer = peer.map(Arc::downgrade);
            s.peer_addr = addr;
            s.state = State::Unconnected;
            core::mem::replace(&mut s.relay, relay)
        };
        drop(old);
        self.poll_queue.wake(0);
    }

    /// A datagram or seqpacket read (Linux's `__unix_dgram_recvmsg`).
    pub(super) fn recv_datagram(
        &self,
        sink: &mut dyn MsgSink,
        flags: RecvFlags,
    ) -> Result<Received, Errno> {
        if self.kind == Kind::SeqPacket && self.inner.lock().state != State::Connected {
            return Err(Errno(e::ENOTCONN));
        }
        let _reader = self.reader.lock();
        let mut msg = loop {
            let mut s = self.inner.lock();
            if !s.rx.is_empty() {
                let msg = if flags.peek {
                    let m = &s.rx[0];
                    Msg {
                        data: m.data.clone(),
                        off: 0,
                        rights: Rights::peeked(m.rights.peek()),
                        from: m.from.clone(),
                        cred: m.cred,
                    }
                } else {
                    let m = s.rx.pop_front().expect("not empty");
                    s.rx_bytes -= m.data.len();
                    m
                };
                break msg;
            }
            if let Some(err) = s.error.take() {
                return Err(err);
            }
            if s.shut_rd && (self.kind == Kind::SeqPacket || !flags.nonblocking) {
                return Ok(Received::default());
            }
            if flags.nonblocking {
                return Err(Errno::EAGAIN);
            }
            let timeout = s.rcvtimeo;
            drop(s);
            wait_for(&self.readable, timeout, || {
                let s = self.inner.lock();
                !s.rx.is_empty() || s.shut_rd || s.error.is_some()
            })?;
        };
        if !flags.peek {
            self.room_freed();
        }
        let n = msg.data.len().min(sink.room());
        sink.write(&msg.data[..n])?;
        Ok(Received {
            len: if flags.trunc { msg.data.len() } else { n },
            addr: msg.from.take(),
            rights: core::mem::take(&mut msg.rights).into_files(),
            cred: Some(msg.cred),
            truncated: n < msg.data.len(),
        })
    }

    /// `connect` of a datagram socket: sets (or with `AF_UNSPEC` clears) the peer
    /// (Linux's `unix_dgram_connect`).
    pub(super) fn connect_datagram(&self, addr: &[u8]) -> Result<(), Errno> {
        if addr.len() < names::SUN_PATH {
            return Err(Errno::EINVAL);
        }
        let family = u32::from(u16::from_ne_bytes([addr[0], addr[1]]));
        if family == n::AF_UNSPEC {
            self.set_datagram_peer(None, names::unnamed());
            return Ok(());
        }
        let target = names::parse(addr)?;
        if self.inner.lock().passcred {
            self.autobind();
        }
        let other = names::find(&target, self.kind.code())?;
        {
            let os = other.inner.lock();
            let to_us = os
                .peer
                .as_ref()
                .is_some_and(|p| core::ptr::eq(p.as_ptr(), self));
            if os.peer.is_some() && !to_us {
                return Err(Errno::EPERM);
            }
        }
        let other_addr = other.name_addr().unwrap_or_else(names::unnamed);
        self.set_datagram_peer(Some(&other), other_addr);
        Ok(())
    }
}
