//! What every virtio device driver of this kernel shares: the modern PCI transport
//! ([`transport`]), DMA memory ([`dma`]), the device bring-up sequence up to FEATURES_OK
//! ([`start`]) and virtqueues whose descriptors each own one fixed-size buffer ([`Ring`]).
//! The ring logic itself (split virtqueue, feature negotiation, capability format) is the
//! host-tested `virtio` crate; the device policies are in `virtio_net` and `virtio_rng`.
//!
//! Linux counterpart: `drivers/virtio/virtio_pci_modern.c` and `virtio_ring.c`.
mod dma;
mod ring;
mod transport;

use virtio::pci::status;
use virtio::{negotiate, Features};

pub use ring::Ring;
pub use transport::{Transport, TransportError};

use crate::drivers::pci::Device;

/// Why a device could not be brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    NoDevice,
    Transport(TransportError),
    Features(virtio::FeatureError),
    /// The device cleared FEATURES_OK: it refused our feature set.
    FeaturesRefused,
    /// Queue `n` is missing or has an unusable size.
    BadQueue(u16),
    /// The device refused an MSI-X table entry for a queue.
    VectorRefused(u16),
    OutOfMemory,
}

/// The first steps of virtio 1.x device initialisation (spec 3.1.1) for `dev`: find the
/// register blocks, turn on memory decoding and DMA, reset, set ACKNOWLEDGE and DRIVER,
/// negotiate (`wanted(offered)` when offered, `required` always) and have the device
/// accept the result (FEATURES_OK). The caller then sets up its queues and sets
/// DRIVER_OK, or [`fail`]s the device.
pub fn start(
    dev: &Device,
    wanted: &dyn Fn(u64) -> u64,
    required: u64,
) -> Result<(Transport, Features), InitError> {
    let transport = Transport::probe(dev).map_err(InitError::Transport)?;
    dev.enable_memory_and_dma();
    transport.reset().map_err(InitError::Transport)?;
    transport.add_status(status::ACKNOWLEDGE | status::DRIVER);
    let offered = transport.device_features();
    let features = match negotiate(offered, wanted(offered), required) {
        Ok(f) => f,
        Err(e) => return fail(&transport, InitError::Features(e)),
    };
    transport.set_driver_features(features.0);
    transport.add_status(status::FEATURES_OK);
    if transport.status() & status::FEATURES_OK == 0 {
        return fail(&transport, InitError::FeaturesRefused);
    }
    Ok((transport, features))
}

/// Marks the device FAILED (it stops using our memory) and returns `e`.
pub fn fail<T>(transport: &Transport, e: InitError) -> Result<T, InitError> {
    transport.add_status(status::FAILED);
    Err(e)
}
