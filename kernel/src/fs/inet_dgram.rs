//! `AF_INET` `SOCK_DGRAM` sockets: UDP for user programs (Linux's `udp_prot` behind
//! `inet_dgram_ops`), and the handle busybox `ifconfig` opens to issue `SIOCGIF*`
//! ([`crate::syscall::netdev`], served on any socket).
//!
//! The socket's own state (bound address and port, peer, options) sits under a sleeping
//! mutex that only its calls take; its receive queue, error and shutdown state are the
//! stack's [`Endpoint`] (`net::udp_table`), which NET_RX fills under a leaf lock. So a
//! thread blocked in `recvmsg` waits on the endpoint's wait queue holding nothing, and
//! NET_RX never waits for a socket call. Sending builds the datagram and hands it to the
//! stack under its lock (`net::with_net`); a datagram to a local address goes through
//! `lo`'s queue and is delivered by NET_RX, never from the sender's context.
//!
//! Linux's answers, in Linux's order:
//! - `bind`: `EINVAL` for a short address or a bound socket, `EAFNOSUPPORT` for another
//!   family (`AF_UNSPEC` with `INADDR_ANY` is taken), `EADDRNOTAVAIL` for an address
//!   that is not local or a broadcast, `EADDRINUSE` (see `net::udp_table` for
//!   `SO_REUSEADDR`/`SO_REUSEPORT`); port 0 is an ephemeral port.
//! - `connect`: `AF_UNSPEC` disconnects (an address or port the socket only got from
//!   `connect` or autobind is given back, as `__udp_disconnect`); otherwise the socket is
//!   bound first (autobind, even if the address is then refused), the peer is set and
//!   only its datagrams are received, and an unbound address becomes the route's source.
//!   `ENETUNREACH` without a route, `EACCES` for a broadcast without `SO_BROADCAST`.
//! - `sendmsg`: autobind first; `EMSGSIZE` beyond 65,535 bytes; a destination's
//!   `EINVAL`/`EAFNOSUPPORT` (`AF_UNSPEC` reads as `AF_INET`), `EINVAL` for port 0,
//!   `EDESTADDRREQ` without one on an unconnected socket; `ENETUNREACH`, `EACCES`;
//!   `EMSGSIZE` beyond 65,507 bytes (an IPv4 datagram's room); `EPIPE` after `SHUT_WR`
//!   (no `SIGPIPE`, as Linux's UDP); a pending error. Sending never blocks (there is no
//!   send buffer to fill: the datagram is queued on the interface or dropped and counted).
//! - `recvmsg`: a pending error first, then the oldest datagram, whole or truncated
//!   (`MSG_TRUNC` in and out), with its source; `MSG_PEEK`; `EAGAIN` when empty and
//!   non-blocking; after `SHUT_RD` a blocking read of an empty queue returns 0.
//! - `shutdown`: sets the flags and wakes pollers; `ENOTCONN` on an unconnected socket
//!   (Linux sets the flags anyway).
//! - `poll`: `POLLIN` with a datagram, `POLLERR` with an error, `POLLRDHUP|POLLIN`
//!   after `SHUT_RD`, `POLLHUP` after both, always writable.
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicU64, Ordering};

use halyard_net::udp_bindings::BindRequest;
use linux_raw_sys::errno as e;
use linux_raw_sys::general::{
    O_RDWR, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM,
};
use linux_raw_sys::net as n;

use super::file::{FileOps, FileStat, OpenFile};
use super::poll::PollQueue;
use super::socket::{self, MsgSink, Received, RecvFlags, SendMsg, Socket};
use crate::net::udp_table::{self, Datagram, Endpoint};
use crate::sync::Mutex;
use crate::syscall::Errno;

/// Inode numbers of datagram sockets (their own space, from the top, so they never meet
/// a stream socket's).
static NEXT_INO: AtomicU64 = AtomicU64::new(u64::MAX / 2);
/// The largest datagram (`len > 0xFFFF` is `udp_sendmsg`'s first check).
const MAX_LEN: usize = 0xffff;
/// The largest payload of one IPv4 datagram: 65,535 less the IPv4 and UDP headers.
const MAX_PAYLOAD: usize = MAX_LEN - 20 - 8;
const SOCKADDR_IN: usize = core::mem::size_of::<n::sockaddr_in>();

