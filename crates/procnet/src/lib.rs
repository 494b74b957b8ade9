//! Linux's `/proc/net` text formats, byte for byte, as pure functions: what busybox
//! `netstat` and `route` parse.
//!
//! - `tcp` and `udp` (Linux's `tcp4_seq_show`/`get_tcp4_sock`/`get_timewait4_sock` in
//!   `net/ipv4/tcp_ipv4.c`, `udp4_format_sock` in `net/ipv4/udp.c`): a header, then one
//!   row per socket, each line padded with spaces to a fixed width (`seq_pad`);
//!   addresses are the network-order `__be32` printed as a host integer (`%08X`), ports
//!   in host order (`%04X`).
//! - `route` (`fib_route_seq_show` in `net/ipv4/fib_trie.c`): tab-separated, padded to
//!   127 columns.
//! - `unix` (`unix_seq_show` in `net/unix/af_unix.c`), `tcp6` and `udp6`: the headers.
//!
//! The TCP state numbers ([`tcp_state`]) are Linux's `include/net/tcp_states.h`, which
//! no UAPI header exports although `/proc/net/tcp` and `tcpi_state` show them; the tests
//! check them (and the layouts) against the host's own `/proc/net` files.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use core::fmt::Write;
use core::net::{Ipv4Addr, SocketAddrV4};

/// Linux's TCP states (`include/net/tcp_states.h`), as `/proc/net/tcp`'s `st` column
/// and `tcp_info.tcpi_state` show them.
pub mod tcp_state {
    pub const ESTABLISHED: u8 = 1;
    pub const SYN_SENT: u8 = 2;
    pub const SYN_RECV: u8 = 3;
    pub const FIN_WAIT1: u8 = 4;
    pub const FIN_WAIT2: u8 = 5;
    pub const TIME_WAIT: u8 = 6;
    pub const CLOSE: u8 = 7;
    pub const CLOSE_WAIT: u8 = 8;
    pub const LAST_ACK: u8 = 9;
    pub const LISTEN: u8 = 10;
    pub const CLOSING: u8 = 11;
}

/// Route flags of `/proc/net/route` (`include/uapi/linux/route.h`, which linux-raw-sys
/// does not generate; the tests compare them with libc's).
pub mod route_flags {
    pub const UP: u16 = 0x0001;
    pub const GATEWAY: u16 = 0x0002;
    pub const HOST: u16 = 0x0004;
}

/// Linux's `USER_HZ`: `/proc/net/tcp`'s times are in these ticks (`clock_t`).
const USER_HZ: u64 = 100;
/// Width of a `/proc/net/tcp` line without its newline (`TMPSZ - 1`).
const TCP_WIDTH: usize = 149;
/// Width of a `/proc/net/udp` and `/proc/net/route` line without its newline.
const UDP_WIDTH: usize = 127;
const ROUTE_WIDTH: usize = 127;

/// An address as `%08X` of its network-order 32 bits read as a little-endian integer.
fn be32(ip: Ipv4Addr) -> u32 {
    u32::from_le_bytes(ip.octets())
}

/// Writes `line` padded with spaces to `width`, then a newline (Linux's `seq_pad`).
fn padded(out: &mut dyn Write, line: &str, width: usize) {
    let _ = writeln!(out, "{line:<width$}");
}

/// Milliseconds as `clock_t` ticks.
fn ticks(ms: u64) -> u64 {
    ms * USER_HZ / 1000
}

/// `/proc/net/tcp`'s header line.
pub fn tcp_header(out: &mut dyn Write) {
    padded(
        out,
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        TCP_WIDTH,
    );
}

/// One TCP socket as `/proc/net/tcp` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpRow {
    pub local: Option<SocketAddrV4>,
    pub remote: Option<SocketAddrV4>,
    /// A [`tcp_state`] number.
    pub state: u8,
    /// Bytes sent and not acknowledged (0 for a listener).
    pub tx_queue: u32,
    /// Bytes waiting to be read; for a listener, connections waiting for `accept`.
    pub rx_queue: u32,
    /// Retransmissions of the oldest unacknowledged segment.
    pub retransmits: u32,
    pub uid: u32,
    /// Unanswered keepalive or zero-window probes.
    pub probes: u32,
    pub inode: u64,
    pub rto_ms: u64,
    pub ato_ms: u64,
    /// Congestion window in segments.
    pub cwnd: u32,
    /// Slow-start threshold in segments, -1 while still in the initial slow start.
    pub ssthresh: i32,
}

fn addr_hex(a: Option<SocketAddrV4>) -> (u32, u16) {
    a.map_or((0, 0), |a| (be32(*a.ip()), a.port()))
}

