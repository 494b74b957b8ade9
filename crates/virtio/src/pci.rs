//! virtio over PCI (virtio 1.x "Virtio Over PCI Bus"), wire format: the vendor-specific
//! capabilities that locate the device's register blocks, the common configuration
//! layout, and the checked arithmetic on them. The kernel reads configuration space and
//! maps BARs; everything it decides from those bytes is here, host-tested.

/// PCI vendor id of virtio devices.
pub const VENDOR_ID: u16 = 0x1af4;
/// Transitional network device id (legacy and modern interfaces).
pub const DEVICE_ID_NET_TRANSITIONAL: u16 = 0x1000;
/// Modern-only device ids are 0x1040 + virtio device type (1 = network).
pub const DEVICE_ID_NET_MODERN: u16 = 0x1041;
/// Transitional entropy source (virtio-rng) id.
pub const DEVICE_ID_RNG_TRANSITIONAL: u16 = 0x1005;
/// Modern-only entropy source: 0x1040 + device type 4.
pub const DEVICE_ID_RNG_MODERN: u16 = 0x1044;

/// `cfg_type` of a virtio capability: which register block it locates.
pub mod cfg_type {
    pub const COMMON: u8 = 1;
    pub const NOTIFY: u8 = 2;
    pub const ISR: u8 = 3;
    pub const DEVICE: u8 = 4;
    pub const PCI: u8 = 5;
}

/// Register offsets in the common configuration block (`struct virtio_pci_common_cfg`).
pub mod common {
    pub const DEVICE_FEATURE_SELECT: u64 = 0x00;
    pub const DEVICE_FEATURE: u64 = 0x04;
    pub const DRIVER_FEATURE_SELECT: u64 = 0x08;
    pub const DRIVER_FEATURE: u64 = 0x0c;
    pub const CONFIG_MSIX_VECTOR: u64 = 0x10;
    pub const NUM_QUEUES: u64 = 0x12;
    pub const DEVICE_STATUS: u64 = 0x14;
    pub const CONFIG_GENERATION: u64 = 0x15;
    pub const QUEUE_SELECT: u64 = 0x16;
    pub const QUEUE_SIZE: u64 = 0x18;
    pub const QUEUE_MSIX_VECTOR: u64 = 0x1a;
    pub const QUEUE_ENABLE: u64 = 0x1c;
    pub const QUEUE_NOTIFY_OFF: u64 = 0x1e;
    pub const QUEUE_DESC: u64 = 0x20;
    pub const QUEUE_DRIVER: u64 = 0x28;
    pub const QUEUE_DEVICE: u64 = 0x30;
    /// Bytes up to and including `queue_device`: the least a usable block offers.
    pub const MIN_LEN: u32 = 0x38;
}

/// Device status bits.
pub mod status {
    pub const ACKNOWLEDGE: u8 = 1;
    pub const DRIVER: u8 = 2;
    pub const DRIVER_OK: u8 = 4;
    pub const FEATURES_OK: u8 = 8;
    pub const DEVICE_NEEDS_RESET: u8 = 0x40;
    pub const FAILED: u8 = 0x80;
}

/// "No MSI-X vector" in `config_msix_vector` / `queue_msix_vector`.
pub const NO_VECTOR: u16 = 0xffff;

/// Bytes of a capability header (`struct virtio_pci_cap`), and of the notification one.
pub const CAP_LEN: usize = 16;
pub const NOTIFY_CAP_LEN: usize = 20;

/// One virtio vendor capability, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtioPciCap {
    pub cfg_type: u8,
    /// BAR index (0..=5) holding the block.
    pub bar: u8,
    pub offset: u32,
    pub length: u32,
    /// Only for [`cfg_type::NOTIFY`]: bytes between consecutive queues' notify addresses.
    pub notify_multiplier: Option<u32>,
}

