//! Feature bits (virtio 1.x "Reserved Feature Bits" and the network device's), and
//! negotiation as a pure function.
//!
//! The driver accepts the intersection of what the device offers and what it wants, then
//! removes features whose prerequisites did not survive (the spec forbids accepting, say,
//! `GUEST_TSO4` without `GUEST_CSUM`), and fails when a feature it cannot work without is
//! missing; the transport then sets `FEATURES_OK` with the result.
use core::fmt;

/// Network device: the device checksums partial packets we send.
pub const NET_CSUM: u64 = 1 << 0;
/// Network device: we accept packets with partial checksums.
pub const NET_GUEST_CSUM: u64 = 1 << 1;
/// Network device: the receive offloads (`GUEST_*`) can be switched at run time with a
/// control-queue command (`crate::net_ctrl`); needs `CTRL_VQ`.
pub const NET_CTRL_GUEST_OFFLOADS: u64 = 1 << 2;
/// Network device: the config space reports the MTU.
pub const NET_MTU: u64 = 1 << 3;
/// Network device: the config space holds the MAC address.
pub const NET_MAC: u64 = 1 << 5;
pub const NET_GUEST_TSO4: u64 = 1 << 7;
pub const NET_GUEST_TSO6: u64 = 1 << 8;
pub const NET_GUEST_ECN: u64 = 1 << 9;
pub const NET_GUEST_UFO: u64 = 1 << 10;
pub const NET_HOST_TSO4: u64 = 1 << 11;
pub const NET_HOST_TSO6: u64 = 1 << 12;
pub const NET_HOST_ECN: u64 = 1 << 13;
pub const NET_HOST_UFO: u64 = 1 << 14;
/// Network device: a received packet may span several buffers (`num_buffers`).
pub const NET_MRG_RXBUF: u64 = 1 << 15;
/// Network device: the config space reports the link status.
pub const NET_STATUS: u64 = 1 << 16;
/// Network device: a control virtqueue (after the receive and transmit queues).
pub const NET_CTRL_VQ: u64 = 1 << 17;
pub const NET_CTRL_RX: u64 = 1 << 18;
pub const NET_CTRL_VLAN: u64 = 1 << 19;
pub const NET_GUEST_ANNOUNCE: u64 = 1 << 21;
pub const NET_MQ: u64 = 1 << 22;
pub const NET_CTRL_MAC_ADDR: u64 = 1 << 23;
/// Descriptors may point at tables of descriptors.
pub const INDIRECT_DESC: u64 = 1 << 28;
/// `used_event` / `avail_event` replace the ring flags (see [`crate::event`]).
pub const RING_EVENT_IDX: u64 = 1 << 29;
/// A virtio 1.x ("modern") device.
pub const VERSION_1: u64 = 1 << 32;
pub const ACCESS_PLATFORM: u64 = 1 << 33;
pub const RING_PACKED: u64 = 1 << 34;
pub const IN_ORDER: u64 = 1 << 35;

const NAMES: &[(u64, &str)] = &[
    (NET_CSUM, "CSUM"),
    (NET_GUEST_CSUM, "GUEST_CSUM"),
    (NET_CTRL_GUEST_OFFLOADS, "CTRL_GUEST_OFFLOADS"),
    (NET_MTU, "MTU"),
    (NET_MAC, "MAC"),
    (NET_GUEST_TSO4, "GUEST_TSO4"),
    (NET_GUEST_TSO6, "GUEST_TSO6"),
    (NET_GUEST_ECN, "GUEST_ECN"),
    (NET_GUEST_UFO, "GUEST_UFO"),
    (NET_HOST_TSO4, "HOST_TSO4"),
    (NET_HOST_TSO6, "HOST_TSO6"),
    (NET_HOST_ECN, "HOST_ECN"),
    (NET_HOST_UFO, "HOST_UFO"),
    (NET_MRG_RXBUF, "MRG_RXBUF"),
    (NET_STATUS, "STATUS"),
    (NET_CTRL_VQ, "CTRL_VQ"),
    (NET_CTRL_RX, "CTRL_RX"),
    (NET_CTRL_VLAN, "CTRL_VLAN"),
    (NET_GUEST_ANNOUNCE, "GUEST_ANNOUNCE"),
    (NET_MQ, "MQ"),
    (NET_CTRL_MAC_ADDR, "CTRL_MAC_ADDR"),
    (INDIRECT_DESC, "INDIRECT_DESC"),
    (RING_EVENT_IDX, "RING_EVENT_IDX"),
    (VERSION_1, "VERSION_1"),
    (ACCESS_PLATFORM, "ACCESS_PLATFORM"),
    (RING_PACKED, "RING_PACKED"),
    (IN_ORDER, "IN_ORDER"),
];

/// `(feature, prerequisites)`: the feature is only valid with at least one of them.
const NEEDS_ANY_OF: &[(u64, u64)] = &[
    (NET_GUEST_TSO4, NET_GUEST_CSUM),
    (NET_GUEST_TSO6, NET_GUEST_CSUM),
    (NET_GUEST_UFO, NET_GUEST_CSUM),
    (NET_GUEST_ECN, NET_GUEST_TSO4 | NET_GUEST_TSO6),
    (NET_HOST_TSO4, NET_CSUM),
    (NET_HOST_TSO6, NET_CSUM),
    (NET_HOST_UFO, NET_CSUM),
    (NET_HOST_ECN, NET_HOST_TSO4 | NET_HOST_TSO6),
    (NET_CTRL_RX, NET_CTRL_VQ),
    (NET_CTRL_VLAN, NET_CTRL_VQ),
    (NET_GUEST_ANNOUNCE, NET_CTRL_VQ),
    (NET_MQ, NET_CTRL_VQ),
    (NET_CTRL_MAC_ADDR, NET_CTRL_VQ),
    (NET_CTRL_GUEST_OFFLOADS, NET_CTRL_VQ),
];

