//! The virtio entropy device (virtio-rng, device type 4; Linux: `drivers/char/hw_random/
//! virtio-rng.c`): the host's randomness (QEMU's `rng-random` backend reads its
//! `/dev/urandom`) handed to the guest through one virtqueue.
//!
//! # Protocol
//! The device has no configuration and one queue, `requestq`. The driver posts a
//! device-writable buffer; the device fills some prefix of it (possibly fewer bytes than
//! asked, possibly none) and returns it with the length written.
//!
//! # Completion by polling, in process context
//! Entropy is wanted rarely (the boot seed, a reseed every minute, tests), in small
//! amounts, by code that can wait. So there are no interrupts: both MSI-X entries are
//! `NO_VECTOR`, and [`VirtioRng::read`] posts one buffer, kicks, and polls the used ring,
//! yielding the CPU between checks (QEMU answers from its main loop, usually within tens
//! of microseconds). It yields but never sleeps, so the boot context, which becomes CPU
//! 0's idle thread and must never block, can take the boot seed from it. Every wait is
//! bounded; a device that does not answer in time is abandoned for good (its buffer stays
//! posted, so it is never reused while the device may still write it) and the CSPRNG
//! carries on with the CPU's sources. The device sits behind a sleeping [`Mutex`]:
//! process context only, never a softirq or an interrupt handler (those take bytes from
//! the CSPRNG, `crate::random`, which never touches the device itself).
//!
//! Bring-up ([`init`]) is idempotent and survives a machine without the device.
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;
use virtio::features;
use virtio::pci::{status, NO_VECTOR};

use crate::drivers::pci::{self, Device};
use crate::drivers::virtio_pci::{self, InitError, Ring, Transport};
use crate::sync::Mutex;

/// Transitional and modern-only entropy device ids.
const DEVICE_IDS: &[u16] = &[
    virtio::pci::DEVICE_ID_RNG_TRANSITIONAL,
    virtio::pci::DEVICE_ID_RNG_MODERN,
];
const REQUEST_QUEUE: u16 = 0;
/// Bytes asked for per request (one buffer).
pub const REQUEST_SIZE: usize = 256;
/// One request is in flight at a time; a small ring is plenty.
const MAX_QUEUE_SIZE: u16 = 4;
/// The buffer every request uses.
const SLOT: u16 = 0;
/// Empty answers tolerated in one `read` before giving up (the device owes us nothing,
/// but a device that always answers empty is as good as absent).
const MAX_EMPTY_ANSWERS: u32 = 16;

/// Why [`VirtioRng::read`] delivered fewer bytes than asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// The device did not answer before the deadline; it is no longer used.
    Timeout,
    /// An earlier timeout disabled the device.
    Abandoned,
    /// The device kept answering with no bytes.
    Empty,
}

/// Driver counters, read by the monitor's `random` command and the tests.
pub struct RngCounters {
    /// Requests posted, and bytes the device delivered.
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
    /// Answers with fewer bytes than asked (none included), and empty ones.
    pub short_answers: AtomicU64,
    pub empty_answers: AtomicU64,
    /// Requests the device did not answer in time.
    pub timeouts: AtomicU64,
}

pub static COUNTERS: RngCounters = RngCounters {
    requests: AtomicU64::new(0),
    bytes: AtomicU64::new(0),
    short_answers: AtomicU64::new(0),
    empty_answers: AtomicU64::new(0),
    timeouts: AtomicU64::new(0),
};

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// A running entropy device.
pub struct VirtioRng {
    // Kept for the device's lifetime: its register blocks stay mapped.
    _transport: Transport,
    ring: Ring,
    abandoned: bool,
}

static DEVICE: Once<Option<Mutex<VirtioRng>>> = Once::new();

/// Finds the first entropy device and brings it up (process context; later calls return
/// the same answer). `None` when the machine has none or it failed to come up (logged).
pub fn init() -> Option<&'static Mutex<VirtioRng>> {
    DEVICE
        .call_once(|| {
            let dev = pci::find(virtio::pci::VENDOR_ID, DEVICE_IDS).next()?;
            match VirtioRng::init(dev) {
                Ok(rng) => {
                    crate::info!("virtio-rng {}: up, polled", dev.addr);
                    Some(Mutex::new(rng))
                }
                Err(e) => {
                    crate::warn!("virtio-rng {}: bring-up failed: {e:?}", dev.addr);
                    None
                }
            }
        })
        .as_ref()
}

