//! The modern (virtio 1.x) PCI transport: the device's register blocks, found through
//! vendor-specific PCI capabilities, each naming a BAR, an offset and a length.
//!
//! * common configuration: feature words, device status, queue setup (`queue_select`
//!   picks which queue the queue fields refer to);
//! * notification area: the driver writes a queue's index at
//!   `offset + queue_notify_off * notify_off_multiplier` to kick it;
//! * (ISR status: only meaningful for INTx interrupts, which this driver never uses, so it
//!   is not mapped);
//! * device-specific configuration: for a network device, the MAC address and link status.
//!
//! A transitional device (QEMU's default `virtio-net-pci`) exposes these capabilities next
//! to its legacy I/O BAR; we always use the modern interface and never the legacy one.
use crate::drivers::pci::{capability, Bar, Device};
use crate::mm;

const CFG_COMMON: u8 = 1;
const CFG_NOTIFY: u8 = 2;
const CFG_DEVICE: u8 = 4;

// Common configuration layout (virtio 1.x `struct virtio_pci_common_cfg`).
const DEVICE_FEATURE_SELECT: u64 = 0x00;
const DEVICE_FEATURE: u64 = 0x04;
const DRIVER_FEATURE_SELECT: u64 = 0x08;
const DRIVER_FEATURE: u64 = 0x0c;
const CONFIG_MSIX_VECTOR: u64 = 0x10;
const NUM_QUEUES: u64 = 0x12;
const DEVICE_STATUS: u64 = 0x14;
const QUEUE_SELECT: u64 = 0x16;
const QUEUE_SIZE: u64 = 0x18;
const QUEUE_MSIX_VECTOR: u64 = 0x1a;
const QUEUE_ENABLE: u64 = 0x1c;
const QUEUE_NOTIFY_OFF: u64 = 0x1e;
const QUEUE_DESC: u64 = 0x20;
const QUEUE_DRIVER: u64 = 0x28;
const QUEUE_DEVICE: u64 = 0x30;
const COMMON_LEN: u32 = 0x38;

/// Device status bits.
pub const STATUS_ACKNOWLEDGE: u8 = 1;
pub const STATUS_DRIVER: u8 = 2;
pub const STATUS_DRIVER_OK: u8 = 4;
pub const STATUS_FEATURES_OK: u8 = 8;
pub const STATUS_FAILED: u8 = 0x80;

/// "No MSI-X vector" for `config_msix_vector` / `queue_msix_vector`.
pub const NO_VECTOR: u16 = 0xffff;

/// Why the modern interface could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportError {
    /// A required capability (by `cfg_type`) is missing or unusable.
    MissingCapability(u8),
    /// A capability points outside its BAR, or at a BAR that is not memory.
    BadCapability(u8),
    /// The device did not come out of reset.
    ResetTimeout,
}

/// One mapped register block.
#[derive(Debug, Clone, Copy)]
struct Window {
    va: u64,
    len: u32,
}

impl Window {
    fn ptr<T>(&self, off: u64) -> *mut T {
        assert!(off + core::mem::size_of::<T>() as u64 <= u64::from(self.len), "register {off:#x} outside its window");
        (self.va + off) as *mut T
    }

    fn read<T: Copy>(&self, off: u64) -> T {
        // SAFETY: `ptr` checked the register lies inside the window, which `map` mapped
        // uncached from the device's BAR; registers are naturally aligned.
        unsafe { core::ptr::read_volatile(self.ptr(off)) }
    }

    fn write<T: Copy>(&self, off: u64, v: T) {
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile(self.ptr(off), v) }
    }
}

/// The modern transport of one device.
pub struct Transport {
    common: Window,
    notify: Window,
    notify_multiplier: u32,
    device: Window,
}

impl Transport {
    /// Finds and maps the register blocks.
    pub fn probe(dev: &Device) -> Result<Transport, TransportError> {
        let common = map(dev, CFG_COMMON)?;
        if common.len < COMMON_LEN {
            return Err(TransportError::BadCapability(CFG_COMMON));
        }
        let notify = map(dev, CFG_NOTIFY)?;
        let notify_cap = find(dev, CFG_NOTIFY).ok_or(TransportError::MissingCapability(CFG_NOTIFY))?;
        let notify_multiplier = dev.addr.read32(notify_cap + 16);
        Ok(Transport { common, notify, notify_multiplier, device: map(dev, CFG_DEVICE)? })
    }

