//! The kernel side of the lock validator: contexts, held-lock stacks, reports.
//!
//! The bookkeeping (usage states, order graph, reports) is the host-tested `lockdep`
//! crate. Here each acquisition is described by the CPU's `preempt_count` and interrupt
//! flag and checked against the locks already held *in the same context level* (process,
//! softirq, hardirq: a handler does not nest inside the locks of the code it interrupted,
//! it only runs on the same CPU). The validator's own state sits behind an unvalidated
//! interrupt-off spin lock. It starts once the heap exists (it allocates) and can be
//! switched off with `lockdep=off` to measure its cost, or compiled out by building
//! without the `lockdep` feature. On a violation it prints the
//! report (both acquisition sites, both contexts) and panics.
use core::panic::Location;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use lockdep::{AcquireContext, AcquireSite, ClassId, Validator, ValidatorStats};

use crate::arch::{cpu, percpu};
use crate::irq::count;

/// A kind of lock, declared as a `static` next to the locks of that kind; reports name it
/// and its definition site.
pub struct LockClass {
    class: lockdep::LockClass,
    /// Registered id + 1 (0 = not registered yet).
    id: AtomicU32,
}

impl LockClass {
    #[track_caller]
    pub const fn new(name: &'static str) -> Self {
        LockClass {
            class: lockdep::LockClass::new(name),
            id: AtomicU32::new(0),
        }
    }
}

/// Deepest nesting of locks per context level.
const MAX_HELD: usize = 16;

#[derive(Clone, Copy)]
struct Held {
    ids: [ClassId; MAX_HELD],
    len: usize,
    /// Acquisitions past `MAX_HELD`, not tracked (so their release is not looked up).
    overflow: usize,
}

/// Per CPU, per context level (process, softirq, hardirq), the classes held. Only the
/// owning CPU touches its entries, and a context level is never re-entered while it runs
/// (a hardirq does not nest into another hardirq: interrupt gates clear IF).
struct HeldStacks(core::cell::UnsafeCell<[[Option<Held>; 3]; percpu::MAX_CPUS]>);

// SAFETY: see the type's comment: each entry has one writer, its CPU, in one context level.
unsafe impl Sync for HeldStacks {}

static HELD: HeldStacks = HeldStacks(core::cell::UnsafeCell::new([[None; 3]; percpu::MAX_CPUS]));
static VALIDATOR: spin::Mutex<Validator> = spin::Mutex::new(Validator::new());
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns checking on (after the heap is up) or off (`lockdep=off`, for cost measurements).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Release);
}

/// Whether acquisitions are being checked.
pub fn enabled() -> bool {
    cfg!(feature = "lockdep") && ENABLED.load(Ordering::Acquire)
}

fn level() -> usize {
    let c = count::current();
    if c.in_hardirq() {
        2
    } else if c.in_serving_softirq() {
        1
    } else {
        0
    }
}

fn held_stack() -> &'static mut Held {
    let level = level();
    // SAFETY: the entry belongs to this CPU and this context level (see `HeldStacks`).
    let slot = unsafe { &mut (*HELD.0.get())[percpu::cpu_index() as usize][level] };
    slot.get_or_insert(Held {
        ids: [ClassId::from_index(0); MAX_HELD],
        len: 0,
        overflow: 0,
    })
}

/// Runs `f` on the validator with interrupts off (the validator lock is not validated).
fn with_validator<R>(f: impl FnOnce(&mut Validator) -> R) -> R {
    cpu::without_interrupts(|| f(&mut VALIDATOR.lock()))
}

fn class_id(class: &'static LockClass) -> Option<ClassId> {
    match class.id.load(Ordering::Acquire) {
        0 => match with_validator(|v| v.register(&class.class)) {
            Ok(id) => {
                class.id.store(id.index() as u32 + 1, Ordering::Release);
                Some(id)
            }
            Err(e) => {
                crate::warn!(
                    "lockdep: cannot track lock class {}: {e:?}",
                    class.class.name()
                );
                None
            }
        },
        n => Some(ClassId::from_index(n as usize - 1)),
    }
}

/// Checks and records an acquisition of `class` at `site` (after the lock's guard policy
/// was applied, before spinning).
pub fn acquire(class: &'static LockClass, site: &'static Location<'static>) {
    if !cfg!(feature = "lockdep") || !ENABLED.load(Ordering::Acquire) {
        return;
    }
    let Some(id) = class_id(class) else { return };
    let c = count::current();
    let ctx = AcquireContext {
        in_hardirq: c.in_hardirq(),
        in_softirq: c.in_serving_softirq(),
        hardirqs_enabled: cpu::interrupts_enabled(),
        softirqs_enabled: !c.in_softirq() && !c.in_hardirq(),
    };
    let held = held_stack();
    let site = AcquireSite {
        location: site,
        return_address: None,
    };
    let verdict = with_validator(|v| {
        // Another CPU may have found a violation while this one waited for the lock.
        if !ENABLED.load(Ordering::Acquire) {
            return Ok(());
        }
        let verdict = v.acquire(id, ctx, site, &held.ids[..held.len]);
        if verdict.is_err() {
            // Off before interrupts are back on. One acquisition can queue several
            // violations (an inconsistent usage and the unsafe lock order it implies);
            // a timer tick that became pending during this check would otherwise take
            // the next one in its own acquisition and report that instead of this one,
            // from the wrong place.
            ENABLED.store(false, Ordering::Release);
        }
        verdict
    });
    if held.len < MAX_HELD {
        held.ids[held.len] = id;
        held.len += 1;
    } else {
        held.overflow += 1;
    }
    if let Err(violation) = verdict {
        crate::println!(
            "\nLOCKDEP REPORT on cpu{}\n{violation}",
            percpu::cpu_index()
        );
        panic!("lock validator: see the report above");
    }
}

/// Records the release of `class`.
pub fn release(class: &'static LockClass) {
    if !cfg!(feature = "lockdep") || !ENABLED.load(Ordering::Acquire) {
        return;
    }
    let id = match class.id.load(Ordering::Acquire) {
        0 => return,
        n => ClassId::from_index(n as usize - 1),
    };
    let held = held_stack();
    if held.overflow > 0 {
        held.overflow -= 1;
        return;
    }
    if let Some(pos) = held.ids[..held.len].iter().rposition(|&h| h == id) {
        held.ids.copy_within(pos + 1..held.len, pos);
        held.len -= 1;
    }
}

/// The validator's counters (for the `locks` monitor command), and its classes.
pub fn validator_stats() -> (ValidatorStats, alloc::vec::Vec<&'static str>) {
    with_validator(|v| {
        let names = (0..v.stats().classes)
            .filter_map(|i| v.class(ClassId::from_index(i)))
            .map(|c| c.name())
            .collect();
        (v.stats(), names)
    })
}