/// The device, once [`init`] found one.
pub fn device() -> Option<&'static Mutex<VirtioRng>> {
    DEVICE.get().and_then(Option::as_ref)
}

impl VirtioRng {
    fn init(dev: &Device) -> Result<VirtioRng, InitError> {
        let (transport, _) = virtio_pci::start(dev, &|_| 0, features::VERSION_1)?;
        transport.set_config_vector(NO_VECTOR);
        let ring = match Ring::setup(
            &transport,
            REQUEST_QUEUE,
            MAX_QUEUE_SIZE,
            REQUEST_SIZE,
            NO_VECTOR,
            false,
        ) {
            Ok(r) => r,
            Err(e) => return virtio_pci::fail(&transport, e),
        };
        // Answers are polled: ask the device not to interrupt at all.
        ring.queue.disable_interrupts();
        transport.add_status(status::DRIVER_OK);
        Ok(VirtioRng {
            _transport: transport,
            ring,
            abandoned: false,
        })
    }

    /// Fills `out` with bytes from the device, one request of at most [`REQUEST_SIZE`]
    /// after another, waiting at most until `deadline_ns` (monotonic clock) for each
    /// answer. Process context. On error, the bytes delivered so far are in `out` and
    /// their count in the error's companion: `Err((delivered, why))`.
    pub fn read(&mut self, out: &mut [u8], deadline_ns: u64) -> Result<(), (usize, ReadError)> {
        let mut done = 0;
        let mut empty = 0;
        while done < out.len() {
            if self.abandoned {
                return Err((done, ReadError::Abandoned));
            }
            let want = (out.len() - done).min(REQUEST_SIZE);
            let got = match self.request(want, deadline_ns) {
                Some(n) => n,
                None => {
                    self.abandoned = true;
                    add(&COUNTERS.timeouts, 1);
                    crate::warn!("virtio-rng: no answer in time; device abandoned");
                    return Err((done, ReadError::Timeout));
                }
            };
            if got < want {
                add(&COUNTERS.short_answers, 1);
            }
            if got == 0 {
                add(&COUNTERS.empty_answers, 1);
                empty += 1;
                if empty >= MAX_EMPTY_ANSWERS {
                    return Err((done, ReadError::Empty));
                }
                continue;
            }
            // SAFETY: `request` returned the slot: the device no longer owns it.
            let buf = unsafe { self.ring.buffer(SLOT) };
            out[done..done + got].copy_from_slice(&buf[..got]);
            done += got;
            add(&COUNTERS.bytes, got as u64);
        }
        Ok(())
    }

    /// Posts one request for `want` bytes and waits for the answer; `Some(bytes written)`
    /// (at most `want`, whatever the device claims), `None` at the deadline.
    fn request(&mut self, want: usize, deadline_ns: u64) -> Option<usize> {
        if self.ring.post(SLOT, want, true).is_err() {
            // Cannot happen: one request at a time in a ring of several descriptors.
            return None;
        }
        add(&COUNTERS.requests, 1);
        self.ring.kick_if_needed();
        loop {
            // Every element is taken; only our one slot can be in flight, so a used
            // element that names anything else is refused by the queue itself.
            if let Some(used) = self.ring.queue.pop_used() {
                return Some((used.len as usize).min(want));
            }
            if crate::time::now_ns() >= deadline_ns {
                return None;
            }
            crate::sched::yield_now();
        }
    }
}

/// `(NAME, value)` of every driver counter, for the monitor.
pub fn counter_snapshot() -> [(&'static str, u64); 6] {
    let v = |c: &AtomicU64| c.load(Ordering::Relaxed);
    [
        ("RNG_DEVICE", u64::from(device().is_some())),
        ("RNG_DEVICE_REQUESTS", v(&COUNTERS.requests)),
        ("RNG_DEVICE_BYTES", v(&COUNTERS.bytes)),
        ("RNG_DEVICE_SHORT", v(&COUNTERS.short_answers)),
        ("RNG_DEVICE_EMPTY", v(&COUNTERS.empty_answers)),
        ("RNG_DEVICE_TIMEOUTS", v(&COUNTERS.timeouts)),
    ]
}
