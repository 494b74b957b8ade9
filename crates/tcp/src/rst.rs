//! Reset segments that belong to no connection's send sequence: replies to segments for
//! no connection (RFC 9293 3.10.7.1), aborts (3.10.5) and the RST a connection asks for
//! when a segment in SYN-SENT acknowledges something never sent. They are queued as a
//! [`RstReply`] and written by whoever owns the transmit path (the endpoint, or a
//! detached connection).

use core::net::SocketAddrV4;

use crate::endpoint::Transmit;
use crate::seq::Seq;
use crate::stats::Stats;
use crate::wire::{Flags, Options, SegmentHeader};

/// One RST to send: `<SEQ=seq><CTL=RST>`, or `<SEQ=0><ACK=ack><CTL=RST,ACK>` when `ack`
/// is set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RstReply {
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub seq: Seq,
    pub ack: Option<Seq>,
}

impl RstReply {
    /// Writes the segment into `buf` (at least a bare header long) and counts it.
    pub fn emit(&self, buf: &mut [u8], stats: &mut Stats) -> Transmit {
        stats.segments_out += 1;
        stats.resets_sent += 1;
        let h = SegmentHeader {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq: self.seq,
            ack: self.ack.unwrap_or(Seq(0)),
            flags: if self.ack.is_some() {
                Flags::RST | Flags::ACK
            } else {
                Flags::RST
            },
            window: 0,
            urgent: 0,
            options: Options::default(),
        };
        let len = h.emit(buf, 0, *self.local.ip(), *self.remote.ip());
        Transmit {
            src: *self.local.ip(),
            dst: *self.remote.ip(),
            len,
            checksum_partial: false,
            gso_size: None,
        }
    }
}
