#![no_std]
extern crate alloc;
#[cfg(test)]
#[macro_use]
extern crate std;

pub mod arp_cache;
pub mod config;
pub mod counters;
pub mod dhcp_client;
pub mod event;
pub mod fuzz;
pub mod iface;
pub mod ping;
pub mod rate_limit;
pub mod reassembly;
pub mod route;
pub mod time;
pub mod udp_socket;
pub mod wire;

pub use counters::{Counters, Delivery, DropReason, Layer, LayerCounters};
pub use time::Instant;
pub use config::{ConfigError, IfaceConfig};
pub use event::{Event, Rx, TcpSegment};
pub use iface::{Interface, InterfaceOptions, SendError};
pub use wire::ethernet::EthernetAddress;
