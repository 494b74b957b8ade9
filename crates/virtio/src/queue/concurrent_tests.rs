//! The notification and interrupt handshakes under real parallelism: the driver and the
//! simulated device run on two threads and each sleeps whenever the protocol lets it,
//! woken only by the other side's kick or interrupt. A wrong event-index rule leaves a side
//! asleep with work waiting: it is then woken only by its safety timeout, which the test
//! counts as a lost wakeup and fails on (a missing store-load barrier can do the same, but
//! only shows with unlucky timing). The driver posts small batches and waits for each, so
//! a batch's last completion always has to interrupt a sleeping driver.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::Duration;

use super::tests::{pair, rx};

const TOTAL: u32 = 20_000;
/// Long enough that only a lost wakeup (not a busy host) leaves a side asleep this long.
const RESCUE_TIMEOUT: Duration = Duration::from_secs(5);

/// A wake-up signal that is remembered until the sleeper takes it.
#[derive(Default)]
struct Doorbell {
    rung: Mutex<bool>,
    cv: Condvar,
}

impl Doorbell {
    fn ring(&self) {
        *self.rung.lock().unwrap() = true;
        self.cv.notify_one();
    }

    /// Sleeps until rung; true when the timeout ended the sleep instead.
    fn sleep(&self) -> bool {
        let rung = self.rung.lock().unwrap();
        let (mut rung, result) = self
            .cv
            .wait_timeout_while(rung, RESCUE_TIMEOUT, |r| !*r)
            .unwrap();
        *rung = false;
        result.timed_out()
    }
}

/// What a run observed.
struct Outcome {
    lost_wakeups: u64,
    device_sleeps: u64,
    driver_sleeps: u64,
}

fn run(event_idx: bool) -> Outcome {
    let (_r, mut q, mut d) = pair(64, event_idx);
    // The first lost wakeup ends the run (each one costs a rescue timeout).
    let lost = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let (device_sleeps, driver_sleeps) = (AtomicU64::new(0), AtomicU64::new(0));
    let lose = || {
        lost.fetch_add(1, Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
    };
    let (device_bell, driver_bell) = (Doorbell::default(), Doorbell::default());
    thread::scope(|s| {
        s.spawn(|| {
            // The device: take, complete in order, interrupt when asked; sleep when idle.
            let mut completed = 0u32;
            while completed < TOTAL && !stop.load(Ordering::Relaxed) {
                d.mute_notifications();
                while let Some(c) = d.pop_avail() {
                    d.push_used(u32::from(c.head), c.descs[0].addr as u32);
                    completed += 1;
                    if d.interrupt_needed() {
                        driver_bell.ring();
                    }
                }
                if completed < TOTAL && !d.arm_notifications() {
                    device_sleeps.fetch_add(1, Ordering::Relaxed);
                    if device_bell.sleep() && d.pending() > 0 {
                        lose();
                        driver_bell.ring();
                    }
                }
            }
        });
        // The driver: post a small batch (1 to 3), then reap it, sleeping with interrupts
        // on whenever nothing is ready, so the batch's last completion must interrupt.
        let (mut posted, mut reaped) = (0u32, 0u32);
        while reaped < TOTAL && !stop.load(Ordering::Relaxed) {
            q.disable_interrupts();
            let batch_end = (posted + 1 + posted % 3).min(TOTAL);
            while posted < batch_end {
                q.add(&[rx(u64::from(posted))], posted).unwrap();
                posted += 1;
            }
            if q.notify_needed() {
                device_bell.ring();
            }
            while reaped < posted && !stop.load(Ordering::Relaxed) {
                while let Some(u) = q.pop_used() {
                    assert_eq!(
                        (u.token, u.len),
                        (reaped, reaped),
                        "completions out of order"
                    );
                    reaped += 1;
                }
                if reaped < posted && !q.enable_interrupts() {
                    driver_sleeps.fetch_add(1, Ordering::Relaxed);
                    if driver_bell.sleep() && q.has_used() {
                        lose();
                    }
                }
                q.disable_interrupts();
            }
        }
        device_bell.ring(); // let a device asleep after a stop see it
    });
    Outcome {
        lost_wakeups: lost.load(Ordering::Relaxed),
        device_sleeps: device_sleeps.load(Ordering::Relaxed),
        driver_sleeps: driver_sleeps.load(Ordering::Relaxed),
    }
}

#[test]
fn no_lost_wakeup_between_threads() {
    for event_idx in [false, true] {
        let o = run(event_idx);
        assert_eq!(
            o.lost_wakeups, 0,
            "event_idx={event_idx}: a side slept with work waiting"
        );
        // The run only means something if both sides really went to sleep.
        assert!(
            o.device_sleeps > 0 && o.driver_sleeps > 0,
            "event_idx={event_idx}: no side ever slept"
        );
    }
}