/// Whether every feature in `bits` comes with one of its prerequisites (the rule
/// [`negotiate`] enforces, for a set the driver builds itself, such as the receive
/// offloads it switches on at run time).
pub fn prerequisites_met(bits: u64) -> bool {
    NEEDS_ANY_OF
        .iter()
        .all(|&(f, needs)| bits & f == 0 || bits & needs != 0)
}

/// A feature set, printable as `NAME|NAME|bitN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features(pub u64);

impl Features {
    pub fn has(self, feature: u64) -> bool {
        self.0 & feature == feature
    }
}

impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for bit in 0..64 {
            let mask = 1u64 << bit;
            if self.0 & mask == 0 {
                continue;
            }
            if !first {
                f.write_str("|")?;
            }
            first = false;
            match NAMES.iter().find(|(m, _)| *m == mask) {
                Some((_, name)) => f.write_str(name)?,
                None => write!(f, "bit{bit}")?,
            }
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// Why negotiation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureError {
    /// Required features the device does not offer (or whose prerequisites it lacks).
    Missing(Features),
}

/// The features to accept: `offered & wanted`, minus those whose prerequisites are not
/// accepted too. Fails when any of `required` is not in the result.
pub fn negotiate(offered: u64, wanted: u64, required: u64) -> Result<Features, FeatureError> {
    let mut accepted = offered & (wanted | required);
    // Dropping a feature can invalidate another (ECN after TSO), so repeat to a fixpoint;
    // each round removes at least one bit, so this ends.
    loop {
        let invalid = NEEDS_ANY_OF
            .iter()
            .filter(|&&(f, needs)| accepted & f != 0 && accepted & needs == 0)
            .fold(0, |acc, &(f, _)| acc | f);
        if invalid == 0 {
            break;
        }
        accepted &= !invalid;
    }
    let missing = required & !accepted;
    if missing != 0 {
        return Err(FeatureError::Missing(Features(missing)));
    }
    Ok(Features(accepted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::string::ToString;

    const QEMU_NET: u64 = NET_CSUM
        | NET_GUEST_CSUM
        | NET_CTRL_GUEST_OFFLOADS
        | NET_MAC
        | NET_GUEST_TSO4
        | NET_GUEST_TSO6
        | NET_GUEST_ECN
        | NET_GUEST_UFO
        | NET_HOST_TSO4
        | NET_HOST_TSO6
        | NET_HOST_ECN
        | NET_HOST_UFO
        | NET_MRG_RXBUF
        | NET_STATUS
        | NET_CTRL_VQ
        | NET_CTRL_RX
        | NET_CTRL_VLAN
        | NET_GUEST_ANNOUNCE
        | NET_MQ
        | NET_CTRL_MAC_ADDR
        | INDIRECT_DESC
        | RING_EVENT_IDX
        | VERSION_1;

    #[test]
    fn takes_the_intersection() {
        let wanted = NET_MAC | NET_STATUS | NET_MRG_RXBUF | RING_EVENT_IDX | RING_PACKED;
        let got = negotiate(QEMU_NET, wanted, VERSION_1).unwrap();
        assert_eq!(
            got.0,
            NET_MAC | NET_STATUS | NET_MRG_RXBUF | RING_EVENT_IDX | VERSION_1
        );
        assert_eq!(
            got.to_string(),
            "MAC|MRG_RXBUF|STATUS|RING_EVENT_IDX|VERSION_1"
        );
    }

    #[test]
    fn legacy_only_device_is_refused() {
        let legacy = QEMU_NET & !VERSION_1;
        assert_eq!(
            negotiate(legacy, NET_MAC, VERSION_1),
            Err(FeatureError::Missing(Features(VERSION_1)))
        );
    }

    #[test]
    fn prerequisites_are_enforced_transitively() {
        // TSO4 without GUEST_CSUM goes, and ECN (which needed TSO4) goes with it.
        let offered = NET_GUEST_TSO4 | NET_GUEST_ECN | VERSION_1;
        assert_eq!(negotiate(offered, u64::MAX, 0).unwrap().0, VERSION_1);
        // A required feature whose prerequisite is absent is missing.
        assert_eq!(
            negotiate(NET_MQ, NET_MQ, NET_MQ),
            Err(FeatureError::Missing(Features(NET_MQ)))
        );
        assert_eq!(Features(1 << 50).to_string(), "bit50");
        assert_eq!(Features(0).to_string(), "none");
    }

    proptest! {
        #![proptest_config(ProptestConfig { rng_seed: proptest::test_runner::RngSeed::Fixed(0xfea7), ..ProptestConfig::default() })]

        #[test]
        fn result_is_offered_wanted_and_consistent(offered: u64, wanted: u64, required: u64) {
            match negotiate(offered, wanted, required) {
                Ok(Features(f)) => {
                    prop_assert_eq!(f & !offered, 0);
                    prop_assert_eq!(f & !(wanted | required), 0);
                    prop_assert_eq!(f & required, required);
                    for &(feat, needs) in NEEDS_ANY_OF {
                        prop_assert!(f & feat == 0 || f & needs != 0);
                    }
                    prop_assert!(prerequisites_met(f));
                }
                Err(FeatureError::Missing(Features(m))) => {
                    prop_assert!(m != 0 && m & !required == 0);
                }
            }
        }
    }
}
