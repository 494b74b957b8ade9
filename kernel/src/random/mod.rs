//! The kernel's cryptographically secure random number generator (Linux:
//! `drivers/char/random.c`, `get_random_bytes`). Everything that must be unpredictable —
//! TCP's ISN / port / table key, DHCP transaction ids, later `getrandom(2)`,
//! `/dev/urandom` and `AT_RANDOM` — comes from here. Not for reproducible test data: the
//! in-kernel tests' xoshiro generator is predictable by design and stays separate.
//!
//! # Seeding
//! [`init`] runs once at boot (after the scheduler is up, before the network): it reads
//! [`BOOT_DEVICE_BYTES`] from the virtio-rng device (`drivers::virtio_rng`), adds RDSEED
//! and RDRAND words where CPUID reports them and TSC jitter samples ([`cpu_sources`]),
//! and hashes everything into the ChaCha20 key ([`halyard_random::SeedHasher`], SHA-256).
//! Without the device it logs a warning and seeds from the CPU sources alone. A `random`
//! kernel thread then reseeds every [`RESEED_INTERVAL_NS`] from the same sources (the
//! device's bytes when it has one), folding them into the current key so a reseed never
//! weakens it.
//!
//! # Contexts and the lock
//! One generator ([`halyard_random::Crng`]: ChaCha20 with fast key erasure) behind one
//! [`IrqLock`] of class `random.crng`, rather than per-CPU instances: the lock is held
//! for a bounded, tiny amount of work (at most [`LOCKED_MAX`] bytes of keystream plus a
//! rekey, or a fork), so contention costs less than keeping per-CPU keys fresh after
//! every reseed. Interrupts off while it is held makes [`fill`] callable from every
//! context — threads, softirqs (NET_RX answering a SYN), hardirq handlers — and the lock
//! validator sees the class always taken with interrupts off, a consistent usage. Nothing
//! is taken under it (it is a leaf). Requests larger than [`LOCKED_MAX`] fork a child
//! generator under the lock and produce their bytes from it after releasing it, so a
//! 64 KiB `getrandom` does not keep interrupts off. The device itself is never touched by
//! `fill`: only `init` and the reseed thread (process context) read it.
//!
//! A call before `init` (none today) still gets good-as-possible bytes: the generator is
//! then seeded on the spot from the CPU sources and the event is counted
//! (`RANDOM_EARLY_SEEDS`); `init` folds the device's bytes in afterwards.
mod cpu_sources;

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use halyard_random::{Crng, SeedHasher, Source};
use zeroize::Zeroize;

use crate::drivers::virtio_rng;
use crate::sync::{IrqLock, LockClass};

/// Bytes read from the device for the boot seed, and for each reseed.
pub const BOOT_DEVICE_BYTES: usize = 64;
pub const RESEED_DEVICE_BYTES: usize = 32;
/// RDSEED and RDRAND words (of each) mixed into the boot seed, and into each reseed.
const BOOT_CPU_WORDS: usize = 8;
const RESEED_CPU_WORDS: usize = 4;
/// How often the `random` thread reseeds (Linux's `CRNG_RESEED_INTERVAL`).
pub const RESEED_INTERVAL_NS: u64 = 60_000_000_000;
/// How long one device read may take before the device is abandoned.
const DEVICE_TIMEOUT_NS: u64 = 1_000_000_000;
/// Requests up to this size are served under the lock; larger ones from a fork.
pub const LOCKED_MAX: usize = 64;

static CRNG_CLASS: LockClass = LockClass::new("random.crng");
static CRNG: IrqLock<Option<Crng>> = IrqLock::new(None, &CRNG_CLASS);

/// Whether the boot seed included the device's bytes.
static SEEDED_FROM_DEVICE: AtomicBool = AtomicBool::new(false);
/// Reseeds, and those that included the device's bytes.
static RESEEDS: AtomicU64 = AtomicU64::new(0);
static DEVICE_RESEEDS: AtomicU64 = AtomicU64::new(0);
/// Seedings on first use, before `init`.
static EARLY_SEEDS: AtomicU64 = AtomicU64::new(0);
/// `fill` calls and bytes handed out.
static FILLS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Fills `out` with cryptographically secure random bytes. Any context.
pub fn fill(out: &mut [u8]) {
    FILLS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(out.len() as u64, Ordering::Relaxed);
    if out.len() <= LOCKED_MAX {
        with_crng(|c| c.fill(out));
    } else {
        let mut child = with_crng(Crng::fork);
        child.fill(out);
    }
}

/// `N` random bytes. Any context.
pub fn array<const N: usize>() -> [u8; N] {
    let mut a = [0u8; N];
    fill(&mut a);
    a
}

/// A random `u64`. Any context.
pub fn u64() -> u64 {
    u64::from_le_bytes(array())
}

/// A random `u32`. Any context.
pub fn u32() -> u32 {
    u32::from_le_bytes(array())
}

