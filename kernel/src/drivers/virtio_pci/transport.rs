//! The modern (virtio 1.x) PCI transport: the device's register blocks, found through
//! vendor-specific PCI capabilities, each naming a BAR, an offset and a length (their
//! format, and the register layout, are in the host-tested `virtio::pci`).
//!
//! * common configuration: feature words, device status, queue setup (`queue_select`
//!   picks which queue the queue fields refer to);
//! * notification area: the driver writes a queue's index at
//!   `offset + queue_notify_off * notify_off_multiplier` to kick it;
//! * (ISR status: only meaningful for INTx interrupts, which these drivers never use, so
//!   it is not mapped);
//! * device-specific configuration: for a network device, the MAC address and link status;
//!   an entropy device has none, and the capability is optional.
//!
//! A transitional device (QEMU's default `virtio-net-pci`) exposes these capabilities next
//! to its legacy I/O BAR; we always use the modern interface and never the legacy one.
use virtio::pci::{cfg_type, common, notify_offset, VirtioPciCap, NOTIFY_CAP_LEN};

use crate::drivers::pci::{capability, Bar, Device};
use crate::mm::mmio::IoMem;

/// Why the modern interface could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportError {
    /// No usable capability (parsing, inside a memory BAR) of this `cfg_type`.
    MissingCapability(u8),
    /// The capability's block is too small for its registers.
    BadCapability(u8),
    /// The device did not come out of reset.
    ResetTimeout,
}

/// The modern transport of one device.
pub struct Transport {
    common: IoMem,
    notify: IoMem,
    notify_multiplier: u32,
    device: Option<IoMem>,
}

impl Transport {
    /// Finds and maps the register blocks.
    pub fn probe(dev: &Device) -> Result<Transport, TransportError> {
        let (common, _) = map(dev, cfg_type::COMMON)?;
        if common.len() < u64::from(common::MIN_LEN) {
            return Err(TransportError::BadCapability(cfg_type::COMMON));
        }
        let (notify, notify_cap) = map(dev, cfg_type::NOTIFY)?;
        let notify_multiplier = notify_cap
            .notify_multiplier
            .ok_or(TransportError::BadCapability(cfg_type::NOTIFY))?;
        let device = map(dev, cfg_type::DEVICE).ok().map(|(regs, _)| regs);
        Ok(Transport {
            common,
            notify,
            notify_multiplier,
            device,
        })
    }

