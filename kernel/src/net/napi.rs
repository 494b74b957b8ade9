//! NET_RX: the NAPI-style receive path.
//!
//! The RX interrupt suppresses further RX interrupts and raises NET_RX (that is all it
//! does). The softirq polls the ring up to the device weight (64 frames) at a time and up
//! to a round budget (300 frames or 2 ms). When a poll finds fewer frames than the weight
//! the ring is drained: RX interrupts are re-enabled, and if frames raced in meanwhile
//! (`enable_rx_interrupts` says so) polling simply continues. When the round budget runs
//! out, NET_RX is raised again and the softirq machinery restarts it or hands it to
//! `ksoftirqd`, so a flood cannot starve threads. Counters follow the seed's names: after
//! any quiet period `NET_RX_SOFTIRQ_ENTRY_TOTAL == NET_RX_SOFTIRQ_EXIT_TOTAL`,
//! `NET_RX_PROCESSING_HELD == 0` and the device's used index equals the last one
//! processed.
//!
//! The loopback interface's receive queue (`net::loopback`) is polled in the same loop,
//! with the same weight and budget: a datagram a thread sends to a local address is
//! received here, never in the sender's context. UDP datagrams (from the NIC for a port
//! user sockets claimed, or through `lo`) go to those sockets' queues (`net::udp_table`).
//!
//! Segments for connections that threads hold are queued on their sockets' backlogs
//! during the poll and processed once the device and stack locks are released
//! (`net::sock`: never spinning on a socket a thread holds); the sockets' timers fire at
//! the end of the run.
//!
//! TCP segments from the NIC pass through receive offload (`halyard_net::gro`, Linux's
//! GRO): consecutive segments of a flow within one poll are joined and handed to TCP as
//! one, like a device's GSO frame; what is held is flushed at the end of every poll, so
//! nothing waits beyond it. GRO is off with the kernel's `offload=off` ([`disable_gro`]).
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use halyard_net::gro::{Gro, GroSegment};
use halyard_net::{Instant, Rx};
use halyard_tcp::RxHints;
use preempt::Softirq;

use crate::irq::softirq;
use crate::time;

/// Frames per poll of one device (Linux's default NAPI weight).
pub const WEIGHT: usize = 64;
/// Frames per NET_RX run before yielding (Linux's netdev_budget).
pub const ROUND_BUDGET: usize = 300;
/// Time per NET_RX run before yielding (Linux's netdev_budget_usecs).
pub const ROUND_TIME_NS: u64 = 2_000_000;

/// NAPI-level counters.
pub struct NapiCounters {
    pub softirq_entries: AtomicU64,
    pub softirq_exits: AtomicU64,
    /// NET_RX runs in progress right now (0 or more CPUs).
    pub processing_held: AtomicU64,
    pub round_budget_exhausted: AtomicU64,
    pub frames: AtomicU64,
    /// Segments GRO joined to another (`NET_RX_GRO_MERGED`).
    pub gro_merged: AtomicU64,
    /// Joined segments GRO handed to TCP (`NET_RX_GRO_FLUSHED`).
    pub gro_flushed: AtomicU64,
}

pub static COUNTERS: NapiCounters = NapiCounters {
    softirq_entries: AtomicU64::new(0),
    softirq_exits: AtomicU64::new(0),
    processing_held: AtomicU64::new(0),
    round_budget_exhausted: AtomicU64::new(0),
    frames: AtomicU64::new(0),
    gro_merged: AtomicU64::new(0),
    gro_flushed: AtomicU64::new(0),
};

/// Whether NET_RX joins received segments (the kernel's `offload=off` clears it).
static GRO: AtomicBool = AtomicBool::new(true);

/// Turns GRO off (`offload=off`: no offload of any kind, for A/B runs).
pub fn disable_gro() {
    GRO.store(false, Ordering::Relaxed);
}

/// The RX interrupt's notifier. Hardirq context: raise NET_RX, nothing else.
pub fn on_rx_interrupt() {
    softirq::raise(Softirq::NetRx);
}

