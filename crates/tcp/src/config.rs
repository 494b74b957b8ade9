//! Tunables, with defaults from the RFCs (or from Linux where the RFC leaves a choice).

use core::time::Duration;

use crate::congestion::Algorithm;

/// Engine configuration. `Config::default()` is a sensible general-purpose setting.
#[derive(Debug, Clone)]
pub struct Config {
    /// MSS we announce and the largest payload we send (before options).
    pub mss: u16,
    /// Send buffer limit per connection, in bytes.
    pub send_buffer: usize,
    /// Receive buffer limit per connection, in bytes (also the largest window offered).
    pub recv_buffer: usize,
    /// Offer window scaling (RFC 7323 section 2).
    pub window_scaling: bool,
    /// Offer timestamps (RFC 7323 sections 3-5).
    pub timestamps: bool,
    /// Offer SACK (RFC 2018).
    pub sack: bool,
    /// Congestion control for new connections: CUBIC (the default), NewReno, or BBR
    /// (model-based and paced: the connection then holds data segments to BBR's pacing
    /// rate and includes the next send time in its timer deadline; see
    /// `docs/tcp-bbr.md`).
    pub congestion: Algorithm,
    /// Initial congestion window in segments (RFC 6928: 10).
    pub initial_window_segments: u32,
    /// Delayed-ACK timeout (RFC 9293 3.8.6.3 allows up to 500 ms; Linux uses 40 ms).
    pub delayed_ack: Duration,
    /// Disable Nagle's algorithm on new connections (TCP_NODELAY).
    pub nodelay: bool,
    /// RTO before the first RTT sample (RFC 6298 section 2.1).
    pub initial_rto: Duration,
    /// Lower bound on the RTO (RFC 6298 says 1 s; Linux uses 200 ms).
    pub min_rto: Duration,
    /// Upper bound on the RTO (RFC 6298 section 2.5: at least 60 s).
    pub max_rto: Duration,
    /// Consecutive timeouts on data before the connection fails (RFC 9293 R2).
    pub max_retransmits: u32,
    /// SYN / SYN-ACK retransmissions before giving up.
    pub syn_retries: u32,
    /// Maximum segment lifetime; TIME-WAIT lasts 2·MSL (RFC 9293 section 3.4.2).
    pub msl: Duration,
    /// How long an orphaned connection may sit in FIN-WAIT-2.
    pub fin_wait_2_timeout: Duration,
    /// Keepalive (RFC 9293 3.8.4, RFC 1122 4.2.3.6): idle time, probe interval, count.
    pub keepalive: Option<Keepalive>,
    /// Half-open connections per listener (bounded SYN queue).
    pub syn_backlog: usize,
    /// Established connections waiting for `accept`, per listener; a handshake that
    /// completes when it is full is reset (counted in `accept_queue_overflows`).
    pub accept_backlog: usize,
    /// Connections of any state the endpoint holds (TIME-WAIT records of connections
    /// nobody owns aside: see `max_time_wait`).
    pub max_connections: usize,
    /// TIME-WAIT records (connections in TIME-WAIT their application let go, each kept
    /// as a record of a few dozen bytes); beyond it a connection ends without TIME-WAIT
    /// (Linux's `tcp_max_tw_buckets`).
    pub max_time_wait: usize,
    /// Passively opened connections (any state, handshakes and detached ones included;
    /// TIME-WAIT records not, so a server that closes first is not limited by the
    /// connections it served) one remote IPv4 address may hold; a SYN beyond it is
    /// answered with RST. Unlimited
    /// by default (Linux has no such limit; a host that serves untrusted peers sets one,
    /// as `iptables`' `connlimit` would).
    pub max_connections_per_peer: usize,
    /// Ephemeral port range (RFC 6056 recommends 1024-65535; IANA 49152-65535).
    pub ephemeral_ports: (u16, u16),
    /// Out-of-order ranges held per connection.
    pub max_ooo_ranges: usize,
    /// Challenge ACKs per second, endpoint-wide (RFC 5961 section 7).
    pub challenge_ack_limit: u32,
    /// RST replies held for sending (further ones are dropped and counted).
    pub rst_queue: usize,
    /// Leave the checksum of the connections' segments to the caller's device: only the
    /// pseudo-header sum is written ([`Transmit::checksum_partial`](crate::Transmit),
    /// Linux's `CHECKSUM_PARTIAL`), and the device (virtio-net's `CSUM`) or the
    /// caller completes it, or the receiver trusts it (a loopback).
    pub checksum_offload: bool,
    /// Largest TCP segment (header and payload) the caller can hand its device as one
    /// TSO super-segment of several MSS ([`Transmit::gso_size`](crate::Transmit)), or 0
    /// for none: every segment then carries at most one MSS. Taken only with
    /// `checksum_offload` (as virtio-net's `HOST_TSO4` needs `CSUM`); the caller's
    /// buffer for `poll_transmit` must be this large.
    pub tso_max_bytes: usize,
}

/// Keepalive parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub idle: Duration,
    pub interval: Duration,
    pub probes: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            mss: 1460,
            send_buffer: 256 * 1024,
            recv_buffer: 256 * 1024,
            window_scaling: true,
            timestamps: true,
            sack: true,
            congestion: Algorithm::Cubic,
            initial_window_segments: 10,
            delayed_ack: Duration::from_millis(40),
            nodelay: false,
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_millis(200),
            max_rto: Duration::from_secs(60),
            max_retransmits: 12,
            syn_retries: 6,
            msl: Duration::from_secs(30),
            fin_wait_2_timeout: Duration::from_secs(60),
            keepalive: None,
            syn_backlog: 128,
            accept_backlog: 128,
            max_connections: 16384,
            max_time_wait: 16384,
            max_connections_per_peer: usize::MAX,
            ephemeral_ports: (49152, 65535),
            max_ooo_ranges: 16,
            challenge_ack_limit: 1000,
            rst_queue: 64,
            checksum_offload: false,
            tso_max_bytes: 0,
        }
    }
}