/// Runs `f` on the generator, seeding it from the CPU first if nothing has yet.
fn with_crng<R>(f: impl FnOnce(&mut Crng) -> R) -> R {
    let mut guard = CRNG.lock();
    let crng = guard.get_or_insert_with(|| {
        EARLY_SEEDS.fetch_add(1, Ordering::Relaxed);
        let mut h = SeedHasher::new(b"halyard crng early seed");
        cpu_sources::gather(&mut h, BOOT_CPU_WORDS);
        Crng::new(h.finish())
    });
    f(crng)
}

/// Folds `inputs` into the generator (or keys it with them, the first time).
fn install(inputs: SeedHasher) {
    let mut guard = CRNG.lock();
    match guard.as_mut() {
        Some(c) => c.reseed(inputs),
        None => *guard = Some(Crng::new(inputs.finish())),
    }
}

/// Absorbs up to `n` (at most [`BOOT_DEVICE_BYTES`]) bytes from the device into `h`;
/// returns how many it gave (0 without a device). Process context.
fn absorb_device(h: &mut SeedHasher, n: usize) -> usize {
    let Some(dev) = virtio_rng::device() else {
        return 0;
    };
    let mut buf = [0u8; BOOT_DEVICE_BYTES];
    let n = n.min(buf.len());
    let deadline = crate::time::now_ns() + DEVICE_TIMEOUT_NS;
    let got = match dev.lock().read(&mut buf[..n], deadline) {
        Ok(()) => n,
        Err((got, e)) => {
            crate::warn!("random: virtio-rng gave {got} of {n} bytes ({e:?})");
            got
        }
    };
    h.absorb(Source::Device, &buf[..got]);
    buf.zeroize();
    got
}

/// Seeds the generator: device, RDSEED, RDRAND, TSC jitter. Boot CPU, process context
/// (the boot context: yields, never sleeps), once, before anything needs randomness.
/// Then starts the reseeding thread.
pub fn init() {
    virtio_rng::init();
    let cpu = cpu_sources::detect();
    let mut h = SeedHasher::new(b"halyard crng boot seed");
    let device = absorb_device(&mut h, BOOT_DEVICE_BYTES);
    cpu_sources::gather(&mut h, BOOT_CPU_WORDS);
    let sources = [
        Source::Device,
        Source::Rdseed,
        Source::Rdrand,
        Source::Jitter,
    ]
    .map(|s| (s.name(), h.bytes_from(s)));
    install(h);
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    if device == BOOT_DEVICE_BYTES {
        SEEDED_FROM_DEVICE.store(true, Ordering::Relaxed);
        crate::info!("random: CSPRNG seeded; bytes per source: {sources:?}");
    } else {
        let why = if virtio_rng::device().is_none() {
            "no virtio-rng device"
        } else {
            "virtio-rng short of bytes"
        };
        crate::warn!(
            "random: {why}; CSPRNG seeded from RDSEED/RDRAND/TSC jitter only (rdseed {}, rdrand {}); bytes per source: {sources:?}",
            yes_no(cpu.rdseed),
            yes_no(cpu.rdrand)
        );
        if !cpu.rdseed && !cpu.rdrand {
            crate::warn!("random: no hardware entropy at all: the seed rests on TSC jitter");
        }
    }
    crate::sched::spawn("random", || loop {
        crate::sched::sleep_ns(RESEED_INTERVAL_NS);
        reseed();
    });
}

/// Reseeds now from every source available; returns the device bytes it included.
/// Process context.
pub fn reseed() -> usize {
    let mut h = SeedHasher::new(b"halyard crng reseed");
    let device = absorb_device(&mut h, RESEED_DEVICE_BYTES);
    cpu_sources::gather(&mut h, RESEED_CPU_WORDS);
    install(h);
    RESEEDS.fetch_add(1, Ordering::Relaxed);
    if device > 0 {
        DEVICE_RESEEDS.fetch_add(1, Ordering::Relaxed);
    }
    device
}

/// `(NAME, value)` of every counter: the generator's, the CPU sources', the device's.
pub fn counter_snapshot() -> alloc::vec::Vec<(&'static str, u64)> {
    let v = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let cpu = cpu_sources::detect();
    let mut out = alloc::vec![
        (
            "RANDOM_SEEDED_FROM_DEVICE",
            u64::from(SEEDED_FROM_DEVICE.load(Ordering::Relaxed))
        ),
        ("RANDOM_RESEEDS", v(&RESEEDS)),
        ("RANDOM_DEVICE_RESEEDS", v(&DEVICE_RESEEDS)),
        ("RANDOM_EARLY_SEEDS", v(&EARLY_SEEDS)),
        ("RANDOM_FILLS", v(&FILLS)),
        ("RANDOM_BYTES", v(&BYTES)),
        ("RANDOM_RDSEED", u64::from(cpu.rdseed)),
        ("RANDOM_RDRAND", u64::from(cpu.rdrand)),
        ("RANDOM_RDSEED_FAILURES", v(&cpu_sources::RDSEED_FAILURES)),
        ("RANDOM_RDRAND_FAILURES", v(&cpu_sources::RDRAND_FAILURES)),
    ];
    out.extend(virtio_rng::counter_snapshot());
    out
}

/// The `random` monitor command: every counter as `NAME=VALUE`.
pub fn monitor_random(_: &str) {
    for (name, value) in counter_snapshot() {
        crate::println!("{name}={value}");
    }
}
