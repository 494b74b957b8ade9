//! Send and receive buffers: fixed-capacity byte rings, so steady-state transfer never
//! allocates, plus the bounded out-of-order assembler the receive side needs.

mod assembler;
mod range_set;
mod ring;

pub use assembler::Assembler;
pub use range_set::RangeSet;
pub use ring::Ring;