/// What only the socket's own calls touch.
struct Local {
    /// Bound address (`INADDR_ANY` for any) and port (0: not bound).
    addr: Ipv4Addr,
    port: u16,
    /// `bind` chose the address or the port (Linux's `SOCK_BINDADDR_LOCK`,
    /// `SOCK_BINDPORT_LOCK`): a disconnect keeps them.
    addr_locked: bool,
    port_locked: bool,
    peer: Option<SocketAddrV4>,
    reuse_addr: bool,
    reuse_port: bool,
    broadcast: bool,
    sndbuf: usize,
    rcvtimeo: Option<u64>,
    sndtimeo: Option<u64>,
}

/// An `AF_INET` datagram socket. See the module docs.
pub struct InetDgram {
    ino: u64,
    local: Mutex<Local>,
    ep: Arc<Endpoint>,
    poll_queue: Arc<PollQueue>,
}

/// A new datagram socket with status flags `flags` (`O_NONBLOCK`).
pub fn new(flags: u32) -> Arc<OpenFile> {
    let poll_queue = Arc::new(PollQueue::new());
    let q = poll_queue.clone();
    let ino = NEXT_INO.fetch_add(1, Ordering::Relaxed);
    OpenFile::new(
        Arc::new(InetDgram {
            ino,
            local: Mutex::new(Local {
                addr: Ipv4Addr::UNSPECIFIED,
                port: 0,
                addr_locked: false,
                port_locked: false,
                peer: None,
                reuse_addr: false,
                reuse_port: false,
                broadcast: false,
                sndbuf: udp_table::DEFAULT_RCVBUF,
                rcvtimeo: None,
                sndtimeo: None,
            }),
            ep: Endpoint::new(ino, Arc::new(move |events| q.wake(events))),
            poll_queue,
        }),
        O_RDWR | flags,
    )
}

/// Decodes a `sockaddr_in` for `bind`/`connect`/`sendto`: `EINVAL` if short, then
/// `EAFNOSUPPORT` for a family other than `AF_INET` (and `AF_UNSPEC` where `unspec`
/// says it is taken: always, or only with `INADDR_ANY`).
fn parse(raw: &[u8], unspec: Unspec) -> Result<SocketAddrV4, Errno> {
    if raw.len() < SOCKADDR_IN {
        return Err(Errno::EINVAL);
    }
    let family = u32::from(u16::from_ne_bytes([raw[0], raw[1]]));
    let port = u16::from_be_bytes([raw[2], raw[3]]);
    let ip = Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]);
    let unspec_ok = match unspec {
        Unspec::Always => true,
        Unspec::AnyAddress => ip == Ipv4Addr::UNSPECIFIED,
        Unspec::Never => false,
    };
    if family != n::AF_INET && !(family == n::AF_UNSPEC && unspec_ok) {
        return Err(Errno(e::EAFNOSUPPORT));
    }
    Ok(SocketAddrV4::new(ip, port))
}

/// Where `AF_UNSPEC` stands for `AF_INET`.
#[derive(Clone, Copy)]
enum Unspec {
    /// `sendto` (`udp_sendmsg`).
    Always,
    /// `bind` with `INADDR_ANY` (`__inet_bind`'s compatibility case).
    AnyAddress,
    /// `connect` (`ip4_datagram_connect`).
    Never,
}

/// The stack's answer, or `ENETUNREACH` without one.
fn with_stack<R>(f: impl FnOnce(&mut crate::net::NetStack) -> R) -> Result<R, Errno> {
    crate::net::with_net(|_, s| f(s)).ok_or(Errno(e::ENETUNREACH))
}

impl InetDgram {
    /// Binds to `addr:port` in the stack's table (port 0: ephemeral).
    fn bind_locked(&self, l: &mut Local, addr: Ipv4Addr, port: u16) -> Result<(), Errno> {
        let req = BindRequest {
            id: self.ino,
            addr,
            port,
            reuse_addr: l.reuse_addr,
            reuse_port: l.reuse_port,
        };
        let ep = self.ep.clone();
        l.port = with_stack(|s| s.udp.bind(&mut s.iface, req, ep))??;
        l.addr = addr;
        Ok(())
    }

