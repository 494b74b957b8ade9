//! `/proc/net/tcp`, `udp`, `route`, `unix`, `tcp6` and `udp6`: the sockets and routes
//! of the stack in Linux's formats (the `halyard-procnet` crate), for busybox
//! `netstat` and `route`.
//!
//! - `tcp`: the engine's listeners, the connections it still holds (handshakes, accept
//!   queues, connections finishing after `close`, TIME-WAIT) and every socket a thread
//!   holds (each read under its own lock after the stack's was released, as
//!   [`super::show::tcp_totals`] does). Bound but unconnected sockets are not listed, as
//!   on Linux. The inode column is 0: the engine does not know which file holds a
//!   connection, so `netstat -p` cannot name the process.
//! - `udp`: the kernel's own UDP ports, then user programs' UDP sockets (address, peer,
//!   bytes queued, drops, and the socket's inode).
//! - `route`: `eth0`'s routes (Linux's main table; `lo`'s local routes are not shown).
//! - `unix`, `tcp6`, `udp6`: the header only (socket pairs are unnamed and not listed;
//!   there is no IPv6).
use alloc::vec::Vec;
use core::fmt::Write;
use core::net::{Ipv4Addr, SocketAddrV4};

use halyard_tcp::{Details, State};
use procnet::{tcp_state, TcpRow, UdpRow};

/// Linux's `TCP_INFINITE_SSTHRESH`: a threshold at or above it means "still in the
/// initial slow start".
pub const INFINITE_SSTHRESH: u32 = 0x7fff_ffff;

/// Linux's number for a TCP state (`include/net/tcp_states.h`).
pub fn linux_state(s: State) -> u8 {
    match s {
        State::Closed => tcp_state::CLOSE,
        State::Listen => tcp_state::LISTEN,
        State::SynSent => tcp_state::SYN_SENT,
        State::SynReceived => tcp_state::SYN_RECV,
        State::Established => tcp_state::ESTABLISHED,
        State::FinWait1 => tcp_state::FIN_WAIT1,
        State::FinWait2 => tcp_state::FIN_WAIT2,
        State::CloseWait => tcp_state::CLOSE_WAIT,
        State::Closing => tcp_state::CLOSING,
        State::LastAck => tcp_state::LAST_ACK,
        State::TimeWait => tcp_state::TIME_WAIT,
    }
}

/// A connection's row.
fn row(d: &Details) -> TcpRow {
    let mss = d.send_mss.max(1);
    TcpRow {
        local: Some(d.local),
        remote: Some(d.remote),
        state: linux_state(d.state),
        tx_queue: d.send_queue as u32,
        rx_queue: d.recv_queue as u32,
        retransmits: d.retries,
        probes: d.probes,
        rto_ms: d.rto.as_millis() as u64,
        cwnd: d.cwnd / mss,
        ssthresh: if d.ssthresh >= INFINITE_SSTHRESH {
            -1
        } else {
            (d.ssthresh / mss) as i32
        },
        ..TcpRow::default()
    }
}

/// `/proc/net/tcp`.
pub fn write_tcp(out: &mut dyn Write) {
    procnet::tcp_header(out);
    let Some((listeners, mut conns, socks)) = super::with_net(|_, s| {
        let e = &s.tcp.endpoint;
        let listeners: Vec<_> = e.listener_details().collect();
        let conns: Vec<_> = e.connection_details().collect();
        (listeners, conns, s.tcp.snapshot().0)
    }) else {
        return;
    };
    conns.extend(socks.iter().map(|s| s.with(|st| st.conn.details())));
    let mut slot = 0;
    for l in listeners {
        let r = TcpRow {
            local: Some(l.addr),
            state: tcp_state::LISTEN,
            rx_queue: l.accept_queue as u32,
            ..TcpRow::default()
        };
        procnet::tcp_row(out, slot, &r);
        slot += 1;
    }
    for d in conns {
        match d.state {
            State::Closed => continue,
            State::TimeWait => procnet::tcp_time_wait_row(out, slot, d.local, d.remote),
            _ => procnet::tcp_row(out, slot, &row(&d)),
        }
        slot += 1;
    }
}

/// `/proc/net/udp`: the kernel's own UDP ports, then user programs' sockets.
pub fn write_udp(out: &mut dyn Write) {
    procnet::udp_header(out);
    let Some((ports, sockets)) =
        super::with_net(|_, s| (s.iface.udp_ports().collect::<Vec<_>>(), s.udp.rows()))
    else {
        return;
    };
    let kernel = ports.into_iter().map(|(port, queued)| UdpRow {
        local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port),
        remote: None,
        rx_queue: queued as u32,
        inode: 0,
        drops: 0,
    });
    for (slot, row) in kernel.chain(sockets).enumerate() {
        procnet::udp_row(out, slot, &row);
    }
}

/// `/proc/net/route`.
pub fn write_route(out: &mut dyn Write) {
    procnet::route_header(out);
    let routes = super::with_net(|dev, s| match dev {
        Some(_) => s.iface.routes().to_vec(),
        None => Vec::new(),
    })
    .unwrap_or_default();
    for r in routes {
        procnet::route_row(out, "eth0", r.dest, r.prefix_len, r.gateway);
    }
}

/// `/proc/net/unix`.
pub fn write_unix(out: &mut dyn Write) {
    procnet::unix_header(out);
}

/// `/proc/net/tcp6`.
pub fn write_tcp6(out: &mut dyn Write) {
    procnet::tcp6_header(out);
}

/// `/proc/net/udp6`.
pub fn write_udp6(out: &mut dyn Write) {
    procnet::udp6_header(out);
}