/// Row `slot` of `/proc/net/tcp` (`get_tcp4_sock`; no timer is shown, the socket's
/// kernel address reads as zero as with `kptr_restrict`).
pub fn tcp_row(out: &mut dyn Write, slot: usize, r: &TcpRow) {
    let (src, srcp) = addr_hex(r.local);
    let (dst, dstp) = addr_hex(r.remote);
    let mut line = String::new();
    let _ = write!(
        line,
        "{slot:4}: {src:08X}:{srcp:04X} {dst:08X}:{dstp:04X} {:02X} {:08X}:{:08X} {:02X}:{:08X} {:08X} {:5} {:8} {} {} {:016x} {} {} {} {} {}",
        r.state,
        r.tx_queue,
        r.rx_queue,
        0,
        0,
        r.retransmits,
        r.uid,
        r.probes,
        r.inode,
        1,
        0,
        ticks(r.rto_ms),
        ticks(r.ato_ms),
        0,
        r.cwnd,
        r.ssthresh,
    );
    padded(out, &line, TCP_WIDTH);
}

/// Row `slot` of `/proc/net/tcp` for a connection in TIME-WAIT (`get_timewait4_sock`).
pub fn tcp_time_wait_row(
    out: &mut dyn Write,
    slot: usize,
    local: SocketAddrV4,
    remote: SocketAddrV4,
) {
    let (src, srcp) = addr_hex(Some(local));
    let (dst, dstp) = addr_hex(Some(remote));
    let mut line = String::new();
    let _ = write!(
        line,
        "{slot:4}: {src:08X}:{srcp:04X} {dst:08X}:{dstp:04X} {:02X} {:08X}:{:08X} {:02X}:{:08X} {:08X} {:5} {:8} {} {} {:016x}",
        tcp_state::TIME_WAIT,
        0,
        0,
        3,
        0,
        0,
        0,
        0,
        0,
        1,
        0,
    );
    padded(out, &line, TCP_WIDTH);
}

/// `/proc/net/udp`'s header line.
pub fn udp_header(out: &mut dyn Write) {
    padded(
        out,
        "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
        UDP_WIDTH,
    );
}

/// One socket of `/proc/net/udp`.
#[derive(Clone, Copy, Debug)]
pub struct UdpRow {
    /// The bound address and port.
    pub local: SocketAddrV4,
    /// The connected peer, if any (its state is then `ESTABLISHED`, else `CLOSE`).
    pub remote: Option<SocketAddrV4>,
    /// Bytes queued for reading.
    pub rx_queue: u32,
    pub inode: u64,
    /// Datagrams dropped (a full receive queue).
    pub drops: u64,
}

/// Row `slot` of `/proc/net/udp` (`udp4_format_sock`).
pub fn udp_row(out: &mut dyn Write, slot: usize, r: &UdpRow) {
    let (src, srcp) = addr_hex(Some(r.local));
    let (dst, dstp) = addr_hex(r.remote);
    let state = if r.remote.is_some() {
        tcp_state::ESTABLISHED
    } else {
        tcp_state::CLOSE
    };
    let mut line = String::new();
    let _ = write!(
        line,
        "{slot:5}: {src:08X}:{srcp:04X} {dst:08X}:{dstp:04X} {state:02X} {:08X}:{:08X} {:02X}:{:08X} {:08X} {:5} {:8} {} {} {:016x} {}",
        0,
        r.rx_queue,
        0,
        0,
        0,
        0,
        0,
        r.inode,
        1,
        0,
        r.drops,
    );
    padded(out, &line, UDP_WIDTH);
}

/// `/proc/net/route`'s header line.
pub fn route_header(out: &mut dyn Write) {
    padded(
        out,
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
        ROUTE_WIDTH,
    );
}

/// One route of `/proc/net/route`: packets for `dest/prefix_len` leave by `iface`,
/// through `gateway` if there is one.
pub fn route_row(
    out: &mut dyn Write,
    iface: &str,
    dest: Ipv4Addr,
    prefix_len: u8,
    gateway: Option<Ipv4Addr>,
) {
    let mask = Ipv4Addr::from(
        u32::MAX
            .checked_shl(32 - u32::from(prefix_len.min(32)))
            .unwrap_or(0),
    );
    let dest = Ipv4Addr::from(u32::from(dest) & u32::from(mask));
    let mut flags = route_flags::UP;
    if gateway.is_some() {
        flags |= route_flags::GATEWAY;
    }
    if prefix_len >= 32 {
        flags |= route_flags::HOST;
    }
    let mut line = String::new();
    let _ = write!(
        line,
        "{iface}\t{:08X}\t{:08X}\t{flags:04X}\t0\t0\t0\t{:08X}\t0\t0\t0",
        be32(dest),
        be32(gateway.unwrap_or(Ipv4Addr::UNSPECIFIED)),
        be32(mask),
    );
    padded(out, &line, ROUTE_WIDTH);
}

