//! The network interfaces as user programs see them: the fields of Linux's
//! `struct net_device` and `struct in_ifaddr` that the `SIOCGIF*` ioctls
//! ([`crate::syscall::netdev`]) and `/proc/net/route` show.
//!
//! `lo` is interface 1 (127.0.0.1/8) and, with a NIC, `eth0` is interface 2 with the
//! address DHCP or the command line gave it (none before that). `eth0` is always up
//! (Halyard has no `SIOCSIFFLAGS`) and running while the device reports its link up;
//! Halyard sends no multicast, so neither interface claims `IFF_MULTICAST`.
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use linux_raw_sys::if_arp::{ARPHRD_ETHER, ARPHRD_LOOPBACK};
use linux_raw_sys::net::net_device_flags as f;

/// `lo`'s MTU as Linux gives it (its datagrams never meet a wire; TCP's segments on it
/// are the engine's usual size).
const LO_MTU: u32 = 65536;
/// Linux's default `txqueuelen` of both kinds of device.
pub const TX_QUEUE_LEN: u32 = 1000;

/// One interface.
#[derive(Clone, Copy)]
pub struct InterfaceInfo {
    pub name: &'static str,
    /// `ifindex`, from 1.
    pub index: i32,
    /// `IFF_*` bits.
    pub flags: u32,
    pub mtu: u32,
    /// `ARPHRD_*` hardware type and address (all zero for `lo`).
    pub hw_type: u16,
    pub mac: [u8; 6],
    /// IPv4 address and prefix length, once configured.
    pub addr: Option<(Ipv4Addr, u8)>,
}

impl InterfaceInfo {
    /// The netmask of a prefix length.
    pub fn netmask(prefix_len: u8) -> Ipv4Addr {
        Ipv4Addr::from(
            u32::MAX
                .checked_shl(32 - u32::from(prefix_len.min(32)))
                .unwrap_or(0),
        )
    }

    /// The broadcast address (0.0.0.0 on an interface without `IFF_BROADCAST`, as
    /// Linux's `lo`).
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        let (addr, prefix) = self.addr?;
        if self.flags & f::IFF_BROADCAST as u32 == 0 {
            return Some(Ipv4Addr::UNSPECIFIED);
        }
        Some(Ipv4Addr::from(
            u32::from(addr) | !u32::from(Self::netmask(prefix)),
        ))
    }
}

/// Every interface, `lo` first; empty before the network is up.
pub fn interfaces() -> Vec<InterfaceInfo> {
    super::with_net(|dev, stack| {
        let mut all = Vec::with_capacity(2);
        all.push(InterfaceInfo {
            name: "lo",
            index: 1,
            flags: (f::IFF_UP as u32) | (f::IFF_LOOPBACK as u32) | (f::IFF_RUNNING as u32),
            mtu: LO_MTU,
            hw_type: ARPHRD_LOOPBACK as u16,
            mac: [0; 6],
            addr: Some((super::loopback::ADDRESS, super::loopback::PREFIX_LEN)),
        });
        if let Some(dev) = dev {
            let running = if dev.link_up() {
                f::IFF_RUNNING as u32
            } else {
                0
            };
            all.push(InterfaceInfo {
                name: "eth0",
                index: 2,
                flags: (f::IFF_UP as u32) | (f::IFF_BROADCAST as u32) | running,
                mtu: stack.iface.mtu() as u32,
                hw_type: ARPHRD_ETHER as u16,
                mac: stack.iface.mac().0,
                addr: stack.iface.config().map(|c| (c.addr, c.prefix_len)),
            });
        }
        all
    })
    .unwrap_or_default()
}
