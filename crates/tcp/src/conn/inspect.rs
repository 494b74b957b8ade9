//! What a connection shows of itself to `TCP_INFO` and `/proc/net/tcp` (Linux's
//! `tcp_get_info` and `get_tcp4_sock`): read-only, computed when asked.

use core::net::SocketAddrV4;
use core::time::Duration;

use super::Connection;
use crate::seq::Seq;
use crate::state::State;
use crate::table::FourTuple;
use crate::time_wait::TimeWait;

/// How far `later` is past `earlier` (0 if it is not).
fn ahead(later: Seq, earlier: Seq) -> u32 {
    later.diff(earlier).max(0) as u32
}

/// A connection's state and the figures its sender and receiver keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    pub state: State,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    /// The retransmission timeout in force (backed off after timeouts).
    pub rto: Duration,
    /// Smoothed RTT and its variation (zero before the first sample).
    pub srtt: Duration,
    pub rttvar: Duration,
    pub min_rtt: Option<Duration>,
    /// Congestion window and slow-start threshold in bytes.
    pub cwnd: u32,
    pub ssthresh: u32,
    /// Payload of a full segment we send, and the largest we received.
    pub send_mss: u32,
    pub recv_mss: u32,
    /// Retransmissions of the oldest unacknowledged segment (reset by an ACK).
    pub retries: u32,
    /// Keepalive or zero-window probes sent without an answer.
    pub probes: u32,
    /// Bytes sent and not acknowledged, and whole segments they make up.
    pub in_flight: u32,
    /// Peer's window (scaled) and the window we offered that is still open.
    pub send_window: u32,
    pub recv_window: u32,
    /// Window scale shifts (ours received by the peer, the peer's), when negotiated.
    pub window_scale: Option<(u8, u8)>,
    pub timestamps: bool,
    pub sack: bool,
    /// Bytes waiting to be read, and bytes queued to send (sent or not).
    pub recv_queue: usize,
    pub send_queue: usize,
    /// Bytes the peer acknowledged, and bytes received in order (modulo 2^32).
    pub bytes_acked: u64,
    pub bytes_received: u64,
}

impl Details {
    /// What a TIME-WAIT record (`time_wait.rs`) shows: its state, addresses, options and
    /// window; it keeps no timers, windows of its peer or counters, which show as 0.
    pub(crate) fn of_time_wait(tuple: &FourTuple, tw: &TimeWait) -> Details {
        Details {
            state: State::TimeWait,
            local: tuple.local,
            remote: tuple.remote,
            rto: Duration::ZERO,
            srtt: Duration::ZERO,
            rttvar: Duration::ZERO,
            min_rtt: None,
            cwnd: 0,
            ssthresh: 0,
            send_mss: 0,
            recv_mss: 0,
            retries: 0,
            probes: 0,
            in_flight: 0,
            send_window: 0,
            recv_window: tw.rcv_wnd,
            window_scale: None,
            timestamps: tw.ts.is_some(),
            sack: false,
            recv_queue: 0,
            send_queue: 0,
            bytes_acked: 0,
            bytes_received: 0,
        }
    }
}

impl Connection {
    /// See [`Details`].
    pub(crate) fn details(&self) -> Details {
        let synced = self.state.is_synchronized();
        Details {
            state: self.state,
            local: self.tuple.local,
            remote: self.tuple.remote,
            rto: self.rtt.rto(),
            srtt: self.rtt.srtt().unwrap_or_default(),
            rttvar: self.rtt.rttvar(),
            min_rtt: self.rtt.min_rtt(),
            cwnd: self.cc.cwnd(),
            ssthresh: self.cc.ssthresh(),
            send_mss: self.send_mss,
            recv_mss: self.rcv_mss,
            retries: self.retries,
            probes: self.keepalive_sent + self.persist_backoff,
            in_flight: ahead(self.snd_nxt, self.snd_una),
            send_window: self.snd_wnd,
            recv_window: ahead(self.rcv_adv, self.rcv_nxt),
            window_scale: (synced && (self.snd_wscale != 0 || self.rcv_wscale != 0))
                .then_some((self.rcv_wscale, self.snd_wscale)),
            timestamps: self.ts.is_some(),
            sack: self.sack_ok,
            recv_queue: self.recv_queue(),
            send_queue: self.send_queue(),
            // Counted modulo 2^32 from the initial sequence numbers; the SYN takes a
            // sequence number but carries no byte.
            bytes_acked: if synced {
                u64::from((self.snd_una.diff(self.iss) as u32).saturating_sub(1))
            } else {
                0
            },
            bytes_received: if synced {
                u64::from((self.rcv_nxt.diff(self.irs) as u32).saturating_sub(1))
            } else {
                0
            },
        }
    }
}
