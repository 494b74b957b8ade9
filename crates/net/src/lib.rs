#![no_std]
extern crate alloc;
#[cfg(test)]
#[macro_use]
extern crate std;

pub mod counters;
pub mod time;
pub mod wire;

pub use counters::{Counters, Delivery, DropReason, Layer, LayerCounters};
pub use time::Instant;