impl VirtioPciCap {
    /// Parses the capability's bytes (from its first byte, the vendor capability id).
    /// `None` for a capability too short for its type or naming no valid BAR.
    pub fn parse(bytes: &[u8]) -> Option<VirtioPciCap> {
        let u32_at = |i: usize| Some(u32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
        let cap_len = usize::from(*bytes.get(2)?);
        let cfg_type = *bytes.get(3)?;
        let bar = *bytes.get(4)?;
        if cap_len < CAP_LEN || bar > 5 {
            return None;
        }
        let notify_multiplier = if cfg_type == cfg_type::NOTIFY {
            if cap_len < NOTIFY_CAP_LEN {
                return None;
            }
            Some(u32_at(16)?)
        } else {
            None
        };
        Some(VirtioPciCap {
            cfg_type,
            bar,
            offset: u32_at(8)?,
            length: u32_at(12)?,
            notify_multiplier,
        })
    }

    /// True when the block is non-empty and lies inside a BAR of `bar_size` bytes.
    pub fn fits_in(&self, bar_size: u64) -> bool {
        self.length != 0 && u64::from(self.offset) + u64::from(self.length) <= bar_size
    }
}

/// Offset, inside the notification block of `window_len` bytes, where a queue whose
/// `queue_notify_off` is `notify_off` is kicked (with a 16-bit write); `None` when that
/// lies outside the block.
pub fn notify_offset(notify_off: u16, multiplier: u32, window_len: u32) -> Option<u64> {
    let off = u64::from(notify_off) * u64::from(multiplier);
    (off + 2 <= u64::from(window_len)).then_some(off)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// QEMU's notification capability: BAR 4, offset 0x3000, length 0x1000, multiplier 4.
    const QEMU_NOTIFY: [u8; 20] = [
        0x09, 0x70, 20, 2, 4, 0, 0, 0, 0x00, 0x30, 0, 0, 0x00, 0x10, 0, 0, 4, 0, 0, 0,
    ];

    #[test]
    fn modern_ids_are_0x1040_plus_the_device_type() {
        // Device types (virtio 1.x section 5): 1 network card, 4 entropy source.
        assert_eq!(DEVICE_ID_NET_MODERN, 0x1040 + 1);
        assert_eq!(DEVICE_ID_RNG_MODERN, 0x1040 + 4);
    }

    #[test]
    fn parses_qemu_capabilities() {
        assert_eq!(
            VirtioPciCap::parse(&QEMU_NOTIFY),
            Some(VirtioPciCap {
                cfg_type: cfg_type::NOTIFY,
                bar: 4,
                offset: 0x3000,
                length: 0x1000,
                notify_multiplier: Some(4)
            })
        );
        let common = [0x09, 0x84, 16, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x10, 0, 0];
        let cap = VirtioPciCap::parse(&common).unwrap();
        assert_eq!(
            (cap.cfg_type, cap.offset, cap.length, cap.notify_multiplier),
            (cfg_type::COMMON, 0, 0x1000, None)
        );
        assert!(cap.fits_in(0x4000));
    }

    #[test]
    fn refuses_short_or_misplaced_capabilities() {
        assert_eq!(VirtioPciCap::parse(&QEMU_NOTIFY[..19]), None);
        let mut short_len = QEMU_NOTIFY;
        short_len[2] = 16; // a notify capability without its multiplier
        assert_eq!(VirtioPciCap::parse(&short_len), None);
        let mut bad_bar = QEMU_NOTIFY;
        bad_bar[4] = 6;
        assert_eq!(VirtioPciCap::parse(&bad_bar), None);
        assert_eq!(VirtioPciCap::parse(&[]), None);
    }

    #[test]
    fn block_and_notify_bounds_do_not_overflow() {
        let cap = VirtioPciCap {
            cfg_type: cfg_type::DEVICE,
            bar: 0,
            offset: u32::MAX,
            length: u32::MAX,
            notify_multiplier: None,
        };
        assert!(!cap.fits_in(u64::from(u32::MAX)));
        assert!(!VirtioPciCap {
            length: 0,
            offset: 0,
            ..cap
        }
        .fits_in(0x1000));
        assert_eq!(notify_offset(1, 4, 0x1000), Some(4));
        assert_eq!(notify_offset(0x3ff, 4, 0x1000), Some(0xffc));
        assert_eq!(notify_offset(0x400, 4, 0x1000), None);
        assert_eq!(notify_offset(u16::MAX, u32::MAX, u32::MAX), None);
    }
}
