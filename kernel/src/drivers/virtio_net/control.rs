//! The control queue (`CTRL_VQ`) and the receive offloads switched through it at run time
//! (`CTRL_GUEST_OFFLOADS`; Linux: `ethtool -K eth0 rx off`, `gro`/`lro`). The command
//! logic and its wire format are the host-tested `virtio::net_ctrl`; this is the queue in
//! DMA memory, the wait, and the monitor's `offload` command.
//!
//! # Context
//! A command is sent from process context only (the monitor thread): the queue sits
//! behind a sleeping [`Mutex`], whose `might_sleep` check refuses a softirq, an interrupt
//! handler or a thread holding a spin lock. The device lock (`net.virtio_net`) is not
//! taken at all: the control queue is a queue of its own, and the receive path needs no
//! news of a switch, because it checks every frame against the negotiated features, not
//! against what is switched on. Frames the device queued before it took the command (a
//! GSO frame just after `GUEST_TSO4` went off) are accepted and checked as before.
//!
//! # Waiting
//! The queue has no interrupt (`NO_VECTOR`): after the kick the used ring is polled,
//! yielding the CPU between checks, for at most [`ANSWER_WAIT_NS`]. QEMU answers while it
//! handles the kick. A device that does not answer keeps the command buffer; later
//! commands are refused until it does (`virtio::net_ctrl`).
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;
use virtio::features::{self, Features};
use virtio::net_ctrl::{CtrlError, CtrlRing, NetControl, ACK_AT, BUFFER_LEN};
use virtio::pci::NO_VECTOR;

use super::counters::COUNTERS;
use crate::drivers::virtio_pci::{Ring, Transport};
use crate::sync::Mutex;

/// The control queue's index with one queue pair (no `MQ`): after receive 0 and transmit 1.
const CONTROL_QUEUE: u16 = 2;
/// One command at a time: two descriptors.
const MAX_QUEUE_SIZE: u16 = 4;
const SLOT: u16 = 0;
/// Longest wait for the device's ack.
const ANSWER_WAIT_NS: u64 = 1_000_000_000;

static CONTROL: Once<Mutex<Control>> = Once::new();
/// The receive offloads on now (feature bits), for views that must not sleep.
static RX_OFFLOADS: AtomicU64 = AtomicU64::new(0);
/// The receive offloads negotiated (those that can be switched back on).
static RX_NEGOTIATED: AtomicU64 = AtomicU64::new(0);

/// The control queue's ring, with one command buffer.
struct CtrlQueue(Ring);

impl CtrlRing for CtrlQueue {
    unsafe fn buffer(&mut self) -> &mut [u8; BUFFER_LEN] {
        // SAFETY: forwarded (no command in flight: the device does not own the slot).
        let span = unsafe { self.0.span_mut(SLOT, BUFFER_LEN) };
        span.and_then(|s| s.try_into().ok())
            .expect("the control buffer is one slot of BUFFER_LEN bytes")
    }

    fn post(&mut self, readable: usize) -> bool {
        let parts = [(0, readable, false), (ACK_AT, 1, true)];
        let posted = self.0.post_parts(SLOT, &parts).is_ok();
        if posted {
            self.0.kick_if_needed();
        }
        posted
    }

    fn pop_used(&mut self) -> bool {
        self.0.queue.pop_used().is_some()
    }
}

/// The driver's control side: the queue when the device has one.
pub struct Control {
    queue: Option<CtrlQueue>,
    ctl: NetControl,
}

/// Sets up the control queue when `CTRL_VQ` was negotiated (before DRIVER_OK). A device
/// that negotiated it without providing the queue keeps running without one.
pub(super) fn setup(transport: &Transport, negotiated: Features) -> Control {
    let mut usable = negotiated;
    let mut queue = None;
    if negotiated.has(features::NET_CTRL_VQ) {
        let ring = if transport.num_queues() > CONTROL_QUEUE {
            Ring::setup(
                transport,
                CONTROL_QUEUE,
                MAX_QUEUE_SIZE,
                BUFFER_LEN,
                NO_VECTOR,
                negotiated.has(features::RING_EVENT_IDX),
            )
            .map_err(|e| crate::warn!("virtio-net: control queue: {e:?}"))
            .ok()
        } else {
            crate::warn!("virtio-net: CTRL_VQ negotiated but the device has no queue 2");
            None
        };
        match ring {
            Some(r) => {
                r.queue.disable_interrupts();
                queue = Some(CtrlQueue(r));
            }
            None => {
                usable = Features(
                    negotiated.0 & !(features::NET_CTRL_VQ | features::NET_CTRL_GUEST_OFFLOADS),
                );
            }
        }
    }
    let ctl = NetControl::new(usable);
    RX_OFFLOADS.store(ctl.guest_offloads(), Ordering::Relaxed);
    RX_NEGOTIATED.store(ctl.guest_offloads_negotiated(), Ordering::Relaxed);
    Control { queue, ctl }
}

