//! One TCP connection: the RFC 9293 state machine with its send and receive sequence
//! spaces, buffers, options, loss recovery and timers.
//!
//! The connection never does I/O. The [`Endpoint`](crate::Endpoint) hands it parsed
//! segments ([`input`](Connection)), asks it for the next segment to send (`output`), fires
//! its timers (`timers`) and relays the application's `send`/`recv`/`close` calls.
//! Files: `input.rs` (segment arrival, RFC 9293 3.10.7), `ack.rs` (ACK processing, loss
//! recovery, RTT), `reorder.rs` (RACK's reordering window), `tlp.rs` (tail loss probe),
//! `undo.rs` (spurious recovery undo), `prr.rs` (sending during fast recovery),
//! `rate.rs` (delivery-rate samples for BBR), `pacing.rs` (BBR's pacing gate),
//! `output.rs` (what to send next, window advertisement), `tso.rs` (super-segments for
//! segmentation offload), `timers.rs`.

mod ack;
mod input;
mod inspect;
mod options;
mod output;
mod pacing;
mod prr;
mod rate;
mod reorder;
mod timers;
mod tlp;
mod tso;
mod undo;

use crate::buffer::{Assembler, Ring};
use crate::config::Config;
use crate::congestion::Congestion;
use crate::error::Error;
use crate::event::Readiness;
use crate::isn::Identity;
use crate::rtt::RttEstimator;
use crate::scoreboard::Scoreboard;
use crate::seq::Seq;
use crate::state::State;
use crate::table::FourTuple;
use crate::time::Instant;
use crate::time_wait::{self, reuse_allowed, TimeWait, TwTimestamps};
use crate::wire::{Options, SegmentHeader};

pub(crate) use input::{InputCtx, Reply};
pub use inspect::Details;

/// Bytes the timestamp option takes in every segment (2 NOPs + 10).
const TS_OPTION_LEN: u32 = 12;
/// RFC 9293 3.7.1: MSS assumed when the peer sends none.
const DEFAULT_MSS: u32 = 536;
/// Sizes below this are ignored as a defence against tiny-MSS resource exhaustion.
const MIN_MSS: u32 = 64;

/// Where our FIN is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fin {
    /// The application may still send.
    None,
    /// Closed by the application; FIN goes after the buffered data.
    Queued,
    /// FIN sent (its sequence number is the end of the send buffer).
    Sent,
}

/// Why retransmissions are running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecoveryKind {
    /// Fast recovery after duplicate ACKs or SACK (RFC 5681 3.2, RFC 6582, RFC 6675).
    Fast,
    /// After a retransmission timeout (RFC 6298 5.4-5.6, RFC 5681 3.1).
    Timeout,
}

/// Negotiated timestamp state (RFC 7323 section 4.3).
#[derive(Debug, Clone, Copy)]
struct Timestamps {
    /// TS.Recent.
    recent: u32,
    /// When TS.Recent was last updated (for the 24-day PAWS rule).
    recent_at: Instant,
}