    /// Linux's `inet_autobind`: an ephemeral port on the wildcard address (`EAGAIN` if
    /// none is free).
    fn autobind(&self, l: &mut Local) -> Result<(), Errno> {
        if l.port == 0 {
            self.bind_locked(l, Ipv4Addr::UNSPECIFIED, 0)?;
        }
        Ok(())
    }

    /// Tells the table the socket's address and peer.
    fn publish(&self, l: &Local) {
        let (id, port, addr, peer) = (self.ino, l.port, l.addr, l.peer);
        let _ = with_stack(|s| s.udp.set_addresses(id, port, addr, peer));
    }

    /// `connect(AF_UNSPEC)`: Linux's `__udp_disconnect`.
    fn disconnect(&self, l: &mut Local) {
        l.peer = None;
        if !l.addr_locked {
            l.addr = Ipv4Addr::UNSPECIFIED;
        }
        if !l.port_locked && l.port != 0 {
            let (id, port) = (self.ino, l.port);
            let _ = with_stack(|s| s.udp.unbind(&mut s.iface, id, port));
            l.port = 0;
        } else {
            self.publish(l);
        }
        self.poll_queue.wake(0);
    }

    /// The destination `0.0.0.0` means this host: the bound address, else 127.0.0.1
    /// (Linux's `ip_route_output_key_hash_rcu`).
    fn resolve(l: &Local, to: SocketAddrV4) -> SocketAddrV4 {
        if !to.ip().is_unspecified() {
            return to;
        }
        let ip = if l.addr.is_unspecified() {
            crate::net::loopback::ADDRESS
        } else {
            l.addr
        };
        SocketAddrV4::new(ip, to.port())
    }

    /// The source of a datagram to `to` and whether it is a broadcast: the bound
    /// address, else the route's (`ENETUNREACH`), and `EACCES` for a broadcast without
    /// `SO_BROADCAST`.
    fn route(l: &Local, to: Ipv4Addr) -> Result<Ipv4Addr, Errno> {
        let (src, broadcast) = with_stack(|s| udp_table::route(&s.iface, to))??;
        if broadcast && !l.broadcast {
            return Err(Errno(e::EACCES));
        }
        let bound = !l.addr.is_unspecified()
            && !with_stack(|s| udp_table::is_broadcast(&s.iface, l.addr)).unwrap_or(false);
        Ok(if bound { l.addr } else { src })
    }

    /// The pending error, taken (`SO_ERROR`, and every call reports it once).
    fn take_error(&self) -> Option<Errno> {
        self.ep.rx.lock().error.take()
    }

    fn send(&self, msg: SendMsg<'_>) -> Result<usize, Errno> {
        let len = msg.data.remaining();
        let mut l = self.local.lock();
        self.autobind(&mut l)?;
        if len > MAX_LEN {
            return Err(Errno(e::EMSGSIZE));
        }
        let to = match msg.addr {
            Some(raw) => {
                let to = parse(raw, Unspec::Always)?;
                if to.port() == 0 {
                    return Err(Errno::EINVAL);
                }
                to
            }
            None => l.peer.ok_or(Errno(e::EDESTADDRREQ))?,
        };
        let to = Self::resolve(&l, to);
        let src = Self::route(&l, *to.ip())?;
        if len > MAX_PAYLOAD {
            return Err(Errno(e::EMSGSIZE));
        }
        if self.ep.rx.lock().shut_wr {
            return Err(Errno::EPIPE);
        }
        if let Some(err) = self.take_error() {
            return Err(err);
        }
        let data = msg.data.read(len)?;
        let from = SocketAddrV4::new(src, l.port);
        drop(l);
        crate::net::with_net(|dev, s| udp_table::send(dev, s, from, to, &data))
            .ok_or(Errno(e::ENETUNREACH))??;
        Ok(len)
    }

    fn recv(&self, sink: &mut dyn MsgSink, flags: RecvFlags) -> Result<Received, Errno> {
        let timeout = self.local.lock().rcvtimeo;
        let d = loop {
            {
                let mut rx = self.ep.rx.lock();
                if let Some(err) = rx.error.take() {
                    return Err(err);
                }
                if flags.peek {
                    if let Some(d) = rx.queue.front() {
                        break Datagram {
                            from: d.from,
                            data: d.data.clone(),
                        };
                    }
                } else if let Some(d) = rx.queue.pop_front() {
                    rx.charged -= d.data.len() + udp_table::OVERHEAD;
                    break d;
                }
                if flags.nonblocking {
                    return Err(Errno::EAGAIN);
                }
                if rx.shut_rd {
                    return Ok(Received::default());
                }
            }
            self.wait(timeout)?;
        };
        let n = d.data.len().min(sink.room());
        sink.write(&d.data[..n])?;
        Ok(Received {
            len: if flags.trunc { d.data.len() } else { n },
            addr: Some(socket_addr(d.from)),
            truncated: n < d.data.len(),
            ..Received::default()
        })
    }