/// The NET_RX softirq handler. Softirq context: interrupts on, bottom halves off.
pub fn net_rx() {
    COUNTERS.softirq_entries.fetch_add(1, Ordering::Relaxed);
    COUNTERS.processing_held.fetch_add(1, Ordering::AcqRel);
    let start = time::now_ns();
    let mut total = 0;
    let mut to_process = Vec::new();
    let mut gro = Gro::new(GRO.load(Ordering::Relaxed));
    loop {
        let outcome = super::with_net(|dev, stack| {
            let t = Instant::from_nanos(time::now_ns());
            let now_ns = t.as_nanos();
            let (mut polled, mut drained) = (0, true);
            if let Some(dev) = dev {
                let tcp = &mut stack.tcp;
                let mut to_tcp = |seg: GroSegment<'_>| {
                    let hints = RxHints {
                        checksum_trusted: seg.checksum_trusted,
                        gso_size: seg.gso_size,
                    };
                    tcp.route(now_ns, seg.src, seg.dst, seg.bytes, hints, &mut to_process);
                };
                let (iface, udp) = (&mut stack.iface, &stack.udp);
                polled = dev.poll_rx(WEIGHT, |frame, offload| {
                    let trusted = offload.checksum.trusted();
                    match iface.receive_offloaded(frame, t, trusted) {
                        Rx::Udp(d) => {
                            let broadcast = super::udp_table::is_broadcast(iface, d.dst);
                            udp.deliver(d, broadcast);
                        }
                        Rx::Tcp(seg) => gro.receive(seg, offload.gso_size, &mut to_tcp),
                        Rx::Dropped(_) | Rx::Delivered(_) => {}
                    }
                });
                // The end of the poll: nothing stays held.
                gro.flush(&mut to_tcp);
                let joined = gro.take_counters();
                COUNTERS
                    .gro_merged
                    .fetch_add(joined.merged, Ordering::Relaxed);
                COUNTERS
                    .gro_flushed
                    .fetch_add(joined.flushed, Ordering::Relaxed);
                drained = polled < WEIGHT && !dev.enable_rx_interrupts();
            }
            // The loopback interface's receive queue, with its own weight.
            let mut looped = 0;
            while looped < WEIGHT {
                let Some(d) = stack.lo.poll() else { break };
                looped += 1;
                if d.protocol == super::tcp::PROTOCOL {
                    let hints = RxHints {
                        checksum_trusted: d.offload.csum_offset.is_some(),
                        gso_size: d.offload.gso_size,
                    };
                    // The queue entry becomes the socket's backlog entry: no copy.
                    let payload = Cow::Owned(d.payload);
                    stack
                        .tcp
                        .route(now_ns, d.src, d.dst, payload, hints, &mut to_process);
                } else if d.protocol == halyard_net::wire::ipv4::protocol::UDP {
                    let (udp, iface) = (&stack.udp, &stack.iface);
                    super::udp_table::receive_local(udp, iface, d.src, d.dst, &d.payload);
                } else {
                    // Only TCP and UDP are sent through `lo`.
                    stack.lo.rx.dropped += 1;
                }
            }
            drained &= !stack.lo.pending();
            (polled + looped, drained)
        });
        // Segments queued for sockets with their own lock, now that device and stack
        // are free.
        for sock in to_process.drain(..) {
            sock.process_backlog();
        }
        let Some((polled, drained)) = outcome else {
            break;
        };
        total += polled;
        if drained {
            break;
        }
        if total >= ROUND_BUDGET || time::now_ns() - start >= ROUND_TIME_NS {
            COUNTERS
                .round_budget_exhausted
                .fetch_add(1, Ordering::Relaxed);
            softirq::raise(Softirq::NetRx);
            break;
        }
    }
    super::sock_timers::run(super::tcp::tcp_now(time::now_ns()));
    COUNTERS.frames.fetch_add(total as u64, Ordering::Relaxed);
    COUNTERS.processing_held.fetch_sub(1, Ordering::AcqRel);
    COUNTERS.softirq_exits.fetch_add(1, Ordering::Relaxed);
}
