//! Halyard's TCP: a `no_std` + `alloc`, sans-I/O protocol engine.
//!
//! The engine never reads a clock and never touches a device. The caller hands it the
//! current time and received segments, and takes from it segments to send, socket events
//! and the next timer deadline. So the very same code runs in the kernel (driven by the
//! NET_RX softirq and a timer) and in host tests (driven by a simulated link or a TUN
//! device), and every test is deterministic.
//!
//! # Calling pattern
//!
//! - [`Endpoint::receive`] for every TCP segment that arrives (IPv4 payload plus the
//!   source and destination addresses, for the pseudo-header checksum), or
//!   [`Endpoint::receive_with`] with what the device said about it ([`RxHints`]);
//! - [`Endpoint::handle_timeout`] when [`Endpoint::poll_timeout`]'s deadline passes;
//! - [`Endpoint::poll_transmit`] until it returns `None`, after any of the above and
//!   after socket calls (`send`, `recv`, `close`, ...), sending each segment;
//! - [`Endpoint::poll_event`] to learn which connections became readable, writable,
//!   connected or closed, and which listeners have connections to accept.
//!
//! A connection can also be handed out of the endpoint ([`Endpoint::detach`]) and driven
//! on its own through the same calls on a [`DetachedConn`] (for a lock per connection);
//! the endpoint keeps its 4-tuple until [`Endpoint::forget`].
//!
//! # Example
//!
//! Two endpoints wired back to back (a real caller puts an IP layer in between):
//!
//! ```
//! use core::net::{Ipv4Addr, SocketAddrV4};
//! use halyard_tcp::{Config, Endpoint, Instant, State, MAX_HEADER};
//!
//! let (a_ip, b_ip) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
//! let mut a = Endpoint::new(Config::default(), [1; 16]);
//! let mut b = Endpoint::new(Config::default(), [2; 16]);
//! let listener = b.listen(SocketAddrV4::new(b_ip, 80)).unwrap();
//! let mut now = Instant::ZERO;
//! let client = a.connect(now, a_ip, SocketAddrV4::new(b_ip, 80)).unwrap();
//! a.send(now, client, b"hello").unwrap();
//! a.close(now, client).unwrap();
//!
//! // Move segments both ways until nothing is left to send.
//! let mut buf = vec![0u8; MAX_HEADER + 1460];
//! let mut server = None;
//! let mut got = Vec::new();
//! for _ in 0..100 {
//!     now = Instant::from_millis(now.millis() + 1);
//!     a.handle_timeout(now);
//!     b.handle_timeout(now);
//!     while let Some(t) = a.poll_transmit(now, &mut buf) {
//!         b.receive(now, t.src, t.dst, &buf[..t.len]);
//!     }
//!     while let Some(t) = b.poll_transmit(now, &mut buf) {
//!         a.receive(now, t.src, t.dst, &buf[..t.len]);
//!     }
//!     if server.is_none() {
//!         server = b.accept(listener);
//!     }
//!     if let Some(s) = server {
//!         let mut chunk = [0u8; 64];
//!         while let Ok(n) = b.recv(now, s, &mut chunk) {
//!             if n == 0 { break; }
//!             got.extend_from_slice(&chunk[..n]);
//!         }
//!     }
//! }
//! assert_eq!(got, b"hello");
//! assert_eq!(b.state(server.unwrap()).unwrap(), State::CloseWait);
//! assert_eq!(a.state(client).unwrap(), State::FinWait2);
//! ```
//!
//! # What is implemented, and the test that shows it
//!
//! Unit tests live next to the code; `tests/state_machine.rs` drives two endpoints
//! against each other; the `tcp-testlink` crate runs the engine against smoltcp over a
//! seeded lossy link and against Linux through a TUN device.
//!
//! | Feature | Where | Tests |
//! |---|---|---|
//! | RFC 9293 state machine, all states; simultaneous open and close; half-close | `conn/` | `state_machine.rs`: `rfc9293_3_5_handshake_and_data`, `simultaneous_open`, `simultaneous_close_and_time_wait`, `half_close`; `tcp-testlink`: `smoltcp_interop.rs`, `linux_tun.rs::linux_half_close` |
//! | RST processing, RFC 5961 (exact RST, challenge ACK, SYN in window, ACK range, rate limit) | `conn/input.rs`, `challenge.rs` | `rfc5961_3_2_rst_must_be_exact`, `rfc5961_4_2_syn_in_window_challenged`, `rfc5961_5_2_ack_of_unsent_data_dropped`, `challenge::tests`, `rst_from_closed_port_refuses`, `linux_tun.rs::linux_reset_both_ways` |
//! | Listen with a bounded SYN queue and accept queue (no growth under SYN flood) | `endpoint.rs`, `listener.rs` | `syn_flood_is_bounded` |
//! | Per-peer limit on passively opened connections (SYN beyond it answered with RST) | `endpoint.rs` | `per_peer_limit_refuses_with_rst` |
//! | Buffer growth that may fail (memory pressure): sends take less, unstorable data is dropped and counted, retransmission recovers | `buffer/ring.rs`, `conn/input.rs` | `no_memory.rs::refused_buffer_growth_drops_and_recovers` |
//! | MSS; window scaling; timestamps with PAWS (RFC 7323) | `wire/options.rs`, `conn/` | `wire::options::tests`, `rfc7323_2_window_scaling`, `rfc7323_5_3_paws_drops_old_duplicate` |
//! | SACK-permitted and SACK blocks (RFC 2018), bounded out-of-order queue | `buffer/assembler.rs`, `buffer/range_set.rs` | `rfc2018_4_most_recent_block_first`, `rfc2018_sack_blocks_reported`, `bounded_ranges` |
//! | RTO per RFC 6298 (RTT estimation, Karn, exponential backoff, retry limit) | `rtt.rs`, `conn/ack.rs` | `rtt::tests::rfc6298_*`, `rfc6298_rto_backoff` |
//! | Fast retransmit and recovery (RFC 5681, RFC 6582), SACK recovery (RFC 6675) with lost-retransmission detection | `conn/ack.rs`, `conn/output.rs`, `scoreboard.rs` | `rfc5681_3_2_fast_retransmit` (with and without SACK), `rfc6675_holes_and_lost_boundary`, `rfc6675_lost_retransmission_resent_before_rto`, lossy-link and property tests |
//! | RACK reordering window and tail loss probe (RFC 8985 6.2-6.3, 7) | `conn/reorder.rs`, `conn/tlp.rs` | `rfc8985_6_3_reordering_window_marks_hole_lost`, `rfc8985_6_2_reordered_segment_within_window_is_not_lost`, `rfc8985_7_tail_loss_probe_repairs_last_segment`, `rfc8985_7_4_dsack_shows_probe_was_redundant` |
//! | D-SACK (RFC 2883); undo of spurious recoveries by timestamps or D-SACK (RFC 3522, RFC 3708, RFC 9438 4.9) | `conn/input.rs`, `conn/undo.rs` | `rfc2883_4_1_duplicate_reported_by_dsack`, `rfc3522_eifel_undoes_spurious_recovery`, `rfc3708_dsack_undoes_spurious_recovery`, `genuine_loss_keeps_the_reduction` |
//! | Proportional rate reduction (RFC 6937) | `conn/prr.rs` | `rfc6937_3_proportional_part`, `rfc6937_3_1_slow_start_reduction_bound` |
//! | Socket options on live connections and per listener: keepalive, buffer limits (no window shrinking), address-reuse check | `conn/options.rs`, `endpoint.rs` | `tests/socket_options.rs` |
//! | NewReno and CUBIC (RFC 9438, default), selectable | `congestion/` | `rfc5681_3_1_growth_and_reduction`, `rfc9438_4_6_beta_reduction`, `rfc9438_4_2_concave_then_convex`, `engine_pair.rs` (both) |
//! | BBR (draft-cardwell-iccrg-bbr-congestion-control), selectable, with delivery-rate sampling and pacing | `congestion/bbr.rs`, `conn/rate.rs`, `conn/pacing.rs` | `startup_exits_after_three_flat_rounds_then_drains`, `probe_rtt_after_ten_seconds_without_new_min`, `tests/pacing.rs`, tcp-testlink `bbr_tick.rs`, `engine_pair.rs`, `property.rs` |
//! | Delayed ACK: every 2nd full segment, at once on gaps, duplicates and useful window updates | `conn/input.rs`, `conn/output.rs` | `rfc5681_4_2_delayed_ack`, `rfc9293_3_8_6_receiver_sws_and_window_update` |
//! | Nagle with no-delay switch; silly-window avoidance on both sides | `conn/output.rs` | `rfc9293_3_7_4_nagle_and_nodelay`, `rfc9293_3_8_6_receiver_sws_and_window_update` |
//! | Zero-window probing (persist, backing off); keepalive | `conn/timers.rs` | `zero_window_probe`, `keepalive_detects_dead_peer` |
//! | TIME-WAIT for 2·MSL with safe reuse (newer timestamp or sequence); FIN-WAIT-2 timeout | `conn/timers.rs`, `endpoint.rs` | `simultaneous_close_and_time_wait`, `time_wait_safe_reuse`, `fin_wait_2_timeout` |
//! | TIME-WAIT of a connection nobody owns kept as a 40-byte record (Linux's `tcp_timewait_sock`), bounded by `Config::max_time_wait`; detached ones handed back by `Endpoint::adopt_time_wait` | `time_wait.rs`, `endpoint.rs` | `time_wait::tests::a_record_is_small`, `time_wait.rs` (FIN re-ACK, exact RST, challenges, RFC 6191 reuse, tuple and port, overflow), `time_wait_memory.rs`, `detached.rs::orphaned_time_wait_is_adopted` |
//! | ISN per RFC 6528 (keyed SipHash of the 4-tuple plus a 4 µs clock, no lock, no counter) | `isn.rs`, `siphash.rs` | `rfc6528_3_keyed_and_clocked`, `siphash::tests` (reference vectors) |
//! | Ephemeral ports per RFC 6056 (algorithm 3) | `ports.rs` | `rfc6056_3_3_3_hash_based`, `linux_500_sequential_connections` |
//! | O(1) 4-tuple lookup with a keyed hash | `table.rs` | `insert_lookup_remove` |
//! | Detached connections (driven outside the endpoint, own counters and challenge-ACK limit; tuple kept until `forget`) | `detached.rs`, `endpoint.rs` | `detached.rs`: `detached_transfer_both_ways_and_close`, `accepted_connection_detaches_and_endpoint_keeps_tuple`, `time_wait_reuse_outcome`, `malformed_segments_counted` |
//! | Receive offloads: segments coalesced by the device (GSO, up to 64 KB) with the sender's MSS as `gso_size`, checksums the device vouched for ([`RxHints`]) | `rx_hints.rs`, `conn/input.rs` | `gso.rs`: `gso_segments_with_holes_are_reassembled_and_sacked`, `gso_size_sets_the_receive_mss`; `no_alloc.rs` (with GSO) |
//! | Transmit offloads: partial checksums (`Config::checksum_offload`, [`Transmit::checksum_partial`]) and TSO super-segments of k×MSS autosized like Linux (`Config::tso_max_bytes`, [`Transmit::gso_size`]), loss recovery still per MSS | `conn/tso.rs`, `conn/output.rs`, `wire/header.rs` | `tso.rs`: `tso_super_segments_are_cut_at_mss_boundaries`, `loss_inside_a_super_segment_is_repaired_by_sack`, `loss_near_the_end_of_a_super_segment_is_repaired_by_rack`, `loss_of_the_last_segment_is_repaired_by_the_tail_loss_probe`; `no_alloc.rs` (with TSO) |
//! | No allocation per segment in steady state; explicit buffer limits | `buffer/`, `endpoint.rs` | `no_alloc.rs::steady_state_transfer_does_not_allocate` |
//! | Every malformed segment counted and dropped; never a panic | `wire/`, `stats.rs`, `fuzz.rs` | `wire::header::tests`, `fuzz.rs::malformed_segments_are_all_counted`, `fuzz.rs::*_never_panic` |
//! | Data intact and in order, or an error, under any seeded fault pattern | whole engine | `tcp-testlink/tests/property.rs` |
//!
//! Not implemented: IPv6 (the engine is IPv4-only for now), urgent data (the URG bit and
//! pointer are ignored), TCP Fast Open, ECN, HyStart++, SYN cookies (a bounded SYN queue
//! is used instead).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod buffer;
mod challenge;
mod config;
pub mod congestion;
mod conn;
mod detached;
mod endpoint;
mod error;
mod event;
#[cfg(feature = "fuzz")]
pub mod fuzz;
mod isn;
mod listener;
mod ports;
mod rst;
mod rtt;
mod rx_hints;
mod scoreboard;
pub mod seq;
pub mod siphash;
mod state;
mod stats;
mod table;
mod time;
mod time_wait;
mod timer_queue;
pub mod wire;

pub use config::{Config, Keepalive};
pub use conn::Details;
pub use detached::{DetachedConn, Outcome};
pub use endpoint::{ConnId, ConnInfo, Endpoint, ListenerDetails, ListenerId, Transmit, MAX_HEADER};
pub use error::Error;
pub use event::{Event, Readiness};
pub use rx_hints::RxHints;
pub use state::State;
pub use stats::Stats;
pub use time::Instant;
