//! Counters. Every dropped or rejected segment increments exactly one reason counter, so
//! "where did my packets go" is answerable without a debugger.

use core::ops::AddAssign;

use crate::wire::WireError;

/// Endpoint-wide counters (monotonic).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Segments handed to [`Endpoint::receive`](crate::Endpoint::receive).
    pub segments_in: u64,
    /// Segments produced by [`Endpoint::poll_transmit`](crate::Endpoint::poll_transmit).
    pub segments_out: u64,
    /// Malformed: shorter than a header.
    pub drop_truncated: u64,
    /// Malformed: impossible data offset.
    pub drop_bad_offset: u64,
    /// Malformed: checksum mismatch.
    pub drop_bad_checksum: u64,
    /// Malformed: bad option length.
    pub drop_bad_option: u64,
    /// Malformed: port zero or impossible flag combination.
    pub drop_bad_flags: u64,
    /// Segment for no connection and no listener (answered with RST unless it was one).
    pub drop_no_connection: u64,
    /// SYN refused because the listener's SYN queue or accept queue, or the endpoint's
    /// connection limit, was full.
    pub drop_syn_queue_full: u64,
    /// SYN refused (with a RST) because its peer already holds
    /// [`Config::max_connections_per_peer`](crate::Config::max_connections_per_peer)
    /// passively opened connections.
    pub drop_peer_limit: u64,
    /// Data dropped because a buffer could not grow (the allocator refused); the peer
    /// retransmits it.
    pub drop_no_memory: u64,
    /// Non-SYN segment to a listener, or SYN with data we do not accept.
    pub drop_listen_invalid: u64,
    /// Segment outside the receive window (answered with an ACK).
    pub drop_out_of_window: u64,
    /// Rejected by PAWS (RFC 7323 section 5).
    pub drop_paws: u64,
    /// Out-of-order data dropped because the reassembly range limit was reached.
    pub drop_ooo_limit: u64,
    /// ACK of data never sent, or too old (RFC 5961 section 5.2).
    pub drop_bad_ack: u64,
    /// RST not exactly at RCV.NXT (RFC 5961 section 3.2; a challenge ACK may follow).
    pub drop_rst_not_exact: u64,
    /// SYN on a synchronized connection (RFC 5961 section 4.2).
    pub drop_syn_in_window: u64,
    /// Segment without ACK on a synchronized connection, or otherwise unusable.
    pub drop_other: u64,
    /// Segment for a connection handed out by [`Endpoint::detach`](crate::Endpoint::detach)
    /// that reached the endpoint anyway (its owner routes them), or a segment handed to a
    /// [`DetachedConn`](crate::DetachedConn) that is not for it.
    pub drop_detached: u64,
    /// Challenge ACKs sent.
    pub challenge_acks: u64,
    /// Challenge ACKs suppressed by the rate limit (RFC 5961 section 7).
    pub challenge_acks_limited: u64,
    /// Connections reset when their handshake completed because the listener's accept
    /// queue was full (Linux's `tcp_abort_on_overflow`).
    pub accept_queue_overflows: u64,
    /// RST replies not queued because the reply queue was full.
    pub rst_replies_dropped: u64,
    /// Connections that ended without TIME-WAIT because the TIME-WAIT table was full
    /// ([`Config::max_time_wait`](crate::Config::max_time_wait), Linux's
    /// `TCPTimeWaitOverflow`).
    pub time_wait_overflows: u64,
    /// ACKs of TIME-WAIT records not queued because the queue was full (the peer
    /// retransmits its FIN).
    pub time_wait_acks_dropped: u64,
    /// Segments retransmitted (any reason).
    pub retransmits: u64,
    /// Fast-recovery entries (RFC 5681 / RFC 6675).
    pub fast_recoveries: u64,
    /// Retransmissions found lost (by SACKs for later data) and sent again without
    /// waiting for the RTO.
    pub lost_retransmits: u64,
    /// Retransmission timeouts.
    pub timeouts: u64,
    /// Fast recoveries started by RACK's reordering window (RFC 8985 section 6.3) with
    /// fewer than DupThresh segments SACKed above the hole (included in
    /// `fast_recoveries`).
    pub reorder_window_recoveries: u64,
    /// Fast recoveries found spurious (the original segments had only been delayed, by
    /// timestamps or DSACK) whose window reduction was undone.
    pub spurious_recoveries_undone: u64,
    /// Tail loss probes sent (RFC 8985 section 7).
    pub tail_loss_probes: u64,
    /// Probes that resent a segment the peer turned out to be missing: a loss repaired
    /// without a timeout (the window was reduced as for any loss).
    pub tail_loss_probe_recoveries: u64,
    /// Probes that resent a segment the peer already had (reported by DSACK).
    pub tail_loss_probes_redundant: u64,
    /// RTT samples taken from ACKs that advanced SND.UNA (RFC 6298 / RFC 7323).
    pub rtt_samples: u64,
    /// Sum of those samples in microseconds: with `rtt_samples`, the mean RTT, whose
    /// excess over the path's delay is the queue the sender keeps at the bottleneck.
    pub rtt_sample_micros: u64,
    /// Connections that reached ESTABLISHED.
    pub established: u64,
    /// Connections reset by the peer.
    pub resets_received: u64,
    /// RST segments sent (aborts and replies to segments for no connection).
    pub resets_sent: u64,
    /// Keepalive probes sent.
    pub keepalive_probes: u64,
}

