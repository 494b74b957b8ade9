//! Wire format: the TCP header and its options, parsed from and emitted into byte buffers.
//!
//! Kept apart from the state machine (smoltcp style) so that parsing can be tested and
//! fuzzed on its own, and so the state machine only ever sees a validated [`Segment`].
//! Every way a segment can be malformed is a [`WireError`] variant, which the endpoint
//! counts before dropping the segment.

mod error;
mod flags;
mod header;
mod options;

pub use error::WireError;
pub use flags::Flags;
pub use header::{fill_checksum, fill_partial_checksum, Segment, SegmentHeader, HEADER_LEN};
pub use options::{Options, SackBlocks, MAX_OPTIONS_LEN, MAX_WSCALE};
