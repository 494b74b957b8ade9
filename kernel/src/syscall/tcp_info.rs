//! `getsockopt(IPPROTO_TCP, TCP_INFO)`: Linux's `struct tcp_info` (`tcp_get_info` in
//! `net/ipv4/tcp.c`) filled from what the engine knows of the connection
//! ([`halyard_tcp::Details`]).
//!
//! Filled: the state, retransmissions and probes of the oldest segment, the options
//! (timestamps, SACK, window scaling with both shifts), RTO, both MSSes, unacknowledged
//! segments, RTT and its variation, slow-start threshold and congestion window (in
//! segments; `TCP_INFINITE_SSTHRESH` in the initial slow start), the advertised MSS,
//! total retransmissions, bytes acknowledged and received, segments in and out, unsent
//! bytes, the minimum RTT and both windows. Fields the engine does not keep (delayed-ACK
//! timeout, SACKed and lost counts, the `last_*` times, pacing and delivery rates,
//! busy and limited times, DSACK and reordering counts) are 0; `tcpi_reordering` is
//! Linux's default of 3. A socket without a connection shows only its state (`LISTEN`
//! or `CLOSE`). The struct is written field by field at `linux-raw-sys`'s offsets, so
//! its size and layout are Linux's; the caller copies at most the length asked for.
use core::mem::{offset_of, size_of};

use linux_raw_sys::net::{tcp_info, TCPI_OPT_SACK, TCPI_OPT_TIMESTAMPS, TCPI_OPT_WSCALE};

use crate::fs::inet::InetSocket;
use crate::net::proc_net::{linux_state, INFINITE_SSTHRESH};

/// Linux's default `tcpi_reordering` (`sysctl_tcp_reordering`).
const REORDERING: u32 = 3;

/// The bytes of a `struct tcp_info`.
struct Info([u8; size_of::<tcp_info>()]);

impl Info {
    fn u8(&mut self, at: usize, v: u8) {
        self.0[at] = v;
    }
    fn u32(&mut self, at: usize, v: u32) {
        self.0[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    }
    fn u64(&mut self, at: usize, v: u64) {
        self.0[at..at + 8].copy_from_slice(&v.to_ne_bytes());
    }
}

/// Microseconds, saturated to 32 bits.
fn micros(d: core::time::Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// `TCP_INFO` of `sock`.
pub fn bytes(sock: &InetSocket) -> [u8; size_of::<tcp_info>()] {
    let mut t = Info([0; size_of::<tcp_info>()]);
    let (d, stats) = match sock.details() {
        Ok(got) => got,
        Err(state) => {
            t.u8(offset_of!(tcp_info, tcpi_state), linux_state(state));
            return t.0;
        }
    };
    let mss = d.send_mss.max(1);
    let mut options = 0;
    if d.timestamps {
        options |= TCPI_OPT_TIMESTAMPS;
    }
    if d.sack {
        options |= TCPI_OPT_SACK;
    }
    t.u8(offset_of!(tcp_info, tcpi_state), linux_state(d.state));
    t.u8(
        offset_of!(tcp_info, tcpi_retransmits),
        d.retries.min(255) as u8,
    );
    t.u8(offset_of!(tcp_info, tcpi_probes), d.probes.min(255) as u8);
    if let Some((ours, theirs)) = d.window_scale {
        options |= TCPI_OPT_WSCALE;
        // `tcpi_snd_wscale : 4, tcpi_rcv_wscale : 4`: the peer's shift in the low bits.
        t.u8(
            offset_of!(tcp_info, _bitfield_1),
            (theirs & 0xf) | (ours & 0xf) << 4,
        );
    }
    t.u8(offset_of!(tcp_info, tcpi_options), options as u8);
    t.u32(offset_of!(tcp_info, tcpi_rto), micros(d.rto));
    t.u32(offset_of!(tcp_info, tcpi_snd_mss), d.send_mss);
    t.u32(offset_of!(tcp_info, tcpi_rcv_mss), d.recv_mss.max(1));
    t.u32(
        offset_of!(tcp_info, tcpi_unacked),
        d.in_flight.div_ceil(mss),
    );
    t.u32(offset_of!(tcp_info, tcpi_rtt), micros(d.srtt));
    t.u32(offset_of!(tcp_info, tcpi_rttvar), micros(d.rttvar));
    let ssthresh = if d.ssthresh >= INFINITE_SSTHRESH {
        INFINITE_SSTHRESH
    } else {
        d.ssthresh / mss
    };
    t.u32(offset_of!(tcp_info, tcpi_snd_ssthresh), ssthresh);
    t.u32(offset_of!(tcp_info, tcpi_snd_cwnd), d.cwnd / mss);
    t.u32(offset_of!(tcp_info, tcpi_advmss), d.send_mss);
    t.u32(offset_of!(tcp_info, tcpi_reordering), REORDERING);
    t.u32(
        offset_of!(tcp_info, tcpi_total_retrans),
        u32::try_from(stats.retransmits).unwrap_or(u32::MAX),
    );
    t.u64(offset_of!(tcp_info, tcpi_bytes_acked), d.bytes_acked);
    t.u64(offset_of!(tcp_info, tcpi_bytes_received), d.bytes_received);
    t.u32(
        offset_of!(tcp_info, tcpi_segs_out),
        stats.segments_out as u32,
    );
    t.u32(offset_of!(tcp_info, tcpi_segs_in), stats.segments_in as u32);
    t.u32(
        offset_of!(tcp_info, tcpi_notsent_bytes),
        (d.send_queue as u32).saturating_sub(d.in_flight),
    );
    t.u32(
        offset_of!(tcp_info, tcpi_min_rtt),
        d.min_rtt.map_or(u32::MAX, micros),
    );
    t.u32(offset_of!(tcp_info, tcpi_snd_wnd), d.send_window);
    t.u32(offset_of!(tcp_info, tcpi_rcv_wnd), d.recv_window);
    t.0
}
