//! Generic receive offload: joining consecutive in-order TCP segments of one flow that
//! arrived as separate frames into one large segment, during one NAPI poll (Linux's GRO,
//! `net/core/gro.c`, `inet_gro_receive` and `tcp_gro_receive`).
//!
//! # Why
//! When the device does not join segments itself (QEMU's user networking has no
//! `vnet_hdr`; a tap without the guest offloads gets MTU-sized frames from the host), a
//! bulk transfer reaches TCP one MSS at a time, and every segment pays the engine's whole
//! per-segment cost (lookup, socket backlog entry, lock, ACK decision). Joined, a poll's
//! worth of one flow's segments costs one pass, exactly as a 64 KB frame from a device
//! with `GUEST_TSO4` does: the result is handed on in the same form, one segment with
//! `gso_size` the sender's segment size and its checksum vouched for.
//!
//! # Rules (Linux's)
//! A segment joins the segment held for its flow (same addresses and ports) when
//! - its IPv4 header has no options and is no fragment, and TOS, TTL and DF equal the held
//!   one's; the IP identification increments by one per segment, or (with DF) stays fixed;
//! - its TCP header equals the held one's except the sequence number, the checksum and
//!   the FIN and PSH flags: the same ACK number, window, data offset, flags (no SYN, RST,
//!   URG or CWR) and options byte for byte (timestamps included: Linux compares them whole,
//!   and segments a sender emits within one clock tick carry equal ones);
//! - its sequence number is the end of the held data, and it carries no more payload than
//!   the first segment (`gso_size`; only the last may be shorter);
//! - the joined segment stays within 64 KB as an IPv4 datagram;
//! - its checksum verifies (checked here unless the device vouched for it; a segment that
//!   fails is passed on unverified, for TCP to count and drop).
//!
//! A segment that cannot join flushes its flow's held segment first, then is held itself
//! (or passed on, if it cannot start one: no payload, SYN, RST, URG, CWR, FIN or PSH, IP
//! options, a fragment, a device GSO frame). A joined segment that is short, or carries
//! FIN or PSH, ends the merge: it is included, then the whole is flushed. At most
//! [`MAX_FLOWS`] flows are held (Linux's `MAX_GRO_SKBS`); a ninth flushes the oldest.
//! Everything held is flushed at the end of each poll ([`Gro::flush`]), so GRO delays
//! nothing beyond the poll that received it. Order within a flow is kept; other
//! protocols never come here.
//!
//! # Copies
//! Frames live in the device's receive buffers, which are reposted as soon as the poll's
//! callback returns, so a held segment is copied out at once, into the buffer that becomes
//! the socket's backlog entry (the copy the socket path made anyway). When a second
//! segment joins, the buffer is grown to 64 KB once, which copies the first segment again:
//! 1 + 1/n copies per byte for n joined segments, instead of 1.
use crate::event::{Ipv4Fields, TcpSegment};
use crate::wire::ipv4;
use crate::wire::tcp::{self, flags};
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

/// Flows held at once (Linux's `MAX_GRO_SKBS`).
pub const MAX_FLOWS: usize = 8;

/// The largest joined segment, TCP header included: its IPv4 datagram fits in 64 KB.
pub const MAX_SEGMENT: usize = u16::MAX as usize - ipv4::HEADER_LEN;

/// A TCP segment for the engine: one as it arrived, or several joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroSegment<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// The TCP header (the first segment's, with the last one's FIN and PSH) and payload.
    pub bytes: Cow<'a, [u8]>,
    /// The checksum was verified (here, or by the device): the engine need not.
    pub checksum_trusted: bool,
    /// The sender's segment size when several were joined (or the device's, for a frame
    /// it joined itself).
    pub gso_size: Option<u16>,
}

/// What was joined, since the last [`Gro::take_counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroCounters {
    /// Segments joined to another (`NET_RX_GRO_MERGED`).
    pub merged: u64,
    /// Joined segments handed on (`NET_RX_GRO_FLUSHED`).
    pub flushed: u64,
}

/// The segments held during one poll.
#[derive(Debug)]
pub struct Gro {
    enabled: bool,
    /// Oldest first.
    flows: Vec<Held>,
    counters: GroCounters,
}

#[derive(Debug)]
struct Held {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    /// The first segment's IPv4 fields.
    ip: Ipv4Fields,
    /// Whether the IP identification stays fixed (decided by the second segment).
    fixed_id: Option<bool>,
    segments: u16,
    /// The first segment's payload length.
    mss: usize,
    next_seq: u32,
    /// Header and payload so far.
    bytes: Vec<u8>,
}

impl Held {
    fn ports(&self) -> &[u8] {
        &self.bytes[..4]
    }

