//! The virtio-net driver (modern virtio-pci), written for the kernel's network path.
//!
//! # Why not an existing virtio crate
//! The receive path is the heart of this kernel, and it needs control a generic driver
//! does not give: a NAPI-style budgeted poll run from the NET_RX softirq, RX interrupt
//! suppression through EVENT_IDX that a hardirq handler flips without taking any lock, TX
//! completion without interrupts, per-ring counters (the device's used index against the
//! last processed one), and later zero-copy receive. The ring logic itself lives in the
//! host-tested `virtio` crate, the PCI transport is shared with the other virtio driver
//! (`drivers::virtio_pci`); this module is the device policy.
//!
//! # NAPI contract
//! * [`irq_rx`] (the RX vector's handler, hardirq): suppresses further RX interrupts,
//!   counts, and calls the notifier set with [`set_rx_notifier`] (which raises NET_RX).
//! * The softirq calls [`VirtioNet::poll_rx`] with its budget. When it consumed less than
//!   the budget it calls [`VirtioNet::enable_rx_interrupts`]; `true` means packets raced
//!   in, interrupts stay off and it must poll again (reschedule itself).
//! * Frames go out with [`VirtioNet::transmit`], with the offloads the stack left to the
//!   device; completions are reclaimed lazily and reported to each frame's owner.
//! * The receive offloads are switched at run time with `control::set_rx_offloads` (process
//!   context, not under the device lock; the monitor's `offload`).
//!
//! Bring-up ([`init`]) runs once on the boot CPU after interrupts and memory are up.
mod control;
mod counters;
mod device;
mod rx;
mod tx;

use core::sync::atomic::{AtomicBool, Ordering};

use spin::Once;
use virtio::RingMemory;

pub use control::{monitor_offload, rx_offloads};
pub use counters::COUNTERS;
pub use device::{InitError, InterruptMode, VirtioNet};
pub use tx::{Owner, TxOwner};

use crate::arch::entry::{self, InterruptFrame};
use crate::arch::{lapic, msi};
use crate::drivers::pci::{self, Msix};
use crate::sync::{BhLock, FnSlot, LockClass};
use counters::add;
use device::{ENTRY_CONFIG, ENTRY_RX, ENTRY_TX};

/// Transitional (legacy + modern) and modern-only network device ids.
const DEVICE_IDS: &[u16] = &[
    virtio::pci::DEVICE_ID_NET_TRANSITIONAL,
    virtio::pci::DEVICE_ID_NET_MODERN,
];

/// The device is shared by process context (transmit) and the NET_RX softirq (poll);
/// the hardirq handler never takes it, so bottom halves off is enough.
static DEVICE_CLASS: LockClass = LockClass::new("net.virtio_net");
static DEVICE: Once<BhLock<VirtioNet>> = Once::new();
/// The RX ring, for [`irq_rx`] to suppress interrupts without the device lock.
static RX_RING: Once<RingMemory> = Once::new();
/// The `fn()` called by [`irq_rx`].
static RX_NOTIFIER: FnSlot = FnSlot::empty();

/// Whether [`init`] asks for the offloads, receive and transmit (`offload=off` on the
/// command line clears it).
static OFFLOADS: AtomicBool = AtomicBool::new(true);

/// Brings the next [`init`] up without offloads (the kernel's `offload=off`: A/B runs, and a
/// fallback should a host mishandle them).
pub fn disable_offloads() {
    OFFLOADS.store(false, Ordering::Relaxed);
}

/// Finds the first virtio-net device and brings it up (boot CPU, process context,
/// interrupts enabled; later calls return the same device).
pub fn init() -> Result<&'static BhLock<VirtioNet>, InitError> {
    if let Some(d) = DEVICE.get() {
        return Ok(d);
    }
    let dev = pci::find(virtio::pci::VENDOR_ID, DEVICE_IDS)
        .next()
        .ok_or(InitError::NoDevice)?;
    let (net, control) = VirtioNet::init(dev, setup_msix(dev), OFFLOADS.load(Ordering::Relaxed))?;
    control::install(control);
    RX_RING.call_once(|| net.rx_ring_memory());
    crate::info!(
        "virtio-net {}: {} link {} features {} interrupts {:?}",
        dev.addr,
        halyard_net::EthernetAddress(net.mac()),
        if net.link_up() { "up" } else { "down" },
        net.features(),
        net.interrupt_mode()
    );
    Ok(DEVICE.call_once(|| BhLock::new(net, &DEVICE_CLASS)))
}

/// The device, once [`init`] succeeded.
pub fn device() -> Option<&'static BhLock<VirtioNet>> {
    DEVICE.get()
}

/// Sets the function [`irq_rx`] calls after suppressing RX interrupts (hardirq context:
/// it must only raise work, e.g. the NET_RX softirq).
pub fn set_rx_notifier(f: fn()) {
    RX_NOTIFIER.set(Some(f));
}

/// Maps MSI-X and wires its entries to fresh vectors on this CPU; `None` = polling.
fn setup_msix(dev: &pci::Device) -> Option<(Msix, InterruptMode)> {
    let table = match Msix::map(dev) {
        Ok(t) => t,
        Err(e) => {
            crate::info!("virtio-net {}: {e}, polling", dev.addr);
            return None;
        }
    };
    let apic = lapic::id();
    let mode = if table.table_size() >= 3 {
        let [config, rx, tx] = alloc_vectors()?;
        for (entry, vector, handler) in [
            (ENTRY_CONFIG, config, irq_config as entry::Handler),
            (ENTRY_RX, rx, irq_rx),
            (ENTRY_TX, tx, irq_tx),
        ] {
            entry::register(vector, handler);
            table.program(entry, msi::message(vector, apic));
        }
        InterruptMode::PerQueue { config, rx, tx }
    } else {
        // Too few entries for one per source: all share entry 0, treated as RX (a
        // spurious NET_RX poll finds nothing and costs little).
        let vector = msi::alloc_vector()?;
        entry::register(vector, irq_rx);
        table.program(0, msi::message(vector, apic));
        InterruptMode::Shared(vector)
    };
    Some((table, mode))
}

/// Three MSI vectors, or none (returning any taken).
fn alloc_vectors() -> Option<[u8; 3]> {
    let mut got = [0u8; 3];
    for i in 0..3 {
        match msi::alloc_vector() {
            Some(v) => got[i] = v,
            None => {
                got[..i].iter().for_each(|&v| msi::free_vector(v));
                return None;
            }
        }
    }
    Some(got)
}

/// The RX queue's interrupt (hardirq): turn further RX interrupts off, count, notify.
pub fn irq_rx(_: &mut InterruptFrame) {
    add(&COUNTERS.rx_irqs, 1);
    if let Some(ring) = RX_RING.get() {
        ring.suppress_interrupts();
    }
    if let Some(notify) = RX_NOTIFIER.get() {
        add(&COUNTERS.rx_notifies, 1);
        notify();
    }
}

/// The TX queue's interrupt: suppressed for good, so only counted.
fn irq_tx(_: &mut InterruptFrame) {
    add(&COUNTERS.tx_irqs, 1);
}

/// Configuration change (link status): counted; the link state is read on demand.
fn irq_config(_: &mut InterruptFrame) {
    add(&COUNTERS.config_irqs, 1);
}

/// Every driver counter as (NAME, value), with the device's current RX used index.
pub fn counter_snapshot() -> [(&'static str, u64); counters::SNAPSHOT_LEN] {
    let used = RX_RING.get().map_or(0, |r| u64::from(r.used_idx()));
    COUNTERS.snapshot(used)
}
