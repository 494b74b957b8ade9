//! Time: a monotonic nanosecond clock from the TSC, and the per-CPU LAPIC tick.
//!
//! Both the TSC and the LAPIC timer are calibrated once at boot against the PIT (whose
//! frequency is fixed by the hardware). Under QEMU the TSC runs at a constant rate and is
//! the same on every vCPU, so one scale serves all CPUs. Before calibration the clock
//! reads 0.
use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::{cpu, entry::InterruptFrame, interrupts, lapic, percpu, pit};
use crate::sync::FnSlot;

static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC tick as a 32.32 fixed-point number; 0 until calibrated.
static NS_PER_TSC_32: AtomicU64 = AtomicU64::new(0);
/// LAPIC timer ticks (divide-by-16) per millisecond.
static LAPIC_TICKS_PER_MS: AtomicU64 = AtomicU64::new(0);
/// Per-tick hook for in-kernel tests.
static TICK_HOOK: FnSlot = FnSlot::empty();

/// The rate of the periodic LAPIC tick on every CPU.
static TICK_HZ: AtomicU64 = AtomicU64::new(1000);

/// The tick rate CPUs use (in-kernel tests raise it).
pub fn tick_hz() -> u64 {
    TICK_HZ.load(Ordering::Relaxed)
}

/// Busy-waits at least `us` microseconds (boot-time delays, before any scheduler).
pub fn busy_wait_us(us: u64) {
    let end = now_ns() + us * 1000;
    while now_ns() < end {
        core::hint::spin_loop();
    }
}

/// Marks the TSC value that reads as time zero. First thing at boot.
pub fn mark_boot() {
    TSC_AT_BOOT.store(cpu::rdtsc(), Ordering::Relaxed);
}

/// Nanoseconds since [`mark_boot`] (0 until [`calibrate`]).
pub fn now_ns() -> u64 {
    let scale = NS_PER_TSC_32.load(Ordering::Relaxed);
    let delta = cpu::rdtsc().wrapping_sub(TSC_AT_BOOT.load(Ordering::Relaxed));
    ((u128::from(delta) * u128::from(scale)) >> 32) as u64
}

/// Nanoseconds since the Unix epoch at monotonic time 0 (`CLOCK_REALTIME` minus
/// `CLOCK_MONOTONIC`); set from the RTC at boot, moved by `clock_settime`.
static REALTIME_OFFSET: AtomicU64 = AtomicU64::new(0);

/// Reads the RTC into the realtime offset. Boot CPU, once, after [`calibrate`].
pub fn init_realtime() {
    let now = crate::arch::rtc::unix_seconds() * 1_000_000_000;
    REALTIME_OFFSET.store(now.saturating_sub(now_ns()), Ordering::Relaxed);
}

/// When the system booted, in `CLOCK_REALTIME` nanoseconds (`/proc/stat`'s `btime`).
pub fn boot_realtime_ns() -> u64 {
    REALTIME_OFFSET.load(Ordering::Relaxed)
}

/// `CLOCK_REALTIME` in nanoseconds since the epoch.
pub fn realtime_ns() -> u64 {
    REALTIME_OFFSET.load(Ordering::Relaxed) + now_ns()
}

/// Sets `CLOCK_REALTIME` to `ns` (`clock_settime`, `settimeofday`).
pub fn set_realtime_ns(ns: u64) {
    REALTIME_OFFSET.store(ns.saturating_sub(now_ns()), Ordering::Relaxed);
}

/// The monotonic time at which `CLOCK_REALTIME` reads `ns` (for absolute realtime
/// deadlines; 0 if that is in the past).
pub fn monotonic_from_realtime(ns: u64) -> u64 {
    ns.saturating_sub(REALTIME_OFFSET.load(Ordering::Relaxed))
}

/// Measures the TSC and LAPIC timer rates against 20 ms of PIT. Boot CPU, interrupts off.
pub fn calibrate() -> (u64, u64) {
    const PIT_TICKS: u16 = 23_864; // 20 ms
    let mut tsc0 = 0;
    pit::wait_ticks(PIT_TICKS, || {
        lapic::timer_start_count(u32::MAX);
        tsc0 = cpu::rdtsc();
    });
    let tsc1 = cpu::rdtsc();
    let lapic_elapsed = u64::from(u32::MAX - lapic::timer_current());
    lapic::timer_stop();
    let ns = u64::from(PIT_TICKS) * 1_000_000_000 / pit::FREQUENCY_HZ;
    let tsc_hz = (tsc1 - tsc0) * 1_000_000_000 / ns;
    NS_PER_TSC_32.store(
        (1_000_000_000u128 << 32).div_ceil(u128::from(tsc_hz.max(1))) as u64,
        Ordering::Relaxed,
    );
    LAPIC_TICKS_PER_MS.store((lapic_elapsed * 1_000_000 / ns).max(1), Ordering::Relaxed);
    (tsc_hz, lapic_elapsed * 1_000_000_000 / ns * 16)
}

/// Starts the calling CPU's periodic tick at `hz` (which becomes the rate later CPUs use).
pub fn start_tick(hz: u64) {
    TICK_HZ.store(hz, Ordering::Relaxed);
    let per_ms = LAPIC_TICKS_PER_MS.load(Ordering::Relaxed);
    let ticks = (per_ms * 1000 / hz.max(1)).clamp(1, u64::from(u32::MAX)) as u32;
    lapic::timer_periodic(interrupts::TIMER_VECTOR, ticks);
}

/// Installs a function called on every tick on every CPU (in-kernel tests only).
pub fn set_tick_hook(hook: Option<fn()>) {
    TICK_HOOK.set(hook);
}

/// The LAPIC timer interrupt. Hardirq context.
pub fn on_timer_interrupt(frame: &mut InterruptFrame) {
    percpu::current()
        .timer_ticks
        .fetch_add(1, Ordering::Relaxed);
    let now = now_ns();
    crate::sched::on_tick(now, frame.is_from_user());
    crate::net::on_tick(now);
    crate::mm::stack::on_tick();
    if let Some(hook) = TICK_HOOK.get() {
        hook();
    }
}