/// A connection. See the module docs.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) tuple: FourTuple,
    pub(crate) state: State,
    cfg: Config,

    // Send sequence space (RFC 9293 3.3.1). `snd_nxt` is the highest sequence number
    // sent plus one; retransmissions run from `rtx_ptr` up to `rtx_end` instead of
    // pulling `snd_nxt` back.
    iss: Seq,
    snd_una: Seq,
    snd_nxt: Seq,
    /// Sequence number of the first byte in `sendbuf`.
    snd_base: Seq,
    snd_wnd: u32,
    max_snd_wnd: u32,
    snd_wl1: Seq,
    snd_wl2: Seq,
    snd_wscale: u8,
    /// Largest segment (payload plus options beyond the fixed header) the peer accepts.
    peer_mss: u32,
    /// Payload per full segment (peer MSS less the timestamp option).
    send_mss: u32,
    sendbuf: Ring,
    fin: Fin,

    // Receive sequence space.
    irs: Seq,
    rcv_nxt: Seq,
    /// Right edge of the window last advertised.
    rcv_adv: Seq,
    rcv_wscale: u8,
    /// Largest payload seen from the peer (for "ACK every second full segment").
    rcv_mss: u32,
    recvbuf: Ring,
    asm: Assembler,
    /// A duplicate segment to report in the next ACK's first SACK block (DSACK,
    /// RFC 2883 section 4).
    dsack: Option<(Seq, Seq)>,
    /// Sequence number of the peer's FIN once seen (possibly ahead of `rcv_nxt`).
    fin_at: Option<Seq>,
    fin_received: bool,

    // Options.
    ts: Option<Timestamps>,
    ts_offset: u32,
    sack_ok: bool,

    // RTT, congestion, loss recovery.
    rtt: RttEstimator,
    /// The one timed segment when timestamps are off (Karn: cleared on retransmit).
    timed: Option<(Seq, Instant)>,
    cc: Congestion,
    dupacks: u32,
    recovery: Option<(RecoveryKind, Seq)>,
    /// One past RFC 6582's `recover` (the highest sequence number sent when the last
    /// recovery began): a new fast recovery needs an ACK that covers it (RFC 6582 3.2
    /// step 2, "covers more than recover").
    last_recover: Seq,
    rtx_ptr: Seq,
    rtx_end: Seq,
    /// SND.NXT when the current pass over the holes began: SACKs for data above it while
    /// a hole below is still open mean that hole's retransmission was lost too.
    rtx_round: Seq,
    /// Send one retransmission even if the congestion window is full (fast retransmit).
    force_rtx: bool,
    /// Without SACK, each duplicate ACK in recovery means a segment left the network.
    dupack_credit: u32,
    scoreboard: Scoreboard,
    retries: u32,
    /// Proportional rate reduction state while in fast recovery (RFC 6937).
    prr: Option<prr::Prr>,
    /// End of the highest range ever retransmitted.
    rtx_high: Seq,
    /// Congestion state to restore if the current fast recovery proves spurious.
    undo: Option<undo::Undo>,
    /// Whether the path reorders, and how long to wait for late segments.
    reordering: reorder::Reordering,
    /// The outstanding tail loss probe (RFC 8985 section 7).
    tlp: Option<tlp::Probe>,
    /// The probe is new data: send one segment regardless of the congestion window.
    tlp_new_data: bool,
    /// Delivery-rate samples, kept only for a model-based congestion controller.
    rate: Option<rate::RateSampler>,
    /// When the next paced data segment is due (paced controllers only).
    pacer: pacing::Pacer,

    // Acknowledgements.
    ack_now: bool,
    /// Extra ACKs owed, one per out-of-order or duplicate segment, so a sender without
    /// SACK sees every duplicate ACK even when segments arrive in a batch (RFC 5681 4.2).
    dup_acks_owed: u8,
    unacked_bytes: u32,
    last_ack_sent: Seq,
    /// Send a segment with SEQ = SND.UNA − 1 (zero-window or keepalive probe).
    probe_now: bool,
    /// Send (or resend) our SYN or SYN-ACK.
    syn_pending: bool,
    nodelay: bool,

    // Timers (absolute deadlines).
    rto_at: Option<Instant>,
    /// Probe timeout (RFC 8985 section 7.2).
    pto_at: Option<Instant>,
    /// End of the reordering window for holes below SACKed data (RFC 8985 section 6.3).
    reo_at: Option<Instant>,
    /// Data is held back by pacing until then.
    pace_at: Option<Instant>,
    delack_at: Option<Instant>,
    persist_at: Option<Instant>,
    persist_backoff: u32,
    keepalive_at: Option<Instant>,
    keepalive_sent: u32,
    /// TIME-WAIT end or FIN-WAIT-2 timeout.
    close_at: Option<Instant>,

    pub(crate) error: Option<Error>,
    pub(crate) events: Readiness,
    /// The application released its handle; the connection finishes on its own.
    pub(crate) orphaned: bool,
}

/// Window-scale shift that lets `buffer` bytes be advertised (RFC 7323 section 2.3).
fn wscale_for(buffer: usize) -> u8 {
    let mut s = 0u8;
    while s < crate::wire::MAX_WSCALE && (buffer >> s) > 0xffff {
        s += 1;
    }
    s
}