    /// Resets the device and waits (bounded) until it reports status 0.
    pub fn reset(&self) -> Result<(), TransportError> {
        self.common.write::<u8>(common::DEVICE_STATUS, 0);
        for _ in 0..1_000_000 {
            if self.status() == 0 {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(TransportError::ResetTimeout)
    }

    pub fn status(&self) -> u8 {
        self.common.read(common::DEVICE_STATUS)
    }

    /// Adds `bits` (`virtio::pci::status`) to the device status.
    pub fn add_status(&self, bits: u8) {
        self.common
            .write(common::DEVICE_STATUS, self.status() | bits);
    }

    /// The 64 feature bits the device offers.
    pub fn device_features(&self) -> u64 {
        self.common.write::<u32>(common::DEVICE_FEATURE_SELECT, 0);
        let low = self.common.read::<u32>(common::DEVICE_FEATURE);
        self.common.write::<u32>(common::DEVICE_FEATURE_SELECT, 1);
        let high = self.common.read::<u32>(common::DEVICE_FEATURE);
        (u64::from(high) << 32) | u64::from(low)
    }

    pub fn set_driver_features(&self, features: u64) {
        self.common.write::<u32>(common::DRIVER_FEATURE_SELECT, 0);
        self.common
            .write::<u32>(common::DRIVER_FEATURE, features as u32);
        self.common.write::<u32>(common::DRIVER_FEATURE_SELECT, 1);
        self.common
            .write::<u32>(common::DRIVER_FEATURE, (features >> 32) as u32);
    }

    pub fn num_queues(&self) -> u16 {
        self.common.read(common::NUM_QUEUES)
    }

    /// Sets the MSI-X table entry for configuration changes; returns what the device
    /// accepted (`NO_VECTOR` when it refused).
    pub fn set_config_vector(&self, entry: u16) -> u16 {
        self.common.write(common::CONFIG_MSIX_VECTOR, entry);
        self.common.read(common::CONFIG_MSIX_VECTOR)
    }

    /// Selects the queue the following `queue_*` calls refer to.
    pub fn select_queue(&self, index: u16) {
        self.common.write(common::QUEUE_SELECT, index);
    }

    /// The selected queue's size (its maximum until set; 0 = no such queue).
    pub fn queue_size(&self) -> u16 {
        self.common.read(common::QUEUE_SIZE)
    }

    pub fn set_queue_size(&self, size: u16) {
        self.common.write(common::QUEUE_SIZE, size);
    }

    /// Sets the selected queue's MSI-X table entry; returns what the device accepted.
    pub fn set_queue_vector(&self, entry: u16) -> u16 {
        self.common.write(common::QUEUE_MSIX_VECTOR, entry);
        self.common.read(common::QUEUE_MSIX_VECTOR)
    }

    /// Physical addresses of the selected queue's descriptor table, driver and device areas.
    pub fn set_queue_addresses(&self, desc: u64, driver: u64, device: u64) {
        for (reg, v) in [
            (common::QUEUE_DESC, desc),
            (common::QUEUE_DRIVER, driver),
            (common::QUEUE_DEVICE, device),
        ] {
            self.common.write::<u32>(reg, v as u32);
            self.common.write::<u32>(reg + 4, (v >> 32) as u32);
        }
    }

    pub fn enable_queue(&self) {
        self.common.write::<u16>(common::QUEUE_ENABLE, 1);
    }

    /// The register to write the selected queue's index to, to notify it.
    pub fn queue_notifier(&self) -> Option<IoMem> {
        let notify_off = self.common.read::<u16>(common::QUEUE_NOTIFY_OFF);
        let len = u32::try_from(self.notify.len()).ok()?;
        notify_offset(notify_off, self.notify_multiplier, len)
            .and_then(|off| self.notify.window(off, 2))
    }

    /// Reads a byte of the device-specific configuration (`None` outside it).
    pub fn device_config_u8(&self, off: u64) -> Option<u8> {
        let device = self.device.as_ref()?;
        (off < device.len()).then(|| device.read(off))
    }

    /// Reads a little-endian 16-bit field of the device-specific configuration.
    pub fn device_config_u16(&self, off: u64) -> Option<u16> {
        let device = self.device.as_ref()?;
        (off + 2 <= device.len()).then(|| device.read(off))
    }
}

/// The first virtio capability of type `wanted` that parses and lies inside a memory
/// BAR, with that BAR's base address.
fn find(dev: &Device, wanted: u8) -> Option<(VirtioPciCap, u64)> {
    dev.capabilities_with(capability::ID_VENDOR).find_map(|c| {
        // Bytes past the end of configuration space read as 0 (the parser checks cap_len).
        let mut bytes = [0u8; NOTIFY_CAP_LEN];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = c
                .offset
                .checked_add(i as u8)
                .map_or(0, |off| dev.addr.read8(off));
        }
        let cap = VirtioPciCap::parse(&bytes).filter(|cap| cap.cfg_type == wanted)?;
        match dev.bars[usize::from(cap.bar)] {
            Some(Bar::Memory { base, size, .. }) if cap.fits_in(size) => Some((cap, base)),
            _ => None,
        }
    })
}

/// Maps the block the first usable capability of type `wanted` describes.
fn map(dev: &Device, wanted: u8) -> Result<(IoMem, VirtioPciCap), TransportError> {
    let (cap, base) = find(dev, wanted).ok_or(TransportError::MissingCapability(wanted))?;
    let regs = IoMem::map(base + u64::from(cap.offset), u64::from(cap.length));
    Ok((regs, cap))
}
