//! Device drivers.
pub mod fw_cfg;
pub mod pci;
pub mod virtio_net;
pub mod virtio_pci;
pub mod virtio_rng;