impl Connection {
    fn new(cfg: &Config, tuple: FourTuple, id: Identity, now: Instant, state: State) -> Connection {
        let iss = Seq(id.iss);
        let ts_offset = id.ts_offset;
        let mss = u32::from(cfg.mss).max(MIN_MSS);
        Connection {
            tuple,
            state,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_base: iss + 1,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: Seq(0),
            snd_wl2: iss,
            snd_wscale: 0,
            peer_mss: DEFAULT_MSS,
            send_mss: DEFAULT_MSS,
            sendbuf: Ring::new(cfg.send_buffer.max(1)),
            fin: Fin::None,
            irs: Seq(0),
            rcv_nxt: Seq(0),
            rcv_adv: Seq(0),
            rcv_wscale: if cfg.window_scaling {
                wscale_for(cfg.recv_buffer)
            } else {
                0
            },
            rcv_mss: DEFAULT_MSS.min(mss),
            recvbuf: Ring::new(cfg.recv_buffer.max(1)),
            asm: Assembler::new(cfg.max_ooo_ranges),
            dsack: None,
            fin_at: None,
            fin_received: false,
            ts: None,
            ts_offset,
            sack_ok: false,
            rtt: RttEstimator::new(cfg.initial_rto, cfg.min_rto, cfg.max_rto),
            timed: None,
            cc: Congestion::new(cfg.congestion, DEFAULT_MSS, cfg.initial_window_segments),
            dupacks: 0,
            recovery: None,
            last_recover: iss,
            rtx_ptr: iss,
            rtx_end: iss,
            rtx_round: iss,
            force_rtx: false,
            dupack_credit: 0,
            scoreboard: Scoreboard::new(cfg.max_ooo_ranges),
            retries: 0,
            prr: None,
            rtx_high: iss,
            undo: None,
            reordering: reorder::Reordering::default(),
            tlp: None,
            tlp_new_data: false,
            rate: None,
            pacer: pacing::Pacer::default(),
            ack_now: false,
            dup_acks_owed: 0,
            unacked_bytes: 0,
            last_ack_sent: Seq(0),
            probe_now: false,
            syn_pending: true,
            nodelay: cfg.nodelay,
            rto_at: None,
            pto_at: None,
            reo_at: None,
            pace_at: None,
            delack_at: None,
            persist_at: None,
            persist_backoff: 0,
            keepalive_at: cfg.keepalive.map(|k| now + k.idle),
            keepalive_sent: 0,
            close_at: None,
            error: None,
            events: Readiness::empty(),
            orphaned: false,
            cfg: cfg.clone(),
        }
    }

    /// Active open (RFC 9293 3.10.1): a connection in SYN-SENT with its SYN pending.
    pub(crate) fn connect(
        cfg: &Config,
        tuple: FourTuple,
        id: Identity,
        now: Instant,
    ) -> Connection {
        Connection::new(cfg, tuple, id, now, State::SynSent)
    }

    /// Passive open (RFC 9293 3.10.7.2): a connection in SYN-RECEIVED answering `syn`.
    pub(crate) fn accept_syn(
        cfg: &Config,
        tuple: FourTuple,
        id: Identity,
        now: Instant,
        syn: &SegmentHeader,
    ) -> Connection {
        let mut c = Connection::new(cfg, tuple, id, now, State::SynReceived);
        c.take_syn(syn, now);
        c
    }

