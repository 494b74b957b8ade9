//! Moves packets between a TUN device and a [`Host`] in real time, applying loss, delay,
//! jitter, reordering and duplication itself (these hosts have no netem).

use std::time::{Duration, Instant as StdInstant};

use halyard_tcp::Instant;

use crate::host::Host;
use crate::timed_queue::TimedQueue;
use crate::tun::TunNetns;
use test_rng::TestRng;

/// Impairment applied to each direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Impair {
    pub loss: f64,
    pub delay: Duration,
    pub jitter: Duration,
    /// Chance a packet is held back an extra `reorder_delay`.
    pub reorder: f64,
    pub reorder_delay: Duration,
    pub duplicate: f64,
}

/// The real-time loop.
pub struct Driver<'a> {
    tun: &'a TunNetns,
    impair: Impair,
    rng: TestRng,
    start: StdInstant,
    /// (to_engine, packet) by delivery time.
    queue: TimedQueue<StdInstant, (bool, Vec<u8>)>,
    /// Packets dropped on purpose.
    pub dropped: u64,
}

impl<'a> Driver<'a> {
    pub fn new(tun: &'a TunNetns, impair: Impair, seed: u64) -> Driver<'a> {
        Driver {
            tun,
            impair,
            rng: TestRng::new(seed),
            start: StdInstant::now(),
            queue: TimedQueue::default(),
            dropped: 0,
        }
    }

    /// The engine clock (microseconds since the driver started, plus one second).
    pub fn engine_now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64 + 1_000_000)
    }

    fn enqueue(&mut self, to_engine: bool, data: Vec<u8>) {
        let i = self.impair;
        if self.rng.chance(i.loss) {
            self.dropped += 1;
            return;
        }
        let mut at = StdInstant::now() + i.delay;
        if i.jitter > Duration::ZERO {
            at += Duration::from_micros(self.rng.below(i.jitter.as_micros() as u64));
        }
        if self.rng.chance(i.reorder) {
            at += i.reorder_delay;
        }
        let copies = if self.rng.chance(i.duplicate) { 2 } else { 1 };
        for _ in 0..copies {
            self.queue.push(at, (to_engine, data.clone()));
        }
    }

    /// Runs until `done(host)` or `limit` of wall time; returns whether `done` held.
    pub fn run(
        &mut self,
        host: &mut dyn Host,
        limit: Duration,
        done: &mut dyn FnMut(&dyn Host) -> bool,
    ) -> bool {
        let mut buf = vec![0u8; 65536];
        let mut out = Vec::new();
        let deadline = StdInstant::now() + limit;
        while StdInstant::now() < deadline {
            while let Ok(Some(n)) = self.tun.read(&mut buf) {
                self.enqueue(true, buf[..n].to_vec());
            }
            let wall = StdInstant::now();
            while let Some((to_engine, data)) = self.queue.pop_due(wall) {
                if to_engine {
                    host.receive(self.engine_now(), &data);
                } else {
                    let _ = self.tun.write(&data);
                }
            }
            let now = self.engine_now();
            host.poll(now, &mut out);
            for p in out.drain(..) {
                self.enqueue(false, p);
            }
            if done(host) {
                return true;
            }
            // Sleep until a packet, a queued delivery, or the engine's next timer.
            let mut wait = Duration::from_millis(5);
            if let Some(at) = self.queue.next_time() {
                wait = wait.min(at.saturating_duration_since(StdInstant::now()));
            }
            if let Some(t) = host.poll_at(now) {
                wait = wait.min(Duration::from_micros(
                    t.micros().saturating_sub(now.micros()),
                ));
            }
            if !wait.is_zero() {
                self.tun.wait(wait.as_millis().max(1) as i32);
            }
        }
        false
    }
}