    /// Resets the device and waits (bounded) until it reports status 0.
    pub fn reset(&self) -> Result<(), TransportError> {
        self.common.write::<u8>(DEVICE_STATUS, 0);
        for _ in 0..1_000_000 {
            if self.status() == 0 {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(TransportError::ResetTimeout)
    }

    pub fn status(&self) -> u8 {
        self.common.read(DEVICE_STATUS)
    }

    /// Adds `bits` to the device status.
    pub fn add_status(&self, bits: u8) {
        self.common.write(DEVICE_STATUS, self.status() | bits);
    }

    /// The 64 feature bits the device offers.
    pub fn device_features(&self) -> u64 {
        self.common.write::<u32>(DEVICE_FEATURE_SELECT, 0);
        let low = self.common.read::<u32>(DEVICE_FEATURE);
        self.common.write::<u32>(DEVICE_FEATURE_SELECT, 1);
        let high = self.common.read::<u32>(DEVICE_FEATURE);
        (u64::from(high) << 32) | u64::from(low)
    }

    pub fn set_driver_features(&self, features: u64) {
        self.common.write::<u32>(DRIVER_FEATURE_SELECT, 0);
        self.common.write::<u32>(DRIVER_FEATURE, features as u32);
        self.common.write::<u32>(DRIVER_FEATURE_SELECT, 1);
        self.common.write::<u32>(DRIVER_FEATURE, (features >> 32) as u32);
    }

    pub fn num_queues(&self) -> u16 {
        self.common.read(NUM_QUEUES)
    }

    /// Sets the MSI-X table entry for configuration changes; returns what the device
    /// accepted (`NO_VECTOR` when it refused).
    pub fn set_config_vector(&self, entry: u16) -> u16 {
        self.common.write(CONFIG_MSIX_VECTOR, entry);
        self.common.read(CONFIG_MSIX_VECTOR)
    }

    /// Selects the queue the following `queue_*` calls refer to.
    pub fn select_queue(&self, index: u16) {
        self.common.write(QUEUE_SELECT, index);
    }

    /// The selected queue's size (its maximum until set; 0 = no such queue).
    pub fn queue_size(&self) -> u16 {
        self.common.read(QUEUE_SIZE)
    }

    pub fn set_queue_size(&self, size: u16) {
        self.common.write(QUEUE_SIZE, size);
    }

    /// Sets the selected queue's MSI-X table entry; returns what the device accepted.
    pub fn set_queue_vector(&self, entry: u16) -> u16 {
        self.common.write(QUEUE_MSIX_VECTOR, entry);
        self.common.read(QUEUE_MSIX_VECTOR)
    }

    /// Physical addresses of the selected queue's descriptor table, driver and device areas.
    pub fn set_queue_addresses(&self, desc: u64, driver: u64, device: u64) {
        for (reg, v) in [(QUEUE_DESC, desc), (QUEUE_DRIVER, driver), (QUEUE_DEVICE, device)] {
            self.common.write::<u32>(reg, v as u32);
            self.common.write::<u32>(reg + 4, (v >> 32) as u32);
        }
    }

    pub fn enable_queue(&self) {
        self.common.write::<u16>(QUEUE_ENABLE, 1);
    }

    /// The address to write the selected queue's index to, to notify it.
    pub fn queue_notify_address(&self) -> Option<u64> {
        let off = u64::from(self.common.read::<u16>(QUEUE_NOTIFY_OFF)) * u64::from(self.notify_multiplier);
        (off + 2 <= u64::from(self.notify.len)).then(|| self.notify.va + off)
    }

    /// Reads a byte of the device-specific configuration (`None` outside it).
    pub fn device_config_u8(&self, off: u64) -> Option<u8> {
        (off < u64::from(self.device.len)).then(|| self.device.read(off))
    }

    /// Reads a little-endian 16-bit field of the device-specific configuration.
    pub fn device_config_u16(&self, off: u64) -> Option<u16> {
        (off + 2 <= u64::from(self.device.len)).then(|| self.device.read(off))
    }
}

/// Writes `queue` to a notification address from [`Transport::queue_notify_address`].
pub fn notify(address: u64, queue: u16) {
    // SAFETY: the address was checked to lie inside the mapped notification window.
    unsafe { core::ptr::write_volatile(address as *mut u16, queue) };
}

/// Offset of the first virtio capability of `cfg_type` whose BAR is a memory BAR.
fn find(dev: &Device, cfg_type: u8) -> Option<u8> {
    dev.capabilities_with(capability::ID_VENDOR).map(|c| c.offset).find(|&off| {
        dev.addr.read8(off + 3) == cfg_type
            && matches!(dev.bars.get(usize::from(dev.addr.read8(off + 4))), Some(Some(Bar::Memory { .. })))
    })
}

/// Maps the block the first usable capability of `cfg_type` describes.
fn map(dev: &Device, cfg_type: u8) -> Result<Window, TransportError> {
    let cap = find(dev, cfg_type).ok_or(TransportError::MissingCapability(cfg_type))?;
    let bar = dev.addr.read8(cap + 4);
    let offset = dev.addr.read32(cap + 8);
    let len = dev.addr.read32(cap + 12);
    let Some(Some(Bar::Memory { base, size, .. })) = dev.bars.get(usize::from(bar)) else {
        return Err(TransportError::BadCapability(cfg_type));
    };
    if len == 0 || u64::from(offset) + u64::from(len) > *size {
        return Err(TransportError::BadCapability(cfg_type));
    }
    Ok(Window { va: mm::map_mmio(base + u64::from(offset), u64::from(len)), len })
}