/// `/proc/net/tcp6`'s header line (`tcp6_seq_show`, not padded).
pub fn tcp6_header(out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
    );
}

/// `/proc/net/udp6`'s header line (`udp6_seq_show`, not padded).
pub fn udp6_header(out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops"
    );
}

/// `/proc/net/unix`'s header line.
pub fn unix_header(out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "Num       RefCount Protocol Flags    Type St Inode Path"
    );
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    fn host(file: &str) -> String {
        std::fs::read_to_string(std::format!("/proc/net/{file}")).unwrap()
    }

    fn first_line(text: &str) -> &str {
        text.split_inclusive('\n').next().unwrap()
    }

    fn text(f: impl FnOnce(&mut String)) -> String {
        let mut s = String::new();
        f(&mut s);
        s
    }

    #[test]
    fn headers_are_the_hosts() {
        assert_eq!(text(|s| tcp_header(s)), first_line(&host("tcp")));
        assert_eq!(text(|s| udp_header(s)), first_line(&host("udp")));
        assert_eq!(text(|s| route_header(s)), first_line(&host("route")));
        assert_eq!(text(|s| unix_header(s)), first_line(&host("unix")));
        assert_eq!(text(|s| tcp6_header(s)), first_line(&host("tcp6")));
        assert_eq!(text(|s| udp6_header(s)), first_line(&host("udp6")));
    }

    #[test]
    fn a_listener_row_reads_as_the_hosts() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let needle = std::format!(": 0100007F:{port:04X} ");
        let all = host("tcp");
        let theirs = all.lines().find(|l| l.contains(&needle)).unwrap();
        let ours = text(|s| {
            tcp_row(
                s,
                0,
                &TcpRow {
                    local: Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)),
                    state: tcp_state::LISTEN,
                    ..TcpRow::default()
                },
            )
        });
        let fields = |l: &str| {
            l.split_whitespace()
                .skip(1)
                .take(4)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(&ours), fields(theirs));
        assert_eq!(ours.len(), theirs.len() + 1);
        assert_eq!(
            ours.split_whitespace().count(),
            theirs.split_whitespace().count()
        );
    }

    #[test]
    fn route_rows_read_as_the_hosts() {
        let all = host("route");
        for theirs in all.lines().skip(1) {
            let f: Vec<&str> = theirs.split('\t').collect();
            let hex = |i: usize| u32::from_str_radix(f[i].trim(), 16).unwrap();
            let ip = |v: u32| Ipv4Addr::from(v.to_le_bytes());
            let prefix = hex(7).count_ones() as u8;
            let gw = (hex(2) != 0).then(|| ip(hex(2)));
            let ours = text(|s| route_row(s, f[0], ip(hex(1)), prefix, gw));
            let o: Vec<&str> = ours.split('\t').collect();
            for i in [0, 1, 2, 3, 7] {
                assert_eq!(o[i], f[i], "column {i} of {theirs:?}");
            }
            assert_eq!(ours.len(), theirs.len() + 1);
        }
    }

    #[test]
    fn route_flags_are_libcs() {
        assert_eq!(route_flags::UP, libc::RTF_UP);
        assert_eq!(route_flags::GATEWAY, libc::RTF_GATEWAY);
        assert_eq!(route_flags::HOST, libc::RTF_HOST);
    }

    #[test]
    fn a_time_wait_row_and_a_udp_row_have_linuxs_columns() {
        let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 15), 80);
        let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 2), 0x1234);
        let tw = text(|s| tcp_time_wait_row(s, 3, a, b));
        assert!(tw.starts_with("   3: 0F02000A:0050 0202000A:1234 06 00000000:00000000 03:00000000 00000000     0        0 0 1 0000000000000000"), "{tw}");
        assert_eq!(tw.len(), TCP_WIDTH + 1);
        let row = UdpRow {
            local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
            remote: None,
            rx_queue: 5,
            inode: 0,
            drops: 0,
        };
        let udp = text(|s| udp_row(s, 7, &row));
        assert!(udp.starts_with("    7: 00000000:0044 00000000:0000 07 00000000:00000005 00:00000000 00000000     0        0 0 1 0000000000000000 0"), "{udp}");
        assert_eq!(udp.len(), UDP_WIDTH + 1);
        let connected = UdpRow {
            local: a,
            remote: Some(b),
            inode: 77,
            drops: 3,
            ..row
        };
        let udp = text(|s| udp_row(s, 0, &connected));
        assert!(udp.starts_with("    0: 0F02000A:0050 0202000A:1234 01 00000000:00000005 00:00000000 00000000     0        0 77 1 0000000000000000 3"), "{udp}");
        assert_eq!(udp.len(), UDP_WIDTH + 1);
    }
}