    /// Whether `seg` (its view `t`, IPv4 fields `ip`) may join (Linux's
    /// `tcp_gro_receive` and `inet_gro_receive` flush conditions).
    fn accepts(&self, t: &tcp::Packet<&[u8]>, ip: &Ipv4Fields) -> bool {
        let raw: &[u8] = t.into_inner();
        let held = &self.bytes;
        let len = t.payload().len();
        let ident_ok = {
            let incrementing = ip.ident == self.ip.ident.wrapping_add(self.segments);
            let fixed = ip.dont_frag && ip.ident == self.ip.ident;
            match self.fixed_id {
                None => incrementing || fixed,
                Some(true) => fixed,
                Some(false) => incrementing,
            }
        };
        ip.tos == self.ip.tos
            && ip.ttl == self.ip.ttl
            && ip.dont_frag == self.ip.dont_frag
            && ident_ok
            // ACK number, data offset, window.
            && raw[8..13] == held[8..13]
            && raw[14..16] == held[14..16]
            && (raw[13] ^ held[13]) & !(flags::FIN | flags::PSH) == 0
            && t.options() == &held[tcp::HEADER_LEN..t.header_len()]
            && t.seq() == self.next_seq
            && len <= self.mss
            && held.len() + len <= MAX_SEGMENT
    }

    fn join(&mut self, t: &tcp::Packet<&[u8]>, ip: &Ipv4Fields) {
        if self.segments == 1 {
            self.fixed_id = Some(ip.ident == self.ip.ident);
            self.bytes.reserve_exact(MAX_SEGMENT - self.bytes.len());
        }
        let payload = t.payload();
        self.bytes.extend_from_slice(payload);
        self.bytes[13] |= t.flags() & (flags::FIN | flags::PSH);
        self.next_seq = self.next_seq.wrapping_add(payload.len() as u32);
        self.segments += 1;
    }
}

impl Gro {
    /// `enabled: false` passes every segment on as it is (the kernel's `offload=off`).
    pub fn new(enabled: bool) -> Self {
        Gro {
            enabled,
            // Allocated when something is first held, not per poll.
            flows: Vec::new(),
            counters: GroCounters::default(),
        }
    }

    /// Takes `seg`, a TCP segment the interface received (`gso_size`: the device joined it
    /// from segments of that size), and hands on through `out`, in order, whatever can no
    /// longer be joined: held segments of its flow, and `seg` itself unless it is held.
    pub fn receive<'a, F: FnMut(GroSegment<'_>)>(
        &mut self,
        seg: TcpSegment<'a>,
        gso_size: Option<u16>,
        out: &mut F,
    ) {
        let trusted = seg.checksum_trusted;
        let t = match tcp::Packet::new_checked(&seg.payload[..]) {
            Ok(t) if self.enabled => t,
            _ => return out(pass_on(seg, trusted, gso_size)),
        };
        let held = self
            .flows
            .iter()
            .position(|h| h.src == seg.src && h.dst == seg.dst && h.ports() == &seg.payload[..4]);
        let f = t.flags();
        let eligible = gso_size.is_none()
            && !seg.ip.options
            && !seg.ip.fragmented
            && !t.payload().is_empty()
            && f & flags::ACK != 0
            && f & (flags::SYN | flags::RST | flags::URG | flags::CWR) == 0;
        let verified = eligible && (trusted || t.verify_checksum(seg.src, seg.dst));
        if !verified {
            if let Some(i) = held {
                self.flush_one(i, out);
            }
            return out(pass_on(seg, trusted, gso_size));
        }
        if let Some(i) = held {
            let h = &mut self.flows[i];
            if h.accepts(&t, &seg.ip) {
                h.join(&t, &seg.ip);
                self.counters.merged += 1;
                if f & (flags::FIN | flags::PSH) != 0 || t.payload().len() < h.mss {
                    self.flush_one(i, out);
                }
                return;
            }
            self.flush_one(i, out);
        }
        if f & (flags::FIN | flags::PSH) != 0 {
            return out(pass_on(seg, true, None));
        }
        if self.flows.len() == MAX_FLOWS {
            self.flush_one(0, out);
        }
        self.flows.push(Held {
            src: seg.src,
            dst: seg.dst,
            ip: seg.ip,
            fixed_id: None,
            segments: 1,
            mss: t.payload().len(),
            next_seq: t.seq().wrapping_add(t.payload().len() as u32),
            bytes: seg.payload.into_owned(),
        });
    }

    /// Hands on everything held, oldest first (the end of a NAPI poll).
    pub fn flush<F: FnMut(GroSegment<'_>)>(&mut self, out: &mut F) {
        for h in self.flows.drain(..) {
            self.counters.flushed += u64::from(h.segments > 1);
            out(finish(h));
        }
    }

    /// Whether anything is held.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// The counters since the last call, which restarts them.
    pub fn take_counters(&mut self) -> GroCounters {
        core::mem::take(&mut self.counters)
    }

    fn flush_one<F: FnMut(GroSegment<'_>)>(&mut self, i: usize, out: &mut F) {
        let h = self.flows.remove(i);
        self.counters.flushed += u64::from(h.segments > 1);
        out(finish(h));
    }
}

fn pass_on(seg: TcpSegment<'_>, checksum_trusted: bool, gso_size: Option<u16>) -> GroSegment<'_> {
    GroSegment {
        src: seg.src,
        dst: seg.dst,
        bytes: seg.payload,
        checksum_trusted,
        gso_size,
    }
}

fn finish(h: Held) -> GroSegment<'static> {
    GroSegment {
        src: h.src,
        dst: h.dst,
        checksum_trusted: true,
        gso_size: (h.segments > 1).then_some(h.mss as u16),
        bytes: Cow::Owned(h.bytes),
    }
}