    /// Records the peer's SYN: its ISN, options and (unscaled) window.
    fn take_syn(&mut self, syn: &SegmentHeader, now: Instant) {
        self.irs = syn.seq;
        self.rcv_nxt = syn.seq + 1;
        self.rcv_adv = self.rcv_nxt;
        self.last_ack_sent = self.rcv_nxt;
        self.negotiate(&syn.options, now);
        self.snd_wnd = u32::from(syn.window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = syn.seq;
    }

    /// Applies the options of the peer's SYN (RFC 9293 3.7.1, RFC 7323 2.2 / 3.2,
    /// RFC 2018 section 2).
    fn negotiate(&mut self, o: &Options, now: Instant) {
        let ours = u32::from(self.cfg.mss).max(MIN_MSS);
        self.peer_mss = u32::from(o.mss.unwrap_or(DEFAULT_MSS as u16)).clamp(MIN_MSS, ours);
        match o.wscale {
            Some(s) if self.cfg.window_scaling => self.snd_wscale = s,
            _ => {
                self.snd_wscale = 0;
                self.rcv_wscale = 0;
            }
        }
        self.ts = match o.timestamp {
            Some((val, _)) if self.cfg.timestamps => Some(Timestamps {
                recent: val,
                recent_at: now,
            }),
            _ => None,
        };
        self.sack_ok = self.cfg.sack && o.sack_permitted;
        self.send_mss = self.peer_mss - if self.ts.is_some() { TS_OPTION_LEN } else { 0 };
        self.cc = Congestion::new(
            self.cfg.congestion,
            self.send_mss,
            self.cfg.initial_window_segments,
        );
        self.rate = self
            .cc
            .is_model_based()
            .then(|| rate::RateSampler::new(self.cfg.send_buffer, self.send_mss, now));
    }

    /// True once nothing more will happen on this connection.
    pub(crate) fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Ends the connection with `error` (None for an orderly end).
    pub(crate) fn terminate(&mut self, error: Option<Error>) {
        self.state = State::Closed;
        if self.error.is_none() {
            self.error = error;
        }
        self.rto_at = None;
        self.pto_at = None;
        self.reo_at = None;
        self.pace_at = None;
        self.delack_at = None;
        self.persist_at = None;
        self.keepalive_at = None;
        self.close_at = None;
        self.ack_now = false;
        self.dup_acks_owed = 0;
        self.probe_now = false;
        self.syn_pending = false;
        self.asm.clear();
        self.release_buffers();
        self.events |= Readiness::CLOSED | Readiness::READABLE | Readiness::WRITABLE;
    }

    /// Once no more data can flow, buffer memory is given back (a host with thousands of
    /// connections in TIME-WAIT must not hold their buffers). Unread received data is kept
    /// until the application reads it.
    pub(super) fn release_buffers(&mut self) {
        if matches!(self.state, State::TimeWait | State::Closed) {
            self.sendbuf.consume(self.sendbuf.len());
            self.sendbuf.release_if_empty();
            self.recvbuf.release_if_empty();
        }
    }

    /// Copies application data into the send buffer (RFC 9293 3.10.2 SEND).
    pub(crate) fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        match self.state {
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
                if self.fin == Fin::None =>
            {
                if data.is_empty() {
                    return Ok(0);
                }
                match self.sendbuf.push(data) {
                    0 => Err(Error::WouldBlock),
                    n => Ok(n),
                }
            }
            State::Closed => Err(self.error.unwrap_or(Error::InvalidState)),
            _ => Err(Error::InvalidState),
        }
    }