impl Stats {
    /// Counts one malformed segment under its reason.
    pub fn count_wire_error(&mut self, e: WireError) {
        match e {
            WireError::Truncated => self.drop_truncated += 1,
            WireError::BadDataOffset => self.drop_bad_offset += 1,
            WireError::BadChecksum => self.drop_bad_checksum += 1,
            WireError::BadOption => self.drop_bad_option += 1,
            WireError::BadFlagsOrPorts => self.drop_bad_flags += 1,
        }
    }

    /// Sum of every drop counter.
    pub fn total_dropped(&self) -> u64 {
        self.drop_truncated
            + self.drop_bad_offset
            + self.drop_bad_checksum
            + self.drop_bad_option
            + self.drop_bad_flags
            + self.drop_no_connection
            + self.drop_syn_queue_full
            + self.drop_peer_limit
            + self.drop_no_memory
            + self.drop_listen_invalid
            + self.drop_out_of_window
            + self.drop_paws
            + self.drop_ooo_limit
            + self.drop_bad_ack
            + self.drop_rst_not_exact
            + self.drop_syn_in_window
            + self.drop_other
            + self.drop_detached
    }
}

/// Field-wise sum: an owner of detached connections adds their counters to the
/// endpoint's for host-wide totals.
impl AddAssign<&Stats> for Stats {
    fn add_assign(&mut self, rhs: &Stats) {
        macro_rules! add {
            ($($f:ident),*) => {
                // Destructuring without `..` makes a new counter a compile error here
                // until it is listed below.
                let Stats { $($f),* } = rhs;
                $(self.$f += $f;)*
            };
        }
        add!(
            segments_in,
            segments_out,
            drop_truncated,
            drop_bad_offset,
            drop_bad_checksum,
            drop_bad_option,
            drop_bad_flags,
            drop_no_connection,
            drop_syn_queue_full,
            drop_peer_limit,
            drop_no_memory,
            drop_listen_invalid,
            drop_out_of_window,
            drop_paws,
            drop_ooo_limit,
            drop_bad_ack,
            drop_rst_not_exact,
            drop_syn_in_window,
            drop_other,
            drop_detached,
            challenge_acks,
            challenge_acks_limited,
            accept_queue_overflows,
            rst_replies_dropped,
            time_wait_overflows,
            time_wait_acks_dropped,
            retransmits,
            fast_recoveries,
            lost_retransmits,
            timeouts,
            reorder_window_recoveries,
            spurious_recoveries_undone,
            tail_loss_probes,
            tail_loss_probe_recoveries,
            tail_loss_probes_redundant,
            rtt_samples,
            rtt_sample_micros,
            established,
            resets_received,
            resets_sent,
            keepalive_probes
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_assign_sums_every_counter() {
        let mut a = Stats {
            segments_in: 2,
            drop_detached: 1,
            keepalive_probes: 5,
            ..Stats::default()
        };
        let b = Stats {
            segments_in: 3,
            drop_other: 4,
            keepalive_probes: 1,
            ..Stats::default()
        };
        a += &b;
        assert_eq!(
            a,
            Stats {
                segments_in: 5,
                drop_other: 4,
                drop_detached: 1,
                keepalive_probes: 6,
                ..Stats::default()
            }
        );
        assert_eq!(a.total_dropped(), 5);
    }
}
