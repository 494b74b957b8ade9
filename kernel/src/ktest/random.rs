//! The CSPRNG and its entropy sources.
//!
//! `random` (QEMU with virtio-rng): the boot seed took the device's bytes, the device
//! answers direct reads and counts them, a reseed reads it again, and the generator's
//! output is sane from every context. `random-fallback` (QEMU without the device): the
//! generator is seeded all the same (the xtask checks the warning in the log) and its
//! output is just as sane.
//!
//! "Sane" ([`output_checks`]): two requests differ, nothing is all zeros, and 64 KiB from
//! each path (small requests under the lock, one large request from a fork) passes the
//! byte-frequency check of `halyard_random::sanity`. The generator is also called from a
//! softirq (Tasklet) and a hardirq (a self-IPI) while a thread calls it on every CPU: with
//! the lock validator on, a lock class used inconsistently across contexts would panic.
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use halyard_random::byte_frequency;
use preempt::Softirq;

use super::Verdict;
use crate::arch::{entry, lapic, msi};
use crate::drivers::virtio_rng::{self, REQUEST_SIZE};
use crate::irq::softirq;
use crate::random;
use crate::{sched, time};

const SAMPLE: usize = 64 * 1024;

/// Values drawn in softirq and hardirq context (0 until one ran; a real draw of 0 has
/// probability 2^-64).
static FROM_SOFTIRQ: AtomicU64 = AtomicU64::new(0);
static FROM_HARDIRQ: AtomicU64 = AtomicU64::new(0);

fn counter(name: &str) -> u64 {
    random::counter_snapshot()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map_or(u64::MAX, |(_, v)| v)
}

/// With the device: it seeded the boot, answers reads, feeds reseeds.
pub fn with_device() -> Verdict {
    let dev = virtio_rng::device().ok_or("no virtio-rng device")?;
    if counter("RANDOM_SEEDED_FROM_DEVICE") != 1 {
        return Err("the boot seed did not include the device's bytes".into());
    }
    let before = (counter("RNG_DEVICE_BYTES"), counter("RNG_DEVICE_REQUESTS"));
    if before.0 < random::BOOT_DEVICE_BYTES as u64 {
        return Err(format!("device delivered {} bytes at boot", before.0));
    }
    // A direct read of several requests' worth.
    let mut direct = vec![0u8; 4 * REQUEST_SIZE];
    dev.lock()
        .read(&mut direct, time::now_ns() + 2_000_000_000)
        .map_err(|(got, e)| format!("device read: {got} bytes, {e:?}"))?;
    let after = (counter("RNG_DEVICE_BYTES"), counter("RNG_DEVICE_REQUESTS"));
    if after.0 - before.0 != direct.len() as u64 || after.1 - before.1 < 4 {
        return Err(format!("device counters {before:?} -> {after:?}"));
    }
    if direct.iter().all(|&b| b == direct[0]) {
        return Err(format!(
            "device returned {} bytes of {:#x}",
            direct.len(),
            direct[0]
        ));
    }
    // A reseed takes the device's bytes.
    let reseeds = counter("RANDOM_RESEEDS");
    let got = random::reseed();
    if got != random::RESEED_DEVICE_BYTES
        || counter("RANDOM_RESEEDS") != reseeds + 1
        || counter("RANDOM_DEVICE_RESEEDS") < 1
    {
        return Err(format!("reseed took {got} device bytes"));
    }
    output_checks()?;
    crate::info!(
        "random test: device {} bytes in {} requests",
        counter("RNG_DEVICE_BYTES"),
        counter("RNG_DEVICE_REQUESTS")
    );
    Ok(())
}

/// Without the device: seeded from the CPU, reseeds still work.
pub fn without_device() -> Verdict {
    if virtio_rng::device().is_some() {
        return Err("a virtio-rng device is present".into());
    }
    if counter("RANDOM_SEEDED_FROM_DEVICE") != 0 || counter("RNG_DEVICE_BYTES") != 0 {
        return Err("device counters are not zero without a device".into());
    }
    let reseeds = counter("RANDOM_RESEEDS");
    if random::reseed() != 0 || counter("RANDOM_RESEEDS") != reseeds + 1 {
        return Err("a reseed without the device misbehaved".into());
    }
    crate::info!(
        "random-fallback test: rdseed {} rdrand {}",
        counter("RANDOM_RDSEED"),
        counter("RANDOM_RDRAND")
    );
    output_checks()
}

/// The generator's output is different every time, not zero, and plausibly uniform, from
/// both paths and from every context.
fn output_checks() -> Verdict {
    let (a, b) = (random::array::<32>(), random::array::<32>());
    if a == b || a == [0; 32] {
        return Err(format!("two 32-byte requests: {a:02x?} and {b:02x?}"));
    }
    if random::u64() == random::u64() {
        return Err("two u64 draws were equal".into());
    }
    let mut large = vec![0u8; SAMPLE];
    random::fill(&mut large);
    let mut small = Vec::with_capacity(SAMPLE);
    while small.len() < SAMPLE {
        small.extend_from_slice(&random::array::<{ random::LOCKED_MAX }>());
    }
    for (what, data) in [("one 64 KiB request", &large), ("64-byte requests", &small)] {
        let f = byte_frequency(data);
        if !f.plausible() {
            return Err(format!("{what}: byte frequencies implausible: {f:?}"));
        }
    }
    if large[..SAMPLE / 2] == large[SAMPLE / 2..] {
        return Err("a large request repeats itself".into());
    }
    from_every_context()
}

/// Draws from a softirq and a hardirq while threads draw on every CPU.
fn from_every_context() -> Verdict {
    softirq::register(Softirq::Tasklet, || {
        FROM_SOFTIRQ.store(random::u64(), Ordering::Relaxed)
    });
    let vector = msi::alloc_vector().ok_or("no free vector for the self-IPI")?;
    entry::register(vector, |_| {
        FROM_HARDIRQ.store(random::u64(), Ordering::Relaxed)
    });
    let workers: Vec<_> = (0..crate::arch::percpu::count() as u32)
        .map(|cpu| {
            sched::spawn_pinned(format!("random-{cpu}"), cpu, || {
                for _ in 0..2000 {
                    let _ = random::array::<16>();
                }
            })
        })
        .collect();
    let deadline = time::now_ns() + 5_000_000_000;
    while (FROM_SOFTIRQ.load(Ordering::Relaxed) == 0 || FROM_HARDIRQ.load(Ordering::Relaxed) == 0)
        && time::now_ns() < deadline
    {
        softirq::raise(Softirq::Tasklet);
        lapic::send_ipi(
            lapic::Destination::Apic(lapic::id()),
            lapic::Delivery::Fixed(vector),
        );
        sched::sleep_ns(1_000_000);
    }
    for w in &workers {
        if !sched::join_until(w, deadline) {
            return Err("a drawing thread did not finish".into());
        }
    }
    match (
        FROM_SOFTIRQ.load(Ordering::Relaxed),
        FROM_HARDIRQ.load(Ordering::Relaxed),
    ) {
        (0, _) => Err("no draw from softirq context".into()),
        (_, 0) => Err("no draw from hardirq context".into()),
        _ => Ok(()),
    }
}
