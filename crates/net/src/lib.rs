#![no_std]
extern crate alloc;
#[cfg(test)]
#[macro_use]
extern crate std;

pub mod arp_cache;
pub mod config;
pub mod counters;
pub mod dhcp_client;
pub mod rate_limit;
pub mod reassembly;
pub mod route;
pub mod time;
pub mod udp_socket;
pub mod wire;

pub use counters::{Counters, Delivery, DropReason, Layer, LayerCounters};
pub use time::Instant;
