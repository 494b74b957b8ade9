//! A simulated point-to-point link with a fixed bandwidth, one-way latency, a drop-tail
//! bottleneck queue, and seeded faults: loss, duplication, reordering (extra delay),
//! single-bit corruption and jitter. Time is simulated, so every run with the same seed
//! moves the same packets at the same instants.

use std::collections::VecDeque;
use std::time::Duration;

use halyard_tcp::Instant;

use crate::timed_queue::TimedQueue;
use test_rng::TestRng;

/// Probabilities of each fault, per packet.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    pub loss: f64,
    pub duplicate: f64,
    /// Chance a packet is held back by `reorder_delay` (so later ones overtake it).
    pub reorder: f64,
    pub reorder_delay: Duration,
    /// Chance one bit of the packet is flipped.
    pub corrupt: f64,
    /// Uniform extra delay in [0, jitter) on every packet.
    pub jitter: Duration,
}

/// Link parameters.
#[derive(Debug, Clone, Copy)]
pub struct LinkConfig {
    /// Bytes per second in each direction.
    pub bandwidth: u64,
    /// One-way propagation delay.
    pub latency: Duration,
    /// Packets the bottleneck queue holds per direction before tail drop.
    pub queue_packets: usize,
    pub faults: Faults,
}

impl Default for LinkConfig {
    /// 100 Mbit/s, 10 ms one way, a queue of about two bandwidth-delay products.
    fn default() -> LinkConfig {
        LinkConfig {
            bandwidth: 12_500_000,
            latency: Duration::from_millis(10),
            queue_packets: 400,
            faults: Faults::default(),
        }
    }
}

/// Counters of what the link did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub sent: u64,
    pub delivered: u64,
    pub lost: u64,
    pub queue_drops: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub corrupted: u64,
}

#[derive(Default)]
struct Direction {
    busy_until: Instant,
    departures: VecDeque<Instant>,
}

/// The link between host A and host B.
pub struct Link {
    cfg: LinkConfig,
    rng: TestRng,
    dirs: [Direction; 2],
    /// (to_b, packet) by arrival time.
    queue: TimedQueue<Instant, (bool, Vec<u8>)>,
    pub stats: LinkStats,
}

impl Link {
    pub fn new(cfg: LinkConfig, seed: u64) -> Link {
        Link {
            cfg,
            rng: TestRng::new(seed),
            dirs: [Direction::default(), Direction::default()],
            queue: TimedQueue::default(),
            stats: LinkStats::default(),
        }
    }

    /// Puts a packet on the wire at `now`, from A to B when `to_b`.
    pub fn send(&mut self, now: Instant, to_b: bool, mut data: Vec<u8>) {
        self.stats.sent += 1;
        let f = self.cfg.faults;
        if self.rng.chance(f.loss) {
            self.stats.lost += 1;
            return;
        }
        let d = &mut self.dirs[usize::from(to_b)];
        while d.departures.front().is_some_and(|&t| t <= now) {
            d.departures.pop_front();
        }
        if d.departures.len() >= self.cfg.queue_packets {
            self.stats.queue_drops += 1;
            return;
        }
        let tx_time =
            Duration::from_nanos(data.len() as u64 * 1_000_000_000 / self.cfg.bandwidth.max(1));
        let depart = d.busy_until.max(now) + tx_time;
        d.busy_until = depart;
        d.departures.push_back(depart);
        let mut at = depart + self.cfg.latency;
        if f.jitter > Duration::ZERO {
            at = at + Duration::from_nanos(self.rng.below(f.jitter.as_nanos() as u64));
        }
        if self.rng.chance(f.reorder) {
            self.stats.reordered += 1;
            at = at + f.reorder_delay;
        }
        if self.rng.chance(f.corrupt) && !data.is_empty() {
            self.stats.corrupted += 1;
            let i = self.rng.index(data.len());
            data[i] ^= 1 << self.rng.below(8);
        }
        if self.rng.chance(f.duplicate) {
            self.stats.duplicated += 1;
            let dup_at = at + Duration::from_micros(self.rng.below(2_000));
            self.queue.push(dup_at, (to_b, data.clone()));
        }
        self.queue.push(at, (to_b, data));
    }

    /// When the next packet arrives.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.queue.next_time()
    }

    /// A packet that has arrived by `now`: (to_b, bytes).
    pub fn pop_due(&mut self, now: Instant) -> Option<(bool, Vec<u8>)> {
        let p = self.queue.pop_due(now)?;
        self.stats.delivered += 1;
        Some(p)
    }
}