    /// Moves received in-order data to `buf` (RFC 9293 3.10.3 RECEIVE). `Ok(0)` means the
    /// peer closed its direction and everything was read.
    pub(crate) fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if !self.recvbuf.is_empty() {
            let n = self.recvbuf.pop(buf);
            self.maybe_window_update();
            self.release_buffers();
            return Ok(n);
        }
        if self.fin_received {
            return Ok(0);
        }
        match self.state {
            State::Closed => match self.error {
                Some(e) => Err(e),
                None => Ok(0),
            },
            _ => Err(Error::WouldBlock),
        }
    }

    /// Copies received in-order data to `buf` without consuming it (`MSG_PEEK`), from
    /// `skip` bytes in (a peek into several buffers): the same answers as [`Conn::recv`]
    /// (`Ok(0)` also when `skip` is past the data), and the next `recv` returns the same
    /// bytes.
    pub(crate) fn peek(&self, skip: usize, buf: &mut [u8]) -> Result<usize, Error> {
        if !self.recvbuf.is_empty() {
            return Ok(self.recvbuf.peek_at(skip, buf));
        }
        if self.fin_received {
            return Ok(0);
        }
        match self.state {
            State::Closed => match self.error {
                Some(e) => Err(e),
                None => Ok(0),
            },
            _ => Err(Error::WouldBlock),
        }
    }

    /// Bytes ready for `recv`.
    pub(crate) fn recv_queue(&self) -> usize {
        self.recvbuf.len()
    }

    /// Tells the application it may write again once a third of the send buffer is free
    /// (Linux's `sk_stream_write_space` with `sk_stream_min_wspace`): a writer blocked on
    /// a full buffer wakes to queue a large piece, not on every ACK for a few segments'
    /// worth (each wake is a context switch, a lock and a pass through the socket).
    fn note_write_space(&mut self) {
        if self.sendbuf.free() >= self.sendbuf.capacity().div_ceil(3) {
            self.events |= Readiness::WRITABLE;
        }
    }

    /// Room in the send buffer.
    pub(crate) fn send_space(&self) -> usize {
        if self.fin == Fin::None {
            self.sendbuf.free()
        } else {
            0
        }
    }

    /// Buffer memory the connection holds right now.
    pub(crate) fn buffer_bytes(&self) -> usize {
        self.sendbuf.allocated() + self.recvbuf.allocated()
    }

    /// Bytes sent or queued but not yet acknowledged.
    pub(crate) fn send_queue(&self) -> usize {
        self.sendbuf.len()
    }

    /// Graceful close of our direction (RFC 9293 3.10.4 CLOSE). Before the handshake
    /// completes, data already queued is kept and the FIN follows it once established;
    /// with nothing queued a SYN-SENT connection is simply deleted, as the RFC says.
    pub(crate) fn close(&mut self) {
        match self.state {
            State::SynSent if self.sendbuf.is_empty() => self.terminate(None),
            State::Listen => self.terminate(None),
            State::SynSent | State::SynReceived if self.fin == Fin::None => self.fin = Fin::Queued,
            State::Established => {
                self.fin = Fin::Queued;
                self.state = State::FinWait1;
            }
            State::CloseWait => {
                self.fin = Fin::Queued;
                self.state = State::LastAck;
            }
            _ => {}
        }
    }

    /// Sets TCP_NODELAY.
    pub(crate) fn set_nodelay(&mut self, on: bool) {
        self.nodelay = on;
    }

    /// Sequence number for a RST that aborts the connection (RFC 9293 3.10.5 ABORT), if
    /// the state calls for sending one.
    pub(crate) fn abort_rst(&self) -> Option<Seq> {
        matches!(
            self.state,
            State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
        )
        .then_some(self.snd_nxt)
    }

    /// RFC 6191-style check: may a new SYN with `seq`/`tsval` reuse this TIME-WAIT tuple?
    pub(crate) fn time_wait_allows_reuse(&self, seq: Seq, tsval: Option<u32>) -> bool {
        self.state == State::TimeWait
            && reuse_allowed(self.ts.map(|t| t.recent), self.rcv_nxt, seq, tsval)
    }

    /// In TIME-WAIT with nobody owning it: the compact record that stands for the
    /// connection from now on (`time_wait.rs`), and whether it owes an ACK.
    pub(crate) fn time_wait_record(&mut self) -> Option<(TimeWait, bool)> {
        if self.state != State::TimeWait || !self.orphaned {
            return None;
        }
        let window = self.advertise_window();
        let tw = TimeWait::new(
            self.snd_nxt,
            self.rcv_nxt,
            self.rcv_wnd(),
            self.max_snd_wnd.max(self.send_mss),
            self.ts.map(|t| TwTimestamps {
                recent: t.recent,
                offset: self.ts_offset,
            }),
            window,
            self.close_at?,
        );
        Some((tw, self.ack_now))
    }

    /// The TSval we send now.
    fn tsval(&self, now: Instant) -> u32 {
        time_wait::tsval(now, self.ts_offset)
    }

    /// The smoothed RTT, once measured.
    pub(crate) fn srtt(&self) -> Option<core::time::Duration> {
        self.rtt.srtt()
    }

    /// Current congestion window.
    pub(crate) fn cwnd(&self) -> u32 {
        self.cc.cwnd()
    }
}
