//! Reasons a received segment is rejected before it reaches any connection.

/// A malformed segment. Each variant has its own counter in
/// [`Stats`](crate::Stats), so a flood of one kind of garbage is visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireError {
    /// Shorter than the fixed 20-byte header.
    Truncated,
    /// Data offset below 5 words or past the end of the segment.
    BadDataOffset,
    /// The checksum over pseudo-header, header and payload does not verify.
    BadChecksum,
    /// An option whose length field is impossible (zero, one, past the header, or wrong
    /// for its kind).
    BadOption,
    /// Port zero, or SYN together with RST/FIN, or other flag combinations no TCP sends.
    BadFlagsOrPorts,
}