/// Keeps `control` for [`set_rx_offloads`] (once, at bring-up).
pub(super) fn install(control: Control) {
    CONTROL.call_once(|| Mutex::new(control));
}

/// The receive offloads on now, and those negotiated (feature bits).
pub fn rx_offloads() -> (Features, Features) {
    (
        Features(RX_OFFLOADS.load(Ordering::Relaxed)),
        Features(RX_NEGOTIATED.load(Ordering::Relaxed)),
    )
}

/// Why the receive offloads could not be switched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchError {
    NoDevice,
    /// Nothing to switch on: the offloads were not negotiated (`offload=off`, or a device
    /// without them).
    NothingNegotiated,
    Control(CtrlError),
}

impl core::fmt::Display for SwitchError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SwitchError::NoDevice => f.write_str("no virtio-net device"),
            SwitchError::NothingNegotiated => {
                f.write_str("no receive offloads were negotiated (offload=off?)")
            }
            SwitchError::Control(e) => write!(f, "{e}"),
        }
    }
}

/// Switches every negotiated receive offload on or off with one control command; returns
/// the offloads on afterwards. Process context (may sleep).
pub fn set_rx_offloads(on: bool) -> Result<Features, SwitchError> {
    let control = CONTROL.get().ok_or(SwitchError::NoDevice)?;
    let mut guard = control.lock();
    let Control { queue, ctl } = &mut *guard;
    if ctl.guest_offloads_negotiated() == 0 {
        return Err(SwitchError::NothingNegotiated);
    }
    let target = if on {
        ctl.guest_offloads_negotiated()
    } else {
        0
    };
    let result = match queue {
        Some(q) => {
            let deadline = crate::time::now_ns() + ANSWER_WAIT_NS;
            let mut wait = || {
                crate::sched::yield_now();
                crate::time::now_ns() < deadline
            };
            ctl.set_guest_offloads(q, target, &mut wait)
        }
        None => Err(CtrlError::NotNegotiated(Features(
            features::NET_CTRL_VQ | features::NET_CTRL_GUEST_OFFLOADS,
        ))),
    };
    publish(ctl);
    result.map_err(SwitchError::Control)?;
    Ok(Features(ctl.guest_offloads()))
}

/// Copies the control side's state and counters where views read them.
fn publish(ctl: &NetControl) {
    let c = ctl.counters();
    RX_OFFLOADS.store(ctl.guest_offloads(), Ordering::Relaxed);
    for (counter, value) in [
        (&COUNTERS.ctrl_sent, c.sent),
        (&COUNTERS.ctrl_acked, c.acked),
        (&COUNTERS.ctrl_failed, c.failed),
        (&COUNTERS.ctrl_timeouts, c.timeouts),
    ] {
        counter.store(value, Ordering::Relaxed);
    }
}

/// `offload`: the offloads negotiated and on; `offload rx on|off` switches the receive
/// offloads (Linux: `ethtool -k eth0`, `ethtool -K eth0 rx on|off gro on|off`).
pub fn monitor_offload(args: &str) {
    let mut words = args.split_whitespace();
    let on = match (words.next(), words.next(), words.next()) {
        (None, _, _) => None,
        (Some("rx"), Some("on"), None) => Some(true),
        (Some("rx"), Some("off"), None) => Some(false),
        _ => {
            crate::println!("usage: offload [rx on|off]");
            return;
        }
    };
    if let Some(on) = on {
        match set_rx_offloads(on) {
            Ok(f) => crate::println!("rx offloads now {f}"),
            Err(e) => {
                crate::println!("offload: {e}");
                return;
            }
        }
    }
    let Some(dev) = super::device() else {
        crate::println!("offload: no virtio-net device");
        return;
    };
    let negotiated = dev.lock().features();
    let (rx_on, rx_negotiated) = rx_offloads();
    let tx = Features(negotiated.0 & (features::NET_CSUM | features::NET_HOST_TSO4));
    let switchable = CONTROL
        .get()
        .is_some_and(|c| c.lock().ctl.can_switch_offloads());
    crate::println!("rx on {rx_on} (negotiated {rx_negotiated})");
    crate::println!(
        "rx switchable {}",
        if switchable {
            "yes (CTRL_GUEST_OFFLOADS)"
        } else {
            "no (CTRL_VQ/CTRL_GUEST_OFFLOADS not negotiated)"
        }
    );
    crate::println!("tx on {tx} (fixed at negotiation)");
    let v = |c: &AtomicU64| c.load(Ordering::Relaxed);
    crate::println!(
        "control commands: {} sent, {} acked, {} failed, {} timed out",
        v(&COUNTERS.ctrl_sent),
        v(&COUNTERS.ctrl_acked),
        v(&COUNTERS.ctrl_failed),
        v(&COUNTERS.ctrl_timeouts)
    );
}