    /// Sleeps until a datagram, an error or `SHUT_RD` ([`super::socket::wait_for`]).
    fn wait(&self, timeout: Option<u64>) -> Result<(), Errno> {
        super::socket::wait_for(&self.ep.readable, timeout, || {
            let rx = self.ep.rx.lock();
            !rx.queue.is_empty() || rx.error.is_some() || rx.shut_rd
        })
    }
}

fn socket_addr(a: SocketAddrV4) -> Vec<u8> {
    super::inet::sockaddr_in(a)
}

fn int_value(val: &[u8]) -> Result<i32, Errno> {
    val.get(..4)
        .and_then(|b| b.try_into().ok())
        .map(i32::from_ne_bytes)
        .ok_or(Errno::EINVAL)
}

impl FileOps for InetDgram {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        let mut sink = socket::SliceSink { buf, at: 0 };
        let flags = RecvFlags {
            nonblocking: file.nonblocking(),
            ..RecvFlags::default()
        };
        Ok(self.recv(&mut sink, flags)?.len)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        let mut source = socket::SliceSource { buf, at: 0 };
        self.send(SendMsg {
            data: &mut source,
            addr: None,
            rights: Vec::new(),
            cred: None,
            nonblocking: file.nonblocking(),
            nosignal: false,
        })
    }

    /// Linux's `udp_poll` (`datagram_poll`).
    fn poll(&self) -> u16 {
        let rx = self.ep.rx.lock();
        let mut ev = POLLOUT | POLLWRNORM | POLLWRBAND;
        if rx.error.is_some() {
            ev |= POLLERR;
        }
        if rx.shut_rd {
            ev |= POLLRDHUP | POLLIN | POLLRDNORM;
        }
        if rx.shut_rd && rx.shut_wr {
            ev |= POLLHUP;
        }
        if !rx.queue.is_empty() {
            ev |= POLLIN | POLLRDNORM;
        }
        ev as u16
    }

    fn poll_queues(&self, add: &mut dyn FnMut(&Arc<PollQueue>)) -> bool {
        add(&self.poll_queue);
        true
    }

    fn stat(&self) -> FileStat {
        FileStat::socket(self.ino)
    }

    fn socket(&self) -> Option<&dyn Socket> {
        Some(self)
    }

    fn inet_dgram(&self) -> Option<&InetDgram> {
        Some(self)
    }

    /// The last descriptor closed: the port is given back and queued datagrams dropped.
    fn release(&self, _file: &OpenFile) {
        let port = core::mem::take(&mut self.local.lock().port);
        if port != 0 {
            let id = self.ino;
            let _ = with_stack(|s| s.udp.unbind(&mut s.iface, id, port));
        }
        let mut rx = self.ep.rx.lock();
        rx.queue.clear();
        rx.charged = 0;
    }
}

