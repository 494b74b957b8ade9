//! Driver-side virtio 1.x logic for the Halyard kernel, host-testable.
//!
//! # Why our own virtio code
//! The network path needs things a generic virtio library hides: a NAPI-style budgeted
//! receive poll, interrupt suppression through `VIRTIO_F_RING_EVENT_IDX` that the hardirq
//! handler can flip without a lock, per-ring counters (the device's used index against the
//! last one processed is how a stuck receive path is diagnosed), and later zero-copy
//! buffers. So the split virtqueue is written here, over memory handed in by the caller:
//! the kernel gives it DMA frames, the tests give it a `Vec` and drive it with a simulated
//! device (`sim`, test-only) that consumes the available ring and fills the used ring.
//!
//! # Shape
//! * [`layout`]: where the descriptor table, available ring and used ring live (wire format).
//! * [`ring_memory`]: typed, atomic access to that memory, shared by driver and device.
//! * [`event`]: the wrap-safe `vring_need_event` rule.
//! * [`queue`]: [`SplitQueue`], the driver's side: free-descriptor list, posting,
//!   reclaiming, notification and interrupt suppression, [`QueueCounters`].
//! * [`features`]: feature bits and negotiation as a pure function.
//! * [`net_hdr`]: the 12-byte virtio-net header; [`net_rx`]: checking what the device
//!   says it received and assembling frames that span several buffers; [`net_offload`]:
//!   the receive offloads asked for and what a header lets the stack skip;
//!   [`net_receiver`]: the receive loop over a ring of buffers, shared by the kernel and
//!   the tests; [`net_tx`]: the transmit offloads' header and the transmitter over runs
//!   of slots ([`tx_slots`]), shared likewise; [`net_ctrl`]: the control queue's
//!   commands, the receive offloads switched at run time.
//! * [`pci`]: the virtio-over-PCI capability format and common configuration layout.
//!
//! Everything is little-endian as virtio 1.x requires; the crate only targets
//! little-endian machines (x86_64), so values are stored natively.
#![no_std]
extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod event;
pub mod features;
pub mod layout;
pub mod net_ctrl;
pub mod net_hdr;
pub mod net_offload;
pub mod net_receiver;
pub mod net_rx;
pub mod net_tx;
pub mod pci;
pub mod queue;
pub mod ring_memory;
#[cfg(test)]
mod sim;
pub mod tx_slots;

pub use features::{negotiate, FeatureError, Features};
pub use layout::{Descriptor, LayoutError, RingLayout};
pub use net_hdr::NetHeader;
pub use queue::{AddError, Buffer, QueueCounters, SplitQueue, UsedBuffer};
pub use ring_memory::RingMemory;

#[cfg(not(target_endian = "little"))]
compile_error!("virtio 1.x structures are little-endian; this crate stores them natively");