impl Socket for InetDgram {
    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        let a = parse(addr, Unspec::AnyAddress)?;
        let ip = *a.ip();
        if !ip.is_unspecified() {
            let ok = with_stack(|s| {
                crate::net::loopback::is_local(&s.iface, ip)
                    || udp_table::is_broadcast(&s.iface, ip)
            })
            .unwrap_or(false);
            if !ok {
                return Err(Errno(e::EADDRNOTAVAIL));
            }
        }
        let mut l = self.local.lock();
        if l.port != 0 || !l.addr.is_unspecified() {
            return Err(Errno::EINVAL);
        }
        self.bind_locked(&mut l, ip, a.port())?;
        l.addr_locked = !ip.is_unspecified();
        l.port_locked = a.port() != 0;
        Ok(())
    }

    fn connect(&self, addr: &[u8], _nonblocking: bool) -> Result<(), Errno> {
        if addr.len() < 2 {
            return Err(Errno::EINVAL);
        }
        let mut l = self.local.lock();
        if u32::from(u16::from_ne_bytes([addr[0], addr[1]])) == n::AF_UNSPEC {
            self.disconnect(&mut l);
            return Ok(());
        }
        self.autobind(&mut l)?;
        let to = parse(addr, Unspec::Never)?;
        let to = Self::resolve(&l, to);
        let src = Self::route(&l, *to.ip())?;
        if l.addr.is_unspecified() {
            l.addr = src;
        }
        l.peer = Some(to);
        self.publish(&l);
        self.poll_queue.wake(0);
        Ok(())
    }

    fn listen(&self, _backlog: u32) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn accept(&self, _nonblocking: bool, _flags: u32) -> Result<(Arc<OpenFile>, Vec<u8>), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn send_msg(&self, msg: SendMsg<'_>) -> Result<usize, Errno> {
        self.send(msg)
    }

    fn recv_msg(&self, sink: &mut dyn MsgSink, flags: RecvFlags) -> Result<Received, Errno> {
        self.recv(sink, flags)
    }

    fn shutdown(&self, read: bool, write: bool) -> Result<(), Errno> {
        let connected = self.local.lock().peer.is_some();
        {
            let mut rx = self.ep.rx.lock();
            rx.shut_rd |= read;
            rx.shut_wr |= write;
        }
        self.ep.wake(0);
        if connected {
            Ok(())
        } else {
            Err(Errno(e::ENOTCONN))
        }
    }

    fn local_address(&self) -> Vec<u8> {
        let l = self.local.lock();
        socket_addr(SocketAddrV4::new(l.addr, l.port))
    }

    fn peer_address(&self) -> Result<Vec<u8>, Errno> {
        let peer = self.local.lock().peer;
        peer.map(socket_addr).ok_or(Errno(e::ENOTCONN))
    }

    fn option(&self, level: u32, name: u32) -> Result<Vec<u8>, Errno> {
        if level != n::SOL_SOCKET {
            return Err(Errno(e::ENOPROTOOPT));
        }
        let int = |v: i64| (v as i32).to_ne_bytes().to_vec();
        let l = self.local.lock();
        Ok(match name {
            n::SO_TYPE => int(n::SOCK_DGRAM.into()),
            n::SO_DOMAIN => int(n::AF_INET.into()),
            n::SO_PROTOCOL => int(n::IPPROTO_UDP as i64),
            n::SO_ACCEPTCONN => int(0),
            n::SO_ERROR => int(self.take_error().map_or(0, |e| e.0.into())),
            n::SO_REUSEADDR => int(l.reuse_addr.into()),
            n::SO_REUSEPORT => int(l.reuse_port.into()),
            n::SO_BROADCAST => int(l.broadcast.into()),
            n::SO_SNDBUF => int(l.sndbuf as i64),
            n::SO_RCVBUF => int(self.ep.rx.lock().rcvbuf as i64),
            n::SO_RCVTIMEO => socket::timeval_bytes(l.rcvtimeo),
            n::SO_SNDTIMEO => socket::timeval_bytes(l.sndtimeo),
            _ => return Err(Errno(e::ENOPROTOOPT)),
        })
    }

    fn set_option(&self, level: u32, name: u32, val: &[u8]) -> Result<(), Errno> {
        if level != n::SOL_SOCKET {
            return Err(Errno(e::ENOPROTOOPT));
        }
        let mut l = self.local.lock();
        match name {
            n::SO_REUSEADDR => l.reuse_addr = int_value(val)? != 0,
            n::SO_REUSEPORT => l.reuse_port = int_value(val)? != 0,
            n::SO_BROADCAST => l.broadcast = int_value(val)? != 0,
            n::SO_SNDBUF => l.sndbuf = socket::buffer_size(int_value(val)?, socket::MIN_SNDBUF),
            n::SO_RCVBUF => {
                let size = socket::buffer_size(int_value(val)?, socket::MIN_RCVBUF);
                self.ep.rx.lock().rcvbuf = size;
            }
            n::SO_RCVTIMEO => l.rcvtimeo = socket::timeval_ns(val)?,
            n::SO_SNDTIMEO => l.sndtimeo = socket::timeval_ns(val)?,
            _ => return Err(Errno(e::ENOPROTOOPT)),
        }
        Ok(())
    }
}
